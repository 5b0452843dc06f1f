#!/usr/bin/env bash
# Runs `tessera apdu`, `tessera script` and the global options the way a user does: responses
# are never lost to a later failure, bad script input is named, exit codes are the documented
# ones (0 / 1 / 2), -h and --help give a command's help, --json is valid UTF-8 JSON for every
# command, --version comes from CMake, and no PIN or key byte appears in any output mode.
set -uo pipefail
T="${TESSERA:?set TESSERA to the tessera binary}"
CARD="${TESSERA_CARD:-$(dirname "$T")/tessera-card}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fails=0
pass=0
check() {  # check NAME CONDITION...
  local name="$1"; shift
  if "$@"; then pass=$((pass + 1)); else echo "FAIL: $name"; fails=$((fails + 1)); fi
}
# Valid JSON in strict UTF-8 (not Python's lenient surrogateescape stdin).
json_ok() { PYTHONIOENCODING=utf-8:strict python3 -c 'import json,sys; json.load(sys.stdin)'; }
img="$dir/card.img"
fresh() { "$T" image init "$img" --force >/dev/null 2>&1; }
fresh

# --- 14. Responses already received survive a later failure -------------------------------
# Inside SCP03 a command that is not an APDU fails on the host after the first one has run.
out=$("$T" --image "$img" --scp03 test apdu 80CA00E000 00A4 2>"$dir/err"); rc=$?
check "apdu: a later failed exchange exits 1" test $rc -eq 1
check "apdu: the response received before the failure is printed" \
  grep -q "^E012C004013088.*9000$" <<<"$out"
check "apdu: the failure names the APDU" grep -q "APDU 2" "$dir/err"
out=$("$T" --image "$img" --scp03 test --json apdu 80CA00E000 00A4 2>/dev/null); rc=$?
check "apdu --json: a later failed exchange exits 1" test $rc -eq 1
check "apdu --json: the exchanges before the failure are printed beside the error" python3 -c '
import json,sys; j=json.loads(sys.argv[1]); d=j["responses"]
assert not j["ok"] and "APDU 2" in j["error"]["message"] and len(d)==1 and d[0]["sw"]=="9000"' "$out"

# A bad later argument: every argument is checked first, so nothing is sent (a wrong VERIFY
# before it does not cost a try) and the argument is named.
err=$("$T" --image "$img" apdu 0020008104FFFFFFFF 0G 2>&1 >/dev/null); rc=$?
check "apdu: a bad argument exits 1" test $rc -eq 1
check "apdu: a bad argument is named by position" grep -q "APDU 2 '0G'" <<<"$err"
check "apdu: a bad argument says nothing was sent" grep -q "nothing was sent" <<<"$err"
out=$("$T" --image "$img" apdu 0020008100)
check "apdu: nothing was sent before the bad argument (3 tries left)" test "$out" = "63C3"

# A bad script line: the lines before it ran and are printed, in text and in JSON; the error
# names the file and the line.
printf '# two commands, then garbage\n00A4000C023F00\n\n00A4000C022F01\nzz 00\n00B0000007\n' \
  >"$dir/bad.script"
out=$("$T" --image "$img" script "$dir/bad.script" 2>"$dir/err"); rc=$?
check "script: a bad line exits 1" test $rc -eq 1
check "script: the lines before the bad one are printed" test "$(grep -c '^< 9000' <<<"$out")" -eq 2
check "script: the bad line is named with file and line number" \
  grep -q "bad.script:5: not a command APDU" "$dir/err"
