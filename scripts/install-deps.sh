#!/usr/bin/env bash
# Installs the Debian packages Tessera needs, only those missing (idempotent). Uses sudo only
# when not root. Safe to run with no stdin (CI).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  clang libclang-rt-dev          # libFuzzer and the sanitizer runtimes
  libssl-dev                     # OpenSSL 3
  libtomlplusplus-dev nlohmann-json3-dev   # installation-file descriptions, JSON output
  libcli11-dev                   # the command lines of tessera and tessera-card
  liblua5.4-dev                  # the applet runtime (docs/applets.md), linked as a library
  python3-jsonschema             # tests/cli/json_schema_test.py checks every --json output
  openssl                        # the CLI tests check signatures with openssl alone
  libgtest-dev libgmock-dev      # unit tests
  libbenchmark-dev               # bench/
  libpcsclite-dev                # the PC/SC host link
  pcscd vsmartcard-vpcd          # PC/SC daemon and the virtual reader driver tessera-card uses
  opensc pcsc-tools python3-pyscard   # third-party clients of the integration tests
  vsmartcard-vpicc python3-virtualsmartcard python3-pycryptodome  # the Python emulator (bench/)
  procps                         # ps, pgrep in the test scripts
  gdb                            # stops tessera-card mid-run in tests/cli/issue_cli_test.sh
  stress-ng                      # the CPU hog scripts/test.sh runs the CLI, socket and PC/SC tests under
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
