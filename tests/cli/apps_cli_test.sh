#!/usr/bin/env bash
# Runs `tessera apps`, `tessera admin` and `tessera card` the way a user does.
#
# Offline (always): make-install-file builds the bytes of docs/applications.md §5.2 from TOML and
# JSON alike, its two signatures (the record's, the file's) verify with openssl alone, bad fields are named (with the TOML
# line), bad keys are clear errors, PINs never appear in any output, usage errors exit 2.
#
# Card-facing (section 2): install (files changed after signing refused), list, set-status,
# delete, admin add/list and set-date against a card that has the management application (a
# fresh default image); GP INSTALL, SET STATUS and the record door alternating on one of the
# issuer's applications without a signing key; administrators without a valid key refused.
# APPS_CARD="--connect unix:PATH" (or "--reader NAME") runs them against another card, which
# must be in the state of a freshly initialised default image.
set -uo pipefail
T="${TESSERA:?set TESSERA to the tessera binary}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fails=0
pass=0
check() {  # check NAME CONDITION...
  local name="$1"; shift
  if "$@"; then pass=$((pass + 1)); else echo "FAIL: $name"; fails=$((fails + 1)); fi
}
json_ok() { PYTHONIOENCODING=utf-8:strict python3 -c 'import json,sys; json.load(sys.stdin)'; }
# jq-like: jget 'EXPR' JSON, EXPR in Python over d (the parsed JSON).
jget() { python3 -c 'import json,sys; d=json.loads(sys.argv[2]); print(eval(sys.argv[1]))' "$@"; }
command -v openssl >/dev/null || { echo "openssl is needed (scripts/install-deps.sh)"; exit 1; }

# A TLV reader written from the document, not from the tool: prints an installation file as
# "PATH=HEX" lines (BF70/E1/4F=...), constructed objects opened.
cat >"$dir/tlv.py" <<'PY'
import sys

def items(b):
    i, out = 0, []
    while i < len(b):
        start = i
        t = b[i]; i += 1
        if t & 0x1F == 0x1F:
            t = (t << 8) | b[i]; i += 1
        n = b[i]; i += 1
        if n & 0x80:
            k = n & 0x7F; n = int.from_bytes(b[i:i + k], "big"); i += k
        if i + n > len(b):
            raise ValueError("value runs past the end")
        out.append((t, b[start:i + n], b[i:i + n])); i += n
    return out

def constructed(t):
    first = t >> 8 if t > 0xFF else t
    return bool(first & 0x20)

def dump(b, path=""):
    for t, raw, v in items(b):
        p = path + "%X" % t
        if constructed(t):
            dump(v, p + "/")
        else:
            print("%s=%s" % (p, v.hex().upper()))

def der_int(x):
    x = x.lstrip(b"\0") or b"\0"
    if x[0] & 0x80:
        x = b"\0" + x
    return b"\x02" + bytes([len(x)]) + x

cmd, path = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
if cmd == "dump":
    dump(data)
elif cmd == "signed":  # signed.py FILE DATA_OUT SIG_DER_OUT: what 9E signs, and 9E as DER
    (t, _, ff70), = items(data)
    assert t == 0xBF70, hex(t)
    e1 = items(ff70)[0]
    assert e1[0] == 0xE1
    fields = items(e1[2])
    signed = b"".join(raw for t, raw, v in fields if t in (0x4F, 0x50, 0xC0, 0xC1, 0x5F25, 0x5F24))
    order = [t for t, raw, v in fields]
    assert order == [0x4F, 0x50, 0xC0, 0xC1, 0x5F25, 0x5F24, 0xC2, 0x9E], order
    sig = dict((t, v) for t, raw, v in fields)[0x9E]
    assert len(sig) == 64
    body = der_int(sig[:32]) + der_int(sig[32:])
    open(sys.argv[3], "wb").write(signed)
    open(sys.argv[4], "wb").write(b"\x30" + bytes([len(body)]) + body)
elif cmd == "file-signed":  # FILE DATA_OUT SIG_DER_OUT: what the file's 9E signs, and it as DER
    (t, _, ff70), = items(data)
    objs = items(ff70)
    assert [o[0] for o in objs][-1] == 0x9E and objs[0][0] == 0xE1, [hex(o[0]) for o in objs]
    signed = b"".join(raw for t, raw, v in objs[:-1])  # every byte of BF70's value before 9E
    assert ff70.startswith(signed) and len(ff70) == len(signed) + 2 + 64
    sig = objs[-1][2]
    body = der_int(sig[:32]) + der_int(sig[32:])
    open(sys.argv[3], "wb").write(signed)
    open(sys.argv[4], "wb").write(b"\x30" + bytes([len(body)]) + body)
elif cmd == "change":  # FILE OUT PATH HEX: the value at PATH (BF70/C5, BF70/E1/C2...) replaced
    # by HEX of the same length, every other byte (both signatures too) as it was.
    want, new = sys.argv[4], bytes.fromhex(sys.argv[5])
    def walk(b, base, path):
        for t, raw, v in items(b):
            p = path + "%X" % t
            off = base + len(raw) - len(v)
            if p == want:
                return off, len(v)
            if constructed(t):
                r = walk(v, off, p + "/")
                if r: return r
            base += len(raw)
    off, n = walk(data, 0, "")
    assert n == len(new), (n, len(new))
    open(sys.argv[3], "wb").write(data[:off] + new + data[off + n:])
elif cmd == "strip":  # FILE OUT: the file without its file signature (as files were once)
    (t, _, ff70), = items(data)
    objs = items(ff70)
    assert objs[-1][0] == 0x9E
    v = b"".join(raw for t, raw, v in objs[:-1])
    n = bytes([len(v)]) if len(v) < 128 else (bytes([0x81, len(v)]) if len(v) < 256 else bytes([0x82]) + len(v).to_bytes(2, "big"))
    open(sys.argv[3], "wb").write(b"\xBF\x70" + n + v)
