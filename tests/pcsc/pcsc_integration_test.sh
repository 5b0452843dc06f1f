#!/usr/bin/env bash
# Integration test through real PC/SC: starts Debian's pcscd (with the vsmartcard-vpcd driver)
# and tessera-card the way a user does, then drives the card with opensc-tool,
# opensc-explorer, scriptor, python3-pyscard and `tessera --reader`. Also: SIGKILL in the middle
# of a stream of updates (nothing acknowledged is lost, nothing half-written), a pcscd restart
# (the card reconnects), and a clean exit on SIGTERM.
# Uses the fixed vpcd port 35963: must not run in parallel with other PC/SC tests.
set -uo pipefail
T="${TESSERA:?}"; CARD="${TESSERA_CARD:?}"
HERE="$(cd "$(dirname "$0")" && pwd)"
READER="Virtual PCD 00 00"
PY=/usr/bin/python3
dir=$(mktemp -d)
img="$dir/card.img"
pass=0; fails=0
check() { local name="$1"; shift; if "$@"; then pass=$((pass+1)); echo "ok: $name"; else fails=$((fails+1)); echo "FAIL: $name"; return 1; fi; }

pcscd_pid=""; card_pid=""
start_pcscd() {
  pcscd --foreground ${PCSCD_DEBUG:+--debug} >>"${PCSCD_LOG:-$dir/pcscd.log}" 2>&1 &
  pcscd_pid=$!
  for _ in $(seq 50); do [ -S /run/pcscd/pcscd.comm ] && return 0; sleep 0.1; done
  echo "pcscd did not start"; cat "$dir/pcscd.log"; return 1
}
stop_pcscd() { [ -n "$pcscd_pid" ] && kill "$pcscd_pid" 2>/dev/null && wait "$pcscd_pid" 2>/dev/null; pcscd_pid=""; }
start_card() {
  "$CARD" --image "$img" --vpcd 127.0.0.1:35963 >>"$dir/card.log" 2>&1 &
  card_pid=$!
}
wait_no_card() {  # until pcscd has seen the card go
  for _ in $(seq 100); do
    timeout 5 opensc-tool -r "$READER" -a 2>&1 | grep -q "Card not present" && return 0
    sleep 0.1
  done
  return 1
}
wait_card() {  # until the reader shows a card
  for _ in $(seq 100); do
    timeout 5 opensc-tool -r "$READER" -a >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}
cleanup() {
  [ -n "$card_pid" ] && kill -9 "$card_pid" 2>/dev/null
  stop_pcscd
  rm -rf "$dir"
}
trap cleanup EXIT

if ps -C pcscd -o stat= | grep -qv "^Z"; then
  echo "another pcscd is running; stop it first (this test starts its own)"; exit 1
fi
"$T" image init "$img" >/dev/null || exit 1
start_pcscd || exit 1
start_card
check "the card appears in the reader" wait_card

atr=$(timeout 10 opensc-tool -r "$READER" -a 2>&1)
check "opensc-tool -a prints the ATR" grep -qi "3b:8d:80:01:80:57:54:45:53:53:45:52:41" <<<"$atr"
out=$(timeout 10 opensc-tool -r "$READER" -s 00A404000E315041592E5359532E444446303100 2>&1)
check "opensc-tool sends a raw APDU (SELECT PSE)" grep -q "SW1=0x90, SW2=0x00" <<<"$out"
out=$(printf 'cd 1000\ncd ..\ncat 2F01\ninfo 2F00\nquit\n' | timeout 20 opensc-explorer -r "$READER" 2>&1)
check "opensc-explorer navigates into the demo DF" grep -q "3F00/1000" <<<"$out"
check "opensc-explorer reads a transparent EF" grep -q "Tessera virtual" <<<"$out"
check "opensc-explorer shows a record EF's FCP" grep -qi "linear variable\|record" <<<"$out"

