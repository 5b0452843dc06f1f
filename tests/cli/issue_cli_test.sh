#!/usr/bin/env bash
# Runs `tessera issue` the way an issuer does (docs/self-issuance.md §6), on fresh images:
# compile (FILE:LINE errors, exit 1), install-app, load-group of profiles/emoney.group, run (the
# purse then lists and selects), replay, a new run refused before the ack, a non-transient
# failure (exit 3, status names the command and its status word), the state file written before
# the first send, --json outputs, image write-group, and two kills in the middle of a run on a
# socket card: the card (SIGKILL, restarted; the host reconnects and resumes) and the host
# (SIGKILL; a second `issue run` with the same state file finishes the run).
#
# The card is stopped in the middle of a run by running tessera-card under gdb with a
# breakpoint on Card::ExecuteInternal (a run executes about 250 commands in a few ms): the
# test waits for the breakpoint, then kills. Without gdb (scripts/install-deps.sh installs it)
# the test fails. Every step waits for a condition (a file, a readiness line, a process state),
# never for a fixed time: the suite also runs under a CPU hog.
set -uo pipefail
T="${TESSERA:?set TESSERA to the tessera binary}"
CARD="${TESSERA_CARD:?set TESSERA_CARD to the tessera-card binary}"
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/wait_until.sh"
profiles="$here/../../profiles"
dir=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$dir"
}
trap cleanup EXIT
fails=0
pass=0
check() {  # check NAME CONDITION...
  local name="$1"; shift
  if "$@"; then pass=$((pass + 1)); else echo "FAIL: $name"; fails=$((fails + 1)); fi
}
json_ok() { python3 -m json.tool >/dev/null; }
jget() { python3 -c 'import json,sys; d=json.loads(sys.argv[2]); print(eval(sys.argv[1]))' "$@"; }
cd "$dir" || exit 1
PURSE=F05445535345524150
SELECT_PURSE=00A4040009$PURSE
# The e-money function's command count, from its text (lines that are not comments).
n=$(grep -cv '^\s*\(#\|$\)' "$profiles/emoney.group")
balance() {  # balance IMAGE: the purse's balance in decimal
  local out
  out=$("$T" --image "$1" apdu $SELECT_PURSE 805C000004 | tail -1)
  echo $((16#${out:0:8}))
}

# --- 1. compile -------------------------------------------------------------------------------
out=$("$T" issue compile "$profiles/emoney.group" 2>&1); rc=$?
check "compile emoney exits 0" test $rc -eq 0
check "compile prints count and SHA-256" grep -q "$n commands, [0-9]* bytes, SHA-256 [0-9A-F]\{64\}" <<<"$out"
printf '00A40400\n00A4 040 0\nzz\n84E60C00\n' >bad.group
out=$("$T" issue compile bad.group 2>&1); rc=$?
check "compile of a bad group exits 1" test $rc -eq 1
check "errors name FILE:LINE (2)" grep -q "bad.group:2:" <<<"$out"
check "errors name FILE:LINE (3)" grep -q "bad.group:3:" <<<"$out"
check "errors name FILE:LINE (4)" grep -q "bad.group:4:" <<<"$out"
check "no error for the good line" bash -c '! grep -q "bad.group:1:" <<<"$1"' _ "$out"
out=$("$T" --json issue compile "$profiles/emoney.group" -o emoney.bin)
check "compile --json parses" json_ok <<<"$out"
check "compile -o writes 47 01" test "$(head -c 2 emoney.bin | od -An -tx1 | tr -d ' ')" = "4701"
"$T" issue compile 2>/dev/null; check "compile without GROUP is a usage error" test $? -eq 2
"$T" issue run --function 1 2>/dev/null; check "run without a card is a usage error" test $? -eq 2
"$T" issue frobnicate 2>/dev/null; check "unknown subcommand exits 2" test $? -eq 2
out=$("$T" --help); check "tessera --help lists issue" grep -q "^  issue " <<<"$out"
out=$("$T" issue --help); check "issue --help lists compile" grep -q "^  compile " <<<"$out"
for sub in compile install-app load-group run status resume retry-failed ack; do
  out=$("$T" issue $sub --help); check "issue $sub --help" grep -q "Exit codes" <<<"$out"
done
out=$("$T" issue --help); check "issue --help documents exit 3" grep -q "3  the issuance stopped" <<<"$out"
out=$("$T" image --help); check "image --help documents write-group" grep -q "write-group" <<<"$out"

# --- 2. install-app, load-group, run on a fresh image ------------------------------------------
"$T" image init a.img >/dev/null 2>&1 || { echo "cannot create an image"; exit 1; }
"$T" --image a.img issue install-app 2>/dev/null; check "install-app without --scp03 exits 2" test $? -eq 2
out=$("$T" --image a.img --scp03 test issue install-app 2>/dev/null); rc=$?
check "install-app exits 0" test $rc -eq 0
check "install-app says installed" grep -q "installed the issuance application" <<<"$out"
out=$("$T" --image a.img --scp03 test issue install-app 2>/dev/null); rc=$?
check "install-app again exits 0" test $rc -eq 0
check "install-app again says already installed" grep -q "already installed (6A89)" <<<"$out"
out=$("$T" --image a.img --scp03 test issue load-group "$profiles/emoney.group" --function 1 \
      --target $PURSE 2>/dev/null); rc=$?
check "load-group exits 0" test $rc -eq 0
check "load-group prints what it loaded" grep -q "loaded function 01: $n commands" <<<"$out"
"$T" --image a.img apdu $SELECT_PURSE | grep -q "6A82"; check "no purse before the run" test $? -eq 0
out=$("$T" --image a.img issue run --function 1 --state a.state 2>run.err); rc=$?
check "run exits 0" test $rc -eq 0 || cat run.err
check "run says done and acknowledged" grep -q "done, $n of $n commands succeeded, acknowledged" <<<"$out"
check "run shows a line per command" test "$(grep -c '  command [0-3]: ok' run.err)" -eq 4
check "state file holds the run, acked" grep -q "^acked=1" a.state
run_a=$(sed -n 's/^run_id=//p' a.state)
check "the run id is 16 hex digits" grep -qE '^[0-9A-F]{16}$' <<<"$run_a"
check "log next to the state file" test -s a.log
check "log lines are JSON" python3 -c '
import json,sys
steps=[json.loads(l)["step"] for l in open("a.log")]
assert steps==["status","start","response","ack"], steps'
out=$("$T" --image a.img issue status --function 1); rc=$?
check "status exits 0" test $rc -eq 0
check "status shows done" grep -q "^state: done" <<<"$out"
check "status shows the run id, acknowledged" grep -q "run id: $run_a (acknowledged)" <<<"$out"
out=$("$T" --json --image a.img issue status --function 1)
check "status --json parses" json_ok <<<"$out"
check "status --json: done, $n of $n" test "$(jget 'd["state"],d["succeeded"],d["count"],d["acked"]' "$out")" = "('done', $n, $n, True)"
check "the purse is listed" bash -c "'$T' --image a.img apps list | grep -q $PURSE"
check "the purse selects" bash -c "'$T' --image a.img apdu $SELECT_PURSE | grep -q '9000'"
check "the purse holds its first value" test "$(balance a.img)" -eq 1000

# Replay: the same run id executes nothing.
out=$("$T" --image a.img issue run --function 1 --run-id "$run_a" --state replay.state 2>&1); rc=$?
check "replay exits 0" test $rc -eq 0
check "replay executes nothing" grep -q "already done (nothing executed)" <<<"$out"
check "replay leaves the balance" test "$(balance a.img)" -eq 1000

# --- 3. a new run before the ack is refused; ack, then it works -------------------------------
{ echo "$SELECT_PURSE harmless"; echo "8052000004 00000005"; } >credit5.group
"$T" --image a.img --scp03 test issue load-group credit5.group --function 2 >/dev/null 2>&1
check "load-group of a text group" test $? -eq 0
out=$("$T" --json --image a.img issue run --function 2 --state b.state --no-ack 2>/dev/null); rc=$?
check "run --no-ack exits 0" test $rc -eq 0
check "run --json parses" json_ok <<<"$out"
check "run --no-ack: not acked" test "$(jget 'd["acked"],d["state"]' "$out")" = "(False, 'done')"
run_b=$(sed -n 's/^run_id=//p' b.state)
out=$("$T" --image a.img issue run --function 2 --run-id 00000000000000BB --state b.state 2>&1); rc=$?
check "another run id with an unacked state file is refused (exit 1)" test $rc -eq 1
check "the refusal names the unacked run" grep -q "holds run $run_b.*not acknowledged" <<<"$out"
out=$("$T" --image a.img issue run --function 2 --run-id 00000000000000BB --state other.state 2>&1); rc=$?
check "the card refuses a new run before the ack (exit 1)" test $rc -eq 1
check "the card's refusal is 6985, not acknowledged" grep -q "6985.*not acknowledged" <<<"$out"
check "the refused run's id was stored before the send" grep -q "^run_id=00000000000000BB" other.state
check "balance: one credit of 5" test "$(balance a.img)" -eq 1005
out=$("$T" --image a.img issue ack --function 2 --state b.state 2>&1); rc=$?
check "ack exits 0" test $rc -eq 0
check "ack recorded in the state file" grep -q "^acked=1" b.state
out=$("$T" --image a.img issue run --function 2 --run-id 00000000000000BB --state other.state --again 2>&1); rc=$?
check "after the ack a new run works" test $rc -eq 0 || echo "$out"
check "balance: two credits of 5" test "$(balance a.img)" -eq 1010

# --- 4. a non-transient failure: exit 3, status names the command and its status word ---------
{ echo "$SELECT_PURSE harmless"; echo "8052000004 00000001"; echo "00A4040005A000000999";
  echo "8052000004 00000001"; } >fail.group
"$T" --image a.img --scp03 test issue load-group fail.group --function 3 --target $PURSE \
  >/dev/null 2>&1
out=$("$T" --image a.img issue run --function 3 --state c.state 2>&1); rc=$?
check "a failing command exits 3" test $rc -eq 3
check "the failure names command 2 and 6A82" grep -q "command 2 .*6A82" <<<"$out"
check "the run stays unacknowledged" grep -q "^acked=0" c.state
out=$("$T" --image a.img issue status --function 3)
check "status: partial" grep -q "^state: partial" <<<"$out"
check "status names the failed command and SW" grep -q "first failed: command 2 with 6A82" <<<"$out"
check "status: 2 of 4" grep -q "succeeded: 2 of 4" <<<"$out"
out=$("$T" --json --image a.img issue run --function 3 --state c.state 2>/dev/null); rc=$?
check "the interrupted run is resumed and stops again (exit 3)" test $rc -eq 3
check "failure --json parses" json_ok <<<"$out"
check "failure --json names index and SW" test "$(jget 'd["first_pending"],d["failed_sw"]' "$out")" = "(2, '6A82')"
check "retry-failed exits 3 while the cause stays" bash -c "'$T' --image a.img issue retry-failed --function 3 --state c.state >/dev/null 2>&1; test \$? -eq 3"
check "the purse is not selectable while half-issued" bash -c "'$T' --image a.img apdu $SELECT_PURSE | grep -q 6985"
"$T" --image a.img issue ack --function 3 --state c.state >/dev/null 2>&1
check "ack of a partial run" test $? -eq 0
check "the purse is still half-issued after the ack" bash -c "'$T' --image a.img apdu $SELECT_PURSE | grep -q 6985"
echo "$SELECT_PURSE harmless" >select.group
"$T" --image a.img --scp03 test issue load-group select.group --function 3 --target $PURSE \
  >/dev/null 2>&1
check "a new group replaces the acknowledged partial one" test $? -eq 0
check "the purse selects again" bash -c "'$T' --image a.img apdu $SELECT_PURSE | grep -q 9000"

# --- 5. image write-group: the memory path -------------------------------------------------
"$T" image init w.img >/dev/null 2>&1
out=$("$T" image write-group w.img "$profiles/emoney.group" --function 1 --target $PURSE \
      --install-app 2>&1); rc=$?
check "image write-group exits 0" test $rc -eq 0 || echo "$out"
check "write-group warns about the test keys" grep -q "well-known test keys" <<<"$out"
out=$("$T" --json image write-group w.img emoney.bin --function 4 2>/dev/null)
check "write-group of a compiled group, --json" json_ok <<<"$out"
"$T" --image w.img issue run --function 1 --state w.state >/dev/null 2>&1
check "a written group runs" test $? -eq 0
check "the purse from the written group" test "$(balance w.img)" -eq 1000
"$T" image write-group w.img bad.group --function 5 2>/dev/null
check "write-group of a bad group exits 1" test $? -eq 1

# --- 6. kills in the middle of a run -------------------------------------------------------
if ! command -v gdb >/dev/null; then
  # scripts/install-deps.sh installs gdb: without it these tests did not run, which fails.
  check "gdb is installed (scripts/install-deps.sh) for the kill tests" false
else
  { echo "$SELECT_PURSE harmless"; for i in $(seq 250); do echo 805200000400000001; done; } >long.group
  "$T" --image a.img --scp03 test issue load-group long.group --function 6 >/dev/null 2>&1
  check "load-group of 251 commands" test $? -eq 0
  sock="$dir/card.sock"
  # Serves a.img under gdb; stops at the 101st stored command, touches $1, waits for $2. The
  # session wait is long: a client that comes while the stopped run holds the card waits for it
  # however slow this machine is.
  serve_stopping() {
    cat >gdb.cmd <<EOF
set startup-with-shell off
set pagination off
break tessera::card::Card::ExecuteInternal
ignore 1 100
run
shell touch $1
shell n=0; while [ ! -e $2 ] && [ \$n -lt 12000 ]; do sleep 0.05; n=\$((n + 1)); done
delete
continue
EOF
    rm -f ready
    gdb -q -batch -x gdb.cmd --args "$CARD" --image a.img --listen "unix:$sock" \
      --session-wait 600 --ready-fd 3 3>ready >gdb.log 2>&1 &
    gdb_pid=$!
    pids+=("$gdb_pid")
    wait_until 300 test -s ready
  }
  wait_for() { wait_until 300 test -e "$1"; }
  # gone PID: the process has exited (a zombie has released its files, the image lock too).
  gone() { [ ! -e "/proc/$1" ] || grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

  # 6a. SIGKILL of the card: restarted, the host reconnects and finishes the run.
  before=$(balance a.img)
  serve_stopping hit1 go1
  check "the card under gdb is ready" test -s ready
  # --timeout 600: the answer to a run the card was stopped in may take long on a busy machine.
  "$T" --connect "unix:$sock" --timeout 600 issue run --function 6 --state k.state >k.out 2>k.err &
  host=$!
  pids+=("$host")
  wait_for hit1; check "the card stopped mid-run" test $? -eq 0
  check "the state file holds the run id before the answer" grep -q "^run_id=[0-9A-F]\{16\}" k.state
  # The host is stopped while the card is killed and restarted, so that its reconnection (10 s
  # of attempts) starts when the new card serves, however long the restart takes here.
  kill -STOP "$host"
  card=$(pgrep -x -P "$gdb_pid" tessera-card)
  kill -9 "$card"
  wait_until 120 gone "$card"; check "the killed card is gone" test $? -eq 0
  touch go1
  "$CARD" --image a.img --listen "unix:$sock" --ready-fd 3 3>ready2 2>card2.log &
  card2=$!
  pids+=("$card2")
  wait_until 120 test -s ready2; check "the restarted card serves" test $? -eq 0 || cat card2.log
  kill -CONT "$host"
  wait "$host"; rc=$?
  check "the host finishes after the card was killed" test $rc -eq 0 || cat k.err
  check "the host reconnected" grep -q "reconnected" k.err
  check "the card had the run interrupted" grep -q "status: 9000 interrupted, 100 of 251" k.err
  check "the host resumed" grep -q "resume: 9000 done, 251 of 251" k.err
  out=$("$T" --json --connect "unix:$sock" issue status --function 6)
  check "final status: done, succeeded == count" test "$(jget 'd["state"],d["succeeded"]==d["count"],d["acked"]' "$out")" = "('done', True, True)"
  kill "$card2"; wait "$card2" 2>/dev/null
  wait "$gdb_pid" 2>/dev/null
  check "every credit ran exactly once" test "$(balance a.img)" -eq $((before + 250))
  check "the log has reconnect and resume" python3 -c '
import json
steps=[json.loads(l)["step"] for l in open("k.log")]
assert steps==["status","start","reconnect","status","resume","response","ack"], steps'

  # 6b. SIGKILL of the host: `issue run` again with the same state file completes the run.
  before=$(balance a.img)
  serve_stopping hit2 go2
  check "the card under gdb is ready (2)" test -s ready
  "$T" --connect "unix:$sock" --timeout 600 issue run --function 6 --state h.state --again >h.out 2>h.err &
  host=$!
  pids+=("$host")
  wait_for hit2; check "the card stopped mid-run (2)" test $? -eq 0
  run_h=$(sed -n 's/^run_id=//p' h.state)
  kill -9 "$host"; wait "$host" 2>/dev/null
  # The card finishes the request alone. The second host may reach it before the request ends:
  # the card then refuses it (privileged mode, 6985) and the host waits for the request to end.
  touch go2
  out=$("$T" --connect "unix:$sock" --timeout 600 issue run --function 6 --state h.state 2>h2.err)
  rc=$?
  check "the second issue run exits 0" test $rc -eq 0 || cat h2.err
  check "it resumes the stored run id" grep -q "holds run $run_h, not acknowledged.*resuming it" h2.err
  check "it completes and acknowledges" grep -q "run $run_h .*251 of 251 commands succeeded, acknowledged" <<<"$out"
  out=$("$T" --json --connect "unix:$sock" issue status --function 6)
  check "status after the host kill: done, acked" test "$(jget 'd["state"],d["succeeded"],d["acked"]' "$out")" = "('done', 251, True)"
  kill -9 "$(pgrep -x -P "$gdb_pid" tessera-card)" 2>/dev/null
  wait "$gdb_pid" 2>/dev/null
  check "every credit ran exactly once (2)" test "$(balance a.img)" -eq $((before + 250))
fi

echo "issue CLI: $pass passed, $fails failed"
test $fails -eq 0