PY
tlv() { python3 "$dir/tlv.py" "$@"; }
verifies() { openssl dgst -sha256 -verify "$1" -signature "$2" "$3" >/dev/null 2>&1; }  # PUB SIG DATA
field() { tlv dump "$1" | sed -n "s|^$2=||p"; }  # field FILE PATH: the value's hex

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/admin.pem" 2>/dev/null
openssl pkey -in "$dir/admin.pem" -pubout -out "$dir/admin.pub.pem" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/other.pem" 2>/dev/null
# The uncompressed point of a key, as the card stores it (the last 65 bytes of the SPKI).
point() { openssl pkey -in "$1" -pubout -outform DER 2>/dev/null | tail -c 65 | od -An -tx1 |
  tr -d ' \n' | tr a-f A-F; }
PIN=8642  # 38363432: never in any output

# --- 1. make-install-file --------------------------------------------------------------------
cat >"$dir/store.toml" <<EOF
# a data store for ACME
aid = "F0544553534552412001"
name = "Störe"
admin_name = "ACME"
admin_id = 1
use_start = "260101"
expiration = 2030-12-31
module = "data-store"
privileges = "000000"

[params]
pin = "$PIN"
tries = 3
data = "hello"
EOF
cat >"$dir/store.json" <<EOF
{"aid": "F0544553534552412001", "name": "Störe", "admin_name": "ACME", "admin_id": 1,
 "use_start": "260101", "expiration": "301231", "module": "data-store", "privileges": "000000",
 "params": {"pin": "$PIN", "tries": 3, "data": "hello"}}
EOF
"$T" apps make-install-file "$dir/store.toml" --unsigned -o "$dir/u-toml.bin" >/dev/null
"$T" apps make-install-file "$dir/store.json" --unsigned -o "$dir/u-json.bin" >/dev/null
check "unsigned: TOML and JSON give the same bytes" cmp -s "$dir/u-toml.bin" "$dir/u-json.bin"
out=$("$T" apps make-install-file "$dir/store.toml" --key "$dir/admin.pem" -o "$dir/s-toml.bin"); rc=$?
check "make-install-file TOML: exit 0" test $rc -eq 0
check "make-install-file: says what it wrote" grep -q "wrote $dir/s-toml.bin" <<<"$out"
"$T" apps make-install-file "$dir/store.json" --key "$dir/admin.pem" -o "$dir/s-json.bin" >/dev/null
# ECDSA signatures are randomised: everything but 9E is the same.
check "signed: TOML and JSON give the same bytes but for the signature" \
  test "$(tlv dump "$dir/s-toml.bin" | grep -v /9E=)" = "$(tlv dump "$dir/s-json.bin" | grep -v /9E=)"
f="$dir/s-toml.bin"
check "BF70 { E1 { 4F } }: the AID" test "$(field "$f" BF70/E1/4F)" = F0544553534552412001
check "50: the name in UTF-8" test "$(field "$f" BF70/E1/50)" = 5374C3B67265
check "C0: the administrator's name" test "$(field "$f" BF70/E1/C0)" = 41434D45
check "C1: the administrator's id" test "$(field "$f" BF70/E1/C1)" = 01
check "5F25: use start in BCD" test "$(field "$f" BF70/E1/5F25)" = 260101
check "5F24: a TOML date becomes YYMMDD" test "$(field "$f" BF70/E1/5F24)" = 301231
check "C2: active" test "$(field "$f" BF70/E1/C2)" = 00
check "C4: the data store's module AID" test "$(field "$f" BF70/C4)" = F0544553534552414D01
check "C5: the privileges" test "$(field "$f" BF70/C5)" = 000000
check "C9: 80 data, 81 PIN, 82 tries" \
  test "$(field "$f" BF70/C9)" = 800568656C6C6F810438363432820103
check "the objects in the document's order" \
  test "$(tlv dump "$f" | cut -d= -f1 | tr '\n' ' ')" = \
  "BF70/E1/4F BF70/E1/50 BF70/E1/C0 BF70/E1/C1 BF70/E1/5F25 BF70/E1/5F24 BF70/E1/C2 BF70/E1/9E BF70/C4 BF70/C5 BF70/C9 BF70/9E "
check "unsigned: no 9E" test -z "$(field "$dir/u-toml.bin" BF70/E1/9E)$(field "$dir/u-toml.bin" BF70/9E)"

# The signature, checked with openssl alone: ECDSA P-256 / SHA-256 over 4F 50 C0 C1 5F25 5F24.
tlv signed "$f" "$dir/signed.bin" "$dir/sig.der"
check "the signature verifies with openssl" verifies "$dir/admin.pub.pem" "$dir/sig.der" "$dir/signed.bin"
printf 'X' | dd of="$dir/signed.bin" bs=1 seek=5 conv=notrunc 2>/dev/null
check "... and a changed field does not" sh -c "! openssl dgst -sha256 -verify '$dir/admin.pub.pem' \
  -signature '$dir/sig.der' '$dir/signed.bin' >/dev/null 2>&1"
tlv signed "$dir/s-json.bin" "$dir/signed2.bin" "$dir/sig2.der"
check "the JSON-built file's signature verifies too" \
  verifies "$dir/admin.pub.pem" "$dir/sig2.der" "$dir/signed2.bin"
check "the signed bytes of TOML and JSON are the same" cmp -s "$dir/signed2.bin" <(tlv signed "$f" /dev/stdout /dev/null)
# The file's signature, with openssl alone: over every byte of BF70's value before the file's 9E
# (record with its 9E, C4, C5, C9), and a change anywhere there breaks it.
tlv file-signed "$f" "$dir/fsigned.bin" "$dir/fsig.der"
check "the file signature verifies with openssl" verifies "$dir/admin.pub.pem" "$dir/fsig.der" "$dir/fsigned.bin"
check "the file signature covers the record, C4, C5 and C9" \
  test "$(od -An -tx1 "$dir/fsigned.bin" | tr -d ' \n' | tr a-f A-F | tail -c 32)" = "$(field "$f" BF70/C9)"