cat >"$dir/script.txt" <<'S'
# scriptor script: select the demo DF, verify, read
00 A4 04 0C 09 F0 54 45 53 53 45 52 41 10
00 20 00 81 04 31 32 33 34
00 B0 81 00 04
S
out=$(timeout 20 scriptor -r "$READER" "$dir/script.txt" 2>&1)
check "scriptor runs a script" grep -q "64 65 6D 6F 90 00" <<<"$out"

out=$(timeout 20 "$PY" "$HERE/emv_and_channels.py" "$READER" 2>&1)
check "pyscard: EMV PSE, two channels, extended length" grep -q "1 passed, 0 failed" <<<"$out" || echo "$out"

out=$(timeout 120 "$PY" "$HERE/gp_host.py" --reader "$READER" --scenario lifecycle 2>&1)
check "an independent GP host (Python, from the spec): GET STATUS, INSTALL, SET STATUS, DELETE, 6310" \
  grep -q '"failed": 0, "aborted": null' <<<"$out" || echo "$out" | grep -v '"ok": true' | tail -20

out=$(timeout 10 "$T" readers 2>&1)
check "tessera readers lists the vpcd reader" grep -q "$READER" <<<"$out"
out=$(timeout 10 "$T" --reader "$READER" apdu 00A4000C022F01 00B0000007 2>&1)
check "tessera --reader sends APDUs through PC/SC" grep -q "54657373657261 *9000\|546573736572619000" <<<"$out"
out=$(timeout 10 "$T" --reader "$READER" script "$dir/script.txt" 2>&1)
check "tessera script reads scriptor's format" grep -q "64656D6F" <<<"$out"

# SCP03 through PC/SC, at the highest security level, in S8 and S16.
out=$(timeout 10 "$T" --reader "$READER" --scp03 test --level 33 apdu 80F28002024F0000 80CA00E000 2>&1)
check "tessera --scp03 opens an SCP03 session through pcscd (level 33)" grep -q "^E3134F08A000000151" <<<"$out"
check "tessera warns about the test keys" grep -q "well-known test keys" <<<"$out"
out=$(timeout 10 "$T" --reader "$READER" --scp03 test --level 13 --s16 apdu 80F28002024F0000 2>&1)
check "SCP03 S16 through pcscd" grep -q "^E3134F08A000000151" <<<"$out"

out=$(timeout 30 "$PY" "$HERE/scp03_host.py" "$READER" 2>&1)
check "an independent SCP03 host (Python, from the spec) opens sessions at every level, S8 and S16" \
  grep -q "10 passed, 0 failed" <<<"$out" || echo "$out"

# SIGKILL in the middle of a stream of updates.
for round in 1 2 3; do
  rm -f "$dir/state"
  "$PY" "$HERE/kill_stream.py" write "$dir/state" >"$dir/stream.log" 2>&1 &
  stream=$!
  sleep 0.$((3 + round * 2))
  kill -9 "$card_pid"; wait "$card_pid" 2>/dev/null
  wait "$stream"
  [ -f "$dir/state" ] || echo 0 >"$dir/state"
  wait_no_card
  start_card
  wait_card
  out=$(timeout 30 "$PY" "$HERE/kill_stream.py" check "$dir/state" 2>&1)
  check "SIGKILL round $round: every file holds an acknowledged or the next value" grep -q "^ok:" <<<"$out" || {
    echo "$out"; cat "$dir/stream.log"; tail -5 "$dir/card.log"; }
done
kill -TERM "$card_pid"; wait "$card_pid"
check "the image is consistent after the kills" "$T" image check "$img"
start_card; wait_card

# pcscd restarts: the card reconnects by itself.
stop_pcscd
start_pcscd
check "the card reconnects after pcscd restarts" wait_card

# SIGTERM: clean exit.
kill -TERM "$card_pid"
wait "$card_pid"; rc=$?
card_pid=""
check "tessera-card exits 0 on SIGTERM" test "$rc" -eq 0
check "tessera-card logged its stop" grep -q "stopping on SIGTERM" "$dir/card.log"

echo "$pass passed, $fails failed"
test "$fails" -eq 0