check "script: the line after the bad one did not run" test -z "$(grep 54657373657261 <<<"$out")"
out=$("$T" --image "$img" --json script "$dir/bad.script" 2>"$dir/err"); rc=$?
check "script --json: a bad line exits 1" test $rc -eq 1
check "script --json: the exchanges before the bad line are printed" python3 -c '
import json,sys; d=json.loads(sys.argv[1])["responses"]; assert [e["sw"] for e in d]==["9000","9000"]' "$out"
check "script --json: the bad line is named" grep -q "bad.script:5:" "$dir/err"
out=$("$T" --image "$img" --scp03 test --json script - 2>"$dir/err" <<'S'
80CA00E000
00A4000C05 3F00
S
); rc=$?
check "script: a failed exchange exits 1" test $rc -eq 1
check "script: a failed exchange keeps the earlier responses" python3 -c '
import json,sys; d=json.loads(sys.argv[1])["responses"]; assert len(d)==1 and d[0]["sw"]=="9000"' "$out"
check "script: a failed exchange names standard input and the line" \
  grep -q "standard input:2:" "$dir/err"

# A directory as a script: an error, not a silent success or a hang.
mkdir "$dir/scripts"
out=$(timeout 10 "$T" --image "$img" script "$dir/scripts" 2>&1); rc=$?
check "script DIR exits 1" test $rc -eq 1
check "script DIR says it is a directory" grep -q "is a directory" <<<"$out"
out=$(timeout 10 "$T" --image "$img" script - <"$dir/scripts" 2>&1); rc=$?
check "script - <DIR exits 1" test $rc -eq 1
check "script - <DIR says it is a directory" grep -q "standard input is a directory" <<<"$out"
out=$("$T" --image "$img" script "$dir/missing.script" 2>&1); rc=$?
check "script: a missing file exits 1 and says why" \
  sh -c "test $rc -eq 1 && grep -q 'No such file' <<'E'
$out
E"

# --- 15. Exit codes, help, --json everywhere, --version ------------------------------------
out=$("$T" --image "$img" apdu 00A4000C02DEAD); rc=$?
check "a status word other than 9000 is the card's answer: exit 0" test $rc -eq 0
check "the status word is printed" test "$out" = "6A82"
usage() {  # usage NAME ARGS...: exits 2 and says something
  local name="$1"; shift
  local e; e=$("$T" "$@" 2>&1 </dev/null); local r=$?
  check "$name: exit 2" test $r -eq 2
  check "$name: a message" test -n "$e"
}
usage "--image with --connect" --image "$img" --connect "unix:$dir/s" apdu 00A4000C023F00
usage "--reader with --image" --reader 'Virtual PCD 00 00' --image "$img" apdu 00A4000C023F00
usage "--image given twice" --image "$img" --image "$img" apdu 00A4000C023F00
usage "no card" apdu 00A4000C023F00
usage "script without a card" script "$dir/bad.script"
usage "--level xyz" --image "$img" --scp03 test --level xyz apdu 80CA00E000
usage "--kvn 1234" --image "$img" --scp03 test --kvn 1234 apdu 80CA00E000
usage "--level 02 (not a security level)" --image "$img" --scp03 test --level 02 apdu 80CA00E000
usage "--level without --scp03" --image "$img" --level 33 apdu 80CA00E000
usage "unknown option before the command" --bogus --image "$img" apdu 00A4000C023F00
usage "unknown option after apdu" --image "$img" apdu --bogus 00A4000C023F00
usage "unknown option after script" --image "$img" script --bogus "$dir/bad.script"
usage "unknown command" --image "$img" frobnicate
usage "apdu without APDUs" --image "$img" apdu
usage "--image without a value" --image
err=$("$T" --image "$img" --scp03 test --level 02 apdu 80CA00E000 2>&1)
check "--level 02 names the valid levels" grep -q "security level (00, 01, 03, 11, 13 or 33)" <<<"$err"
out=$("$T" --image "$img" apdu 00A4000C023F00 --json)
check "options after the command are accepted" python3 -c '
import json,sys; assert json.loads(sys.argv[1])["responses"][0]["sw"]=="9000"' "$out"