printf '\x80' | dd of="$dir/fsigned.bin" bs=1 seek=$(($(stat -c %s "$dir/fsigned.bin") - 19)) conv=notrunc 2>/dev/null
check "... and changed privileges or data do not" sh -c "! openssl dgst -sha256 -verify '$dir/admin.pub.pem' \
  -signature '$dir/fsig.der' '$dir/fsigned.bin' >/dev/null 2>&1"
# An "EC PRIVATE KEY" file signs as well.
openssl ec -in "$dir/admin.pem" -out "$dir/admin-ec.pem" 2>/dev/null
check "the traditional key is 'EC PRIVATE KEY'" grep -q "BEGIN EC PRIVATE KEY" "$dir/admin-ec.pem"
"$T" apps make-install-file "$dir/store.toml" --key "$dir/admin-ec.pem" -o "$dir/s-ec.bin" >/dev/null
tlv signed "$dir/s-ec.bin" "$dir/signed3.bin" "$dir/sig3.der"
check "an EC PRIVATE KEY signs verifiably" verifies "$dir/admin.pub.pem" "$dir/sig3.der" "$dir/signed3.bin"

# --json: the record, what is signed and the signature; the file's hex only without a PIN.
out=$("$T" --json apps make-install-file "$dir/store.toml" --key "$dir/admin.pem" -o "$dir/j.bin")
check "--json: valid JSON" json_ok <<<"$out"
check "--json: the signature is the file's 9E" \
  test "$(jget 'd["signature"]' "$out")" = "$(field "$dir/j.bin" BF70/E1/9E)"
check "--json: signed_data is 4F..5F24" test "$(jget 'd["signed_data"][:4]' "$out")" = 4F0A
check "--json: file_signature is the file's last 9E" \
  test "$(jget 'd["file_signature"]' "$out")" = "$(field "$dir/j.bin" BF70/9E)"
check "--json: a file with a PIN has no hex" test "$(jget '"hex" in d' "$out")" = False
check "--json: holds_pin" test "$(jget 'd["holds_pin"]' "$out")" = True
check "--json: the name stays UTF-8" test "$(jget 'd["application"]["name"]' "$out")" = "Störe"

# A purse, in JSON, with a module AID in hex, locked, without dates; its file's hex is printed.
cat >"$dir/purse.json" <<'EOF'
{"aid": "F0544553534552412002", "name": "Purse", "admin_name": "ACME", "admin_id": 1,
 "module": "F0544553534552414D02", "status": "locked", "params": {"balance": 100, "limit": 5000}}
EOF
out=$("$T" --json apps make-install-file "$dir/purse.json" --key "$dir/admin.pem" -o "$dir/p.bin")
check "purse: C9 is 80 balance, 83 limit" test "$(field "$dir/p.bin" BF70/C9)" = 800400000064830400001388
check "purse: C2 locked" test "$(field "$dir/p.bin" BF70/E1/C2)" = 01
check "purse: no dates are 000000" test "$(field "$dir/p.bin" BF70/E1/5F25)$(field "$dir/p.bin" BF70/E1/5F24)" = 000000000000
check "purse: no privileges, no C5" test -z "$(field "$dir/p.bin" BF70/C5)"
check "purse --json: the hex is the file" \
  test "$(jget 'd["hex"]' "$out")" = "$(od -An -tx1 "$dir/p.bin" | tr -d ' \n' | tr a-f A-F)"
# params_hex goes into C9 as it is; "files" has no parameters.
printf 'aid = "F0544553534552412003"\nname = "F"\nadmin_name = "I"\nadmin_id = 0\nmodule = "files"\nparams_hex = "DF0102AB"\n' >"$dir/files.toml"
"$T" apps make-install-file "$dir/files.toml" --unsigned -o "$dir/f.bin" >/dev/null
check "params_hex is the C9 content" test "$(field "$dir/f.bin" BF70/C9)" = DF0102AB
check "module files: its module AID" test "$(field "$dir/f.bin" BF70/C4)" = F0544553534552414D03

# Bad fields are named, with the TOML line; nothing is written.
base='aid = "F0544553534552412001"\nname = "S"\nadmin_name = "A"\nadmin_id = 1\n'
bad() {  # bad NAME TOML_TEXT EXPECTED_MESSAGE_REGEX
  printf "$2" >"$dir/bad.toml"
  rm -f "$dir/bad.bin"
  last_err=$("$T" apps make-install-file "$dir/bad.toml" --key "$dir/admin.pem" -o "$dir/bad.bin" 2>&1)
  local r=$?
  check "$1: exit 1" test $r -eq 1
  check "$1: the message names it ($last_err)" grep -q -- "$3" <<<"$last_err"
  check "$1: nothing written" test ! -e "$dir/bad.bin"
}
bad "aid not hex" 'aid = "F0XX4553534552"\n' "bad.toml:1: field 'aid'.*not hex"
bad "aid too short" 'aid = "F054"\n' "bad.toml:1: field 'aid': 2 bytes; give 5..16"
bad "aid not a string" 'aid = 5\n' "bad.toml:1: field 'aid': must be a string"
bad "a missing name" 'aid = "F0544553534552412001"\n' "field 'name' is missing"
bad "a name too long" 'aid = "F0544553534552412001"\nname = "123456789012345678901234567890123"\n' \
  "bad.toml:2: field 'name': 33 bytes"
bad "admin_id out of range" "${base//admin_id = 1/admin_id = 128}module = \"files\"\n" \
  "bad.toml:4: field 'admin_id': out of range"
