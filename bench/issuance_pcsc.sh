#!/usr/bin/env bash
# A 50-command card function issued by one EXECUTE ISSUANCE against the same 50 commands sent
# one by one, through pcscd + vpcd + tessera-card, plain and under SCP03 level 33
# (bench/issuance_pcsc.py). Usage: bench/issuance_pcsc.sh [BUILD_DIR] [ISSUANCES]. Needs root
# (it starts its own pcscd) and no other pcscd running.
set -euo pipefail
cd "$(dirname "$0")/.."
B="${1:-build}"
N="${2:-100}"
READER="Virtual PCD 00 00"
dir=$(mktemp -d)
pcscd --foreground >"$dir/pcscd.log" 2>&1 &
pcscd_pid=$!
"$B"/tessera image init "$dir/card.img" >/dev/null 2>&1
"$B"/tessera-card --image "$dir/card.img" >"$dir/card.log" 2>&1 &
card_pid=$!
trap 'kill $card_pid $pcscd_pid 2>/dev/null; rm -rf "$dir"' EXIT
sleep 1
/usr/bin/python3 bench/issuance_pcsc.py "$READER" "$N"
