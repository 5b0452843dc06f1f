#!/usr/bin/env bash
# Self-issuance tried as a careless operator and an attacker would (docs/self-issuance.md §5,
# §6): a stored command the card will not run, a group that deletes the issuance application,
# a target the card must refuse, policy b2 both ways, a second run of an issued function, two
# cards in one directory, and what is readable without the issuer's session.
set -uo pipefail
T="${TESSERA:?set TESSERA to the tessera binary}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fails=0
pass=0
check() {  # check NAME CONDITION...
  local name="$1"; shift
  if "$@"; then pass=$((pass + 1)); else echo "FAIL: $name"; fails=$((fails + 1)); fi
}
cd "$dir" || exit 1
export TESSERA_NO_TEST_KEY_WARNING=1
MOD=F0544553534552414D02
PURSE=F05445535345524150
ISSUANCE=F05445535345524102
PARAMS=C90C800400000000810431323334  # balance 0, PIN "1234"
sel() { "$T" --image "$1" apdu "00A40400$(printf %02X $((${#2} / 2)))$2" 2>/dev/null | tail -1 | grep -o "....$"; }
new_card() {  # new_card IMAGE: a card with the issuance application
  "$T" image init "$1" >/dev/null 2>&1 &&
    "$T" --image "$1" --scp03 test issue install-app >/dev/null 2>&1
}
cat >purse.group <<EOF
00A4040008A000000151000000 harmless
80E60C0032 0A$MOD 0A$MOD 09$PURSE 0100 0E$PARAMS 00
00A4040009$PURSE harmless
805200000400002710
EOF

# --- commands the card will not run are refused where a group is made ----------------------
printf '00A4040008A000000151000000\n00C0000000\n' >getresponse.group
printf '00A4040008A000000151000000\n0070000001\n' >managechannel.group
for g in getresponse managechannel; do
  out=$("$T" issue compile $g.group 2>&1); rc=$?
  check "compile refuses $g (exit 1, line 2)" bash -c '[ $1 -eq 1 ] && grep -q "$2.group:2:" <<<"$3"' _ $rc $g "$out"
done
check "the reason names GET RESPONSE" bash -c '"$1" issue compile getresponse.group 2>&1 | grep -q "GET RESPONSE"' _ "$T"
new_card c1.img
out=$("$T" image write-group c1.img managechannel.group --function 1 2>&1); rc=$?
check "write-group refuses MANAGE CHANNEL" bash -c '[ $1 -ne 0 ] && grep -q "MANAGE CHANNEL" <<<"$2"' _ $rc "$out"
# A compiled group holding one (made by hand): the loader refuses it, naming the command.
python3 -c 'import sys
apdu = bytes.fromhex("0070000001")
sys.stdout.buffer.write(b"G\x01\x00\x01" + b"\x00\x00" + len(apdu).to_bytes(2, "big") + apdu)' >mc.bin
out=$("$T" --image c1.img --scp03 test issue load-group mc.bin --function 1 2>&1); rc=$?
check "load-group refuses a compiled MANAGE CHANNEL" bash -c '[ $1 -ne 0 ] && grep -q "command 0" <<<"$2"' _ $rc "$out"
out=$("$T" --image c1.img issue status --function 1 2>&1)
check "nothing was loaded" grep -q "6A88\|no function\|no such function" <<<"$out"

# --- a group that deletes the issuance application ------------------------------------------
cat >delete-self.group <<EOF
00A4040008A000000151000000 harmless
80E400000B4F09$ISSUANCE
EOF
"$T" --image c1.img --scp03 test issue load-group delete-self.group --function 2 --target $PURSE >/dev/null 2>&1
out=$("$T" --image c1.img issue run --function 2 2>&1); rc=$?
check "a stored DELETE of the issuance application: exit 3" test $rc -eq 3
check "  it names command 1 and 6985" grep -q "command 1 (of 2, from 0) failed with 6985" <<<"$out"
check "  the issuance application is still there" test "$(sel c1.img $ISSUANCE)" = 9000
out=$("$T" --image c1.img issue ack --function 2 2>&1); rc=$?
check "  the partial run is acknowledged" test $rc -eq 0

# --- stored commands that would lock or terminate the card, or take its keys -----------------
for bad in 80F080FF00 80F0807F00 80E4000003D20130; do
  printf '00A4040008A000000151000000 harmless\n%s\n' $bad >lock.group
  "$T" --image c1.img --scp03 test issue load-group lock.group --function 4 --target $PURSE >/dev/null 2>&1
  out=$("$T" --image c1.img issue run --function 4 --state lock-$bad.state 2>&1); rc=$?
  check "stored $bad: refused, exit 3 naming 6985" bash -c '[ $1 -eq 3 ] && grep -q "failed with 6985" <<<"$2"' _ $rc "$out"
  "$T" --image c1.img issue ack --function 4 --state lock-$bad.state >/dev/null 2>&1
  check "  the card still serves its ISD" test "$(sel c1.img A000000151000000)" = 9000
done

