#!/usr/bin/env bash
# Runs the real `tessera image` commands the way a user does and checks their output and exit
# codes: init, show (text and JSON), check on a good image, and clear errors for damaged,
# truncated, foreign and locked images and for bad usage; images a card serves and read-only
# images; card-level damage made in the bytes of a real image file; ls; every page size.
set -uo pipefail
. "$(dirname "$0")/wait_until.sh"  # waits on conditions, never for a fixed time
T="${TESSERA:?set TESSERA to the tessera binary}"
dir=$(mktemp -d)
card=""
cleanup() {
  exec 8>&- 9<&-
  [ -n "$card" ] && kill "$card" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
fails=0
pass=0
check() {  # check NAME CONDITION...
  local name="$1"; shift
  if "$@"; then pass=$((pass + 1)); else echo "FAIL: $name"; fails=$((fails + 1)); fi
}
img="$dir/card.img"
# poke FILE OFFSET HEX: overwrites bytes of FILE at OFFSET.
poke() {
  python3 -c 'import sys; f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2])); f.write(bytes.fromhex(sys.argv[3]))' "$@"
}
# jget JSON EXPR: prints EXPR evaluated with d = the parsed JSON; jtest: succeeds if it is true.
jget() {
  python3 -c 'import json, sys; d = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}
jtest() {
  python3 -c 'import json, sys; d = json.loads(sys.argv[1]); sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2"
}

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

# An image of format version 1 (before the integrity checks; its layout differs) is refused
# with what to do, never read.
"$T" image init "$img" --size 256K --force >/dev/null
python3 -c '
import struct, sys, zlib
f = open(sys.argv[1], "r+b"); h = bytearray(f.read(64))
h[8:10] = struct.pack(">H", 1); h[60:64] = struct.pack(">I", zlib.crc32(bytes(h[:60])))
f.seek(0); f.write(h)' "$img"
out=$("$T" image check "$img" 2>&1); rc=$?
check "format version 1 refused" test $rc -eq 1
check "format version 1: what to do" grep -q "format version 1, which has no integrity checks.*tessera image init" <<<"$out"
out=$("$T" --image "$img" apdu 00A4000C023F00 2>&1); rc=$?
check "format version 1: the card does not open it" test $rc -ne 0

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

# A lock held as a running card holds it: flock(1) on a descriptor of this shell (nothing to
# kill afterwards; the lock goes with the descriptor).
"$T" image init "$img" --size 256K --force >/dev/null 2>&1
if command -v flock >/dev/null; then
  exec 9<"$img"
  flock -x -n 9
  out=$("$T" image show "$img" 2>&1); rc=$?
  check "show works on a locked image" test $rc -eq 0
  check "show says a card serves it" grep -q "serves this image" <<<"$out"
  "$T" image check "$img" >/dev/null 2>&1; check "check works on a locked image" test $? -eq 0
  out=$("$T" --image "$img" apdu 00A4000C023F00 2>&1); rc=$?
  check "a second card is kept out" test $rc -eq 1
  check "locked message" grep -q "in use by another process" <<<"$out"
  out=$("$T" image init "$img" --size 256K --force 2>&1); rc=$?
  check "init --force refuses a locked image" test $rc -eq 1
  check "init --force says why" grep -Eq "image $img is in use by a running card \(pid ([0-9]+|unknown)\); stop it first" <<<"$out"
  exec 9<&-
  "$T" image init "$img" --size 256K --force >/dev/null 2>&1; check "init --force once released" test $? -eq 0
fi

# A real card serving the image (tessera --image IMG script -, its script from a fifo).
"$T" image init "$img" --size 256K --force >/dev/null 2>&1
mkfifo "$dir/fifo"
trap '' PIPE  # a card that died must fail the checks below, not kill this script
"$T" --image "$img" script - <"$dir/fifo" >"$dir/card.out" 2>&1 &
card=$!
exec 8>"$dir/fifo"
echo 00A4000C023F00 >&8  # answered once the card holds the image
wait_until 120 grep -q 9000 "$dir/card.out"
check "the card runs" grep -q 9000 "$dir/card.out"
before=$(stat -c %i "$img")
out=$("$T" image init "$img" --size 256K --force 2>&1); rc=$?
check "init --force refuses a served image" test $rc -eq 1
check "init --force names the card" grep -Eq "in use by a running card \(pid ($card|unknown)\); stop it first" <<<"$out"
check "the served image was not replaced" test "$(stat -c %i "$img")" = "$before"
json=$("$T" image show "$img" --json); rc=$?
check "show on a served image" test $rc -eq 0
check "show --json says it is served" jtest "$json" 'd["served"] and d["ok"] and d["card"]["mountable"]'
out=$("$T" image check "$img" 2>&1); rc=$?
check "check on a served image" test $rc -eq 0
check "check notes the card" grep -q "serves this image" <<<"$out"
"$T" image ls "$img" >/dev/null 2>&1; check "ls on a served image" test $? -eq 0
tries=$(jget "$json" '[p for p in d["card"]["pins"] if p["reference"] == "81"][0]["tries_left"]')
printf '00A4000C021000\n002000810439393939\n' >&8  # a wrong PIN costs a try
exec 8>&-
wait "$card"; rc=$?
card=""
trap - PIPE
check "the card finished its script" test $rc -eq 0
json=$("$T" image show "$img" --json)
check "the card's write reached the image at its path" \
  test "$(jget "$json" '[p for p in d["card"]["pins"] if p["reference"] == "81"][0]["tries_left"]')" -eq $((tries - 1))

# A read-only image: show, check and ls need only read permission. Run as an unprivileged user
# when this runs as root (root writes regardless of the mode).
as_reader() {
  if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
    setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"
  else
    "$@"
  fi
}
ro="$dir/ro.img"
"$T" image init "$ro" --size 256K >/dev/null 2>&1
chmod 444 "$ro"
chmod 755 "$dir"
cp "$ro" "$dir/ro.copy"
if [ "$(id -u)" -ne 0 ] || command -v setpriv >/dev/null; then
  out=$(as_reader "$T" --image "$ro" apdu 00A4000C023F00 2>&1)
  check "the image is read-only for the reader (control)" grep -q "Permission denied" <<<"$out"
fi
out=$(as_reader "$T" image show "$ro" 2>&1); rc=$?
check "show on a read-only image" test $rc -eq 0
check "show on a read-only image shows the card" grep -q "minimum security level" <<<"$out"
out=$(as_reader "$T" image check "$ro" 2>&1); rc=$?
check "check on a read-only image" test $rc -eq 0
check "check on a read-only image says OK" grep -q "OK" <<<"$out"
as_reader "$T" image ls "$ro" >/dev/null 2>&1; check "ls on a read-only image" test $? -eq 0
check "show, check and ls changed nothing" cmp -s "$ro" "$dir/ro.copy"
chmod 700 "$dir"

out=$("$T" image init "$img" --page-size 48 --force 2>&1); rc=$?
check "bad geometry refused" test $rc -eq 1
check "bad geometry message" grep -q "power of two" <<<"$out"
out=$("$T" image frobnicate 2>&1); rc=$?
check "unknown subcommand is a usage error" test $rc -eq 2
out=$("$T" image show 2>&1); rc=$?
check "missing path is a usage error" test $rc -eq 2
out=$("$T" image init "$img" --size banana 2>&1); rc=$?
check "bad size is a usage error" test $rc -eq 2
check "help explains" sh -c "\"$T\" image init --help | grep -q 'commit capacity'"

# The card in-process: the default profile answers like a card.
"$T" image init "$img" --force >/dev/null
out=$("$T" --image "$img" apdu 00A404000E315041592E5359532E444446303100 00B2010C00 00B2020C00)
check "in-process apdu: SELECT PSE" grep -q "^6F1A840E315041592E5359532E4444463031A5088801015F2D02656E9000$" <<<"$out"
check "in-process apdu: PSE record then 6A83" test "$(tail -1 <<<"$out")" = "6A83"
json=$("$T" --image "$img" --json apdu 00A4000C023F00)
check "apdu --json" python3 -c 'import json,sys; d=json.loads(sys.argv[1])["responses"]; assert d[0]["sw"]=="9000"' "$json"
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

# Card-level damage made in the bytes of a real image file, at offsets from ls/show --json; the
# offset check reports is where the damage is: the right bytes written back there repair it.
fresh() { "$T" image init "$img" --size 256K --force >/dev/null 2>&1; }
file_entry() {  # file_entry PATH KEY: a field of a file in ls --json
  jget "$("$T" image ls "$img" --json)" "[f for f in d['files'] if f['path'] == '$1'][0]['$2']"
}
reported() {  # reported WHERE FIELD: the file offset check --json reports for that damage
  jget "$("$T" image check "$img" --json 2>/dev/null)" \
    "[x['file_offset'] for x in d['card_damage'] if x['where'] == '$1' and x['field'] == '$2'][0]"
}

fresh
at=$(( $(file_entry 3F00/1000/1002 node_file_offset) + 43 ))  # record count (card-format §2)
poke "$img" "$at" 0009
out=$("$T" image check "$img" 2>&1); rc=$?
check "record count: check fails" test $rc -eq 1
check "record count: named" grep -q "damaged: 3F00/1000/1002: record count: is 9, more than the maximum number of records 5" <<<"$out"
# Bytes changed behind the card's back also fail their block's integrity check (nvm-format §3.1).
check "record count: the node's integrity check fails" grep -q "damaged: a damaged node under 3F00/1000: integrity check: block [0-9]* fails its integrity check (the CRC-32 of its bytes is 0x[0-9A-F]*, its check entry says 0x[0-9A-F]*): the card answers 6581" <<<"$out"
check "record count: the only other damage" test "$(grep damaged <<<"$out" | grep -vc 'integrity check')" -eq 1
check "record count: offset reported" test "$(reported 3F00/1000/1002 'record count')" -eq "$at"
poke "$img" "$(reported 3F00/1000/1002 'record count')" 0005
"$T" image check "$img" >/dev/null 2>&1; check "record count: repaired at the reported offset" test $? -eq 0

fresh
mf=$(file_entry 3F00 node_block)
at=$(( $(file_entry 3F00/1000 node_file_offset) + 35 ))  # first child
poke "$img" "$at" "$(printf '%04X' "$mf")"
out=$("$T" image check "$img" 2>&1); rc=$?
check "cycle: check fails" test $rc -eq 1
check "cycle: named" grep -q "damaged: 3F00/1000: first child: points back at 3F00 (block $mf): a cycle" <<<"$out"
check "cycle: offset reported" test "$(reported 3F00/1000 'first child')" -eq "$at"

fresh
shared=$(jget "$("$T" image ls "$img" --json)" "[f for f in d['files'] if f['path'] == '3F00/1000/1001'][0]['data_blocks'][0]")
at=$(( $(file_entry 3F00/1000/1002 node_file_offset) + 48 ))  # data block 0
poke "$img" "$at" "$(printf '%04X' "$shared")"
out=$("$T" image check "$img" 2>&1); rc=$?
check "shared data block: check fails" test $rc -eq 1
check "shared data block: named" grep -Eq "damaged: 3F00/1000/100[12]: data block 0: points at block $shared, which is already data block 0 of 3F00/1000/100[12]" <<<"$out"

fresh
json=$("$T" image show "$img" --json)
pin=$(( $(jget "$json" 'd["layout"]["nvm_file_offset"] + d["layout"]["root_offset"]') + 32 ))
check "PIN table: the first PIN is 81" test "$(od -An -tx1 -j "$pin" -N1 "$img" | tr -d ' ')" = 81
poke "$img" $((pin + 3)) 11  # value length 17
out=$("$T" image check "$img" 2>&1); rc=$?
check "PIN length: check fails" test $rc -eq 1
check "PIN length: named" grep -q "damaged: PIN 81: value length: is 17" <<<"$out"

fresh
json=$("$T" image show "$img" --json)
kblock=$(jget "$json" 'd["card"]["key_sets"][0]["block"]')
kat=$(jget "$json" "d['layout']['nvm_file_offset'] + d['layout']['blocks_offset'] + $kblock * d['geometry']['block_size']")
poke "$img" $((kat + 2)) 14  # key length 20
out=$("$T" image check "$img" 2>&1); rc=$?
check "key length: check fails" test $rc -eq 1
check "key length: named" grep -q "damaged: key set in block $kblock: key length: is 20: not 16, 24 or 32" <<<"$out"

fresh
json=$("$T" image show "$img" --json)
last=$(( $(jget "$json" 'd["layout"]["block_count"]') - 1 ))
poke "$img" "$(jget "$json" "d['layout']['nvm_file_offset'] + d['layout']['table_offset'] + $last")" 01
out=$("$T" image check "$img" 2>&1); rc=$?
check "leak: check fails" test $rc -eq 1
check "leak: named" grep -q "damaged: block $last: allocator: is USED but nothing owns it" <<<"$out"

fresh
json=$("$T" image show "$img" --json)
poke "$img" "$(jget "$json" 'd["layout"]["nvm_file_offset"] + d["layout"]["root_offset"]')" 58
out=$("$T" --image "$img" apdu 00A4000C023F00 2>&1); rc=$?
check "root magic: the card cannot power on (control)" test $rc -eq 1
out=$("$T" image check "$img" 2>&1); rc=$?
check "root magic: never OK" test $rc -eq 1
check "root magic: named" grep -q "damaged: root record: magic: .*the card cannot power on" <<<"$out"
check "root magic: check --json not ok" jtest "$("$T" image check "$img" --json 2>/dev/null)" 'not d["ok"]'

"$T" image init "$dir/blank2.img" --blank --size 256K >/dev/null 2>&1
out=$("$T" image check "$dir/blank2.img" 2>&1); rc=$?
check "a blank store passes check" test $rc -eq 0
check "a blank store has no card" grep -q "blank store" <<<"$out"
out=$("$T" image ls "$dir/blank2.img" 2>&1); rc=$?
check "ls on a blank store fails" test $rc -eq 1
check "ls on a blank store says why" grep -q "no card file system" <<<"$out"

# No false alarms: after a session that creates files and a DF, writes 1 KiB in one command
# (copy-on-write), appends past the end of the cyclic EF, puts a data object and deletes files,
# check is OK and ls and show see the changes.
fresh
big=$(python3 -c 'print("AB" * 1024)')
appends=()
for _ in $(seq 12); do appends+=(00E20000080102030405060708); done
out=$("$T" --image "$img" apdu 00A4000C023F00 00200082083837363534333231 \
  00E000000D620B8201018302100580020400 "00D6000000 0400 $big" 00DA00420301020300 \
  00E000000F620D82013883022000840454455354 00E000000D620B8201018302200180020020 \
  00A4000C023F00 00A4000C021000 002000810431323334 00A4000C021003 "${appends[@]}" \
  00A4000C023F00 00E40000021005 2>&1)
check "the session's commands succeed" test "$(grep -c '^9000$' <<<"$out")" -eq 25
out=$("$T" image check "$img" 2>&1); rc=$?
check "check is OK after the session" test $rc -eq 0
check "check counts the new files" grep -q "14 files" <<<"$out"
json=$("$T" image ls "$img" --json)
check "ls sees the new DF and EF" jtest "$json" '"3F00/2000/2001" in [f["path"] for f in d["files"]] and "3F00/1005" not in [f["path"] for f in d["files"]]'
check "ls sees the cyclic EF full" jtest "$json" '[f for f in d["files"] if f["path"] == "3F00/1000/1003"][0]["record_count"] == [f for f in d["files"] if f["path"] == "3F00/1000/1003"][0]["max_records"]'
check "show counts the data object" jtest "$("$T" image show "$img" --json)" 'd["card"]["data_objects"] == 1'
"$T" --image "$img" apdu 00A4000C023F00 00200082083837363534333231 00E40000022000 >/dev/null 2>&1
out=$("$T" image check "$img" 2>&1); rc=$?
check "check is OK after deleting a DF with a child" test $rc -eq 0

# ls: the default profile's tree (docs/card-format.md §4).
fresh
out=$("$T" image ls "$img"); rc=$?
check "ls succeeds" test $rc -eq 0
check "ls shows EF 1001" grep -q "^    1001  transparent EF, 128 bytes, SFI 1; activated$" <<<"$out"
check "ls shows access" sh -c 'grep -A1 "^    1001 " | grep -q "access: read, update, write/append: PIN 81; deactivate, activate, terminate, delete: PIN 82"' <<<"$out"
check "ls shows DF names in hex and text" grep -q '5000  DF, name 315041592E5359532E4444463031 "1PAY.SYS.DDF01"' <<<"$out"
check "ls shows record counts" grep -q "1002  linear fixed EF, 5 of 5 records, up to 16 bytes each" <<<"$out"
check "ls shows the cyclic EF" grep -q "1003  cyclic EF" <<<"$out"
check "ls shows the linear variable EF" grep -q "1004  linear variable EF" <<<"$out"
json=$("$T" --json image ls "$img")
check "ls --json" jtest "$json" 'd["ok"] and len(d["files"]) == 12 and any("read" in r["modes"] and r["condition"] == "PIN 81" for r in [f for f in d["files"] if f["path"] == "3F00/1000/1001"][0]["access"])'

# --min-security-level: in the root record, shown by show (text and JSON).
"$T" image init "$img" --size 256K --force --min-security-level 33 >/dev/null 2>&1
check "init --min-security-level 33" test $? -eq 0
check "show --json has the level" test "$(jget "$("$T" image show "$img" --json)" 'd["card"]["min_security_level"]')" = 33
check "show has the level" sh -c "\"$T\" image show \"$img\" | grep -q 'minimum security level 33'"
fresh
check "the default level is 01" test "$(jget "$("$T" image show "$img" --json)" 'd["card"]["min_security_level"]')" = 01
out=$("$T" image init "$img" --force --min-security-level 02 2>&1); rc=$?
check "an invalid level is a usage error" test $rc -eq 2
check "an invalid level says which work" grep -q "01, 03, 11, 13 or 33" <<<"$out"

# Every page size the help offers works end to end.
for ps in 32 64 128 256 512 1024 2048 4096; do
  p="$dir/page$ps.img"
  "$T" image init "$p" --page-size "$ps" >/dev/null 2>&1; check "page size $ps: init" test $? -eq 0
  json=$("$T" image show "$p" --json)
  check "page size $ps: show" jtest "$json" "d['geometry']['page_size'] == $ps and d['card']['mountable']"
  "$T" image check "$p" >/dev/null 2>&1; check "page size $ps: check" test $? -eq 0
  out=$("$T" --image "$p" apdu 00A404000E315041592E5359532E444446303100 2>&1)
  check "page size $ps: SELECT PSE" grep -q "9000$" <<<"$out"
  rm -f "$p"
done
out=$("$T" image init "$dir/p.img" --page-size 512 --block-size 256 2>&1); rc=$?
check "blocks of part of a page refused" test $rc -eq 1
check "blocks of part of a page: why" grep -q "multiple of the page size" <<<"$out"
out=$("$T" image init "$dir/p.img" --block-size 128 2>&1); rc=$?
check "blocks too small for a card refused" test $rc -eq 1
check "blocks too small: why" grep -q "at least 256 bytes" <<<"$out"

# A journal too small for the default profile: the least that works is named, and works.
out=$("$T" image init "$dir/j.img" --journal 512 2>&1); rc=$?
check "small journal refused" test $rc -eq 1
check "small journal: the least that works" grep -q "a journal of 512 bytes is too small for the default profile: at least [0-9]* bytes" <<<"$out"
least=$(sed -n 's/.*at least \([0-9]*\) bytes.*/\1/p' <<<"$out" | head -1)
"$T" image init "$dir/j.img" --journal "$least" >/dev/null 2>&1; check "the least journal works" test $? -eq 0
out=$("$T" --image "$dir/j.img" apdu 00A4000C021000 002000810431323334 00A4000C021001 00D600000401020304 2>&1)
check "the least journal serves commands" test "$(grep -c '^9000$' <<<"$out")" -eq 4
"$T" image init "$dir/j2.img" --journal $((least - 64)) >/dev/null 2>&1; check "one page less fails" test $? -eq 1
left=("$dir"/*tmp* "$dir"/j2.img)
check "nothing left behind" test ! -e "${left[0]}" -a ! -e "${left[1]}"

# --json everywhere, before or after the subcommand; always UTF-8, even for a path that is not.
g="$dir/g.img"
for sub in init show check ls; do
  extra=(); [ "$sub" = init ] && extra=(--size 256K)
  "$T" --json image "$sub" "$g" "${extra[@]}" 2>/dev/null >"$dir/out.json"
  check "--json image $sub" python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$dir/out.json"
done
badname="$dir/card-$(printf '\377\376').img"
"$T" image init "$badname" --size 256K >/dev/null 2>&1
for sub in show check ls; do
  "$T" image $sub "$badname" --json 2>/dev/null >"$dir/out.json"
  check "image $sub --json on a non-UTF-8 path" python3 -c 'import json, sys; json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))' "$dir/out.json"
done
"$T" image show "$dir/missing-$(printf '\377').img" --json 2>/dev/null >"$dir/out.json"
check "a failure's --json on a non-UTF-8 path" python3 -c 'import json, sys; d = json.loads(open(sys.argv[1], "rb").read().decode("utf-8")); assert not d["ok"]' "$dir/out.json"

check "help explains --min-security-level" sh -c "\"$T\" image init --help | grep -q -- '--min-security-level'"
check "help lists ls" sh -c "\"$T\" image --help | grep -q '^  ls  *the card.s file tree'"

echo "$pass passed, $fails failed"
test $fails -eq 0