bad "a date that does not exist" "${base}module = \"files\"\nuse_start = \"260230\"\n" \
  "bad.toml:6: field 'use_start': \"260230\": day 30"
bad "a month 13" "${base}module = \"files\"\nexpiration = \"261301\"\n" "bad.toml:6: field 'expiration'.*month 13"
bad "expiration before use_start" "${base}module = \"files\"\nuse_start = \"270101\"\nexpiration = \"260101\"\n" \
  "field 'expiration': before use_start"
bad "a status that is none" "${base}module = \"files\"\nstatus = \"terminated\"\n" \
  "bad.toml:6: field 'status'"
bad "an unknown module" "${base}module = \"wallet\"\n" "bad.toml:5: field 'module'"
bad "privileges of 2 bytes" "${base}module = \"files\"\nprivileges = \"0000\"\n" \
  "bad.toml:6: field 'privileges': 2 bytes"
bad "a short PIN" "${base}module = \"data-store\"\n[params]\npin = \"12\"\n" \
  "bad.toml:7: field 'params.pin': 2 bytes"
bad "tries out of range" "${base}module = \"data-store\"\n[params]\ntries = 16\n" \
  "bad.toml:7: field 'params.tries': out of range: give 1..15"
bad "data over 512 bytes" "${base}module = \"data-store\"\n[params]\ndata_hex = \"$(printf 'AB%.0s' $(seq 513))\"\n" \
  "field 'params.data_hex': 513 bytes"
bad "a purse over its limit" "${base}module = \"purse\"\n[params]\nbalance = 10\nlimit = 5\n" \
  "field 'params.balance': over the balance limit"
bad "a parameter of another module" "${base}module = \"purse\"\n[params]\ntries = 3\n" \
  "field 'params.tries': unknown field"
bad "a parameter outside [params]" "${base}module = \"data-store\"\npin = \"1234\"\n" \
  "bad.toml:6: field 'pin': unknown field.*params table"
bad "params for files" "${base}module = \"files\"\n[params]\npin = \"1234\"\n" \
  "field 'params': module files has no parameters"
bad "params and params_hex" "${base}module = \"files\"\nparams_hex = \"00\"\n[params]\n" \
  "field 'params_hex': give params or params_hex"
bad "params_hex not hex" "${base}module = \"data-store\"\nparams_hex = \"8104${PIN}ZZ\"\n" \
  "bad.toml:6: field 'params_hex': is not hex"
check "params_hex that is not hex is not repeated" sh -c "! grep -q $PIN <<'E'
$last_err
E"
bad "not TOML" 'aid = = 1\n' "bad.toml:1: not TOML"
bad "a PIN is never repeated" "${base}module = \"data-store\"\n[params]\npin = \"${PIN}999999999999999\"\n" \
  "field 'params.pin': 19 bytes"
check "the PIN is not in that error" sh -c "! grep -q $PIN <<'E'
$last_err
E"
printf '{"aid": "F0544553534552412001", "name": "S", "admin_name": "A", "admin_id": "1"}' >"$dir/bad.json"
e=$("$T" apps make-install-file "$dir/bad.json" --key "$dir/admin.pem" -o "$dir/bad.bin" 2>&1); rc=$?
check "JSON: a bad field exits 1" test $rc -eq 1
check "JSON: the field is named" grep -q "bad.json: field 'admin_id': must be an integer" <<<"$e"
printf '{"aid": "F0544553534552412001", "params": {"pin": "%s' "$PIN" >"$dir/bad.json"
e=$("$T" apps make-install-file "$dir/bad.json" --key "$dir/admin.pem" -o "$dir/bad.bin" 2>&1); rc=$?
check "JSON: a syntax error exits 1 with its line" sh -c "test $rc -eq 1 && grep -q 'not JSON: parse error at line 1' <<'E'
$e
E"
check "JSON: a syntax error does not repeat the PIN" sh -c "! grep -q $PIN <<'E'
$e
E"

# Bad keys: clear errors.
badkey() {  # badkey NAME FILE REGEX
  local e; e=$("$T" apps make-install-file "$dir/store.toml" --key "$2" -o "$dir/bad.bin" 2>&1); local r=$?
  check "$1: exit 1" test $r -eq 1
  check "$1: says so ($e)" grep -q -- "$3" <<<"$e"
}
echo "not a key" >"$dir/garbage.pem"
badkey "a file that is no PEM" "$dir/garbage.pem" "no private key .* in PEM form"
badkey "a public key to sign with" "$dir/admin.pub.pem" "a public key; signing needs the private key"
badkey "a missing key file" "$dir/nope.pem" "cannot open key file"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$dir/p384.pem" 2>/dev/null
badkey "a P-384 key" "$dir/p384.pem" "secp384r1, not on P-256"
openssl genpkey -algorithm ED25519 -out "$dir/ed.pem" 2>/dev/null
badkey "an Ed25519 key" "$dir/ed.pem" "not EC P-256"
openssl pkey -in "$dir/admin.pem" -aes256 -passout pass:secret -out "$dir/enc.pem" 2>/dev/null
badkey "an encrypted key" "$dir/enc.pem" "is encrypted"
sed '2s/./A/3' "$dir/admin.pem" >"$dir/damaged.pem"
badkey "a damaged key" "$dir/damaged.pem" "damaged.pem"

