#!/usr/bin/env bash
# The main job on the embedded default: builds Tessera, creates a card image in var/card.img
# with the default profile, drives the card in-process like a terminal (EMV PSE, PIN, files,
# records), prints every exchange decoded, then shows and checks the image.
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
echo "== tessera image show $image"
$T image show "$image"
echo
echo "== tessera image check $image"
$T image check "$image"
