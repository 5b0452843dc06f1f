#!/usr/bin/env python3
"""Secrets nobody reads: every profile in profiles/ issued to a card, then everything an
outsider can ask the card for, scanned for the profile's PINs and keys (issue 15, item 9).

The oracle is independent of the card's code: the secrets come from the profiles' sources
(profiles/src/*.toml, profiles/src/bureau-admin.pem and the profiles/*.group texts), parsed
here from the byte formats in docs/ (applications.md §5-§7, self-issuance.md §3), never from
the card. The card is driven only through APDUs (`tessera --image IMG --json script FILE`),
without any secure channel; `tessera image ls` and `tessera apps list` are used only to know
what to ask for, and a brute force of SELECT by path finds what they might not show.

How each secret is found (kind in brackets):
  * TOML descriptions (profiles/src/*.toml): every field whose name contains pin, key, secret
    or password [pin/key]; a data store's initial `data`, readable only after its PIN [data].
  * bureau-admin.pem: the administrator's private scalar (`openssl pkey -text`) [key].
  * Group texts (profiles/*.group), command by command, tracking the selected application:
    - STORE DATA uploads to the ISD (blocks joined until P1 b8): BF70 installation files,
      whose C9 holds the module's installation parameters (C4 names the module): 81 the PIN
      [pin] of a DATA STORE or PURSE, 80 a DATA STORE's data [data]; BF71 administrators, whose
      D8 key set holds three wrapped SCP03 keys [key] (86, the public key, is public);
    - GP INSTALL [for install] (80 E6 P1 b3): the C9 in its parameters LV, as above;
    - STORE DATA after INSTALL [for personalization] (80 E6 20): the module's personalisation
      TLVs, 81 the PIN [pin], 80 the data [data];
    - VERIFY (20), CHANGE REFERENCE DATA (24), RESET RETRY COUNTER (2C): their data [pin];
      PUT KEY (D8): its key components [key];
    - UPDATE BINARY / UPDATE RECORD / APPEND RECORD with a DATA STORE selected: the data
      written behind its PIN [data].
  * The group's SHA-256 (docs/self-issuance.md §2, the table's digest) computed here from the
    group text compiled by the byte format of §3 [digest]: it confirms guesses of a PIN.
  * Per card, extras that are not the profile's: the card's SCP03 keys (`tessera issue
    card-keys`, derived from the batch's master key) and the default profile's PINs from
    docs/card-format.md §4 [card].

A secret is looked for as its bytes, as its hex text (upper and lower case, e.g. the bytes
"32353830" spelled out), and, when it is a string of at least 8 ASCII digits, as packed BCD.
(A 4-digit PIN's 2-byte BCD form would match by chance in any few KiB, so it is not a pattern.)
"""

import argparse
import bisect
import hashlib
import json
import os
import re
import subprocess
import sys
import tomllib

ISD = "A000000151000000"
ISSUANCE = "F05445535345524102"
MANAGEMENT = "F05445535345524101"
PSE = "315041592E5359532E4444463031"  # 1PAY.SYS.DDF01
MODULE_DATA_STORE = "F0544553534552414D01"
MODULE_PURSE = "F0544553534552414D02"
DEFAULT_PINS = [("user PIN 81", "1234"), ("administrator PIN 82", "87654321"),
                ("PUK 83", "12345678")]  # docs/card-format.md §4

# ---------------------------------------------------------------------------------------------
# Byte formats, from the docs


def tlv_parse(data):
    """BER-TLV objects of `data` as (tag, value) pairs; raises ValueError when malformed."""
    out, i = [], 0
    while i < len(data):
        if data[i] in (0x00, 0xFF):  # padding between objects
            i += 1
            continue
        t0 = i
        first = data[i]
        i += 1
        if first & 0x1F == 0x1F:
            while True:
                if i >= len(data):
                    raise ValueError("truncated tag")
                i += 1
                if data[i - 1] & 0x80 == 0:
                    break
        tag = data[t0:i].hex().upper()
        if i >= len(data):
            raise ValueError("truncated length")
        ln = data[i]
        i += 1
        if ln & 0x80:
            n = ln & 0x7F
            ln = int.from_bytes(data[i:i + n], "big")
            i += n
        if i + ln > len(data):
            raise ValueError("truncated value")
        out.append((tag, data[i:i + ln]))
        i += ln
    return out