for h in -h --help; do
  out=$("$T" --image "$img" apdu "$h" 2>&1); rc=$?
  check "apdu $h: exit 0" test $rc -eq 0
  check "apdu $h: the apdu help" grep -q "^usage: tessera apdu .*HEX" <<<"$out"
  out=$("$T" --image "$img" script "$h" 2>&1); rc=$?
  check "script $h: exit 0" test $rc -eq 0
  check "script $h: the script help" grep -q "^usage: tessera script .*FILE" <<<"$out"
done
out=$("$T" help script); rc=$?
check "help script: exit 0" test $rc -eq 0
check "help script: the script help" grep -q "^usage: tessera script .*FILE" <<<"$out"
help=$("$T" --help); rc=$?
check "--help: exit 0" test $rc -eq 0
for opt in --image --connect --reader --json --trace --raw --scp03 --level --kvn --s16 --help \
  --version; do
  check "--help explains $opt" grep -q -- "^ *\(-h,\)\?$opt " <<<"$help"
done
check "--help documents the exit codes" grep -q "^exit codes:" <<<"$help"
check "--help: 0 whatever the status word" grep -q "whatever" <<<"$help"
check "--help: 1 failure" grep -q "^  1  failure" <<<"$help"
check "--help: 2 usage error" grep -q "^  2  usage error" <<<"$help"
check "README documents the exit codes" grep -q "whatever its status word" "$ROOT/README.md"

# The global --json reaches every command, the image commands too.
out=$("$T" --json image show "$img")
check "--json before 'image show' gives JSON" python3 -c '
import json,sys; assert json.loads(sys.argv[1])["ok"]' "$out"
out=$("$T" --json image check "$img")
check "--json before 'image check' gives JSON" python3 -c '
import json,sys; assert json.loads(sys.argv[1])["ok"]' "$out"
out=$("$T" --image "$img" --json script - <<<"00A4000C023F00")
check "--json before 'script' gives JSON" python3 -c '
import json,sys; assert json.loads(sys.argv[1])["responses"][0]["sw"]=="9000"' "$out"
out=$("$T" --json --image "$dir/missing.img" apdu 00A4000C023F00 2>/dev/null); rc=$?
check "--json: a card that cannot be opened exits 1" test $rc -eq 1
check "--json: ... and still prints one object: the link error, no responses" python3 -c '
import json,sys; j=json.loads(sys.argv[1])
assert j["ok"] is False and j["error"]["code"] == "link" and j["responses"] == []' "$out"

# JSON is valid UTF-8 even when a path holds a byte that is not (0xFF).
odd="$dir/card-"$'\xff'".img"
cp "$img" "$odd"
"$T" --json image show "$odd" >"$dir/j1"
check "JSON with a 0xFF path (image show) is valid UTF-8" json_ok <"$dir/j1"
"$T" image check "$odd" --json >"$dir/j2"
check "JSON with a 0xFF path (image check) is valid UTF-8" json_ok <"$dir/j2"
"$T" --json image show "$dir/missing-"$'\xff\xc3'".img" >"$dir/j3" 2>/dev/null
check "JSON error with a 0xFF path is valid UTF-8" json_ok <"$dir/j3"
check "the bad byte becomes U+FFFD" python3 -c '
import json,sys; assert json.load(open(sys.argv[1], encoding="utf-8"))["path"].endswith("card-\ufffd.img")' "$dir/j1"
"$T" --json image show "$dir/caf"$'\xc3\xa9'".img" >"$dir/j4" 2>/dev/null
check "well-formed UTF-8 in a path is kept" grep -q $'caf\xc3\xa9.img' "$dir/j4"

version=$(sed -n 's/^project(tessera VERSION \([0-9.]*\).*/\1/p' "$ROOT/CMakeLists.txt")
check "the CMake project has a version" test -n "$version"
check "tessera --version is the CMake project version" test "$("$T" --version)" = "tessera $version"
out=$("$CARD" --version 2>&1); rc=$?
check "tessera-card --version: exit 0" test $rc -eq 0
check "tessera-card --version is the CMake project version" test "$out" = "tessera-card $version"
check "tessera-card --help lists --version" sh -c "\"$CARD\" --help | grep -q -- '--version'"