# Usage errors, help, no PIN anywhere.
usage() {  # usage NAME ARGS...
  local name="$1"; shift
  local e; e=$("$T" "$@" 2>&1 </dev/null); local r=$?
  check "$name: exit 2" test $r -eq 2
  check "$name: a message" test -n "$e"
}
usage "no description" apps make-install-file --unsigned -o "$dir/x.bin"
usage "no -o" apps make-install-file "$dir/store.toml" --unsigned
usage "neither --key nor --unsigned" apps make-install-file "$dir/store.toml" -o "$dir/x.bin"
usage "--key and --unsigned" apps make-install-file "$dir/store.toml" --unsigned --key "$dir/admin.pem" -o "$dir/x.bin"
usage "a description that is neither .toml nor .json" apps make-install-file "$dir/store.txt" --unsigned -o "$dir/x.bin"
usage "an option of another subcommand" apps make-install-file "$dir/store.toml" --unsigned -o "$dir/x.bin" --yes
usage "an unknown subcommand" apps frobnicate
usage "apps without a subcommand" apps
usage "-o without a value" apps make-install-file "$dir/store.toml" --unsigned -o
usage "list without a card" apps list
usage "install without --scp03" --image "$dir/none.img" apps install "$dir/s-toml.bin"
usage "set-status with a bad action" --image "$dir/none.img" --scp03 test apps set-status F0544553534552412001 zap
usage "set-status --gp terminate" --image "$dir/none.img" --scp03 test apps set-status F0544553534552412001 terminate --gp
usage "--restore-to without restore" --image "$dir/none.img" --scp03 test apps set-status F0544553534552412001 lock --restore-to locked
usage "set-status without --scp03" --image "$dir/none.img" apps set-status F0544553534552412001 lock
usage "delete with a bad AID" --image "$dir/none.img" --scp03 test apps delete F054
usage "delete without --yes and no terminal" --image "$dir/none.img" --scp03 test apps delete F0544553534552412001
usage "admin add without --id" --image "$dir/none.img" --scp03 test admin add --name A --public-key "$dir/admin.pub.pem"
usage "admin add --keys without --key-kvn" --image "$dir/none.img" --scp03 test admin add --id 1 --name A --public-key "$dir/admin.pub.pem" --keys "$dir/k"
usage "admin add: a key set for the issuer" --image "$dir/none.img" --scp03 test admin add --id 0 --name I --public-key "$dir/admin.pub.pem" --keys "$dir/k" --key-kvn 41
usage "admin add without --scp03" --image "$dir/none.img" admin add --id 1 --name A --public-key "$dir/admin.pub.pem"
usage "card set-date with a bad date" --image "$dir/none.img" --scp03 test card set-date 261332
usage "card set-date without --scp03" --image "$dir/none.img" card set-date 260101
e=$("$T" --image "$dir/none.img" apps delete F0544553534552412001 --yes 2>&1 </dev/null)
check "delete without --scp03 says what to give" grep -q "give --scp03 KEYS" <<<"$e"
e=$("$T" --image "$dir/none.img" --scp03 test apps delete F0544553534552412001 2>&1 </dev/null)
check "delete without a terminal says to give --yes" grep -q "no terminal to ask on; give --yes" <<<"$e"
for sub in "apps" "apps make-install-file" "apps list" "apps install" "apps set-status" \
  "apps delete" "admin" "admin add" "admin list" "card set-date" "card date"; do
  # shellcheck disable=SC2086
  out=$("$T" $sub --help 2>&1); rc=$?
  check "$sub --help: exit 0" test $rc -eq 0
  check "$sub --help: a usage line" grep -q "^usage: tessera" <<<"$out"
  # shellcheck disable=SC2086
  out=$("$T" help $sub 2>&1); rc=$?
  check "help $sub: exit 0" test $rc -eq 0
done
help=$("$T" --help)
for c in "apps make-install-file" "apps list" "apps install" "apps set-status" "apps delete" \
  "admin add" "card set-date"; do
  check "--help lists ${c%% *}" grep -q "^  ${c%% *} " <<<"$help"
  check "${c%% *} --help lists $c" grep -q "^  ${c#* } " <<<"$("$T" ${c%% *} --help)"
done
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
for c in "apps make-install-file" "apps list" "apps install" "apps set-status" "apps delete" \
  "admin add" "admin list" "card set-date"; do
  check "the README lists $c" grep -q "$c" "$ROOT/README.md"
done
for mode in plain --json; do
  flags=(); [ "$mode" != plain ] && flags=("$mode")
  "$T" "${flags[@]}" apps make-install-file "$dir/store.toml" --key "$dir/admin.pem" -o "$dir/o.bin" >"$dir/o" 2>&1
  check "make-install-file $mode: no PIN in the output" sh -c "! tr -d ' ' <'$dir/o' | grep -qi -e 38363432 -e $PIN"
done

# --- 2. Against a card with the management application --------------------------------------
img="$dir/card.img"
"$T" image init "$img" --force >/dev/null 2>&1
read -r -a CARDOPT <<<"${APPS_CARD:---image $img}"
sel=$("$T" "${CARDOPT[@]}" apdu 00A4040009F0544553534552410100 2>/dev/null | tail -1)
check "the card has the management application (SELECT: ${sel:-nothing})" test "${sel: -4}" = 9000
C=("${CARDOPT[@]}")
S=("${CARDOPT[@]}" --scp03 test)
demo=F05445535345524110
store=F0544553534552412001
purse=F0544553534552412002
printf 'enc=00112233445566778899AABBCCDDEEFF\nmac=0123456789ABCDEF0123456789ABCDEF\ndek=FEDCBA9876543210FEDCBA9876543210\n' >"$dir/acme.keys"
# entry JSON AID: the list's entry of AID (an object), or None.
entry() { "$T" "${S[@]}" --json apps list 2>/dev/null |
  python3 -c 'import json,sys; print(json.dumps(next((e for e in json.load(sys.stdin)["applications"] if e.get("aid")==sys.argv[1]), None)))' "$1"; }