def tlv_find(objs, tag):
    return [v for t, v in objs if t == tag]


def command_data(apdu):
    """The data field of a short or extended command APDU (docs/apdu-reference.md §1)."""
    body = apdu[4:]
    if len(body) <= 1:
        return b""
    if body[0] != 0 and len(body) in (1 + body[0], 2 + body[0]):
        return body[1:1 + body[0]]
    if body[0] == 0 and len(body) >= 3:
        lc = int.from_bytes(body[1:3], "big")
        if len(body) in (3 + lc, 5 + lc):
            return body[3:3 + lc]
    return b""


def parse_group_text(text):
    """The text form of a group (tools/issue_group.h's comment, docs/self-issuance.md §6):
    one command a line, hex bytes then options `harmless` and `sw=XXXX,...`; '#' comments."""
    cmds = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.lower() in ("reset",):
            continue
        if line.lower() in ("exit", "quit"):
            break
        hexpart, harmless, sws = [], False, []
        for tok in line.split():
            if tok == "harmless":
                harmless = True
            elif tok.startswith("sw="):
                sws = [int(s, 16) for s in tok[3:].split(",")]
            else:
                hexpart.append(tok)
        cmds.append((bytes.fromhex("".join(hexpart)), harmless, sws))
    return cmds


def compile_group(cmds):
    """The card's form (docs/self-issuance.md §3): 47 01 count(2), then per command flags,
    n, n x SW, length(2), APDU."""
    out = bytearray(b"\x47\x01") + len(cmds).to_bytes(2, "big")
    for apdu, harmless, sws in cmds:
        out += bytes([1 if harmless else 0, len(sws)])
        for sw in sws:
            out += sw.to_bytes(2, "big")
        out += len(apdu).to_bytes(2, "big") + apdu
    return bytes(out)


# ---------------------------------------------------------------------------------------------
# Secrets from the sources


class Secrets:
    def __init__(self, profile):
        self.profile = profile
        self.items = []  # (kind, label, bytes)

    def add(self, kind, label, value):
        if not value:
            return
        if any(v == value and k == kind for k, _, v in self.items):
            return
        self.items.append((kind, label, bytes(value)))

    def count(self, *kinds):
        return sum(1 for k, _, _ in self.items if k in kinds)


def module_params(sec, module, params, where):
    """The installation or personalisation TLVs of a built-in module (applications.md §6)."""
    for tag, val in tlv_parse(params):
        if tag == "81" and module in (MODULE_DATA_STORE, MODULE_PURSE):
            sec.add("pin", f"PIN (81) in {where}", val)
        elif tag == "80" and module == MODULE_DATA_STORE:
            sec.add("data", f"data (80) in {where}", val)


