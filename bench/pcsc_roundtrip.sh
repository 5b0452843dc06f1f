#!/usr/bin/env bash
# PC/SC round trip of one APDU through the same pcscd + vpcd: a trivial card that answers 9000
# (the floor), tessera-card, and Debian's Python emulator (vicc). Prints microseconds per APDU
# and the ratios to the floor. Usage: bench/pcsc_roundtrip.sh [BUILD_DIR] (default build).
# Needs root (it starts its own pcscd) and no other pcscd running.
set -euo pipefail
cd "$(dirname "$0")/.."
B="${1:-build}"
READER="Virtual PCD 00 00"
APDU=00A4000C023F00
dir=$(mktemp -d)
pcscd --foreground >"$dir/pcscd.log" 2>&1 &
pcscd_pid=$!
card_pid=""
trap 'kill $card_pid $pcscd_pid 2>/dev/null; rm -rf "$dir"' EXIT
sleep 1
run() {  # NAME N COMMAND...
  local name=$1 n=$2; shift 2
  "$@" >"$dir/$name.log" 2>&1 &
  card_pid=$!
  local us
  us=$(/usr/bin/python3 bench/pcsc_client.py "$READER" "$APDU" "$n")
  kill "$card_pid"; wait "$card_pid" 2>/dev/null || true
  card_pid=""
  # Let pcscd see the card go before the next one arrives.
  for _ in $(seq 50); do opensc-tool -r "$READER" -a 2>&1 | grep -q "not present" && break; sleep 0.1; done
  echo "$us"
}
"$B"/tessera image init "$dir/card.img" >/dev/null
floor=$(run trivial 3000 /usr/bin/python3 bench/trivial_card.py)
tessera=$(run tessera 3000 "$B"/tessera-card --image "$dir/card.img")
vicc=$(run vicc 40 env PYTHONPATH=/usr/lib/python3/site-packages/virtualsmartcard \
  /usr/bin/python3 -c 'import sys, Cryptodome; sys.modules["Crypto"]=Cryptodome
import runpy; sys.argv=["vicc","-t","iso7816"]; runpy.run_path("/usr/bin/vicc", run_name="__main__")')
python3 - "$floor" "$tessera" "$vicc" <<'PY'
import json, sys
floor, tessera, vicc = map(float, sys.argv[1:])
print(json.dumps({"apdu": "00A4000C023F00", "trivial_card_us": round(floor, 1),
                  "tessera_card_us": round(tessera, 1), "vicc_us": round(vicc, 1),
                  "tessera_over_floor": round(tessera / floor, 3),
                  "vicc_over_floor": round(vicc / floor, 1)}))
PY