# --- 16. No PIN or key byte in any output mode; a blocked PIN says how to unblock it -------
# PIN 81 = 1234 (31323334), PUK 83 = 12345678, new PIN 2468 (32343638), key bytes C0FFEE.
fresh
pin_cmds=(
  002000810431323334                          # VERIFY 81
  0024008108313233343234363800                # CHANGE REFERENCE DATA old||new (+ Le)
  002C00810C313233343536373832343638          # RESET RETRY COUNTER PUK||new
  80D8000112C0FFEE01C0FFEE02C0FFEE03C0FFEE04C0FF    # PUT KEY, well-formed
  0020000000                                  # not a secret: VERIFY without a body
  # Malformed ones are sent anyway (a warning); inside SCP03 the first of them stops the run.
  00240181043234363800000000                  # CHANGE REFERENCE DATA, malformed (Lc 4, 8 bytes)
  0020008105323436                            # VERIFY, malformed (Lc 5, 3 bytes)
  80D80081FFC0FFEE05C0FFEE06                  # PUT KEY, malformed
)
secrets=(31323334 32343638 C0FFEE)
script="$dir/pins.script"
printf '%s\n' "${pin_cmds[@]}" >"$script"
leaks() {  # leaks FILE: the secrets found in FILE, with every space removed
  local s
  for s in "${secrets[@]}"; do tr -d ' \t' <"$1" | grep -qi "$s" && printf '%s ' "$s"; done
}
for mode in plain --json --trace; do
  flags=(); [ "$mode" != plain ] && flags=("$mode")
  "$T" --image "$img" "${flags[@]}" apdu "${pin_cmds[@]}" >"$dir/o" 2>&1
  check "apdu $mode: no PIN or key bytes (found: $(leaks "$dir/o"))" test -z "$(leaks "$dir/o")"
  "$T" --image "$img" "${flags[@]}" script "$script" >"$dir/o" 2>&1
  check "script $mode: no PIN or key bytes (found: $(leaks "$dir/o"))" test -z "$(leaks "$dir/o")"
  check "script $mode: the bodies are shown as hidden" grep -q "hidden" "$dir/o"
  "$T" --image "$img" "${flags[@]}" --scp03 test script "$script" >"$dir/o" 2>&1
  check "script --scp03 $mode: no PIN or key bytes (found: $(leaks "$dir/o"))" \
    test -z "$(leaks "$dir/o")"
  "$T" --image "$img" "${flags[@]}" --scp03 test apdu "${pin_cmds[@]}" >"$dir/o" 2>&1
  check "apdu --scp03 $mode: no PIN or key bytes (found: $(leaks "$dir/o"))" \
    test -z "$(leaks "$dir/o")"
done
"$T" --image "$img" --json script "$script" >"$dir/o" 2>/dev/null
check "script --json still names the commands" python3 -c '
import json,sys; d=json.load(open(sys.argv[1]))["responses"]
assert d[0]["command"]=="0020008104 <4 bytes hidden>", d[0]
assert d[2]["command"]=="002C00810C <12 bytes hidden>", d[2]
assert d[3]["command"]=="80D8000112 <18 bytes hidden>", d[3]
assert d[4]["command"]=="0020000000", d[4]' "$dir/o"
# Bad input that holds a PIN: the error names it without the PIN.
"$T" --image "$img" --trace apdu 00A4000C023F00 0020008104313233343 >"$dir/o" 2>&1
check "a bad APDU argument with a PIN: no PIN in the error" test -z "$(leaks "$dir/o")"
check "a bad APDU argument with a PIN: still named" grep -q "APDU 2 '00200081 <rest hidden>'" "$dir/o"
printf '00A4000C023F00\n00 20 00 81 04 31 32 33 34 Z\n' >"$dir/badpin.script"
"$T" --image "$img" --json --trace script "$dir/badpin.script" >"$dir/o" 2>&1
check "a bad script line with a PIN: no PIN in the error" test -z "$(leaks "$dir/o")"
check "a bad script line with a PIN: still named" grep -q "badpin.script:2:" "$dir/o"

