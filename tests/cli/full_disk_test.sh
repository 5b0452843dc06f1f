#!/usr/bin/env bash
# A full disk (a small tmpfs): images are written through a shared mapping, and a write to a
# sparse block of a full file system is a SIGBUS. `image init`, a card opened on a sparse image
# and `issue batch` must instead fail cleanly (exit 1, the reason, --json an error object) and
# leave no image - nor temporary - that a re-run would take for issued: with space again, the
# re-run issues exactly the cards the first run did not, each command once.
#
# Mounting a tmpfs needs root (CAP_SYS_ADMIN): without it the test is skipped (exit 77, ctest's
# SKIP_RETURN_CODE) with a message.
set -uo pipefail
T="${TESSERA:?set TESSERA to the tessera binary}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
dir=$(mktemp -d)
mnt="$dir/mnt"
mkdir "$mnt"
cleanup() {
  mountpoint -q "$mnt" && umount "$mnt"
  rm -rf "$dir"
}
trap cleanup EXIT
if ! mount -t tmpfs -o size=1M,mode=0700 tmpfs "$mnt" 2>"$dir/mount.err"; then
  echo "SKIP: cannot mount a tmpfs for the full-disk cases (needs root): $(cat "$dir/mount.err")"
  exit 77
fi
fails=0
pass=0
check() {  # check NAME CONDITION...
  local name="$1"; shift
  if "$@"; then pass=$((pass + 1)); else echo "FAIL: $name"; fails=$((fails + 1)); fi
}
jget() { python3 -c 'import json,sys; d=json.loads(sys.argv[2]); print(eval(sys.argv[1]))' "$@"; }
# jtrue EXPR JSON: exit 0 when EXPR (Python over d, the parsed JSON) holds.
jtrue() {
  python3 -c 'import json,sys; d=json.loads(sys.argv[2]); sys.exit(0 if eval(sys.argv[1]) else 1)' \
    "$@" 2>/dev/null
}
is_error_object() {  # JSON: one object, ok false, an error
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["ok"] is False and d["error"]' \
    "$1" 2>/dev/null
}
no_temporaries() { test -z "$(find "$1" -name '*.tmp-*' 2>/dev/null)"; }

# --- 1. image init on a disk too small for the image ------------------------------------------
out=$("$T" image init "$mnt/big.img" --size 2M 2>"$dir/err"); rc=$?
check "init: exit 1, not a signal (rc $rc)" test $rc -eq 1
check "init: says there is no space ($(cat "$dir/err"))" grep -q "no space for image" "$dir/err"
check "init: no image and no temporary left" test -z "$(ls -A "$mnt")"
out=$("$T" image init "$mnt/big.img" --size 2M --json 2>/dev/null); rc=$?
check "init --json: exit 1" test $rc -eq 1
check "init --json: an error object ($out)" is_error_object "$out"
check "init --json: it says no space" grep -q "no space" <<<"$out"
check "init --json: nothing left" test -z "$(ls -A "$mnt")"
"$T" image init "$mnt/small.img" --size 256K >/dev/null 2>&1
check "init: an image that fits is made" test $? -eq 0
rm -f "$mnt/small.img"

# --- 2. a sparse image (copied with holes) on a disk that cannot hold it -----------------------
"$T" image init "$dir/sparse.img" --size 2M >/dev/null 2>&1
cp --sparse=always "$dir/sparse.img" "$mnt/sparse.img"
out=$("$T" --image "$mnt/sparse.img" apdu 00A4040009F05445535345524101 2>"$dir/err"); rc=$?
check "sparse image: the card does not start (exit 1, not a signal: rc $rc)" test $rc -eq 1
check "sparse image: says there is no space ($(cat "$dir/err"))" grep -q "no space for image" "$dir/err"
rm -f "$mnt/sparse.img"

# --- 3. issue batch until the disk is full, then again with space -----------------------------
purse=F05445535345524150
cp "$root/profiles/emoney.group" "$dir/count.group"  # every credit once: 1000 + 40
for i in $(seq 40); do echo "8052000004" "00000001" >>"$dir/count.group"; done
balance() {
  local out
  out=$("$T" --image "$1" apdu 00A4040009$purse 805C000004 2>/dev/null | tail -1)
  [[ "$out" == *9000 && ${#out} -eq 12 ]] && echo $((16#${out:0:8})) || echo "$out"
}
out=$("$T" issue batch "$dir/count.group" --images "$mnt/cards" --count 12 --json 2>"$dir/err")
rc=$?
check "batch on a full disk: exit 1, not a signal (rc $rc)" test $rc -eq 1
check "batch on a full disk: one JSON summary ($out)" jtrue 'd["cards"] == 12' "$out"
failed=$(jget 'd["failed"]' "$out" 2>/dev/null || echo 0)
first_done=$(jget 'd["issued"] + d["completed"]' "$out" 2>/dev/null || echo 0)
check "batch on a full disk: some cards issued, some failed ($first_done, $failed)" \
  test "$first_done" -ge 1 -a "$failed" -ge 1
check "batch on a full disk: the failures say no space" \
  jtrue 'any("no space" in f["message"] for f in d["failures"])' "$out"
check "batch on a full disk: no temporary left" no_temporaries "$mnt/cards"
mount -o remount,size=16M "$mnt"
out=$("$T" issue batch "$dir/count.group" --images "$mnt/cards" --count 12 --json 2>"$dir/err")
rc=$?
check "re-run with space: exit 0 (rc $rc: $(tail -3 "$dir/err"))" test $rc -eq 0
check "re-run: the cards issued before are skipped, the rest issued ($out)" \
  jtrue "d['already_issued'] == $first_done and d['issued'] + d['completed'] == 12 - $first_done" "$out"
bad=0
for img in "$mnt"/cards/card-*.img; do
  b=$(balance "$img")
  [[ $b == 1040 ]] || { echo "  $img: balance $b"; bad=$((bad + 1)); }
done
check "every card issued exactly once (balance 1040)" test $bad -eq 0
check "12 images" test "$(ls "$mnt"/cards/card-*.img | wc -l)" -eq 12

echo "full disk: $pass checks passed, $fails failed"
test $fails -eq 0
