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
check "show --json parses" python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["ok"] and d["geometry"]["page_size"]==64 and d["blocks"]["used"]==0 and d["journal"]["state"]=="idle"' "$json"

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

echo "$pass passed, $fails failed"
test $fails -eq 0
