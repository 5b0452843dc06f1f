#!/usr/bin/env bash
# The main job on the embedded default: builds Tessera, creates a card image in var/card.img
# with the default profile, drives the card in-process like a terminal (EMV PSE, PIN, files,
# records), prints every exchange decoded; walks record-driven application management and
# self-issuance (a run torn by a power cut, resumed; a batch killed and re-run); then shows and
# checks the image.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build -DTESSERA_BENCH=OFF >/dev/null
mkdir -p var
image=var/card.img
T=build/tessera
echo "== tessera image init $image"
$T image init "$image" --force
echo
echo "== the card, in-process (--trace decodes each command and response)"
cat >var/demo.script <<'S'
# An EMV terminal reads the payment system environment until 6A83.
00 A4 04 00 0E 31 50 41 59 2E 53 59 53 2E 44 44 46 30 31 00
00 B2 01 0C 00
00 B2 02 0C 00
# Select the listed application, try to read without the PIN, verify, read, update, log.
00 A4 04 00 09 F0 54 45 53 53 45 52 41 10 00
00 B0 81 00 10
00 20 00 81 04 31 32 33 34
00 B0 81 00 10
00 E2 00 18 08 00 00 00 01 00 00 27 10
00 B2 01 1C 00
# Two logical channels: open one, select the MF's greeting file on it, read.
00 70 00 00 01
01 A4 00 0C 02 2F 01
01 B0 00 00 07
00 70 80 01
S
$T --image "$image" script var/demo.script
echo
echo "== a GlobalPlatform SCP03 session with the issuer security domain (level 33: C-MAC,"
echo "   C-DECRYPTION, R-MAC, R-ENCRYPTION), then GET STATUS and the key information template"
$T --image "$image" --scp03 test --level 33 --trace apdu 80F28002024F0000 80CA00E000
echo
echo "== record-driven application management (JP6426411B2): an administrator, two applications"
echo "   installed from signed installation files, then each record status change and deletion"
A=(--image "$image" --scp03 test)
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out var/acme.pem 2>/dev/null
printf 'enc=A1A2A3A4A5A6A7A8A9AAABACADAEAFA0\nmac=B1B2B3B4B5B6B7B8B9BABBBCBDBEBFB0\ndek=C1C2C3C4C5C6C7C8C9CACBCCCDCECFC0\n' >var/acme.keys
$T "${A[@]}" admin add --id 1 --name ACME --public-key var/acme.pem --keys var/acme.keys --key-kvn 21 2>/dev/null
cat >var/store.toml <<'D'
aid = "F05445535345524120"
name = "ACME NOTES"
admin_name = "ACME"
admin_id = 1
use_start = "260101"
expiration = "301231"
module = "data-store"
[params]
pin = "2468"
data = "meeting at noon"
D
cat >var/purse.json <<'D'
{"aid": "F05445535345524121", "name": "ACME PURSE", "admin_name": "ACME", "admin_id": 1,
 "module": "purse", "params": {"balance": 1500, "pin": "1357"}}
D
$T apps make-install-file var/store.toml --key var/acme.pem -o var/store.bin
$T apps make-install-file var/purse.json --key var/acme.pem -o var/purse.bin
$T "${A[@]}" apps install var/store.bin 2>/dev/null
$T "${A[@]}" apps install var/purse.bin 2>/dev/null
$T "${A[@]}" apps list 2>/dev/null
M=(--image "$image" --scp03 var/acme.keys --kvn 21)
show() { echo "-- $1"; $T "${A[@]}" apps list 2>/dev/null; }
echo; echo "-- lock the notes: SELECT warns 6283 and every command is refused"
$T "${M[@]}" apps set-status F05445535345524120 lock
$T --image "$image" apdu 00A4040009F0544553534552412000 00200080043234363800
show "the list"
$T "${M[@]}" apps set-status F05445535345524120 unlock
$T --image "$image" apdu 00A4040C09F05445535345524120 00200080043234363800 00B000000F
echo; echo "-- terminate the purse: its balance still reads through the OS, its code does not run"
$T "${M[@]}" apps set-status F05445535345524121 terminate
$T --image "$image" apdu 00A4040C09F05445535345524121 00B0810004 805C000004
show "the list"
echo; echo "-- erase the notes (not selectable, data kept), then restore them"
$T "${M[@]}" apps set-status F05445535345524120 erase
$T --image "$image" apdu 00A4040C09F05445535345524120
show "the list"
$T "${M[@]}" apps set-status F05445535345524120 restore
$T --image "$image" apdu 00A4040C09F05445535345524120 00200080043234363800 00B000000F
echo; echo "-- the PSE an EMV terminal reads: exactly the selectable applications"
$T --image "$image" apdu 00A404000E315041592E5359532E444446303100 00B2010C00 00B2020C00 00B2030C00
echo; echo "-- delete the notes: record and application go, their bytes are wiped"
$T "${M[@]}" apps delete F05445535345524120 --yes
$T --image "$image" apdu 00A4040C09F05445535345524120
if grep -c "meeting at noon" "$image" >/dev/null; then echo "the notes are still in the image!"; exit 1; fi
echo "(no byte of \"meeting at noon\" is left in $image)"
show "the list"
echo "-- the same registry through the GlobalPlatform door (GET STATUS P1 40)"
$T "${A[@]}" apdu 80F24002024F0000 2>/dev/null
echo
echo "== applets (docs/applets.md): an application that brings its own code, Lua in a sandbox;"
echo "   a TOTP token (profiles/applets/totp.lua) installed from an installation file signed by"
echo "   ACME, asked for the code of time step 1 (RFC 6238: 46119246), then a package loaded"
echo "   through GlobalPlatform LOAD, listed, instantiated and deleted"
sed 's/admin_name = "ISSUER"/admin_name = "ACME"/; s/admin_id = 0/admin_id = 1/' \
  profiles/applets/totp.toml >var/totp.toml
