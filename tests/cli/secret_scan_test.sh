#!/usr/bin/env bash
# Secrets nobody reads (issue 15, item 9; docs/self-issuance.md §1): every profile in
# profiles/ issued to a card by `tessera issue batch`, then everything an outsider can ask the
# card for through APDUs, without the issuer's session, scanned for the PINs, keys and
# PIN-protected data that the profiles' sources hold. The secrets are taken from the sources
# (the TOML descriptions, the administrator's PEM, the group texts parsed by the byte formats
# of docs/), never from the card; tests/cli/secret_scan.py says how each is found and what is
# asked. Controls prove the scanner sees: with the issuer's keys the table shows the group's
# digest; each extracted PIN verifies (9000) and unlocks the data store's data. After the scan
# each target application is deleted and none of its secrets is left in the image.
set -uo pipefail
T="${TESSERA:?set TESSERA to the tessera binary}"
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
command -v openssl >/dev/null || { echo "FAIL: openssl is needed"; exit 1; }
python3 "$here/secret_scan.py" --tessera "$T" --profiles "$here/../../profiles" --work "$dir"
rc=$?
[ $rc -eq 0 ] && echo "cli_secret_scan: ok" || echo "cli_secret_scan: FAILED"
exit $rc