# Three wrong PINs block PIN 81; every output mode says how to unblock it, and the advice works.
fresh
out=$("$T" --image "$img" apdu 0020008104FFFFFFFF 0020008104FFFFFFFF 0020008104FFFFFFFF \
  002000810431323334 2>"$dir/err")
check "three wrong PINs, then 6983" test "$(tr '\n' ' ' <<<"$out")" = "63C2 63C1 63C0 6983 "
check "apdu: stdout stays one response per line" test "$(wc -l <<<"$out")" -eq 4
check "apdu: the last wrong try says the PIN is now blocked" grep -q "now blocked" "$dir/err"
check "apdu: 6983 says how to unblock" \
  grep -q "PIN 81 is blocked; unblock it with RESET RETRY COUNTER (00 2C) and the PIN's PUK" "$dir/err"
check "apdu: 6983 names the default profile's PUK" grep -q "reference 83 on the default profile" "$dir/err"
out=$("$T" --image "$img" script - <<<"0020008104 31323334")
check "script: 6983 has a note" grep -q "^# note: PIN 81 is blocked; unblock it with RESET RETRY COUNTER" <<<"$out"
out=$("$T" --image "$img" --json apdu 0020008100)
check "--json: 6983 has a note" python3 -c '
import json,sys; d=json.loads(sys.argv[1])["responses"]; assert d[0]["sw"]=="6983" and "00 2C 00 81" in d[0]["note"]' "$out"
# The advice: 00 2C 00 81 with the PUK (12345678) followed by a new PIN (2468).
out=$("$T" --image "$img" apdu 002C00810C313233343536373832343638 002000810432343638 2>&1)
check "the advice unblocks the PIN" test "$(tr '\n' ' ' <<<"$out")" = "9000 9000 "
out=$("$T" --image "$img" apdu 002C00820C313233343536373832343638 2>&1)
check "PIN 82 has no PUK: 6984 says so" grep -q "PIN 82 has no PUK" <<<"$out"

# --power-cut-after N: a power cut at every page program of VERIFY + SELECT + UPDATE BINARY
# leaves EF 2F01 old or new (read back through APDUs on the next run) and the image sound.
old=$("$T" --image "$img" apdu 00A4000C022F01 00B0000005 | tail -1)
torn=0 bad=0 cut_seen=0
for n in $(seq 0 40); do
  cp "$img" "$dir/cut.img"
  "$T" --image "$dir/cut.img" --power-cut-after "$n" apdu 00200082083837363534333231 \
    00A4000C022F01 00D600000548454C4C4F >"$dir/cut.out" 2>&1
  rc=$?
  grep -q "power cut during this command" "$dir/cut.out" && cut_seen=$((cut_seen + 1))
  [[ $rc -eq 0 ]] || torn=$((torn + 1))
  now=$("$T" --image "$dir/cut.img" apdu 00A4000C022F01 00B0000005 | tail -1)
  [[ "$now" == "$old" || "$now" == 48454C4C4F9000 ]] || bad=$((bad + 1))
  "$T" image check "$dir/cut.img" >/dev/null 2>&1 || bad=$((bad + 1))
done
check "--power-cut-after: cuts reported and exit 1 ($torn)" test "$torn" -ge 10 -a "$cut_seen" -eq "$torn"
check "--power-cut-after: every cut leaves old or new, image sound" test "$bad" -eq 0
"$T" --connect unix:/nonexistent --power-cut-after 1 apdu 00A40000 >"$dir/out" 2>&1
check "--power-cut-after needs --image (exit 2)" test $? -eq 2

echo "$pass passed, $fails failed"
test $fails -eq 0