def extract_from_group(sec, cmds):
    modules = {}  # application AID -> module AID, from the installation files and INSTALLs
    selected = None
    perso = None  # AID of the application an INSTALL [for personalization] named
    upload = bytearray()
    for n, (apdu, _, _) in enumerate(cmds):
        cla, ins, p1, p2 = apdu[0], apdu[1], apdu[2], apdu[3]
        data = command_data(apdu)
        where = f"command {n}"
        if ins == 0xA4 and p1 == 0x04:
            selected = data.hex().upper()
            perso = None
            continue
        if ins == 0xE6 and cla & 0x80:
            if p1 == 0x20:  # INSTALL [for personalization]: 00 00 LV(AID) ...
                perso = data[3:3 + data[2]].hex().upper()
            elif p1 & 0x08 or p1 & 0x04:  # INSTALL [for install]: LV ELF, LV module, LV AID,
                i, lvs = 0, []  # LV privileges, LV parameters, LV token
                while i < len(data) and len(lvs) < 6:
                    ln = data[i]
                    lvs.append(data[i + 1:i + 1 + ln])
                    i += 1 + ln
                if len(lvs) >= 5:
                    module, aid = lvs[1].hex().upper(), lvs[2].hex().upper()
                    modules[aid] = module
                    for c9 in tlv_find(tlv_parse(lvs[4]), "C9"):
                        module_params(sec, module, c9, f"{where} (INSTALL of {aid})")
            continue
        if ins == 0xE2 and cla & 0x80:  # STORE DATA
            if perso is not None:
                module_params(sec, modules.get(perso, MODULE_DATA_STORE), data,
                              f"{where} (personalisation of {perso})")
                continue
            if selected is not None and not ISD.startswith(selected[:10]):
                continue  # an upload to another application (e.g. BF73 at the issuance app)
            upload += data
            if not p1 & 0x80:
                continue
            for tag, val in tlv_parse(bytes(upload)):
                if tag == "BF70":
                    inner = tlv_parse(val)
                    rec = tlv_parse(tlv_find(inner, "E1")[0])
                    aid = tlv_find(rec, "4F")[0].hex().upper()
                    module = tlv_find(inner, "C4")[0].hex().upper()
                    modules[aid] = module
                    for c9 in tlv_find(inner, "C9"):
                        module_params(sec, module, c9, f"{where} (installation file of {aid})")
                elif tag == "BF71":
                    for d8 in tlv_find(tlv_parse(val), "D8"):
                        for _, comp in tlv_parse(d8[1:]):
                            if comp:
                                sec.add("key", f"administrator key set (D8) in {where}", comp[1:])
            upload = bytearray()
            continue
        if ins in (0x20, 0x24, 0x2C) and data:
            name = {0x20: "VERIFY", 0x24: "CHANGE REFERENCE DATA", 0x2C: "RESET RETRY COUNTER"}
            sec.add("pin", f"{name[ins]} data, {where}", data)
            continue
        if ins == 0xD8 and cla & 0x80:
            for _, comp in tlv_parse(data[1:]):
                sec.add("key", f"PUT KEY component, {where}", comp[1:])
            continue
        if ins in (0xD6, 0xDC, 0xE2) and not cla & 0x80 and selected and \
                modules.get(selected) == MODULE_DATA_STORE:
            sec.add("data", f"data written behind the PIN, {where}", data)


def extract_from_toml(sec, path):
    with open(path, "rb") as f:
        desc = tomllib.load(f)
    module = desc.get("module", "")

    def walk(obj, prefix):
        for k, v in obj.items():
            if isinstance(v, dict):
                walk(v, f"{prefix}{k}.")
            elif isinstance(v, str) and re.search(r"pin|key|secret|password", k, re.I):
                sec.add("pin" if "pin" in k.lower() else "key",
                        f"{prefix}{k} in {os.path.basename(path)}", v.encode())
            elif k == "data" and isinstance(v, str) and module == "data-store":
                sec.add("data", f"{prefix}{k} in {os.path.basename(path)}", v.encode())
    walk(desc, "")
    return desc.get("aid", "").upper()


def private_scalar(pem):
    out = subprocess.run(["openssl", "pkey", "-in", pem, "-text", "-noout"],
                         capture_output=True, text=True, check=True).stdout
    m = re.search(r"priv:\s*\n((?:\s+[0-9a-f:]+\n)+)", out)
    scalar = bytes.fromhex(re.sub(r"[^0-9a-f]", "", m.group(1)))
    return scalar.lstrip(b"\x00")[-32:] if len(scalar) > 32 else scalar


def patterns(value):
    pats = [value, value.hex().upper().encode(), value.hex().lower().encode()]
    text = value.decode("latin-1")
    if len(text) >= 8 and text.isdigit() and len(text) % 2 == 0:
        pats.append(bytes.fromhex(text))
    return pats


# ---------------------------------------------------------------------------------------------
# The card


