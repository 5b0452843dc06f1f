#!/usr/bin/env bash
# Batch issuance (`tessera issue batch`, docs/self-issuance.md §7) run the way a bureau runs it:
# shards as parallel processes, a batch killed (SIGKILL) mid-way and re-run, per-card keys
# that open SCP03 sessions, the card serial the card reports, failures listed. The oracle is
# the cards themselves, read through APDUs: a counting group (every command credits the purse
# once more) shows any command that ran twice or never.
set -uo pipefail
. "$(dirname "$0")/wait_until.sh"  # waits on conditions, never for a fixed time
T="${TESSERA:?set TESSERA to the tessera binary}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
dir=$(mktemp -d)
trap 'kill -9 $(jobs -p) 2>/dev/null; rm -rf "$dir"' EXIT
fails=0
pass=0
check() {  # check NAME CONDITION...
  local name="$1"; shift
  if "$@"; then pass=$((pass + 1)); else echo "FAIL: $name"; fails=$((fails + 1)); fi
}
jget() { python3 -c 'import json,sys; d=json.loads(sys.argv[2]); print(eval(sys.argv[1]))' "$@"; }
purse=F05445535345524150

# The e-money function and then 40 credits of 1: a card issued exactly once holds 1040.
cp "$root/profiles/emoney.group" "$dir/count.group"
for i in $(seq 40); do echo "8052000004" "00000001" >>"$dir/count.group"; done
balance() {  # balance IMAGE -> decimal balance of the purse, or the failing response
  local out
  out=$("$T" --image "$1" apdu 00A4040009$purse 805C000004 2>/dev/null | tail -1)
  [[ "$out" == *9000 && ${#out} -eq 12 ]] && echo $((16#${out:0:8})) || echo "$out"
}

# 1. Usage errors exit 2 and say what is wrong.
"$T" issue batch "$dir/count.group" --images "$dir/u" >"$dir/out" 2>&1
check "no --count: exit 2" test $? -eq 2
check "no --count: named" grep -q -- "--count" "$dir/out"
"$T" issue batch "$dir/count.group" --images "$dir/u" --count 3 --shard 3/2 >"$dir/out" 2>&1
check "bad shard: exit 2" test $? -eq 2
"$T" --image "$dir/x.img" issue batch "$dir/count.group" --images "$dir/u" --count 1 >"$dir/out" 2>&1
check "a card option before batch: exit 2, said" test $? -eq 2 -a -n "$(grep 'do not apply' "$dir/out")"
"$T" issue batch --help | grep -q "Slurm" ; check "help explains sharding" test $? -eq 0
printf '00A40400\nzz\n' >"$dir/bad.group"
"$T" issue batch "$dir/bad.group" --images "$dir/u" --count 1 >"$dir/out" 2>&1
check "bad group: exit 1" test $? -eq 1
check "bad group: FILE:LINE" grep -q "bad.group:2:" "$dir/out"

# 2. Three shards in parallel issue 30 cards between them, each card once.
for s in 0 1 2; do
  "$T" --json issue batch "$dir/count.group" --images "$dir/a" --count 30 --shard $s/3 \
    >"$dir/shard$s.json" 2>/dev/null &
done
wait
total=0
for s in 0 1 2; do
  n=$(jget 'd["issued"]' "$(cat "$dir/shard$s.json")")
  check "shard $s issued its 10" test "$n" = 10
  total=$((total + n))
done
check "30 images" test "$(ls "$dir"/a/card-*.img | wc -l)" -eq 30
bad=0
for img in "$dir"/a/card-*.img; do [[ "$(balance "$img")" == 1040 ]] || bad=$((bad + 1)); done
check "every sharded card holds exactly 1040" test $bad -eq 0
# The card reports its serial (GET DATA CF on the ISD: 00 00 || serial).
cf=$("$T" --image "$dir/a/card-0000000000000007.img" apdu 00A4040008A000000151000000 80CA00CF00 | tail -1)
check "GET DATA CF names serial 7" test "$cf" = "CF0A000000000000000000079000"
iu=$("$T" --image "$dir/a/card-0000000000000007.img" apdu 00A4040008A000000151000000 \
  80500000081122334455667788 | tail -1)
check "INITIALIZE UPDATE's key diversification data names serial 7" \
  test "${iu:0:20}" = "00000000000000000007"

# 3. A re-run issues nothing and skips everything.
"$T" --json issue batch "$dir/count.group" --images "$dir/a" --count 30 >"$dir/again.json" 2>/dev/null
check "re-run: exit 0" test $? -eq 0
check "re-run: 30 already issued" test "$(jget 'd["already_issued"]' "$(cat "$dir/again.json")")" = 30
check "re-run: none issued" test "$(jget 'd["issued"]+d["completed"]' "$(cat "$dir/again.json")")" = 0

# 4. Per-card keys: the key file of card 7 opens its issuer session; the test keys do not.
"$T" issue card-keys --serial 7 -o "$dir/k7" 2>/dev/null
check "card-keys: file written" test -s "$dir/k7"
check "card-keys: mode 0600" test "$(stat -c %a "$dir/k7")" = 600
"$T" --image "$dir/a/card-0000000000000007.img" --scp03 "$dir/k7" apdu 80F28000024F0000 >"$dir/out" 2>&1
check "derived keys open SCP03 on card 7" grep -q "9000$" "$dir/out"
"$T" --image "$dir/a/card-0000000000000007.img" --scp03 test apdu 80F28000024F0000 >"$dir/out" 2>&1
check "test keys are refused by card 7" grep -q "card cryptogram mismatch" "$dir/out"
"$T" --image "$dir/a/card-0000000000000008.img" --scp03 "$dir/k7" apdu 80F28000024F0000 >"$dir/out" 2>&1
check "card 7's keys are refused by card 8" grep -q "card cryptogram mismatch" "$dir/out"
check "no key bytes in the logs" bash -c "! grep -qi \"$(sed -n 's/^enc=//p' "$dir/k7")\" $dir/a/logs/*.jsonl"

# 5. A batch killed mid-way (SIGKILL: its in-process cards lose power wherever they are),
# again and again, and re-run ends with every card issued exactly once.
kill_count=400
images_in_b() { ls "$dir"/b/card-*.img 2>/dev/null | wc -l; }
# progressed N PID: the batch has made more than N images, or has ended.
progressed() { [ "$(images_in_b)" -gt "$1" ] || ! kill -0 "$2" 2>/dev/null; }
kills=0
for k in $(seq 6); do
  # Each batch is killed once it has made progress (a new image, 1 to 3 of them), however long
  # a loaded machine takes to get there; where in a card the kill lands varies with the poll.
  # On a fast machine one poll can see many new cards: the batch is big enough that no poll
  # sees it all, the rounds stop while at least half of it is left for the re-run, and only a
  # batch that died of the kill counts.
  made=$(images_in_b)
  [ "$made" -ge $((kill_count / 2)) ] && break
  "$T" --json issue batch "$dir/count.group" --images "$dir/b" --count $kill_count --no-sync \
    >/dev/null 2>&1 &
  victim=$!
  wait_until 300 progressed $((made + RANDOM % 3)) $victim
  kill -9 $victim 2>/dev/null
  wait $victim 2>/dev/null
  [ $? -eq 137 ] && kills=$((kills + 1))
done
before=$(ls "$dir"/b/card-*.img 2>/dev/null | wc -l)
check "a batch was killed mid-way ($kills kills)" test "$kills" -ge 1
check "the killed batch left cards behind ($before)" test "$before" -ge 1 -a "$before" -lt "$kill_count"
"$T" --json issue batch "$dir/count.group" --images "$dir/b" --count $kill_count >"$dir/rerun.json" 2>/dev/null
check "re-run after the kill: exit 0" test $? -eq 0
sum=$(jget 'd["issued"]+d["completed"]+d["already_issued"]' "$(cat "$dir/rerun.json")")
echo "after the kill: $(jget "{k: d[k] for k in (\"issued\", \"completed\", \"already_issued\")}" "$(cat "$dir/rerun.json")")"
check "re-run accounts for all $kill_count" test "$sum" = "$kill_count"
bad=0
for img in "$dir"/b/card-*.img; do [[ "$(balance "$img")" == 1040 ]] || bad=$((bad + 1)); done
check "$kill_count images" test "$(ls "$dir"/b/card-*.img | wc -l)" -eq "$kill_count"
check "every card after kill and re-run holds exactly 1040" test $bad -eq 0
echo "resumed after a kill: $(cat "$dir"/b/logs/*.jsonl | grep -c '"step":"resume"') cards"
# The logs agree: per card at most one run answered done, and the last step is its ack (or a
# skip of a card acknowledged before its log line was written).
check "logs: one done answer per card, ending in ack" python3 - "$dir"/b/logs/*.jsonl <<'PY'
import json, sys
for path in sys.argv[1:]:
    steps = [json.loads(l) for l in open(path)]
    done = [s for s in steps if s["step"] == "response" and s["state"] == "done"]
    assert len(done) <= 1, path
    assert steps[-1]["step"] in ("ack", "skip"), (path, steps[-1])
PY
check "no temporary image left" test "$(ls "$dir"/b | grep -c tmp)" -eq 0

# A compiled profile ('tessera issue compile -o') issues like its text.
"$T" issue compile "$root/profiles/membership.group" -o "$dir/m.bin" >/dev/null 2>&1
"$T" issue batch "$dir/m.bin" --images "$dir/compiled" --count 1 >/dev/null 2>&1
check "a compiled profile issues" grep -q "F05445535345524152" \
  <<<"$("$T" --image "$dir/compiled/card-0000000000000001.img" apps list 2>/dev/null)"

# 6. A card whose group fails is listed with the command and its status word, exit 1; the
# others are issued.
cp "$root/profiles/emoney.group" "$dir/fail.group"
echo "80CA00FF00" >>"$dir/fail.group"   # GET DATA of an object the purse does not have
"$T" --json issue batch "$dir/fail.group" --images "$dir/c" --count 2 >"$dir/fail.json" 2>/dev/null
check "failing group: exit 1" test $? -eq 1
check "failing group: both listed" test "$(jget 'len(d["failures"])' "$(cat "$dir/fail.json")")" = 2
last=$(($(grep -cv '^#' "$dir/fail.group") - 1))
check "failing group: names command $last" grep -q "command $last of the group answered" "$dir/fail.json"

# 7. Every card function of profiles/ issues, and its application is then in the application
# list (signed by the bureau), the GP registry and the PSE, and is managed by record.
declare -A aids=([emoney]=F05445535345524150 [transit]=F05445535345524151
                 [membership]=F05445535345524152 [ticketbook]=F05445535345524153)
"$T" issue card-keys --serial 1 -o "$dir/k1" 2>/dev/null
for p in emoney transit membership ticketbook; do
  aid=${aids[$p]}
  "$T" issue batch "$root/profiles/$p.group" --images "$dir/p/$p" --count 1 >/dev/null 2>&1
  check "$p: issued" test $? -eq 0
  img="$dir/p/$p/card-0000000000000001.img"
  list=$("$T" --image "$img" apps list 2>/dev/null)
  check "$p: listed, bureau's valid signature" grep -Eq "^$aid .*05 BUREAU .*active +valid" <<<"$list"
  gp=$("$T" --image "$img" --scp03 "$dir/k1" apdu 80F24002024F0000 2>/dev/null | tail -1)
  check "$p: in GET STATUS, selectable" grep -q "4F09${aid}9F700107" <<<"$gp"
  pse=$("$T" --image "$img" apdu 00A404000E315041592E5359532E444446303100 00B2010C00 00B2020C00 \
    00B2030C00 00B2040C00 2>/dev/null)
  check "$p: in the PSE" grep -q "4F09$aid" <<<"$pse"
  "$T" --image "$img" --scp03 "$dir/k1" apps set-status "$aid" lock \
    --sign-key "$root/profiles/src/bureau-admin.pem" >/dev/null 2>&1
  check "$p: locked by its record" test "$("$T" --image "$img" apdu 00A4040C09$aid | tail -1)" = 6283
done
bal=$("$T" --image "$dir/p/emoney/card-0000000000000001.img" --scp03 "$dir/k1" apps set-status \
  ${aids[emoney]} unlock --sign-key "$root/profiles/src/bureau-admin.pem" >/dev/null 2>&1;
  "$T" --image "$dir/p/emoney/card-0000000000000001.img" apdu 00A4040C09${aids[emoney]} 805C000004 | tail -1)
check "emoney: the purse holds its first value, 1000" test "$bal" = 000003E89000
tick=$("$T" --image "$dir/p/ticketbook/card-0000000000000001.img" --scp03 "$dir/k1" apps set-status \
  ${aids[ticketbook]} unlock --sign-key "$root/profiles/src/bureau-admin.pem" >/dev/null 2>&1;
  "$T" --image "$dir/p/ticketbook/card-0000000000000001.img" apdu 00A4040C09${aids[ticketbook]} \
    002000800431323334 00B001B80A | tail -1)
check "ticketbook: the last of 45 tickets is written" test "$tick" = 542D00000000000027019000

# 8. What the card holds decides: a card holding another version of the function, idle, gets
# this profile's group; one issued from another group is a failure, named; stale temporary
# files of dead creators on this host are removed, another host's recent ones are kept.
"$T" issue batch "$root/profiles/membership.group" --images "$dir/v" --count 1 >/dev/null 2>&1
"$T" issue batch "$root/profiles/transit.group" --images "$dir/v" --count 1 --json \
  >"$dir/v.json" 2>/dev/null
check "another group on a done function: exit 1" test $? -eq 1
check "another group on a done function: named" grep -q "issued from another group" "$dir/v.json"
img="$dir/v/card-0000000000000001.img"
"$T" --image "$img" --scp03 "$dir/k1" issue load-group "$root/profiles/ticketbook.group" \
  --function 3 >/dev/null 2>&1
"$T" issue batch "$root/profiles/transit.group" --images "$dir/v" --count 1 --function 3 \
  >/dev/null 2>&1
check "an idle function with another group: reloaded and issued" test $? -eq 0
check "... as the transit pass" grep -Eq "^F05445535345524151 .*active" \
  <<<"$("$T" --image "$img" apps list 2>/dev/null)"
host=$(hostname | tr -- '-/' '__')
touch "$dir/v/card-0000000000000002.img.tmp-$host-999999-00"   # a dead process of ours
touch "$dir/v/card-0000000000000002.img.tmp-elsewhere-1-00"    # another machine, recent
"$T" issue batch "$root/profiles/membership.group" --images "$dir/v" --count 2 >/dev/null 2>&1
check "stale temporary of a dead creator removed" test ! -e "$dir/v/card-0000000000000002.img.tmp-$host-999999-00"
check "another host's recent temporary kept" test -e "$dir/v/card-0000000000000002.img.tmp-elsewhere-1-00"

# --trace: every card's commands decoded on stderr, before or after 'batch'; card-keys, which
# talks to no card, refuses it (exit 2).
printf '00A4040008A000000151000000\n' >"$dir/plain.group"
"$T" --trace issue batch "$dir/plain.group" --images "$dir/tr" --count 1 >/dev/null 2>"$dir/err"
check "--trace issue batch: exit 0" test $? -eq 0
check "--trace issue batch: the card's commands traced" grep -q "^> SELECT .*F05445535345524102" "$dir/err"
check "--trace issue batch: EXECUTE ISSUANCE traced" grep -q "^> EXECUTE ISSUANCE .*P1=00" "$dir/err"
"$T" issue batch "$dir/plain.group" --images "$dir/tr2" --count 1 --trace >/dev/null 2>"$dir/err"
check "issue batch --trace (after): traced too" grep -q "^> SELECT" "$dir/err"
"$T" --trace issue card-keys --serial 1 -o "$dir/tr.keys" >/dev/null 2>"$dir/err"
check "--trace issue card-keys: exit 2" test $? -eq 2
check "--trace issue card-keys: says it does not apply" grep -q -- "--trace does not apply" "$dir/err"
check "--trace issue card-keys: no key file" test ! -e "$dir/tr.keys"

# An image name that is taken although it was free a moment ago (here a dangling link, as when
# a second process of the same shard creates the card meanwhile): the card fails with what to
# do - there is no --force in batch - and the link is left alone.
mkdir -p "$dir/taken"
ln -s nowhere "$dir/taken/card-0000000000000001.img"
"$T" issue batch "$dir/plain.group" --images "$dir/taken" --count 1 >"$dir/out" 2>&1
check "a name taken meanwhile: exit 1" test $? -eq 1
check "... no advice to use --force, which batch has not" sh -c "! grep -q -- '--force' '$dir/out'"
check "... says what to do" grep -q "run the batch again once the other process is done" "$dir/out"
check "... the link left alone" test -L "$dir/taken/card-0000000000000001.img"

# A folder name that is not UTF-8 (a path may hold any bytes): the --json summary is still one
# valid JSON object (the bytes replaced), the run not aborted, the card issued.
odd="$dir/$(printf 'cards\xff')"
"$T" --json issue batch "$dir/plain.group" --images "$odd" --count 1 >"$dir/out" 2>"$dir/err"
check "a non-UTF-8 --images path, --json: exit 0" test $? -eq 0
check "... the summary is valid JSON" python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$dir/out"
check "... the card issued" test -n "$(ls "$odd"/card-*.img 2>/dev/null)"

echo "issue batch: $pass checks passed, $fails failed"
test $fails -eq 0
