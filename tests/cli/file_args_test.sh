#!/usr/bin/env bash
# Every input-file argument of every `tessera` command, given something that is not a readable
# file: a directory, a missing file, an unreadable file (mode 000), a file whose read fails
# (a link to /proc/self/mem: open works, read(2) gives EIO) and a directory whose name is not
# UTF-8. Each must exit 1 (never abort), say what is wrong with which file, and with --json print
# one valid JSON object (strict UTF-8) with ok false and an error. A good file with a non-UTF-8
# name must work. tools/file_io.h is the one reader behind them.
#
# Tests run as root here, and root reads a mode-000 file: the unreadable case then runs the
# command without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (setpriv), or is skipped with a
# message when that is not possible.
set -uo pipefail
T="${TESSERA:?set TESSERA to the tessera binary}"
T="$(cd "$(dirname "$T")" && pwd)/$(basename "$T")"  # the commands run in $dir
root="$(cd "$(dirname "$0")/../.." && pwd)"
dir=$(mktemp -d)
trap 'chmod -R u+rwx "$dir" 2>/dev/null; rm -rf "$dir"' EXIT
fails=0
pass=0
check() {  # check NAME CONDITION...
  local name="$1"; shift
  if "$@"; then pass=$((pass + 1)); else echo "FAIL: $name"; fails=$((fails + 1)); fi
}
# stdin is one JSON object, strict UTF-8, with ok false and an error that blames the file
# (docs/cli-json.md: code "file", its message non-empty).
json_error() {
  python3 -c '
import json, sys
raw = sys.stdin.buffer.read()
d = json.loads(raw.decode("utf-8", "strict"))
assert isinstance(d, dict) and d.get("ok") is False, d
assert d["error"]["message"] and d["error"]["code"] == "file", d' 2>/dev/null
}
command -v openssl >/dev/null || { echo "openssl is needed (scripts/install-deps.sh)"; exit 1; }

# --- Good inputs, so that only the file under test is wrong ------------------------------------
img="$dir/card.img"
"$T" image init "$img" >/dev/null 2>&1 || { echo "image init failed"; exit 1; }
# issue run reads its state file once it knows the card (its serial, the issuance application).
"$T" --image "$img" --scp03 test issue install-app >/dev/null 2>&1 ||
  { echo "issue install-app failed"; exit 1; }
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/admin.pem" 2>/dev/null
cat >"$dir/store.toml" <<'EOF'
aid = "F0544553534552412001"
name = "Store"
admin_name = "ACME"
admin_id = 1
module = "data-store"
EOF
printf 'enc=404142434445464748494A4B4C4D4E4F\nmac=404142434445464748494A4B4C4D4E4F\ndek=404142434445464748494A4B4C4D4E4F\n' \
  >"$dir/test.keys"
printf 'master=000102030405060708090A0B0C0D0E0F\n' >"$dir/master.key"
cp "$root/profiles/emoney.group" "$dir/good.group"

# --- The unreadable case as root ----------------------------------------------------------------
echo secret >"$dir/probe"
chmod 000 "$dir/probe"
unreadable_runner=()
if [[ $(id -u) -ne 0 ]]; then
  unreadable=yes
elif command -v setpriv >/dev/null &&
  ! setpriv --bounding-set=-dac_override,-dac_read_search cat "$dir/probe" >/dev/null 2>&1 &&
  setpriv --bounding-set=-dac_override,-dac_read_search true 2>/dev/null; then
  unreadable=yes
  unreadable_runner=(setpriv --bounding-set=-dac_override,-dac_read_search)
else
  unreadable=no
  echo "SKIP (unreadable files): running as root and cannot drop CAP_DAC_OVERRIDE with setpriv;"
  echo "     the mode-000 case is not checked"
fi

# bad KIND SUFFIX: makes a bad input of KIND whose name ends in SUFFIX and prints its path.
bad() {
  local kind="$1" suffix="$2" p
  mkdir -p "$dir/bad"
  case "$kind" in
    dir) p="$dir/bad/adir$suffix"; mkdir -p "$p" ;;
    missing) p="$dir/bad/missing$suffix" ;;
    unreadable) p="$dir/bad/unreadable$suffix"; cp "$dir/probe" "$p" 2>/dev/null ||
      echo x >"$p"; chmod 000 "$p" ;;
    ioerror) p="$dir/bad/ioerror$suffix"; ln -sfn /proc/self/mem "$p" ;;
    nonutf8) p="$dir/bad/"$'\xff\xfe'"name$suffix"; mkdir -p "$p" ;;
  esac
  printf '%s' "$p"
}
# What the message must say for KIND.
reason() {
  case "$1" in
    dir | nonutf8) echo "it is a directory" ;;
    missing) echo "No such file or directory" ;;
    unreadable) echo "Permission denied" ;;
    ioerror) echo "Input/output error" ;;
  esac
}