# --- targets the card refuses -----------------------------------------------------------------
for t in $ISSUANCE A000000151000000; do
  out=$("$T" --image c1.img --scp03 test issue load-group purse.group --function 3 --target $t 2>&1); rc=$?
  check "target $t refused (6A80)" bash -c '[ $1 -ne 0 ] && grep -q 6A80 <<<"$2"' _ $rc "$out"
done

# --- policy b2 both ways ------------------------------------------------------------------------
# Command 1 selects an application that does not exist: 6A82, not transient.
printf '00A4040008A000000151000000 harmless\n00A4040009F054455353455241EE\n' >fails.group
for policy in 01 03; do
  new_card p$policy.img
  "$T" --image p$policy.img --scp03 test issue load-group fails.group --function 1 --policy $policy \
    --target $PURSE >/dev/null 2>&1
  "$T" --image p$policy.img issue run --function 1 --state p$policy.state >/dev/null 2>&1
  out=$("$T" --image p$policy.img issue retry-failed --function 1 --state p$policy.state 2>&1); rc=$?
  if [ $policy = 01 ]; then
    check "policy 01: retry-failed refused (6985)" bash -c '[ $1 -eq 1 ] && grep -q 6985 <<<"$2"' _ $rc "$out"
  else
    check "policy 03: retry-failed runs it again (partial again, exit 3)" test $rc -eq 3
  fi
done

# --- a second run of an issued function; two cards in one directory --------------------------
new_card a.img
new_card b.img
for c in a b; do "$T" --image $c.img --scp03 test issue load-group purse.group --function 1 >/dev/null 2>&1; done
"$T" --image a.img issue run --function 1 --no-ack >/dev/null 2>&1
out=$("$T" --image b.img issue run --function 1 2>&1); rc=$?
check "card b issues in the directory of card a's unacknowledged run" test $rc -eq 0
check "  two state files, one per card" test "$(ls tessera-issue-*-01.state | wc -l)" -eq 2
out=$("$T" --image a.img issue status --function 1 2>&1)
check "  card a's run stays unacknowledged" grep -q "(not acknowledged)" <<<"$out"
a_state=$(grep -l "^run_id=$(grep -o 'run id: [0-9A-F]*' <<<"$out" | cut -d' ' -f3)" tessera-issue-*-01.state)
b_state=$(ls tessera-issue-*-01.state | grep -v "$a_state")
out=$("$T" --image a.img issue run --function 1 --state "$b_state" 2>&1); rc=$?
check "  card b's state file is refused for card a" bash -c '[ $1 -eq 1 ] && grep -q "belongs to card" <<<"$2"' _ $rc "$out"
out=$("$T" --image a.img issue run --function 1 2>&1); rc=$?
check "  card a's own run is acknowledged as a replay" bash -c '[ $1 -eq 0 ] && grep -q "already done" <<<"$2"' _ $rc "$out"
b_default=$(ls tessera-issue-*-01.state | grep -v "$a_state")
before_state=$(grep -v '^updated=' "$b_default")
out=$("$T" --image b.img issue run --function 1 2>&1); rc=$?
check "a second run with the card's own state file is refused (exit 1)" test $rc -eq 1
check "  and leaves that state file as it was (the acknowledged run)" \
  test "$(grep -v '^updated=' "$b_default")" = "$before_state"
out=$("$T" --image b.img issue run --function 1 --state other.state 2>&1); rc=$?
check "an issued function is not started again (exit 1, says --again)" bash -c '[ $1 -eq 1 ] && grep -q -- "--again" <<<"$2"' _ $rc "$out"
check "  the purse stays selectable" test "$(sel b.img $PURSE)" = 9000
out=$("$T" --image b.img issue run --function 1 --state other.state --again 2>&1); rc=$?
check "--again runs the group again (its INSTALL: 6A89, exit 3)" bash -c '[ $1 -eq 3 ] && grep -q 6A89 <<<"$2"' _ $rc "$out"
out=$("$T" --image b.img apps list 2>&1)
check "apps list shows the purse half-issued" grep -q "$PURSE.*half-issued (function 01 partial): not selectable" <<<"$out"
out=$("$T" --json --image b.img apps list 2>&1)
check "apps list --json: half_issued, selectable false" python3 -c '
import json, sys
apps = {a.get("aid"): a for a in json.loads(sys.argv[1])["applications"]}
p = apps["'$PURSE'"]
assert p["half_issued"] == "function 01 partial" and p["selectable"] is False' "$out"

# --- nothing of a stored command is readable without the issuer's session ----------------------
out=$("$T" --image b.img apdu 00A4040009$ISSUANCE 00A4020C020301 00B0000000 00B2010C00 2>/dev/null)
check "the group file is not readable (6982)" bash -c 'sed -n 3p <<<"$1" | grep -q "^6982$"' _ "$out"
check "the table is not readable outside the session (6982)" bash -c 'sed -n 4p <<<"$1" | grep -q "^6982$"' _ "$out"
check "the PIN is nowhere in the answers" bash -c '! grep -q 31323334 <<<"$1"' _ "$out"
out=$("$T" --image b.img --scp03 test issue status --function 1 2>&1)
check "issue status with the issuer's keys shows the table record" grep -q "group file 0301" <<<"$out"

echo "issue trust CLI: $pass passed, $fails failed"
[ $fails -eq 0 ]
