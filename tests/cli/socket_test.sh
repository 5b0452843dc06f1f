#!/usr/bin/env bash
# tessera-card --listen serves the card on a socket; tessera --connect talks to it. Two
# listeners make one card reachable over two interfaces (a dual-interface card) with one NVM.
# Each connection is a card session: it starts on a reset card, owns the card until it closes
# (others wait, bounded, then are refused), and leaves nothing volatile behind. Idle and stalled
# connections never keep the card from other clients for longer than the documented bounds.
set -uo pipefail
T="${TESSERA:?}"; CARD="${TESSERA_CARD:?}"
. "$(dirname "$0")/wait_until.sh"
dir=$(mktemp -d)
card_pid=""
pids=()
trap '[ -n "$card_pid" ] && kill -9 "$card_pid" 2>/dev/null; for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$dir"' EXIT
pass=0; fails=0
check() { local n="$1"; shift; if "$@"; then pass=$((pass+1)); else fails=$((fails+1)); echo "FAIL: $n"; return 1; fi; }

"$T" image init "$dir/card.img" >/dev/null
port=$((20000 + RANDOM % 20000))
mkfifo "$dir/ready"
"$CARD" --image "$dir/card.img" --listen "unix:$dir/card.sock" --listen "tcp:127.0.0.1:$port" \
  --ready-fd 3 3>"$dir/ready" >"$dir/card.log" 2>&1 &
card_pid=$!
ready=$(timeout 120 cat "$dir/ready")
check "readiness line names both endpoints" test "$ready" = "ready unix:$dir/card.sock tcp:127.0.0.1:$port"
PY="python3 $(dirname "$0")/socket_clients.py"

out=$("$T" --connect "unix:$dir/card.sock" apdu 00A404000E315041592E5359532E444446303100)
check "unix socket: SELECT PSE" grep -q "^6F1A.*9000$" <<<"$out"
out=$("$T" --connect "unix:$dir/card.sock" apdu 00A4040C09F05445535345524110 002000810431323334 00B0810004)
check "unix socket: VERIFY then READ" test "$(tail -1 <<<"$out")" = "64656D6F9000"
# A new connection is a new session on the same card: the PIN verified by the previous one no
# longer holds, and neither does its selection.
out=$("$T" --connect "tcp:127.0.0.1:$port" apdu 00A4040C09F05445535345524110 00B0810004)
check "tcp socket: a new session does not inherit the PIN" test "$(tail -1 <<<"$out")" = "6982"
out=$("$T" --connect "unix:$dir/card.sock" apdu 00B0810004)
check "a new session starts at the MF" test "$out" = "6A82"
# Persistent changes are shared: an UPDATE BINARY by one session is read by the next.
"$T" --connect "unix:$dir/card.sock" apdu 00A4040C09F05445535345524110 002000810431323334 \
  00D6811004CAFEF00D >/dev/null
out=$("$T" --connect "tcp:127.0.0.1:$port" apdu 00A4040C09F05445535345524110 002000810431323334 00B0811004)
check "NVM changes outlive the session" test "$(tail -1 <<<"$out")" = "CAFEF00D9000"
# Two clients at once, each checking every byte it gets back (SELECT + GET RESPONSE, PIN state).
out=$($PY concurrent "unix:$dir/card.sock" 200 2>&1)
check "concurrent clients never see each other's bytes" grep -q "exactly their own bytes" <<<"$out" || echo "$out"
# Responses of 64 KiB and more: 65,533 bytes and 61xx, the rest through GET RESPONSE.
out=$($PY huge "unix:$dir/card.sock")
check "a 64 KiB response goes through in pieces" test "$out" = "first=65533 sw=6103 rest=3 final=9000"
out=$("$T" --connect "unix:$dir/card.sock" apdu 00840000000000)
check "tessera collects all 65,536 bytes" test "${#out}" -eq $((2 * 65536 + 4))
# No resource grows with the number of connections.
out=$($PY soak "unix:$dir/card.sock" 100000 "$card_pid")
echo "$out"
rss1=$(sed -n 's/^after 1000: rss_kb=\([0-9]*\).*/\1/p' <<<"$out")
rss2=$(sed -n 's/^after 100000: rss_kb=\([0-9]*\).*/\1/p' <<<"$out")
thr2=$(sed -n 's/^after 100000: .*threads=\([0-9]*\)/\1/p' <<<"$out")
if [ -n "${ASAN_OPTIONS:-}" ]; then
  # AddressSanitizer keeps freed memory in quarantine (up to 256 MiB) and per-thread records:
  # RSS says nothing about leaks there (LeakSanitizer checks those at exit). The GCC build
  # asserts it.
  echo "note: memory growth not asserted under AddressSanitizer (${rss1} -> ${rss2} kB)"
else
  check "100,000 connections: memory flat (${rss1} -> ${rss2} kB)" test "$rss2" -le $((rss1 + 2048))