cp profiles/applets/totp.lua var/totp.lua
$T apps make-install-file var/totp.toml --key var/acme.pem -o var/totp.bin
$T "${A[@]}" apps install var/totp.bin 2>/dev/null
$T --image "$image" apdu 00A4040C06F0000000AD10 80100000080000000000000001 2>/dev/null
cat >var/pkg.toml <<'D'
package = "F0000000AB"
[modules.PURSE]
aid = "F0000000AB01"
source = "../profiles/applets/purse.lua"
D
$T "${A[@]}" apps load var/pkg.toml 2>/dev/null
$T "${A[@]}" apps create F0000000AB10 F0000000AB F0000000AB01 --params-hex 8004000003E8 2>/dev/null
$T --image "$image" apdu 00A4040C06F0000000AB10 805C000004 2>/dev/null
$T "${A[@]}" apps list 2>/dev/null
$T "${A[@]}" apps delete-package F0000000AB --with-instances --yes 2>/dev/null
echo
echo "== self-issuance (US 7,428,992): a card function stored on the card, issued by one request"
$T --image "$image" --scp03 test issue install-app 2>/dev/null
$T --image "$image" --scp03 test issue load-group profiles/emoney.group --function 1 2>/dev/null
echo "-- EXECUTE ISSUANCE (run id 0102030405060708), and the power is cut in the middle of it"
echo "   (--power-cut-after 90: page program 90 after power-on is torn)"
run=0102030405060708
$T --image "$image" --power-cut-after 90 apdu 00A4040009F0544553534552410200 \
  80EA00000DC10101C808${run}00 || true
echo "-- the interruption history: the journal names the first unanswered command"
$T --image "$image" issue status --function 1
echo "-- the half-issued purse is unusable from outside (SELECT: 6985)"
$T --image "$image" apdu 00A4040009F0544553534552415000
echo "-- resume with the same run id: only what had not succeeded runs; then acknowledge"
$T --image "$image" issue resume --function 1 --run-id $run
$T --image "$image" issue ack --function 1 --run-id $run
$T --image "$image" apdu 00A4040009F0544553534552415000 805C000004
echo "-- the issuance manager on its own: the transit pass, power cut at program 60; it"
echo "   reconnects, asks for the status, resumes and acknowledges by itself"
$T --image "$image" --scp03 test issue load-group profiles/transit.group --function 2 2>/dev/null
$T --image "$image" --power-cut-after 60 issue run --function 2 --state var/transit.state \
  --log var/transit.log 2>&1 | grep -v "^  command"
show "the issued applications, in the list like any other (signed by the bureau)"
echo
echo "== batch issuance: 300 ticket books (50 commands each), killed after 0.5 s, then re-run"
rm -rf var/cards
$T issue batch profiles/ticketbook.group --images var/cards --count 300 >/dev/null 2>&1 &
batch=$!
sleep 0.5
kill -9 $batch 2>/dev/null || true
wait $batch 2>/dev/null || true
echo "(SIGKILL after 0.5 s: $(ls var/cards/*.img 2>/dev/null | wc -l) of 300 images made)"
$T issue batch profiles/ticketbook.group --images var/cards --count 300 2>/dev/null

echo
echo "== tessera image show $image"
$T image show "$image"
echo
echo "== tessera image check $image"
$T image check "$image"
