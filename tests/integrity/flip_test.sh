#!/usr/bin/env bash
# Builds a fully issued card with the real CLI (four card functions of profiles/ issued on one
# card by `tessera issue batch`: six applications, the bureau's administrator, the issuance
# application's table and journals), its SCP03 key file, then runs the flip test on it
# (tests/integrity/flip_test.cc). TESSERA_FLIP_SEED and TESSERA_FLIP_COUNT pass through.
set -euo pipefail
T="${TESSERA:?set TESSERA to the tessera binary}"
FLIP="${TESSERA_FLIP_TESTS:?set TESSERA_FLIP_TESTS to the flip test binary}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fn=1
for p in emoney transit membership ticketbook; do
  if ! "$T" issue batch "$root/profiles/$p.group" --images "$dir/cards" --count 1 \
    --function $fn >"$dir/log" 2>&1; then
    cat "$dir/log"
    exit 1
  fi
  fn=$((fn + 1))
done
"$T" issue card-keys --serial 1 -o "$dir/keys" >/dev/null 2>&1
TESSERA_FLIP_IMAGE="$dir/cards/card-0000000000000001.img" TESSERA_FLIP_KEYS="$dir/keys" "$FLIP"