class Card:
    def __init__(self, tessera, image, env):
        self.t, self.image, self.env = tessera, image, env
        self.responses = []  # (stream, command hex, data bytes, sw)
        self.stream = 0

    def run(self, script_lines):
        """Runs one script (one power-on); returns the responses as (command, data, sw)."""
        path = self.image + ".scan.txt"
        with open(path, "w") as f:
            f.write("\n".join(script_lines) + "\n")
        p = subprocess.run([self.t, "--image", self.image, "--json", "script", path],
                           capture_output=True, text=True, env=self.env)
        if p.returncode != 0:
            raise RuntimeError(f"script failed ({p.returncode}): {p.stderr.strip()[:400]}")
        res = [(r["command"], bytes.fromhex(r.get("data", "")), r["sw"].upper())
               for r in json.loads(p.stdout)["responses"]]
        if len(res) != sum(1 for l in script_lines if l and l != "reset"):
            raise RuntimeError(f"{len(res)} responses for {len(script_lines)} lines")
        return res

    def collect(self, lines, streams):
        """Runs `lines` and keeps every response; streams[i] groups responses whose data are
        parts of one file (chunked reads), scanned joined as well as one by one."""
        res = self.run(lines)
        for i, (cmd, data, sw) in enumerate(res):
            self.responses.append((streams[i], cmd, data, sw))
        return res

    def new_stream(self):
        self.stream += 1
        return self.stream


