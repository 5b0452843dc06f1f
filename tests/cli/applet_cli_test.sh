#!/usr/bin/env bash
# Applets (docs/applets.md) the way a developer and an operator use them, with the real tool:
# the example applets of profiles/applets/ built into installation files, installed, driven
# with scripts; the TOTP applet's codes against RFC 6238's known answers and Python's hmac (an
# oracle outside the card); the loyalty counter's rules; a package loaded, listed, instantiated
# and deleted through the GlobalPlatform door; the developer's loop (apps try) with the Lua error
# and its line in the trace; refusals that name the problem; after deletion no byte of the
# code is left in the raw image, and the image checks clean throughout.
set -uo pipefail
T="${TESSERA:?set TESSERA to the tessera binary}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fails=0
pass=0
check() {  # check NAME CONDITION...
  local name="$1"; shift
  if "$@"; then pass=$((pass + 1)); else echo "FAIL: $name"; fails=$((fails + 1)); fi
}
jget() { python3 -c 'import json,sys; d=json.loads(sys.argv[2]); print(eval(sys.argv[1]))' "$@"; }
img="$dir/card.img"
S=(--image "$img" --scp03 test)
"$T" image init "$img" >/dev/null 2>&1
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/issuer.pem" 2>/dev/null
"$T" "${S[@]}" admin add --id 0 --name ISSUER --public-key "$dir/issuer.pem" >/dev/null 2>&1
check "the issuer's signing key is registered" test $? -eq 0
cp "$root"/profiles/applets/*.lua "$root"/profiles/applets/*.toml "$dir/"
clean() { "$T" image check "$img" >/dev/null 2>&1; }
# Responses of a script, one "DATA SW" hex line each (DATA empty when none).
run() {  # run APDU...
  "$T" --json --image "$img" apdu "$@" 2>/dev/null |
    python3 -c 'import json,sys; d=json.load(sys.stdin); [print(r.get("data",""), r["sw"]) for r in d["responses"]]'
}

# --- 1. the example applets, by installation file ---------------------------------------------
for a in purse totp loyalty; do
  out=$("$T" apps make-install-file "$dir/$a.toml" --key "$dir/issuer.pem" -o "$dir/$a.bin" 2>&1)
  check "make-install-file $a.toml ($out)" test $? -eq 0
  out=$("$T" "${S[@]}" apps install "$dir/$a.bin" 2>&1)
  check "apps install $a ($out)" grep -q "^installed" <<<"$out"
done
check "the image checks clean with three applets" clean
out=$("$T" image ls "$img" 2>&1)
check "image ls names the applets' code" grep -q "transparent EF, [0-9]* bytes; activated; applet code" <<<"$out"
out=$("$T" --json image ls "$img" 2>/dev/null)
check "image ls --json: role of the code and the store" test \
  "$(jget 'sorted({f.get("role") for f in d["files"]} - {None})' "$out")" = \
  "['applet PIN', 'applet code', 'applet store']"

# The purse: balance 100, PIN 9999 (purse.toml); debit after VERIFY; the log reads by SFI 2.
r=$(run 00A4040C06F0000000AB10 805C000004 80540000040000000A 002000800439393939 \
  80540000040000000A 805C000004 00B2011400)
check "purse: balance, debit refused before VERIFY, then done, logged" test "$r" = \
"$(printf ' 9000\n00000064 9000\n 6982\n 9000\n 9000\n0000005A 9000\n020000000A0000005A00000001000000 9000')"

# TOTP: RFC 6238 Appendix B, SHA-256, 8 digits; and Python's hmac for a step of our own.
totp() {  # totp STEP_HEX -> the code the card answers, as text
  run 00A4040C06F0000000AD10 "8010000008$1" | tail -1 | cut -d' ' -f1 |
    python3 -c 'import sys; print(bytes.fromhex(sys.stdin.read().strip()).decode())'
}
check "TOTP T=59 is 46119246 (RFC 6238)" test "$(totp 0000000000000001)" = 46119246
check "TOTP T=1111111109 is 68084774" test "$(totp 00000000023523EC)" = 68084774
check "TOTP T=1234567890 is 91819424" test "$(totp 000000000273EF07)" = 91819424
check "TOTP T=20000000000 is 77737706" test "$(totp 0000000027BC86AA)" = 77737706
want=$(python3 - <<'PY'
import hmac, hashlib, struct
key = b"12345678901234567890123456789012"
mac = hmac.new(key, struct.pack(">Q", 0x1234567), hashlib.sha256).digest()
o = mac[-1] & 15
print("%08d" % ((int.from_bytes(mac[o:o + 4], "big") & 0x7FFFFFFF) % 10 ** 8))
PY
)
check "TOTP of step 01234567 matches Python's hmac ($want)" test "$(totp 0000000001234567)" = "$want"
r=$(run 00A4040C06F0000000AD10 801200000400000000 8010000004AABBCCDD)
check "TOTP: the secret changes only in a session; a short step is 6700" test "$r" = \
"$(printf ' 9000\n 6982\n 6700')"

# Loyalty: 500 points a day (the card's date), spent under the PIN, a history.
"$T" "${S[@]}" card set-date 261204 >/dev/null 2>&1
r=$(run 00A4040C06F0000000AF10 8010000004000001F4 801000000400000001 801200000400000064 \
  80200000043131313131 801200000400000064 8014000004 8016010008 8016020008 2>/dev/null)
check "loyalty: daily limit, PIN, balance, history ($r)" test "$r" = \
"$(printf ' 9000\n 9000\n 6A84\n 6982\n 9000\n 9000\n00000190 9000\n5300006426120400 9000\n450001F426120400 9000')"
"$T" "${S[@]}" card set-date 261205 >/dev/null 2>&1
r=$(run 00A4040C06F0000000AF10 801000000400000001)
check "loyalty: a new day, a new limit" test "$r" = "$(printf ' 9000\n 9000')"
check "the image checks clean after the examples ran" clean

# --- 2. the developer's loop: apps try -------------------------------------------------------
cat >"$dir/dev.lua" <<'L'
return {process = function(apdu)
  if apdu.ins == 0x02 then local t = nil; return t.field end
  card.log("hello from", apdu.ins)
  return "v1"
end}
L
cat >"$dir/dev.toml" <<'D'
aid = "F0000000A110"
name = "DEV"
admin_name = "ISSUER"
admin_id = 0
code = "dev.lua"
D
printf '00A4040C06F0000000A110\n8001000000\n8002000000\n' >"$dir/dev.apdu"
out=$("$T" "${S[@]}" apps try "$dir/dev.toml" --key "$dir/issuer.pem" --script "$dir/dev.apdu" 2>&1)
check "apps try installs and runs the script" grep -q '^installed F0000000A110' <<<"$out"
check "apps try: card.log reaches the trace" grep -q 'card: applet F0000000A110: log: hello from 1' <<<"$out"
check "apps try: the Lua error and its line reach the trace" \
  grep -q 'card: applet F0000000A110: process: DEV:2: attempt to index a nil value' <<<"$out"
check "apps try: ... and the response is a plain 6F00" grep -q '< 6F00' <<<"$out"
sed -i 's/"v1"/"v2"/' "$dir/dev.lua"
out=$("$T" "${S[@]}" apps try "$dir/dev.toml" --key "$dir/issuer.pem" --script "$dir/dev.apdu" 2>&1)
check "apps try again reinstalls the edited applet" grep -q '^reinstalled F0000000A110' <<<"$out"
check "... which answers with the new code" grep -q '7632' <<<"$out"
out=$("$T" --json "${S[@]}" apps try "$dir/dev.toml" --key "$dir/issuer.pem" 2>/dev/null)
check "apps try --json" test "$(jget 'd["ok"] and d["replaced"]' "$out")" = True

# --- 3. a package through the GlobalPlatform door ---------------------------------------------
cat >"$dir/pkg.toml" <<'P'
package = "F0000000B0"
version = "2.1"
[modules.PURSE]
aid = "F0000000B001"
source = "purse.lua"
[modules.DEV]
aid = "F0000000B002"
source = "dev.lua"
P
out=$("$T" "${S[@]}" apps load "$dir/pkg.toml" 2>&1)
check "apps load ($out)" grep -q "loaded package F0000000B0 (version 2.1, 2 modules)" <<<"$out"
has() { grep -q -- "$2" <<<"$1"; }  # has TEXT PATTERN
out=$("$T" "${S[@]}" apps packages 2>&1)
check "apps packages lists the package" has "$out" 'PKG: F0000000B0'
check "... with its modules" has "$out" 'F0000000B001'
out=$("$T" "${S[@]}" apps list 2>&1)
check "apps list --scp03 shows the package as gp --list does" \
  has "$out" 'PKG: F0000000B0 (modules F0000000B002, F0000000B001)'
out=$("$T" "${S[@]}" apps create F0000000B010 F0000000B0 F0000000B001 --params-hex 800400000010 2>&1)
check "apps create ($out)" grep -q "created F0000000B010" <<<"$out"
r=$(run 00A4040C06F0000000B010 805C000004)
check "the created purse answers its balance" test "$r" = "$(printf ' 9000\n00000010 9000')"
out=$("$T" "${S[@]}" apps delete-package F0000000B0 --yes 2>&1)
check "delete-package refuses while an application exists (6985)" grep -q "6985" <<<"$out"
marker="byte for byte, so that one transcript"
check "the purse's source is in the raw image" grep -qa "$marker" "$img"
"$T" "${S[@]}" apps delete-package F0000000B0 --with-instances --yes >/dev/null 2>&1
check "delete-package --with-instances" test $? -eq 0
"$T" "${S[@]}" apps delete F0000000AB10 --yes --gp >/dev/null 2>&1
check "the purse installed by file deletes too" test $? -eq 0
check "no byte of the purse's source is left in the raw image" bash -c "! grep -qa '$marker' '$img'"
check "the image checks clean after the deletions" clean

# --- 4. refusals that name the problem ---------------------------------------------------------
printf '\033LuaT\000\031\223' >"$dir/bytecode.lua"
sed 's/dev.lua/bytecode.lua/; s/A110/A210/' "$dir/dev.toml" >"$dir/bc.toml"
out=$("$T" apps make-install-file "$dir/bc.toml" --key "$dir/issuer.pem" -o "$dir/bc.bin" 2>&1)
check "bytecode is refused before anything is signed" grep -q "bytecode" <<<"$out"
mkdir "$dir/adir.lua"
sed 's/dev.lua/adir.lua/; s/A110/A310/' "$dir/dev.toml" >"$dir/ad.toml"
out=$("$T" apps make-install-file "$dir/ad.toml" --key "$dir/issuer.pem" -o "$dir/ad.bin" 2>&1)
check "a directory as the source is a clear error ($out)" grep -q "directory" <<<"$out"
printf 'return {process = ' >"$dir/broken.lua"
sed 's/dev.lua/broken.lua/; s/A110/A410/' "$dir/dev.toml" >"$dir/br.toml"
"$T" apps make-install-file "$dir/br.toml" --key "$dir/issuer.pem" -o "$dir/br.bin" >/dev/null 2>&1
out=$("$T" --trace "${S[@]}" apps install "$dir/br.bin" 2>&1)
check "source that does not compile: 6A80" has "$out" '6A80'
check "... and the trace says where" has "$out" 'does not compile: DEV:1:'
check "the image checks clean after the refusals" clean

echo "applets: $pass checks passed, $fails failed"
[ "$fails" -eq 0 ]