fi
check "100,000 connections: threads bounded (${thr2})" test "$thr2" -le 24
# A second card on the same socket path is refused, and the first one keeps serving.
"$T" image init "$dir/other.img" >/dev/null 2>&1
out=$("$CARD" --image "$dir/other.img" --listen "unix:$dir/card.sock" 2>&1); rc=$?
check "a second card on the same socket path is refused" grep -q "already served" <<<"$out"
check "... with exit 1" test $rc -eq 1
out=$("$T" --connect "unix:$dir/card.sock" apdu 00A4000C023F00)
check "... and the first card still answers" test "$out" = "9000"
# A failed start leaves no socket file behind.
out=$("$CARD" --image "$dir/card.img" --listen "unix:$dir/never.sock" 2>&1); rc=$?
check "a card on an image in use fails" grep -q "in use by another process" <<<"$out"
check "... and leaves no socket file" test ! -e "$dir/never.sock"
out=$("$CARD" --image "$dir/missing.img" --listen "unix:$dir/never.sock" 2>&1); rc=$?
check "a missing image leaves no socket file" test ! -e "$dir/never.sock"
# A path that is not a socket is never replaced.
echo keep >"$dir/plain"
out=$("$CARD" --image "$dir/other.img" --listen "unix:$dir/plain" 2>&1); rc=$?
check "a plain file is not taken over" test "$(cat "$dir/plain")" = keep
out=$("$T" --connect "unix:$dir/nothing.sock" apdu 00A40000 2>&1); rc=$?
check "connecting to nothing is a clear error" grep -q "cannot connect" <<<"$out"
out=$("$CARD" --image "$dir/card.img" --listen "unix:$dir/other.sock" 2>&1); rc=$?
check "a second tessera-card on the same image is refused" grep -q "in use by another process" <<<"$out"
out=$("$CARD" --listen bogus 2>&1); rc=$?
check "usage errors exit 2" test $rc -eq 2
# A client that holds the card longer than the session wait: the next one is refused clearly.
# (--idle-timeout 600: the idle holder keeps the card however long this machine takes.)
"$CARD" --image "$dir/other.img" --listen "tcp:127.0.0.1:0" --session-wait 1 --idle-timeout 600 \
  --ready-fd 4 \
  4>"$dir/ready2" >"$dir/card2.log" 2>&1 &
card2_pid=$!
pids+=("$card2_pid")
wait_until 120 test -s "$dir/ready2"
ep2=$(cut -d' ' -f2 <"$dir/ready2")
check "tcp port 0 picks a free port" grep -Eq "^tcp:127\.0\.0\.1:[1-9][0-9]*$" <<<"$ep2"
check "... and logs it" grep -q "listening on $ep2" "$dir/card2.log"
$PY hold "$ep2" "$dir/release-hold" >"$dir/hold.log" &
hold_pid=$!
pids+=("$hold_pid")
wait_for_line 120 "$dir/hold.log" holding
out=$("$T" --connect "$ep2" apdu 00A4000C023F00 2>&1); rc=$?
check "a busy card is refused with a clear message" grep -q "busy" <<<"$out"
check "... and exit 1" test $rc -eq 1
touch "$dir/release-hold"
wait "$hold_pid"
check "the holder kept the card until it let go" grep -q "^released" "$dir/hold.log"
out=$("$T" --connect "$ep2" apdu 00A4000C023F00)
check "once the holder leaves, the card serves again" test "$out" = "9000"
kill -TERM "$card2_pid"; wait "$card2_pid"

# Idle and stalled connections: connections without a session cost no worker, a frame begun
# must be complete within --frame-timeout, and an owner idle for --idle-timeout while another
# client waits loses the card. Short timeouts against a long session wait: a client that gets
# its answer got it because the card let the stalled connection go, not because it waited out
# the session wait (60 s, then "busy").
"$T" image init "$dir/third.img" >/dev/null 2>&1
"$CARD" --image "$dir/third.img" --listen "tcp:127.0.0.1:0" --frame-timeout 2 --idle-timeout 2 \
  --session-wait 60 --ready-fd 4 4>"$dir/ready3" >"$dir/card3.log" 2>&1 &
card3_pid=$!
pids+=("$card3_pid")
wait_until 120 test -s "$dir/ready3"
ep3=$(cut -d' ' -f2 <"$dir/ready3")
threads_of() { sed -n 's/^Threads:[[:space:]]*//p' "/proc/$1/status"; }
# 64 idle connections and one half frame: never a session, never the card.
$PY siege "$ep3" 64 "$dir/release-siege" >"$dir/siege.log" 2>&1 &
siege_pid=$!
pids+=("$siege_pid")
wait_for_line 120 "$dir/siege.log" "^siege:"
check "64 idle connections and a half frame are open" grep -q "^siege: 64 idle" "$dir/siege.log" ||
  cat "$dir/siege.log"
