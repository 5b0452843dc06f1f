#!/usr/bin/env bash
# tessera-card --listen serves the card on a socket; tessera --connect talks to it. Two
# listeners make one card reachable over two interfaces (a dual-interface card) with one state.
set -uo pipefail
T="${TESSERA:?}"; CARD="${TESSERA_CARD:?}"
dir=$(mktemp -d)
card_pid=""
trap '[ -n "$card_pid" ] && kill -9 "$card_pid" 2>/dev/null; rm -rf "$dir"' EXIT
pass=0; fails=0
check() { local n="$1"; shift; if "$@"; then pass=$((pass+1)); else fails=$((fails+1)); echo "FAIL: $n"; return 1; fi; }

"$T" image init "$dir/card.img" >/dev/null
port=$((20000 + RANDOM % 20000))
"$CARD" --image "$dir/card.img" --listen "unix:$dir/card.sock" --listen "tcp:127.0.0.1:$port" \
  >"$dir/card.log" 2>&1 &
card_pid=$!
for _ in $(seq 50); do [ -S "$dir/card.sock" ] && break; sleep 0.1; done

out=$("$T" --connect "unix:$dir/card.sock" apdu 00A404000E315041592E5359532E444446303100)
check "unix socket: SELECT PSE" grep -q "^6F1A.*9000$" <<<"$out"
out=$("$T" --connect "unix:$dir/card.sock" apdu 00A4040C09F05445535345524110 002000810431323334 00B0810004)
check "unix socket: VERIFY then READ" test "$(tail -1 <<<"$out")" = "64656D6F9000"
# The same card, the same channel state, over TCP: the PIN verified above still holds.
out=$("$T" --connect "tcp:127.0.0.1:$port" apdu 00B0810004)
check "tcp socket: same card, same state" test "$out" = "64656D6F9000"
out=$("$T" --connect "unix:$dir/nothing.sock" apdu 00A40000 2>&1); rc=$?
check "connecting to nothing is a clear error" grep -q "cannot connect" <<<"$out"
out=$("$CARD" --image "$dir/card.img" --listen "unix:$dir/other.sock" 2>&1); rc=$?
check "a second tessera-card on the same image is refused" grep -q "in use by another process" <<<"$out"
out=$("$CARD" --listen bogus 2>&1); rc=$?
check "usage errors exit 2" test $rc -eq 2
kill -TERM "$card_pid"; wait "$card_pid"; rc=$?; card_pid=""
check "SIGTERM: exit 0" test $rc -eq 0
check "SIGTERM: socket removed" test ! -e "$dir/card.sock"
check "image consistent afterwards" "$T" image check "$dir/card.img"
echo "$pass passed, $fails failed"
test $fails -eq 0
