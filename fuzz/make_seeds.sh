#!/usr/bin/env bash
# Writes the seed corpora of the upload and issuance fuzz targets from what the real tools make
# and exchange: the profiles' groups (text and compiled by 'tessera issue compile'), their
# STORE DATA objects (BF71 administrators, BF70 installation files), BF73 uploads of compiled
# groups, the E5 templates and table records a card answered during 'tessera issue run' and
# 'issue status' (read from --trace), and the state files 'issue run' wrote.
#   fuzz/make_seeds.sh [TESSERA]    (default build/tessera)
# Re-run it when a format changes; the files go to fuzz/corpus/<target>/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
T="${1:-$root/build/tessera}"
T="$(cd "$(dirname "$T")" && pwd)/$(basename "$T")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
c="$root/fuzz/corpus"
mkdir -p "$c/card_upload_fuzz" "$c/issue_group_fuzz" "$c/issue_report_fuzz" "$c/issue_state_fuzz"
hex2bin() { python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]))' "$1"; }
# seed DIR NAME MODE_HEX PAYLOAD_HEX: the card target's input (mode byte, then the payload).
seed() { hex2bin "$3$4" >"$c/$1/$2"; }

# --- groups: text and compiled ----------------------------------------------------------------
cat >"$work/small.group" <<'EOF'
reset
# a comment line
00A4040008A000000151000000 harmless   # the ISD
80CA00CF00 sw=9000
00 A4 00 0C 02 3F 00 sw=9000,6283
exit
EOF
cat >"$work/fails.group" <<'EOF'
00A4000C023F00 harmless
00B0000001 sw=9000
00A4000C02DEAD
EOF
for g in "$root"/profiles/*.group "$work/small.group" "$work/fails.group"; do
  n=$(basename "$g" .group)
  cp "$g" "$c/issue_group_fuzz/$n.txt"
  "$T" issue compile "$g" -o "$c/issue_group_fuzz/$n.bin" >/dev/null
done

# --- card uploads -----------------------------------------------------------------------------
# The data of every STORE DATA line of the profiles (80 E2 90 00 Lc DATA): BF71 and BF70.
for g in "$root"/profiles/*.group; do
  n=$(basename "$g" .group)
  i=0
  grep -E '^80E29000' "$g" | awk '{print $1}' | while read -r line; do
    data=${line:10}
    i=$((i + 1))
    seed card_upload_fuzz "isd-$n-$i" 00 "$data"   # the object as it is
    # The object's value, wrapped again by the target (mode 1: BF70, 2: BF71).
    python3 - "$data" "$c/card_upload_fuzz/isd-$n-$i-value" <<'PY'
import sys
b = bytes.fromhex(sys.argv[1])
tag = (b[0] << 8) | b[1]
i = 2
n = b[i]; i += 1
if n & 0x80:
    k = n & 0x7F; n = int.from_bytes(b[i:i + k], "big"); i += k
mode = {0xBF70: 1, 0xBF71: 2}.get(tag)
if mode is not None:
    open(sys.argv[2], "wb").write(bytes([mode]) + b[i:i + n])
PY
  done
done
seed card_upload_fuzz isd-date 03 "260131"
seed card_upload_fuzz isd-date-and-admin 00 "DF7203260131"
seed card_upload_fuzz isd-small-blocks 13 "261231"
# BF73 uploads of compiled groups: C1 function, C3 version, 4F target, C5 policy, C6 group.
bf73() {  # bf73 NAME MODE GROUP_BIN FUNCTION TARGET_HEX
  local g
  g=$(od -An -tx1 -v "$3" | tr -d ' \n')
  python3 - "$2" "$g" "$4" "$5" "$c/card_upload_fuzz/$1" <<'PY'
import sys
def tlv(t, v):
    tb = t.to_bytes(2 if t > 0xFF else 1, "big")
    n = len(v)
    if n < 0x80: lb = bytes([n])
    elif n < 0x100: lb = bytes([0x81, n])
    else: lb = bytes([0x82]) + n.to_bytes(2, "big")
    return tb + lb + v
mode, group, fn, target = int(sys.argv[1], 16), bytes.fromhex(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
body = tlv(0xC1, bytes([fn])) + tlv(0xC3, b"\x01")
if target: body += tlv(0x4F, bytes.fromhex(target))
body += tlv(0xC5, b"\x03") + tlv(0xC6, group)
open(sys.argv[5], "wb").write(bytes([mode]) + body)
PY
}
bf73 issuance-small-load 05 "$c/issue_group_fuzz/small.bin" 1 ""
bf73 issuance-small-run 0D "$c/issue_group_fuzz/small.bin" 1 "F05445535345524110"
bf73 issuance-fails-run 0D "$c/issue_group_fuzz/fails.bin" 2 "F05445535345524111"
bf73 issuance-fails-run-small-blocks 1D "$c/issue_group_fuzz/fails.bin" 3 ""
bf73 issuance-emoney-run 0D "$c/issue_group_fuzz/emoney.bin" 1 ""
bf73 issuance-transit-load 05 "$c/issue_group_fuzz/transit.bin" 4 ""

# --- E5 templates, table records and state files from real runs --------------------------------
cd "$work"
"$T" image init card.img >/dev/null 2>&1
"$T" --image card.img --scp03 test issue install-app >/dev/null 2>&1
i=0
for g in small fails; do
  f=$((i + 1))
  "$T" --image card.img --scp03 test issue load-group "$work/$g.group" --function $f \
    --target F0544553534552411$f >/dev/null 2>&1
  "$T" --image card.img --trace issue run --function $f --state "s$f.state" >/dev/null 2>"trace$f" || true
  "$T" --image card.img --scp03 test --trace issue status --function $f >/dev/null 2>>"trace$f" || true
  cp "s$f.state" "$c/issue_state_fuzz/$g.state"
  i=$f
done
# Responses that carry data: "<[<] N bytes HEX  SW ...".
cat trace1 trace2 | sed -n 's/^<<* [0-9]* bytes \([0-9A-F]*\) .*/\1/p' | sort -u | while read -r r; do
  case "$r" in
    E5*) hex2bin "$r" >"$c/issue_report_fuzz/e5-$(echo "$r" | sha1sum | cut -c1-12)" ;;
    0[12]*) hex2bin "$r" >"$c/issue_report_fuzz/record-$(echo "$r" | sha1sum | cut -c1-12)" ;;
  esac
done
ls "$c"/*/ | wc -l >/dev/null
echo "seeds written to $c"