start=$SECONDS
out=$("$T" --connect "$ep3" --timeout 60 apdu 00A4000C023F00 2>&1)
check "... and another client still gets its answer" test "$out" = "9000" || echo "$out"
echo "note: answered after $((SECONDS - start)) s beside 64 idle connections"
check "... without a thread for each idle connection ($(threads_of "$card3_pid"))" \
  test "$(threads_of "$card3_pid")" -le 24
wait_for_line 120 "$dir/siege.log" "closed the half-frame connection"
check "the half frame is closed after --frame-timeout" \
  grep -q "closed the half-frame connection" "$dir/siege.log"
check "... and the card logs why" grep -q "frame not completed within 2 s" "$dir/card3.log"
touch "$dir/release-siege"
wait "$siege_pid"
check "idle connections without a session are kept while there is room" \
  grep -q "closed by the card: 0 of 64" "$dir/siege.log" || cat "$dir/siege.log"
# More idle connections than the card keeps (256): the oldest make room for new clients.
rm -f "$dir/release-siege"
$PY siege "$ep3" 400 "$dir/release-siege" >"$dir/siege2.log" 2>&1 &
siege_pid=$!
pids+=("$siege_pid")
wait_for_line 120 "$dir/siege2.log" "^siege:"
out=$("$T" --connect "$ep3" --timeout 60 apdu 00A4000C023F00 2>&1)
check "400 idle connections: another client still gets its answer" test "$out" = "9000" ||
  echo "$out"
touch "$dir/release-siege"
wait "$siege_pid"
n_closed=$(sed -n 's/^idle connections closed by the card: \([0-9]*\) of 400$/\1/p' "$dir/siege2.log")
check "... the oldest idle connections made room (${n_closed:-?} of 400 closed)" \
  test "${n_closed:-0}" -ge 144
# A session owner that stalls mid-frame loses the card after --frame-timeout.
$PY stall "$ep3" "$dir/release-stall" >"$dir/stall.log" 2>&1 &
stall_pid=$!
pids+=("$stall_pid")
wait_for_line 120 "$dir/stall.log" "^stalled"
start=$SECONDS
out=$("$T" --connect "$ep3" --timeout 60 apdu 00A4000C023F00 2>&1)
check "an owner stalled mid-frame: another client gets the card" test "$out" = "9000" ||
  echo "$out"
echo "note: answered after $((SECONDS - start)) s beside a stalled owner"
touch "$dir/release-stall"
wait "$stall_pid"
check "... and the stalled session was closed" grep -q "closed the stalled session" "$dir/stall.log"
# A session owner that sends nothing loses the card when another client has waited for it for
# --idle-timeout.
$PY hold "$ep3" "$dir/release-idle" >"$dir/idle.log" 2>&1 &
idle_pid=$!
pids+=("$idle_pid")
wait_for_line 120 "$dir/idle.log" "^holding"
start=$SECONDS
out=$("$T" --connect "$ep3" --timeout 60 apdu 00A4000C023F00 2>&1)
check "an idle owner: another client gets the card" test "$out" = "9000" || echo "$out"
echo "note: answered after $((SECONDS - start)) s beside an idle owner"
touch "$dir/release-idle"
wait "$idle_pid"
check "... and the idle session was closed" grep -q "closed the idle session" "$dir/idle.log"
check "... and the card logs why (idle)" grep -q "idle for 2 s while another client waited" "$dir/card3.log"
out=$("$T" --connect "$ep3" --timeout 60 apdu 00A4000C023F00 2>&1)
check "the card serves normally afterwards" test "$out" = "9000"
kill -TERM "$card3_pid"; wait "$card3_pid"
# A card that never answers: tessera --connect gives up after --timeout with a clear message.
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept(); time.sleep(600)' >"$dir/mute.port" &
mute_pid=$!
pids+=("$mute_pid")
wait_until 120 test -s "$dir/mute.port"
out=$("$T" --connect "tcp:127.0.0.1:$(cat "$dir/mute.port")" --timeout 1 apdu 00A4000C023F00 2>&1); rc=$?
check "a mute card: a clear timeout" grep -q "no answer from the card at tcp:127.0.0.1:.* within 1 s" <<<"$out" || echo "$out"
check "... and exit 1" test $rc -eq 1
kill "$mute_pid" 2>/dev/null; wait "$mute_pid" 2>/dev/null
out=$("$T" --connect "unix:$dir/card.sock" --timeout soon apdu 00A4000C023F00 2>&1); rc=$?
check "a bad --timeout is a usage error" test $rc -eq 2
kill -TERM "$card_pid"; wait "$card_pid"; rc=$?; card_pid=""
check "SIGTERM: exit 0" test $rc -eq 0
check "SIGTERM: socket removed" test ! -e "$dir/card.sock"
check "image consistent afterwards" "$T" image check "$dir/card.img"
echo "$pass passed, $fails failed"
test $fails -eq 0