def sel_name(aid):
    return "00A40400%02X%s00" % (len(aid) // 2, aid)


def sel_path(fids, p2="0C"):
    path = "".join(fids)
    return "00A408%s%02X%s" % (p2, len(path) // 2, path) + ("" if p2 == "0C" else "00")


GET_DATA_TAGS = ([f"00{x:02X}" for x in range(256)] + [f"5F{x:02X}" for x in range(256)] +
                 [f"7F{x:02X}" for x in range(256)] + [f"9F{x:02X}" for x in range(256)] +
                 [f"BF{x:02X}" for x in range(256)] + [f"DF{x:02X}" for x in range(256)] +
                 ["0101", "01FF", "0201", "0202", "02FF", "0301", "0302", "0303", "3F00",
                  "2F00", "2F01", "5001"])
# FID high bytes brute-forced under every DF (the MF's children: all 65,536 FIDs).
DF_CHILD_HIGH = list(range(0x00, 0x11)) + [0x1F, 0x2F, 0x3F, 0x40, 0x41, 0x50, 0x7F, 0xFF]


def scan_card(card, tree, aids, stats):
    """Every outsider's read, as APDU scripts; fills card.responses."""
    # 1. SELECT by path from the MF: every FID under the MF, then likely FIDs under each DF
    #    found (either way, with image ls's tree added), and the files' FCPs.
    lines = [sel_path([f"{fid:04X}"]) for fid in range(0x10000)]
    res = card.collect(lines, [card.new_stream() for _ in lines])
    mf_children = {lines[i][10:14] for i, r in enumerate(res) if r[2][:2] in ("90", "62")}
    dfs = {p[1] for p in tree if len(p) == 2 and tree[p]["kind"] == "DF"}
    dfs |= {c for c in mf_children if c not in ("3F00",)}
    lines = []
    for df in sorted(dfs):
        for hi in DF_CHILD_HIGH:
            for lo in range(256):
                lines.append(sel_path([df, f"{hi:02X}{lo:02X}"]))
    res = card.collect(lines, [card.new_stream() for _ in lines])
    found = {(lines[i][10:14], lines[i][14:18]) for i, r in enumerate(res)
             if r[2][:2] in ("90", "62")}
    paths = {p for p in tree if len(p) >= 1} | {(c,) for c in mf_children} | found
    paths.discard(("3F00",))
    stats["brute_force_selects"] = 0x10000 + len(lines)
    stats["files_found_by_brute_force"] = len(found | {(c,) for c in mf_children})
    not_listed = sorted("/".join(p) for p in (found | {(c,) for c in mf_children}) if p not in tree)
    stats["files_not_in_image_ls"] = not_listed

    # 2. Each file: FCP, FCI; transparent ones read whole (Le 00, extended Le, 128-byte chunks
    #    to past the end, odd INS B1), record ones every record (current file, by SFI, modes 04
    #    and 05, odd INS B3) and SEARCH RECORD probes; READ refused must mean SEARCH refused.
    lines, streams, search_checks = [], [], []

    def add(line, stream=None):
        lines.append(line)
        streams.append(stream if stream is not None else card.new_stream())

    for p in sorted(paths):
        info = tree.get(p, {})
        add(sel_path(list(p), "04"))
        add(sel_path(list(p), "00"))
        add(sel_path(list(p)))
        size = info.get("size") or 0
        sfi = info.get("sfi") or 0
        ftype = info.get("type", "")
        if ftype in ("transparent", ""):
            add("00B0000000")
            add("00B00000000000")
            s = card.new_stream()
            for off in range(0, max(size, 256) + 128, 128):
                add("00B0%04X80" % off, s)
            add("00B10000045402000000")
            if sfi:
                add("00B0%02X0000" % (0x80 | sfi))
                s = card.new_stream()
                for off in range(0, min(max(size, 256), 256), 128):
                    add("00B0%02X%02X80" % (0x80 | sfi, off), s)
        if ftype != "transparent":
            nrec = max(info.get("max_records") or 0, 16) + 1
            for r in range(1, nrec + 1):
                add("00B2%02X0400" % r)
                if sfi:
                    add("00B2%02X%02X00" % (r, (sfi << 3) | 4))
            add("00B2010500")
            add("00B2000400")
            add("00B301040454020000" + "00")
            for b in ("00", "01", "FF", "30", "31"):
                i = len(lines)
                add("00A2010401" + b)
                search_checks.append((p, i))
    res = card.collect(lines, streams)
    stats["search_record_probes"] = len(search_checks)
    # A record file whose records were refused must refuse SEARCH RECORD too (6982, not
    # 9000/6A83, which would tell an outsider whether a guessed byte is in a record).
    oracles = []
    for p, i in search_checks:
        sel_sw = None
        for j in range(i - 1, -1, -1):
            if lines[j].startswith("00A4080C"):
                sel_sw = res[j][2]
                break
        reads = [res[j] for j in range(i - 1, -1, -1)
                 if lines[j].startswith("00B2") and lines[j][4:6] == "01"][:1]
        if sel_sw == "9000" and reads and reads[0][2] in ("6982", "6985") and \
                res[i][2] in ("9000", "6A83"):
            oracles.append(f"{'/'.join(p)}: SEARCH RECORD {lines[i]} -> {res[i][2]} while "
                           f"READ RECORD -> {reads[0][2]}")
    stats["search_oracles"] = oracles

    # 3. Every application by name: GET DATA of many tags (CLA 00 and 80), READ BINARY and
    #    READ RECORD by SFI, the modules' own read commands, on channel 0 and channel 1.
    lines, streams = [], []
    contexts = [("MF", "00A4000C023F00")] + [(a, sel_name(a)) for a in [ISD] + sorted(aids)]
    for name, sel in contexts:
        add(sel)
        for tag in GET_DATA_TAGS:
            add(f"00CA{tag}00")
            add(f"80CA{tag}00")
        add("00CB3FFF055C035F7F6600")
        for sfi in range(1, 31):
            add("00B0%02X0000" % (0x80 | sfi))
            for r in range(1, 17):
                add("00B2%02X%02X00" % (r, (sfi << 3) | 4))
        add("805C000004")  # GET BALANCE (purse)
        add("00B0000000")  # READ BINARY (data store, before VERIFY)
        add("00200080")  # VERIFY without data: the status only
        for fn in range(1, 17):  # EXECUTE ISSUANCE status, by function id and by group FID
            add("80EA030003C101%02X00" % fn)
            add("80EA0300048302%04X00" % (0x0300 + fn))
        add("00A2010C054F03F0544500")  # SEARCH RECORD (management application)
        # GET STATUS without a session: must be refused.
        for p1 in ("80", "40", "20", "10"):
            for p2 in ("02", "00"):
                add(f"80F2{p1}{p2}024F0000")
    # PSE records.
    add(sel_name(PSE))
    for r in range(1, 17):
        add("00B2%02X0C00" % r)
    # Channel 1: each application selected there, read by SFI.
    add("0070000001")
    for a in [ISD] + sorted(aids):
        add("01A40400%02X%s00" % (len(a) // 2, a))
        for sfi in range(1, 5):
            add("01B0%02X0000" % (0x80 | sfi))
            for r in range(1, 17):
                add("01B2%02X%02X00" % (r, (sfi << 3) | 4))
    add("00708001")
    res = card.collect(lines, streams)
    refused_status = []
    for i, l in enumerate(lines):
        if l.startswith("80F2") and res[i][2] in ("9000", "6310"):
            refused_status.append(f"{l} -> {res[i][2]} {res[i][1].hex().upper()}")
    stats["get_status_answered"] = refused_status


def scan(responses, secrets):
    """Every secret's patterns in every response, and across the responses of one stream
    (the chunks of one file): all data joined in order, each match kept when it lies within
    one response or within consecutive responses of one stream."""
    starts, pos, parts = [], 0, []
    for _, _, data, _ in responses:
        starts.append(pos)
        parts.append(data)
        pos += len(data)
    buf = b"".join(parts)
    hits = []
    for kind, label, value in secrets:
        for pat in patterns(value):
            at = buf.find(pat)
            found = None
            while at >= 0 and found is None:
                first = bisect.bisect_right(starts, at) - 1
                last = bisect.bisect_right(starts, at + len(pat) - 1) - 1
                if all(responses[i][0] == responses[first][0] for i in range(first, last + 1)):
                    found = [responses[i] for i in range(first, last + 1) if responses[i][2]]
                at = buf.find(pat, at + 1)
            if found is not None:
                hits.append((kind, label, value, pat, found))
                break
    return hits


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tessera", required=True)
    ap.add_argument("--profiles", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    env = dict(os.environ, TESSERA_NO_TEST_KEY_WARNING="1")
    T = args.tessera
    failures = []
    summary = []

    def check(name, ok, detail=""):
        if not ok:
            failures.append(f"{name}{': ' + detail if detail else ''}")
            print(f"FAIL: {name}{': ' + detail if detail else ''}")

    srcdir = os.path.join(args.profiles, "src")
    admin_scalar = private_scalar(os.path.join(srcdir, "bureau-admin.pem"))
    check("the administrator's private key has 32 bytes", len(admin_scalar) == 32)
    profiles = sorted(f[:-6] for f in os.listdir(args.profiles) if f.endswith(".group"))
    check("profiles found", len(profiles) >= 4, ", ".join(profiles))
    total_responses = total_bytes = 0
    planted_profile = "transit" if "transit" in profiles else profiles[0]
    for prof in profiles:
        sec = Secrets(prof)
        with open(os.path.join(args.profiles, prof + ".group")) as f:
            cmds = parse_group_text(f.read())
        extract_from_group(sec, cmds)
        toml = os.path.join(srcdir, prof + ".toml")
        target = None
        if os.path.exists(toml):
            from_toml = Secrets(prof)
            target = extract_from_toml(from_toml, toml)
            # The description and the group it was built into agree (a PIN the TOML does not
            # name, as the transit pass's, comes from the group's personalisation).
            for kind, label, value in from_toml.items:
                check(f"{prof}: {label} is in the group's installation file",
                      any(v == value for _, _, v in sec.items), value.hex().upper())
                sec.add(kind, label, value)
        sec.add("key", "bureau-admin.pem private key", admin_scalar)
        group = compile_group(cmds)
        digest = hashlib.sha256(group).digest()
        sec.add("digest", "the group's SHA-256 (the table's digest)", digest)
        pins = [v for k, _, v in sec.items if k == "pin"]
        check(f"{prof}: at least one PIN or key from its sources (besides the shared "
              f"administrator key)", len(pins) + sec.count("key") - 1 >= 1)
        check(f"{prof}: the compiled group holds every PIN extracted",
              all(p in group for p in pins))

        # Issue one card.
        images = os.path.join(args.work, prof)
        p = subprocess.run([T, "issue", "batch", os.path.join(args.profiles, prof + ".group"),
                            "--images", images, "--count", "1", "--no-sync", "--json"],
                           capture_output=True, text=True, env=env)
        try:
            out = json.loads(p.stdout)
        except ValueError:
            out = {}
        check(f"{prof}: issue batch issued the card", p.returncode == 0 and
              out.get("issued") == 1 and out.get("failed") == 0, p.stdout + p.stderr)
        image = os.path.join(images, "card-0000000000000001.img")
        if not os.path.exists(image):
            continue
        keyfile = os.path.join(args.work, prof + ".keys")
        subprocess.run([T, "issue", "card-keys", "--serial", "1", "-o", keyfile],
                       capture_output=True, env=env, check=True)
        card_keys = {}
        with open(keyfile) as f:
            for line in f:
                m = re.match(r"(enc|mac|dek)=([0-9A-Fa-f]+)", line.strip())
                if m:
                    card_keys[m.group(1)] = bytes.fromhex(m.group(2))
        check(f"{prof}: the card's keys derived", len(card_keys) == 3)
        extras = [("card", f"the card's SCP03 {k.upper()} key", v) for k, v in card_keys.items()]
        extras += [("card", f"default {n}", v.encode()) for n, v in DEFAULT_PINS]

        # What to ask for: the file tree and the application list (never with keys).
        ls = json.loads(subprocess.run([T, "image", "ls", image, "--json"], capture_output=True,
                                       text=True, env=env, check=True).stdout)
        tree, aids = {}, set()
        for f in ls["files"]:
            parts = f["path"].split("/")
            if parts[0] != "3F00":
                continue
            tree[tuple(parts[1:]) if len(parts) > 1 else ("3F00",)] = f
            if f.get("df_name_hex"):
                aids.add(f["df_name_hex"].upper())
        apps = json.loads(subprocess.run([T, "--image", image, "apps", "list", "--json"],
                                         capture_output=True, text=True, env=env,
                                         check=True).stdout)
        aids |= {a["aid"].upper() for a in apps["applications"]}
        aids |= {MANAGEMENT, ISSUANCE}
        aids.discard(PSE)
        if target:
            check(f"{prof}: the target application is listed", target in aids, target)

        with open(image, "rb") as f:
            raw_before = f.read()
        card = Card(T, image, env)
        stats = {}
        scan_card(card, tree, aids, stats)
        nresp = len(card.responses)
        nbytes = sum(len(r[2]) for r in card.responses)
        total_responses += nresp
        total_bytes += nbytes
        check(f"{prof}: no GET STATUS answered without a session",
              not stats["get_status_answered"], "; ".join(stats["get_status_answered"]))
        check(f"{prof}: no SEARCH RECORD oracle on a file whose records are refused",
              not stats["search_oracles"], "; ".join(stats["search_oracles"]))
        hits = scan(card.responses, sec.items + extras)
        for kind, label, value, pat, where in hits:
            shown = ", ".join(f"{c} -> {d.hex().upper()[:160]} {sw}" for _, c, d, sw in where[:3])
            check(f"{prof}: {kind} '{label}' ({value.hex().upper()}) readable without the "
                  f"issuer's session (pattern {pat.hex().upper()})", False, shown)
        # The file trees' reads really returned data (the scan is not empty).
        check(f"{prof}: the scan read data", nbytes > 1000, str(nbytes))

        # Negative controls: with the issuer's keys the table shows the digest, and the
        # scanner finds it there; the extracted PIN verifies, and for a data store unlocks
        # its data, which the scanner finds.
        p = subprocess.run([T, "--image", image, "--scp03", keyfile, "--json", "issue",
                            "status", "--function", "1"], capture_output=True, text=True,
                           env=env)
        st = json.loads(p.stdout) if p.stdout.strip() else {}
        check(f"{prof}: with the issuer's keys the table shows the group's digest",
              st.get("sha256", "").upper() == digest.hex().upper(),
              f"{st.get('sha256')} vs {digest.hex().upper()}")
        ctl = scan([(0, "issue status --scp03", bytes.fromhex(st.get("sha256", "")), "9000")],
                   sec.items)
        check(f"{prof}: the scanner finds the digest in the session's answer",
              any(k == "digest" for k, *_ in ctl))
        controls = ["digest"]
        if target and pins:
            pin = [v for k, l, v in sec.items if k == "pin" and "VERIFY" not in l][-1]
            res = card.run([sel_name(target), "00200080%02X%s" % (len(pin), pin.hex().upper()),
                            "00B0000000", "805C000004"])
            check(f"{prof}: VERIFY with the extracted PIN succeeds", res[1][2] == "9000",
                  res[1][2])
            controls.append("VERIFY 9000")
            datas = [v for k, _, v in sec.items if k == "data"]
            if datas and res[2][2] in ("9000", "6282"):
                ctl = scan([(0, "READ BINARY after VERIFY", res[2][1], res[2][2])], sec.items)
                check(f"{prof}: after VERIFY the scanner finds the data behind the PIN",
                      any(k == "data" for k, *_ in ctl))
                controls.append("data after VERIFY found")
        # The scanner finds a planted leak: on a copy of the card, the group's command that
        # carries the PIN written into EF 2F01 (free to read; PIN 82 lets it be written), as
        # the group files were readable before they were made never readable; the same scan
        # must then report the PIN, from that READ BINARY.
        if prof == planted_profile:
            pin_cmd = next(a for a, _, _ in cmds if any(v in a for v in pins))
            copy = image + ".planted.img"
            with open(image, "rb") as f, open(copy, "wb") as g:
                g.write(f.read())
            planted = Card(T, copy, env)
            res = planted.run([sel_path(["2F01"]), "0020008208" + b"87654321".hex().upper(),
                               "00D60000%02X%s" % (min(len(pin_cmd), 64),
                                                   pin_cmd[:64].hex().upper())])
            check(f"{prof}: the planted copy was written", [r[2] for r in res] ==
                  ["9000", "9000", "9000"], str([r[2] for r in res]))
            scan_card(planted, tree, aids, {})
            got = scan(planted.responses, sec.items)
            check(f"{prof}: the scanner reports the planted PIN through READ BINARY of 2F01",
                  any(k == "pin" and any(c.startswith("00B0") for _, c, _, _ in w)
                      for k, _, _, _, w in got),
                  str([(k, l) for k, l, *_ in got]))
            controls.append("planted leak found")
        # Deleted: the target application deleted with the issuer's keys forgets the function
        # (EXECUTE ISSUANCE status 6A88, group file 6A82), and no byte string of the profile's
        # secrets is left anywhere in the image file (the group, the table's digest, the
        # application's PIN and data are wiped). Not an APDU, the strongest check of the wipe;
        # a secret equal to or inside one of the default profile's PINs (a purse PIN of 1234
        # is PIN 81's value) is still the card's own and is left out.
        if target:
            p = subprocess.run([T, "--image", image, "--scp03", keyfile, "apps", "delete",
                                target, "--yes"], capture_output=True, text=True, env=env)
            check(f"{prof}: the target application is deleted", p.returncode == 0,
                  p.stdout + p.stderr)
            res = card.run([sel_name(ISSUANCE), "80EA030003C1010100",
                            sel_path(["4101", "0301"])])
            check(f"{prof}: the deleted target's function is forgotten (6A88) and its group "
                  f"file gone (6A82)", res[1][2] == "6A88" and res[2][2] == "6A82",
                  f"{res[1][2]} {res[2][2]}")
            before = raw_before
            with open(image, "rb") as f:
                raw = f.read()
            own = [v.encode() for _, v in DEFAULT_PINS]
            left = []
            wiped = 0
            for kind, label, value in sec.items:
                if any(value in o for o in own):
                    continue
                wiped += 1
                # The control: what the card held before the deletion is really looked for.
                if kind == "pin":
                    check(f"{prof}: the image held {label} before the deletion", value in before)
                if value in raw:
                    left.append(f"{kind} '{label}' ({value.hex().upper()}) at image offset "
                                f"{raw.find(value)}")
            check(f"{prof}: no secret of the profile left in the image after the deletion",
                  not left, "; ".join(left))
            controls.append(f"deleted: {wiped} secrets absent from the image")
        kinds = {}
        for k, _, _ in sec.items:
            kinds[k] = kinds.get(k, 0) + 1
        summary.append(f"{prof}: {nresp} responses, {nbytes} bytes, "
                       f"{stats['brute_force_selects']} SELECTs brute-forced, "
                       f"{len(tree)} files listed, "
                       f"secrets {', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))} "
                       f"+ {len(extras)} of the card; controls: {', '.join(controls)}"
                       + (f"; files not in image ls: {stats['files_not_in_image_ls']}"
                          if stats["files_not_in_image_ls"] else ""))
    for line in summary:
        print(line)
    print(f"scanned {total_responses} responses, {total_bytes} bytes, {len(profiles)} profiles; "
          f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
