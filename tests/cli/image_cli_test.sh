#!/usr/bin/env bash
# Runs the real `tessera image` commands the way a user does and checks their output and exit
# codes: init, show (text and JSON), check on a good image, and clear errors for damaged,
# truncated, foreign and locked images and for bad usage.
set -uo pipefail
T="${TESSERA:?set TESSERA to the tessera binary}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"; [ -n "${holder:-}" ] && kill "$holder" 2>/dev/null' EXIT
fails=0
pass=0
check() {  # check NAME CONDITION...
  local name="$1"; shift
  if "$@"; then pass=$((pass + 1)); else echo "FAIL: $name"; fails=$((fails + 1)); fi
}
img="$dir/card.img"

out=$("$T" image init "$img" --size 256K --journal 4K 2>&1); rc=$?
check "init succeeds" test $rc -eq 0
check "init reports geometry" grep -q "262144 bytes of NVM" <<<"$out"
out=$("$T" image init "$img" 2>&1); rc=$?
check "init refuses to overwrite" test $rc -eq 1
check "overwrite message names --force" grep -q -- "--force" <<<"$out"
"$T" image init "$img" --size 256K --force >/dev/null; check "init --force overwrites" test $? -eq 0

out=$("$T" image show "$img"); rc=$?
check "show succeeds" test $rc -eq 0
check "show has geometry" grep -q "262144 bytes of NVM in 4096 pages of 64 bytes" <<<"$out"
check "show has journal" grep -q "journal   idle" <<<"$out"
check "show has wear table" grep -q "journal header" <<<"$out"

json=$("$T" image show "$img" --json)
check "show --json parses" python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["ok"] and d["geometry"]["page_size"]==64 and d["blocks"]["used"]>0 and d["journal"]["state"]=="idle"' "$json"

out=$("$T" image check "$img"); rc=$?
check "check passes on a fresh image" test $rc -eq 0
check "check says OK" grep -q "OK" <<<"$out"

# Damage inside the NVM: a free block that holds data (allocator invariant I3).
size=$(stat -c %s "$img")
printf '\xAB' | dd of="$img" bs=1 seek=$((size - 20000)) conv=notrunc status=none
out=$("$T" image check "$img" 2>&1); rc=$?
check "check fails on a damaged block" test $rc -eq 1
check "check names the damage" grep -q "damaged: allocator: free block" <<<"$out"
json=$("$T" image check "$img" --json 2>/dev/null)
check "check --json reports errors" python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert not d["ok"] and d["errors"]' "$json"

"$T" image init "$img" --size 256K --force >/dev/null
printf '\x41' | dd of="$img" bs=1 seek=15 conv=notrunc status=none   # page size field
out=$("$T" image show "$img" 2>&1); rc=$?
check "damaged header refused" test $rc -eq 1
check "damaged header message" grep -q "damaged header" <<<"$out"

"$T" image init "$img" --size 256K --force >/dev/null
truncate -s 100000 "$img"
out=$("$T" image check "$img" 2>&1); rc=$?
check "truncated refused" test $rc -eq 1
check "truncated message" grep -q "truncated" <<<"$out"

echo "just some text" >"$dir/foreign.img"
out=$("$T" image show "$dir/foreign.img" 2>&1); rc=$?
check "foreign refused" test $rc -eq 1
check "foreign message" grep -q "not a Tessera image" <<<"$out"

out=$("$T" image show "$dir/missing.img" 2>&1); rc=$?
check "missing file refused" test $rc -eq 1
check "missing message" grep -q "No such file" <<<"$out"

# A second process holding the image: flock(1) takes the same lock a running card holds.
"$T" image init "$img" --size 256K --force >/dev/null
if command -v flock >/dev/null; then
  flock -x "$img" sleep 30 &
  holder=$!
  sleep 0.3
  out=$("$T" image show "$img" 2>&1); rc=$?
  check "locked image refused" test $rc -eq 1
  check "locked message" grep -q "in use by another process" <<<"$out"
  kill "$holder"; wait "$holder" 2>/dev/null; holder=""