out=$("$T" "${C[@]}" --json apps list); rc=$?
check "list: exit 0" test $rc -eq 0
check "list --json: an object with the list" test "$(jget 'd["ok"], type(d["applications"]).__name__' "$out")" = "(True, 'list')"
check "list: the demo application, unsigned, the issuer's, active" python3 -c '
import json,sys; e=[x for x in json.loads(sys.argv[1])["applications"] if x.get("aid")=="'$demo'"][0]
assert e["signature"]=="unsigned" and e["admin_id"]==0 and e["status"]=="active", e' "$out"
out=$("$T" "${C[@]}" apps list)
check "list: a table with its header" grep -q "^AID  *NAME  *ADMINISTRATOR  *START  *EXPIRY  *STATUS  *SIGNATURE$" <<<"$out"
out=$("$T" "${S[@]}" apps list 2>/dev/null)
check "list --scp03: a GP column" grep -q "SIGNATURE  *GP$" <<<"$out"
check "list --scp03: the demo is selectable" grep -q "^$demo .* 07 selectable$" <<<"$out"

out=$("$T" "${C[@]}" --json admin list); rc=$?
check "admin list: exit 0, the list" sh -c "test $rc -eq 0 && test '$(jget 'type(d["administrators"]).__name__' "$out")' = list"
out=$("$T" "${S[@]}" admin add --id 1 --name ACME --public-key "$dir/admin.pub.pem" --keys "$dir/acme.keys" --key-kvn 41 2>&1); rc=$?
check "admin add with a key set: exit 0 ($out)" test $rc -eq 0
check "admin add: no key bytes printed" sh -c "! grep -qi -e 00112233 -e 01234567 -e FEDCBA98 <<'E'
$out
E"
out=$("$T" "${C[@]}" --json admin list)
check "admin list: ACME with its signing key and key set 41" python3 -c '
import json,sys; a=[x for x in json.loads(sys.argv[1])["administrators"] if x["id"]==1][0]
assert a["name"]=="ACME" and a["public_key"]==sys.argv[2] and a["kvn"]=="41", a' "$out" "$(point "$dir/admin.pem")"
out=$("$T" "${S[@]}" --json admin add --id 1 --name ACME2 --public-key "$dir/other.pem" 2>/dev/null); rc=$?
check "admin add: a duplicate id exits 1" test $rc -eq 1
check "admin add: ... 6A89" test "$(jget 'd["error"]["sw"]' "$out")" = 6A89
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/issuer.pem" 2>/dev/null
out=$("$T" "${S[@]}" admin add --id 0 --name ISSUER --public-key "$dir/issuer.pem" 2>&1); rc=$?
check "admin add: the issuer's signing key (a private key PEM) ($out)" test $rc -eq 0

# A signed file changed after signing is refused, wherever the change is: the file signature
# covers everything the file makes the card do (docs/applications.md §5.2).
tampered() {  # tampered NAME PATH HEX
  tlv change "$dir/s-toml.bin" "$dir/t.bin" "$2" "$3"
  local out; out=$("$T" "${S[@]}" --json apps install "$dir/t.bin" 2>/dev/null); local r=$?
  check "install of a file whose $1 changed after signing: exit 1" test $r -eq 1
  check "... 6982 ($out)" test "$(jget 'd["error"].get("sw")' "$out")" = 6982
}
tampered "privileges (C5 800000)" BF70/C5 800000
tampered "application data (C9, another PIN)" BF70/C9 800568656C6C6F810439393939820103
tampered "code (C4, the files module)" BF70/C4 F0544553534552414D03
tampered "initial status (C2, outside the record's signature)" BF70/E1/C2 01
tampered "name (50)" BF70/E1/50 5374C3B67266
tampered "expiration (5F24)" BF70/E1/5F24 391231
tlv strip "$dir/s-toml.bin" "$dir/t.bin"
out=$("$T" "${S[@]}" --json apps install "$dir/t.bin" 2>/dev/null)
check "install of a file signed only in its record: 6982" test "$(jget 'd["error"].get("sw")' "$out")" = 6982
e=$("$T" "${S[@]}" apps install "$dir/t.bin" 2>&1)
check "... the message says the file may have been changed" grep -q "6982: bad or missing signature.*changed after signing" <<<"$e"
check "no changed file installed anything" test "$(entry $store)" = null

out=$("$T" "${S[@]}" --trace apps install "$dir/s-toml.bin" 2>&1); rc=$?
check "install: exit 0 ($(tail -1 <<<"$out"))" test $rc -eq 0
check "install: in STORE DATA blocks" grep -q "STORE DATA .*P1=90" <<<"$out"
check "install --trace: no PIN" sh -c "! tr -d ' ' <<'E' | grep -qi -e 38363432 -e $PIN
$out
E"
out=$("$T" "${S[@]}" --json apps install "$dir/s-toml.bin" 2>/dev/null); rc=$?
check "install again: exit 1" test $rc -eq 1
check "install again: 6A89, an application with this AID exists, a card error" \
  test "$(jget 'd["error"]["sw"] + " " + d["error"]["code"] + " " + str(d["error"]["message"].endswith("6A89: an application with this AID exists"))' "$out")" = "6A89 card True"
e=$("$T" "${S[@]}" apps install "$dir/s-toml.bin" 2>&1)
check "install again: the message says so" grep -q "6A89: an application with this AID exists" <<<"$e"
"$T" apps make-install-file "$dir/purse.json" --unsigned -o "$dir/p-unsigned.bin" >/dev/null
out=$("$T" "${S[@]}" --json apps install "$dir/p-unsigned.bin" 2>/dev/null)
check "install unsigned for an administrator: 6982" test "$(jget 'd["error"]["sw"]' "$out")" = 6982
od -An -tx1 "$dir/p.bin" | tr -d ' \n' >"$dir/p.hex"
out=$("$T" "${S[@]}" apps install "$dir/p.hex" 2>&1); rc=$?
check "install from hex text: exit 0 ($out)" test $rc -eq 0
check "install: the store selects" test "$("$T" "${C[@]}" apdu 00A404000A${store}00 | tail -c 5)" = 9000
check "install: the locked purse answers 6283" test "$("$T" "${C[@]}" apdu 00A404000A${purse}00 | tail -c 5)" = 6283