n_cases=0
# try LABEL SUFFIX KINDS COMMAND...: COMMAND has the word FILE where the bad input goes. It runs
# once per kind with --json added and once without; the old image and no new one must remain.
try() {
  local label="$1" suffix="$2" kinds="$3"; shift 3
  local kind p args out err rc a runner
  for kind in $kinds; do
    if [[ $kind == unreadable && $unreadable == no ]]; then continue; fi
    p=$(bad "$kind" "$suffix")
    args=()
    for a in "$@"; do [[ $a == FILE ]] && args+=("$p") || args+=("$a"); done
    runner=()
    [[ $kind == unreadable ]] && runner=("${unreadable_runner[@]}")
    n_cases=$((n_cases + 1))
    out=$(cd "$dir" && timeout 20 "${runner[@]}" "$T" "${args[@]}" --json 2>"$dir/err" </dev/null)
    rc=$?
    err=$(cat "$dir/err")
    check "$label, $kind: exit 1 (got $rc: $err)" test $rc -eq 1
    check "$label, $kind: --json is one error object, code file ($out)" json_error <<<"$out"
    check "$label, $kind: says why ($err)" grep -q -- "$(reason "$kind")" <<<"$err"
    if [[ $kind == nonutf8 ]]; then
      check "$label, $kind: the name's bytes escaped ($err)" grep -q -- '\\xFF\\xFEname' <<<"$err"
      check "$label, $kind: the message is UTF-8" python3 -c \
        'import sys; open(sys.argv[1], "rb").read().decode("utf-8", "strict")' "$dir/err"
    else
      check "$label, $kind: names the file ($err)" grep -qF -- "$(basename "$p")" <<<"$err"
    fi
    out=$(cd "$dir" && timeout 20 "${runner[@]}" "$T" "${args[@]}" 2>&1 </dev/null)
    rc=$?
    check "$label, $kind: without --json exit 1 too (got $rc)" test $rc -eq 1
  done
}
all="dir missing unreadable ioerror nonutf8"

try "apps install FILE" "" "$all" --image "$img" --scp03 test apps install FILE
try "make-install-file DESC" ".toml" "$all" apps make-install-file FILE --key "$dir/admin.pem" \
  -o "$dir/out.bin"
try "make-install-file --key" "" "$all" apps make-install-file "$dir/store.toml" --key FILE \
  -o "$dir/out.bin"
try "admin add --public-key" "" "$all" --image "$img" --scp03 test admin add --id 1 --name A \
  --public-key FILE
try "admin add --keys" "" "$all" --image "$img" --scp03 test admin add --id 1 --name A \
  --public-key "$dir/admin.pem" --keys FILE --key-kvn 41
try "issue compile GROUP" "" "$all" issue compile FILE
try "issue load-group GROUP" "" "$all" --image "$img" --scp03 test issue load-group FILE \
  --function 1 --install-app
try "image write-group GROUP" "" "$all" image write-group "$img" FILE --function 1 --install-app
try "image write-group --scp03" "" "$all" image write-group "$img" "$dir/good.group" \
  --function 1 --install-app --scp03 FILE
try "issue batch PROFILE" "" "$all" issue batch FILE --images "$dir/cards" --count 1
try "issue batch --master-key" "" "$all" issue batch "$dir/good.group" --images "$dir/cards" \
  --count 1 --master-key FILE
try "issue card-keys --master-key" "" "$all" issue card-keys --serial 1 --master-key FILE \
  -o "$dir/card1.keys"
try "image init --scp03-keys" "" "$all" image init "$dir/new.img" --scp03-keys FILE
try "--scp03 KEYS" "" "$all" --image "$img" --scp03 FILE apdu 00A4040000
try "script FILE" "" "$all" --image "$img" script FILE
# A missing state file is a first run, not an error.
try "issue run --state" "" "dir unreadable ioerror nonutf8" --image "$img" issue run --function 1 \
  --state FILE

check "no image left by the failed image init" test ! -e "$dir/new.img"
check "no card image made by the failed batches" \
  test -z "$(find "$dir/cards" -name '*.img*' 2>/dev/null)"
check "no key file written by the failed card-keys" test ! -e "$dir/card1.keys"

# Good files with non-UTF-8 names work, and the names come back escaped in errors and JSON.
ugroup="$dir/"$'g\xff'".group"
cp "$dir/good.group" "$ugroup"
out=$("$T" issue compile "$ugroup" --json 2>"$dir/err"); rc=$?
check "a group with a non-UTF-8 name compiles (rc $rc)" test $rc -eq 0
check "... its --json is strict UTF-8 ($out)" python3 -c '
import json, sys; d = json.loads(sys.argv[1]); assert d["ok"] is True and d["count"] > 0, d' "$out"
printf '00A40400\nzz\n' >"$ugroup"
"$T" issue compile "$ugroup" >/dev/null 2>"$dir/err"
check "a bad group with a non-UTF-8 name: FILE:LINE with the byte escaped" \
  grep -q 'g\\xFF\.group:2:' "$dir/err"
utoml="$dir/"$'s\xfe'".toml"
cp "$dir/store.toml" "$utoml"
"$T" apps make-install-file "$utoml" --key "$dir/admin.pem" -o "$dir/u.bin" >/dev/null 2>&1
check "a description with a non-UTF-8 name builds" test -s "$dir/u.bin"

# A file over the bound is refused before it is read (a key file has at most 64 KiB).
head -c 70000 /dev/zero >"$dir/big.pem"
"$T" apps make-install-file "$dir/store.toml" --key "$dir/big.pem" -o "$dir/out.bin" \
  >/dev/null 2>"$dir/err"
check "an oversized key file: exit 1" test $? -eq 1
check "... says its size and the bound ($(cat "$dir/err"))" grep -q "has 70000 bytes.* at most 65536" "$dir/err"

# A FIFO without a writer does not hang the command: it reads as empty.
mkfifo "$dir/fifo.group"
timeout 10 "$T" issue compile "$dir/fifo.group" >/dev/null 2>&1
check "a FIFO without a writer: no hang (exit $?)" test $? -ne 124
# Standard input still works where '-' is allowed.
out=$("$T" issue compile - --json <"$dir/good.group" 2>/dev/null)
check "issue compile - reads standard input" python3 -c '
import json, sys; assert json.loads(sys.argv[1])["ok"] is True' "$out"

echo "file arguments: $pass checks passed ($n_cases bad inputs), $fails failed"
test $fails -eq 0