fi

out=$("$T" image init "$img" --page-size 48 --force 2>&1); rc=$?
check "bad geometry refused" test $rc -eq 1
check "bad geometry message" grep -q "power of two" <<<"$out"
out=$("$T" image frobnicate 2>&1); rc=$?
check "unknown subcommand is a usage error" test $rc -eq 2
out=$("$T" image show 2>&1); rc=$?
check "missing path is a usage error" test $rc -eq 2
out=$("$T" image init "$img" --size banana 2>&1); rc=$?
check "bad size is a usage error" test $rc -eq 2
check "help explains" sh -c "\"$T\" image --help | grep -q 'commit capacity'"

# The card in-process: the default profile answers like a card.
"$T" image init "$img" --force >/dev/null
out=$("$T" --image "$img" apdu 00A404000E315041592E5359532E444446303100 00B2010C00 00B2020C00)
check "in-process apdu: SELECT PSE" grep -q "^6F1A840E315041592E5359532E4444463031A5088801015F2D02656E9000$" <<<"$out"
check "in-process apdu: PSE record then 6A83" test "$(tail -1 <<<"$out")" = "6A83"
json=$("$T" --image "$img" --json apdu 00A4000C023F00)
check "apdu --json" python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d[0]["sw"]=="9000"' "$json"
err=$("$T" --image "$img" --trace apdu 002000810431323334 0020008104313233 2>&1 >/dev/null)
check "trace hides PIN bytes" grep -q "hidden" <<<"$err"
check "trace never shows the PIN" test -z "$(grep -i 31323334 <<<"$err")"
out=$("$T" apdu 00A40000 2>&1); rc=$?
check "apdu without a card is a clear error" grep -q "no card" <<<"$out"
out=$("$T" --image "$img" apdu 0G 2>&1); rc=$?
check "bad hex refused" test $rc -eq 1
printf '# comment\n00A4000C023F00\nreset\n00A4000C022F01\n00B0000007\n' >"$dir/s.txt"
out=$("$T" --image "$img" script "$dir/s.txt")
check "script runs scriptor format" grep -q "54657373657261" <<<"$out"
"$T" image init "$dir/blank.img" --blank >/dev/null
out=$("$T" --image "$dir/blank.img" apdu 00A40000 2>&1); rc=$?
check "a blank image has no card" grep -q "no card file system" <<<"$out"

# SCP03 from the host tool, in-process.
err=$("$T" image init "$img" --force 2>&1 >/dev/null)
check "image init warns about the test keys" grep -q "well-known test" <<<"$err"
out=$("$T" --image "$img" --scp03 test --level 33 apdu 80F28002024F0000 2>/dev/null)
check "--scp03 test at level 33" grep -q "^E3134F08A0000001510000009F700101C5039EFE809000$" <<<"$out"
printf 'enc=000102030405060708090A0B0C0D0E0F\nmac=101112131415161718191A1B1C1D1E1F\ndek=202122232425262728292A2B2C2D2E2F\n' >"$dir/keys.txt"
"$T" image init "$img" --force --scp03-keys "$dir/keys.txt" >/dev/null 2>"$dir/init.err"
check "image init with own keys does not warn" test ! -s "$dir/init.err"
out=$("$T" --image "$img" --scp03 "$dir/keys.txt" --s16 apdu 80CA00E000 2>&1)
check "--scp03 with a key file, S16" grep -q "^E012C004013088" <<<"$out"
out=$("$T" --image "$img" --scp03 test apdu 80CA00E000 2>&1); rc=$?
check "wrong keys: a clear error" grep -q "card cryptogram mismatch" <<<"$out"
check "wrong keys: exit 1" test $rc -eq 1
check "no key bytes in the error" test -z "$(grep -i 000102030405 <<<"$out")"
out=$("$T" --image "$img" --scp03 test --level 02 apdu 80CA00E000 2>&1)
check "invalid level refused" grep -q "security level" <<<"$out"

echo "$pass passed, $fails failed"
test $fails -eq 0