e=$(entry $store)
check "list: the store, signature valid" test "$(jget 'd["signature"]' "$e")" = valid
check "list: the store's name and dates" test "$(jget 'd["name"]+d["use_start"]+d["expiration"]' "$e")" = "Störe260101301231"
check "list: the store's GP life cycle 07" test "$(jget 'd["gp_lcs"]' "$e")" = 07
check "list: the purse is locked (GP 83)" test "$(jget 'd["status"]+d["gp_lcs"]' "$(entry $purse)")" = locked83

# set-status through the management application, with the issuer's and with ACME's key set.
out=$("$T" "${S[@]}" apps set-status $store lock 2>&1); rc=$?
check "set-status lock: exit 0 ($out)" test $rc -eq 0
check "set-status lock: locked, GP 83" test "$(jget 'd["status"]+d["gp_lcs"]' "$(entry $store)")" = locked83
check "set-status lock: the signature still holds" test "$(jget 'd["signature"]' "$(entry $store)")" = valid
out=$("$T" "${C[@]}" --scp03 "$dir/acme.keys" --kvn 41 apps set-status $store unlock 2>&1); rc=$?
check "set-status unlock with the administrator's key set: exit 0 ($out)" test $rc -eq 0
check "... active again" test "$(jget 'd["status"]' "$(entry $store)")" = active
out=$("$T" "${S[@]}" --json apps set-status $store restore 2>/dev/null); rc=$?
check "restore of an active application: exit 1, refused before sending" sh -c "test $rc -eq 1 && grep -q 'not erased' <<'E'
$out
E"
"$T" "${S[@]}" apps set-status $store erase >/dev/null 2>&1
check "erase: erased, not listed by GP" test "$(jget 'd["status"]+d["gp_lcs_name"]' "$(entry $store)")" = "erasednot listed"
check "erase: SELECT 6A82" test "$("$T" "${C[@]}" apdu 00A404000A${store}00 | tail -c 5)" = 6A82
"$T" "${S[@]}" apps set-status $store restore --restore-to locked >/dev/null 2>&1
check "restore --restore-to locked" test "$(jget 'd["status"]' "$(entry $store)")" = locked
out=$("$T" "${S[@]}" apps set-status $store unlock --gp 2>&1); rc=$?
check "set-status unlock --gp: exit 0 ($out)" test $rc -eq 0
check "... active" test "$(jget 'd["status"]+d["gp_lcs"]' "$(entry $store)")" = active07
"$T" "${S[@]}" apps set-status $store lock --gp >/dev/null 2>&1
check "set-status lock --gp: locked" test "$(jget 'd["status"]' "$(entry $store)")" = locked
"$T" "${S[@]}" apps set-status $store unlock >/dev/null 2>&1
# The issuer's own records (administrator 00) through both doors, alternating on one application
# installed by GlobalPlatform INSTALL: the issuer's session is enough, no signing key (§4).
gpapp=F05445535345524130
# gp_lcs AID: the life cycle GET STATUS gives (9F70), or the status word when none.
gp_lcs() {
  local r; r=$("$T" "${S[@]}" apdu "80F240020B4F09${1}00" 2>/dev/null | tail -1)
  if [[ $r == *9F7001* ]]; then r=${r#*9F7001}; echo "${r:0:2}"; else echo "${r: -4}"; fi
}
r=$("$T" "${S[@]}" apdu 80E60C00260AF0544553534552414D010AF0544553534552414D0109${gpapp}010002C90000 2>/dev/null | tail -1)
check "GP INSTALL of a data store: 9000 ($r)" test "$r" = 9000
check "... its record is the issuer's, unsigned, active" \
  test "$(jget 'd["admin_id"],d["signature"],d["status"]' "$(entry $gpapp)")" = "(0, 'unsigned', 'active')"
out=$("$T" "${S[@]}" apps set-status $gpapp lock 2>&1); rc=$?
check "record door lock of the issuer's unsigned record, no key: exit 0 ($out)" test $rc -eq 0
check "... locked in the list and for GET STATUS (83)" \
  test "$(jget 'd["status"]' "$(entry $gpapp)")$(gp_lcs $gpapp)" = locked83
check "... SELECT 6283" test "$("$T" "${C[@]}" apdu 00A4040009${gpapp}00 | tail -c 5)" = 6283
out=$("$T" "${S[@]}" apps set-status $gpapp unlock --gp 2>&1); rc=$?
check "GP SET STATUS unlock: exit 0 ($out)" test $rc -eq 0
check "... active in the list and for GET STATUS (07)" \
  test "$(jget 'd["status"]' "$(entry $gpapp)")$(gp_lcs $gpapp)" = active07
"$T" "${S[@]}" apps set-status $gpapp lock --gp >/dev/null 2>&1
check "GP SET STATUS lock: 83" test "$(jget 'd["status"]' "$(entry $gpapp)")$(gp_lcs $gpapp)" = locked83
out=$("$T" "${S[@]}" apps set-status $gpapp terminate 2>&1); rc=$?
check "record door terminate: exit 0 ($out)" test $rc -eq 0
check "... terminated in the list and for GET STATUS (0F)" \
  test "$(jget 'd["status"]' "$(entry $gpapp)")$(gp_lcs $gpapp)" = terminated0F
out=$("$T" "${S[@]}" --json apps set-status $gpapp unlock --gp 2>/dev/null); rc=$?
check "GP SET STATUS of a terminated application: exit 1, 6985" \
  sh -c "test $rc -eq 1 && test '$(jget 'd["error"]["sw"]' "$out")' = 6985"
out=$("$T" "${C[@]}" --scp03 "$dir/acme.keys" --kvn 41 --json apps set-status $demo lock 2>/dev/null); rc=$?
check "another administrator's session on the issuer's record: exit 1, 6982" \
  sh -c "test $rc -eq 1 && test '$(jget 'd["error"]["sw"]' "$out")' = 6982"
out=$("$T" "${S[@]}" apps delete $gpapp --yes 2>&1); rc=$?
check "record door delete: exit 0 ($out)" test $rc -eq 0
check "... gone from the list and from GET STATUS (6A88)" \
  test "$(entry $gpapp)$(gp_lcs $gpapp)" = null6A88
# The demo's record (the issuer's, unsigned) too; --sign-key still signs it when asked.
out=$("$T" "${S[@]}" apps set-status $demo lock 2>&1); rc=$?
check "set-status of the issuer's unsigned record: exit 0 ($out)" test $rc -eq 0
check "... no hint to sign it" sh -c "! grep -q 'sign-key' <<'E'
$out
E"
check "... locked, still unsigned" test "$(jget 'd["signature"]+d["status"]' "$(entry $demo)")" = unsignedlocked
"$T" "${S[@]}" apps set-status $demo unlock >/dev/null 2>&1
out=$("$T" "${S[@]}" apps set-status $demo lock --sign-key "$dir/issuer.pem" 2>&1); rc=$?
check "set-status --sign-key: exit 0 ($out)" test $rc -eq 0
check "--sign-key: the demo's record is now signed and valid" \
  test "$(jget 'd["signature"]+d["status"]' "$(entry $demo)")" = validlocked
"$T" "${S[@]}" apps set-status $demo unlock >/dev/null 2>&1
check "unlock after signing needs no key" test "$(jget 'd["status"]' "$(entry $demo)")" = active

# Administrators without a signing key, or with one that is no point of P-256, are refused
# (6A80) and take no slot: by raw STORE DATA (the card's check) and by admin add (the host's).
admins_before=$("$T" "${C[@]}" --json admin list)
nokey=BF710AC10107C005484F4C4C4F
r=$("$T" "${S[@]}" apdu 80E290000D${nokey} 2>/dev/null | tail -1)
check "BF71 without 86: 6A80 ($r)" test "$r" = 6A80
p=$(point "$dir/admin.pem")
last=${p: -2}; flipped=$(printf '%02X' $((0x$last ^ 1)))
offcurve=BF714DC10107C005484F4C4C4F8641${p:0:128}${flipped}
r=$("$T" "${S[@]}" apdu 80E2900050${offcurve} 2>/dev/null | tail -1)
check "BF71 with a point off P-256: 6A80 ($r)" test "$r" = 6A80
r=$("$T" "${S[@]}" apdu 80E2900050BF714DC10107C005484F4C4C4F8641$(printf '00%.0s' $(seq 65)) 2>/dev/null | tail -1)
check "BF71 with 65 zero bytes: 6A80 ($r)" test "$r" = 6A80
check "... none of them registered" test "$("$T" "${C[@]}" --json admin list)" = "$admins_before"
usage "admin add without --public-key" "${S[@]}" admin add --id 7 --name HOLLOW
# A PEM whose point is off the curve (the SPKI of admin.pub.pem with Y's last bit flipped).
openssl pkey -in "$dir/admin.pem" -pubout -outform DER 2>/dev/null >"$dir/spki.der"
python3 - "$dir/spki.der" <<'PY'
import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[-1] ^= 1; open(sys.argv[1], "wb").write(b)
PY
{ echo "-----BEGIN PUBLIC KEY-----"; base64 -w 64 "$dir/spki.der"; echo "-----END PUBLIC KEY-----"; } >"$dir/offcurve.pem"
e=$("$T" "${S[@]}" admin add --id 7 --name HOLLOW --public-key "$dir/offcurve.pem" 2>&1); rc=$?
check "admin add with a point off the curve: exit 1 ($e)" test $rc -eq 1
check "... names the file" grep -q "offcurve.pem" <<<"$e"
check "... nothing registered" test "$("$T" "${C[@]}" --json admin list)" = "$admins_before"
r=$("$T" "${S[@]}" apdu 80E2900050BF714DC10107C005484F4C4C4F8641${p} 2>/dev/null | tail -1)
check "the same object with the point itself: 9000 ($r)" test "$r" = 9000

# The trusted date.
out=$("$T" "${S[@]}" card set-date 260115 2>&1); rc=$?
check "card set-date: exit 0 ($out)" test $rc -eq 0
check "card date: 260115" test "$(jget 'd["date"]' "$("$T" "${C[@]}" --json card date)")" = 260115
out=$("$T" "${S[@]}" --json apps set-date 251231 2>/dev/null); rc=$?
check "set-date backwards: exit 1, 6985" sh -c "test $rc -eq 1 && test '$(jget 'd["error"]["sw"]' "$out")' = 6985"

# delete: through the management application, then through GP.
out=$("$T" "${S[@]}" apps delete $store --yes 2>&1); rc=$?
check "delete --yes: exit 0 ($out)" test $rc -eq 0
check "delete: gone from the list" test "$(entry $store)" = null
check "delete: SELECT 6A82" test "$("$T" "${C[@]}" apdu 00A404000A${store}00 | tail -c 5)" = 6A82
out=$("$T" "${S[@]}" apps delete $store --yes 2>&1); rc=$?
check "delete again: exit 1" test $rc -eq 1
out=$("$T" "${S[@]}" apps delete $purse --yes --gp 2>&1); rc=$?
check "delete --gp: exit 0 ($out)" test $rc -eq 0
check "delete --gp: gone from the list" test "$(entry $purse)" = null
for cmd in "apps list" "admin list" "card date"; do
  # shellcheck disable=SC2086
  "$T" "${S[@]}" --json $cmd 2>/dev/null >"$dir/j"
  check "$cmd --json: valid JSON" json_ok <"$dir/j"
done

echo "$pass passed, $fails failed"
test $fails -eq 0
