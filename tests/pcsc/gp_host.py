#!/usr/bin/python3
"""A GlobalPlatform host written from the specification (GPC 2.3 GET STATUS, SET STATUS, DELETE,
INSTALL), independent of Tessera's C++ code. It talks to the issuer security domain through
pcscd (pyscard), inside an SCP03 session opened by the independent host in scp03_host.py, and
checks every GET STATUS response as strictly as GlobalPlatformPro parses it.

Library use:
    import gp_host
    gp_host.connect("Virtual PCD 00 00")          # test keys 404142..4F, KVN 00, level 01
    gp_host.get_status(0x40)                       # -> [{"aid": b"...", "lifecycle": 7, ...}]
    gp_host.install(elf, module, app)              # 80E60C00, no Le, exactly 9000
    gp_host.set_status_app(app, lock=True)         # 80F04080
    gp_host.delete(app)                            # 80E40000 4F..
    gp_host.select(app)                            # -> (data, sw), plain, basic channel

CLI:
    gp_host.py --reader "Virtual PCD 00 00" --scenario lifecycle
    gp_host.py --reader "Virtual PCD 00 00" --scenario list
One JSON line per step on stdout; exit 0 only if every check passed (1: a check failed or the
scenario aborted, 2: usage or no such reader). --trace writes every APDU to stderr.

Nothing here needs a card: the parsers run offline (see gp_host_selftest.py), pyscard and
pycryptodome are imported only when a reader is opened.
"""
import argparse
import json
import sys
import traceback
from collections import Counter
from pathlib import Path

TEST_KEY = bytes.fromhex("404142434445464748494A4B4C4D4E4F")
DEFAULT_ISD = bytes.fromhex("A000000151000000")
DEFAULT_READER = "Virtual PCD 00 00"

# docs/applications.md §1: the built-in modules (each one is an executable load file).
MODULES = {
    bytes.fromhex("F0544553534552414D00"): "MANAGEMENT",
    bytes.fromhex("F0544553534552414D01"): "DATA STORE",
    bytes.fromhex("F0544553534552414D02"): "PURSE",
    bytes.fromhex("F0544553534552414D03"): "FILES",
    bytes.fromhex("F0544553534552414D04"): "ISSUANCE",
}
DATA_STORE = bytes.fromhex("F0544553534552414D01")
DEFAULT_APP = bytes.fromhex("F05445535345524120")

# GET STATUS P1 values (GPC 2.3, GET STATUS command).
P1_ISD, P1_APPS, P1_ELF, P1_ELF_MODULES = 0x80, 0x40, 0x20, 0x10
KIND_OF_P1 = {P1_ISD: "ISD", P1_APPS: "APP", P1_ELF: "ELF", P1_ELF_MODULES: "ELF"}

MAX_SHORT_RESPONSE = 256   # Le = 00 on a short APDU
MAX_CHUNKS = 64            # a card that answers 6310 forever is a failure, not a hang

SW_OK, SW_MORE, SW_NOT_FOUND = 0x9000, 0x6310, 0x6A88


class GPError(Exception):
    """The card answered a status word the host does not accept for this command."""

    def __init__(self, what, sw, data=b""):
        super().__init__(f"{what}: SW {sw:04X}" + (f" with data {data.hex().upper()}" if data else ""))
        self.what, self.sw, self.data = what, sw, data


class ParseError(Exception):
    """A response breaks the GlobalPlatform coding (GlobalPlatformPro would throw or misread)."""


class SessionError(Exception):
    """The SCP03 session could not be opened."""


class ScenarioError(Exception):
    """A scenario cannot go on (e.g. its test AID belongs to someone else)."""


# ----------------------------------------------------------------------------------------------
# BER-TLV (ISO/IEC 7816-4, X.690), strict: no padding bytes, no indefinite length, no tag
# longer than 3 bytes, no value running past its buffer.

def split_tlvs(buf, where="response"):
    """[(tag, constructed, value, whole_tlv_bytes)] for a concatenation of BER-TLVs."""
    buf = bytes(buf)
    out, i = [], 0
    while i < len(buf):
        start = i
        first = buf[i]
        i += 1
        if first in (0x00, 0xFF):
            raise ParseError(f"{where}: padding byte {first:02X} at offset {start}")
        tag = first
        if first & 0x1F == 0x1F:
            while True:
                if i >= len(buf):
                    raise ParseError(f"{where}: tag truncated at offset {start}")
                b = buf[i]
                i += 1
                tag = (tag << 8) | b
                if tag > 0xFFFFFF:
                    raise ParseError(f"{where}: tag longer than 3 bytes at offset {start}")
                if not b & 0x80:
                    break
        if i >= len(buf):
            raise ParseError(f"{where}: tag {tag:X} has no length byte")
        n = buf[i]
        i += 1
        if n == 0x80:
            raise ParseError(f"{where}: tag {tag:X} has an indefinite length")
        if n > 0x82:
            raise ParseError(f"{where}: tag {tag:X} has length byte {n:02X}")
        if n in (0x81, 0x82):
            k = n - 0x80
            if i + k > len(buf):
                raise ParseError(f"{where}: tag {tag:X} length truncated")
            n = int.from_bytes(buf[i:i + k], "big")
            i += k
        if i + n > len(buf):
            raise ParseError(f"{where}: tag {tag:X} says {n} bytes, {len(buf) - i} remain")
        out.append((tag, bool(first & 0x20), buf[i:i + n], buf[start:i + n]))
        i += n
    return out


def tag_bytes(tag):
    """0x4F -> 4F, 0x9F70 -> 9F70; bytes pass through."""
    if isinstance(tag, (bytes, bytearray)):
        return bytes(tag)
    return tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")


def fci_aid(fci):
    """The 84 (DF name) of a SELECT FCI `6F L {84 L aid, ...}`, or None."""
    try:
        for tag, cons, value, _ in split_tlvs(fci, "FCI"):
            if tag == 0x6F and cons:
                for t, _, v, _ in split_tlvs(value, "FCI 6F"):
                    if t == 0x84:
                        return v
    except ParseError:
        return None
    return None


# ----------------------------------------------------------------------------------------------
# Registry entries

def lifecycle_valid(kind, v):
    """GlobalPlatformPro's life-cycle matchers (GPRegistryEntry): what it can name without throwing."""
    if kind == "ISD":
        return v in (0x01, 0x07, 0x0F, 0x7F, 0xFF)
    if kind == "ELF":
        return v == 0x01
    if kind == "SSD":
        return v in (0x03, 0x07, 0x0F) or v & 0x83 == 0x83
    # Application: INSTALLED 03, SELECTABLE <= 7F, LOCKED (v & 83) == 83; 80, 81, 82... throw.
    return v == 0x03 or v <= 0x7F or v & 0x83 == 0x83


def lifecycle_name(kind, v):
    if kind == "ISD":
        return {0x01: "OP_READY", 0x07: "INITIALIZED", 0x0F: "SECURED", 0x7F: "CARD_LOCKED",
                0xFF: "TERMINATED"}.get(v, "INVALID")
    if kind == "ELF":
        return "LOADED" if v == 0x01 else "INVALID"
    if v & 0x83 == 0x83:
        return "LOCKED"
    if v == 0x03:
        return "INSTALLED"
    if kind == "SSD":
        return {0x07: "SELECTABLE", 0x0F: "PERSONALIZED"}.get(v, "INVALID")
    return "SELECTABLE" if v <= 0x7F else "INVALID"


def privileges_valid(p):
    """C5: exactly 1 byte (GP 2.1 cards) or 3 bytes with no RFU bit (07) in the third byte."""
    return len(p) == 1 or (len(p) == 3 and not p[2] & 0x07)


def kind_of(p1, privileges):
    kind = KIND_OF_P1[p1]
    if kind == "APP" and privileges and privileges[0] & 0x80:
        return "SSD"   # GlobalPlatformPro shows an application with the SD privilege as an SSD
    return kind


def _check_aid(value, what, where):
    if not 5 <= len(value) <= 16:
        raise ParseError(f"{where}: {what} is {len(value)} bytes (an AID is 5..16)")


def parse_entry(value, p1, where="E3", tags=None):
    """One E3 value (its content) -> dict. `tags`: the 5C tag list asked for (None: all)."""
    found = {}      # tag -> [values], at any depth (GlobalPlatformPro searches at any depth)
    top = []        # the tags directly inside E3, in order

    def walk(buf, depth):
        for tag, cons, v, _ in split_tlvs(buf, where):
            if depth == 0:
                top.append(tag)
            found.setdefault(tag, []).append(v)
            if cons:
                walk(v, depth + 1)

    walk(value, 0)
    for tag in (0x4F, 0x9F70, 0xC5, 0xC4, 0xCE, 0xCC):
        if len(found.get(tag, [])) > 1:
            raise ParseError(f"{where}: tag {tag:X} appears {len(found[tag])} times")
    wanted = None if tags is None else {int.from_bytes(tag_bytes(t), "big") for t in tags}
    if wanted is not None:
        extra = [t for t in top if t not in wanted]
        if extra:
            raise ParseError(f"{where}: tags {' '.join(f'{t:X}' for t in extra)} outside the 5C list")
    for tag in (0x4F, 0x9F70):
        if (wanted is None or tag in wanted) and tag not in found:
            raise ParseError(f"{where}: no {tag:X}")

    one = lambda t: found[t][0] if t in found else None  # noqa: E731
    e = {
        "aid": one(0x4F),
        "lifecycle": None,
        "privileges": one(0xC5),
        "elf": one(0xC4),
        "version": one(0xCE),
        "modules": found.get(0x84, []),
        "sd": one(0xCC),
        "implicit": found.get(0xCF, []),
        "tags": top,
    }
    if e["aid"] is not None:
        _check_aid(e["aid"], "4F", where)
    for t, name in ((0xC4, "C4 (ELF AID)"), (0xCC, "CC (associated SD)")):
        if one(t) is not None:
            _check_aid(one(t), name, where)
    for m in e["modules"]:
        _check_aid(m, "84 (module AID)", where)
    if e["privileges"] is not None and not privileges_valid(e["privileges"]):
        raise ParseError(f"{where}: C5 {e['privileges'].hex().upper()} is not 1 byte or 3 bytes "
                         f"without RFU bits")
    if e["version"] is not None and len(e["version"]) != 2:
        raise ParseError(f"{where}: CE is {len(e['version'])} bytes (major, minor: 2)")
    for cf in e["implicit"]:
        if len(cf) != 1:
            raise ParseError(f"{where}: CF is {len(cf)} bytes (1)")
    e["kind"] = kind_of(p1, e["privileges"])
    if 0x9F70 in found:
        lc = found[0x9F70][0]
        if len(lc) != 1:
            raise ParseError(f"{where}: 9F70 is {len(lc)} bytes (1)")
        e["lifecycle"] = lc[0]
        if not lifecycle_valid(e["kind"], lc[0]):
            raise ParseError(f"{where}: life cycle {lc[0]:02X} is not a valid {e['kind']} life cycle")
    return e


def parse_chunk(chunk, p1, tags=None):
    """One GET STATUS response (P2 = 02 / 03): whole E3 entries and nothing else."""
    if not chunk:
        raise ParseError("empty GET STATUS response (6A88 is the answer for nothing found)")
    if len(chunk) > MAX_SHORT_RESPONSE:
        raise ParseError(f"GET STATUS response of {len(chunk)} bytes on a short Le")
    out = []
    for n, (tag, cons, value, raw) in enumerate(split_tlvs(chunk, "GET STATUS response")):
        if tag != 0xE3 or not cons:
            raise ParseError(f"GET STATUS response: entry {n} has tag {tag:X}, not E3")
        e = parse_entry(value, p1, f"E3 #{n}", tags)
        e["raw"] = raw
        out.append(e)
    return out


def parse_legacy_chunk(chunk, p1):
    """One legacy response (P2 = 00 / 01): `len AID LCS priv` [+ `num {len AID}*` for P1 10]."""
    if not chunk:
        raise ParseError("empty legacy GET STATUS response")
    if len(chunk) > MAX_SHORT_RESPONSE:
        raise ParseError(f"legacy GET STATUS response of {len(chunk)} bytes on a short Le")
    out, i = [], 0

    def take(n, what):
        nonlocal i
        if i + n > len(chunk):
            raise ParseError(f"legacy entry {len(out)}: {what} truncated at offset {i}")
        v = chunk[i:i + n]
        i += n
        return v

    while i < len(chunk):
        start = i
        where = f"legacy entry {len(out)}"
        aid = take(take(1, "AID length")[0], "AID")
        _check_aid(aid, "AID", where)
        lc = take(1, "life cycle")[0]
        priv = take(1, "privileges")
        modules = []
        if p1 in (P1_ELF, P1_ELF_MODULES) and priv != b"\x00":
            raise ParseError(f"{where}: privileges of a load file are {priv.hex().upper()}, not 00")
        if p1 == P1_ELF_MODULES:
            for _ in range(take(1, "module count")[0]):
                m = take(take(1, "module AID length")[0], "module AID")
                _check_aid(m, "module AID", where)
                modules.append(m)
        kind = kind_of(p1, priv)
        if not lifecycle_valid(kind, lc):
            raise ParseError(f"{where}: life cycle {lc:02X} is not a valid {kind} life cycle")
        out.append({"aid": aid, "lifecycle": lc, "privileges": priv, "elf": None, "version": None,
                    "modules": modules, "sd": None, "implicit": [], "tags": [], "kind": kind,
                    "raw": chunk[start:i]})
    return out


def check_listing(entries, p1, aid=b"", isd_aid=None):
    """Checks across the chunks of one listing: each entry once, the search respected, one ISD
    whose AID is the FCI's 84."""
    aids = [e["aid"] for e in entries if e["aid"] is not None]
    dup = [a.hex().upper() for a, n in Counter(aids).items() if n > 1]
    if dup:
        raise ParseError(f"entries listed more than once: {', '.join(dup)}")
    for a in aids:
        if aid and not a.startswith(aid):
            raise ParseError(f"entry {a.hex().upper()} does not match the search AID {aid.hex().upper()}")
    if p1 == P1_ISD:
        if len(entries) != 1:
            raise ParseError(f"P1 80 listed {len(entries)} issuer security domains (one)")
        got = entries[0]["aid"]
        if got is not None:
            if isd_aid is None:
                raise ParseError("the ISD's SELECT FCI has no 84: nothing to compare the ISD entry with")
            if got != isd_aid:
                raise ParseError(f"ISD entry AID {got.hex().upper()} differs from the FCI's 84 "
                                 f"{isd_aid.hex().upper()} (GlobalPlatformPro: current domain not in registry)")


def get_status_data(aid=b"", tags=None):
    data = bytes([0x4F, len(aid)]) + bytes(aid)
    if tags is not None:
        tl = b"".join(tag_bytes(t) for t in tags)
        data += bytes([0x5C, len(tl)]) + tl
    return data


def tlv_bytes(tag, value):
    """BER-TLV with a 1- or 2-byte length (81 xx)."""
    value = bytes(value)
    n = len(value)
    return tag_bytes(tag) + (bytes([n]) if n < 0x80 else bytes([0x81, n])) + value


def lv(b):
    b = bytes(b)
    if len(b) > 255:
        raise ValueError("LV longer than 255 bytes")
    return bytes([len(b)]) + b


# ----------------------------------------------------------------------------------------------
# The SCP03 session: the Host of scp03_lib.py (the primitives tests/pcsc/scp03_host.py runs its
# interop checks with, written from the specification like this file).

def load_scp03_host():
    sys.path.insert(0, str(Path(__file__).parent))
    import scp03_lib
    for name in ("Host", "kdf", "cmac", "KEY", "ISD"):
        if not hasattr(scp03_lib, name):
            raise ImportError(f"scp03_lib.py no longer defines {name}")
    return scp03_lib


def hx(b):
    return bytes(b).hex().upper()


class GPClient:
    """A GP host on one pyscard connection. Content management goes through an SCP03 session
    with the ISD (opened lazily; a SELECT on the basic channel ends it, the next command opens a
    new one)."""

    def __init__(self, conn, key=TEST_KEY, kvn=0, level=0x01, isd=DEFAULT_ISD, trace=False):
        self.conn, self.key, self.kvn, self.level, self.isd = conn, key, kvn, level, isd
        self.trace = trace
        self.isd_fci = None     # the FCI of the SELECT that opened the current session
        self.isd_aid = None     # its 84
        self.session = None
        self.last_chunks = []   # [(length, sw)] of the last get_status
        self.sessions_opened = 0
        self._scp = None

    def responses(self):
        """The last get_status's responses for a report: [[length, "SW"]]."""
        return [[n, f"{sw:04X}"] for n, sw in self.last_chunks]

    # -- transport
    def transmit(self, apdu):
        apdu = bytes(apdu)
        if self.trace:
            print(f"> {hx(apdu)}", file=sys.stderr)
        data, sw1, sw2 = self.conn.transmit(list(apdu))
        data = bytes(data)
        while sw1 == 0x61:      # T=0 style: fetch the rest on the same channel
            more, sw1, sw2 = self.conn.transmit([apdu[0] & 0x03, 0xC0, 0, 0, sw2])
            data += bytes(more)
        sw = (sw1 << 8) | sw2
        if self.trace:
            print(f"< {hx(data)} {sw:04X}", file=sys.stderr)
        return data, sw

    def open_session(self):
        if self._scp is None:
            self._scp = load_scp03_host()
        scp, client = self._scp, self

        class Session(scp.Host):
            def raw(self, apdu):
                apdu = bytes(apdu)
                if apdu[:2] == b"\x80\x50":       # INITIALIZE UPDATE: P1 = our KVN
                    apdu = apdu[:2] + bytes([client.kvn]) + apdu[3:]
                data, sw = client.transmit(apdu)
                if apdu[:4] == b"\x00\xA4\x04\x00":
                    client.isd_fci, client.isd_aid = data, fci_aid(data) if sw == SW_OK else None
                return data, sw

        s = Session(self.conn, self.level, False, key=self.key, aid=self.isd)
        try:
            s.open()
        except AssertionError as e:
            raise SessionError(f"SCP03 session (KVN {self.kvn:02X}, level {self.level:02X}) "
                               f"not opened: {e}") from None
        self.session = s
        self.sessions_opened += 1
        return s

    def send(self, ins, p1, p2, data=b"", le=True):
        """One command (CLA 80, sent as 84 with C-MAC) inside the session."""
        s = self.session or self.open_session()
        return s.send(0x80, ins, p1, p2, bytes(data), le=le)

    def select(self, aid):
        """SELECT by AID on the basic channel, plain. Ends the ISD session."""
        aid = bytes(aid)
        self.session = None
        apdu = bytes([0x00, 0xA4, 0x04, 0x00]) + (lv(aid) if aid else b"") + b"\x00"
        return self.transmit(apdu)

    # -- GET STATUS
    def get_status_raw(self, p1, p2, data):
        return self.send(0xF2, p1, p2, data, le=True)

    def get_status(self, p1, aid=b"", tags=None, legacy=False):
        if p1 not in KIND_OF_P1:
            raise ValueError(f"GET STATUS P1 {p1:02X}")
        if legacy and tags is not None:
            raise ValueError("a 5C tag list applies to the TLV format only")
        aid = bytes(aid)
        data = get_status_data(aid, tags)
        p2 = 0x00 if legacy else 0x02
        entries = []
        self.last_chunks = []
        for n in range(MAX_CHUNKS):
            r, sw = self.get_status_raw(p1, p2 | (0x01 if n else 0x00), data)
            self.last_chunks.append((len(r), sw))
            if sw == SW_NOT_FOUND and n == 0 and not r:
                return []
            if sw not in (SW_OK, SW_MORE):
                raise GPError(f"GET STATUS {p1:02X}{p2 | (1 if n else 0):02X} (response {n + 1})", sw, r)
            try:
                chunk = parse_legacy_chunk(r, p1) if legacy else parse_chunk(r, p1, tags)
            except ParseError as e:
                raise ParseError(f"GET STATUS P1 {p1:02X}, response {n + 1} ({hx(r)}): {e}") from None
            entries += chunk
            if sw == SW_OK:
                break
        else:
            raise ParseError(f"GET STATUS P1 {p1:02X}: still 6310 after {MAX_CHUNKS} responses")
        try:
            check_listing(entries, p1, aid, self.isd_aid)
        except ParseError as e:
            raise ParseError(f"GET STATUS P1 {p1:02X}, {len(self.last_chunks)} response(s): {e}") from None
        return entries

    # -- content management: case 3 commands (no Le), exactly 9000
    def _management(self, what, ins, p1, p2, data):
        r, sw = self.send(ins, p1, p2, data, le=False)
        if sw != SW_OK:
            raise GPError(what, sw, r)
        return r

    def install(self, elf, module, app, privileges=b"\x00\x00\x00", params=b"\xC9\x00"):
        """INSTALL [for install and make selectable]: 80E60C00 Lc LV(ELF) LV(module) LV(app)
        LV(privileges) LV(parameters) LV(token = empty), no Le."""
        data = lv(elf) + lv(module) + lv(app) + lv(privileges) + lv(params) + lv(b"")
        return self._management(f"INSTALL {hx(app)}", 0xE6, 0x0C, 0x00, data)

    def delete(self, aid, related=False):
        """DELETE: 80E4 00 00|80 Lc 4F len AID, no Le."""
        return self._management(f"DELETE {hx(aid)}", 0xE4, 0x00, 0x80 if related else 0x00,
                                b"\x4F" + lv(aid))

    def set_status_app(self, aid, lock):
        """SET STATUS of an application: 80F0 40 80 (lock) | 00 (unlock) Lc AID (untagged)."""
        return self._management(f"SET STATUS {hx(aid)} {'lock' if lock else 'unlock'}", 0xF0, 0x40,
                                0x80 if lock else 0x00, bytes(aid))


# ----------------------------------------------------------------------------------------------
# Module-level API on one default client

_client = None


def connect(reader=DEFAULT_READER, **kw):
    global _client
    from smartcard.System import readers
    found = [r for r in readers() if str(r) == reader]
    if not found:
        raise LookupError(f"reader {reader!r} not found among {[str(r) for r in readers()]}")
    conn = found[0].createConnection()
    conn.connect()
    _client = GPClient(conn, **kw)
    return _client


def _default():
    if _client is None:
        raise RuntimeError("call gp_host.connect(reader) first")
    return _client


def get_status(p1, aid=b"", tags=None, legacy=False):
    return _default().get_status(p1, aid, tags, legacy)


def install(elf, module, app, privileges=b"\x00\x00\x00", params=b"\xC9\x00"):
    return _default().install(elf, module, app, privileges, params)


def delete(aid, related=False):
    return _default().delete(aid, related)


def set_status_app(aid, lock):
    return _default().set_status_app(aid, lock)


def select(aid):
    return _default().select(aid)


# ----------------------------------------------------------------------------------------------
# Scenarios

def jsonable(x):
    if isinstance(x, (bytes, bytearray)):
        return hx(x)
    if isinstance(x, dict):
        return {k: jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, set)):
        return [jsonable(v) for v in x]
    return x


def brief(e):
    """An entry for the JSON output."""
    out = {"aid": e["aid"], "kind": e["kind"]}
    if e["lifecycle"] is not None:
        out["lifecycle"] = f"{e['lifecycle']:02X}"
        out["state"] = lifecycle_name(e["kind"], e["lifecycle"])
    for k in ("privileges", "elf", "version", "sd"):
        if e[k] is not None:
            out[k] = e[k]
    if e["modules"]:
        out["modules"] = e["modules"]
    out["tags"] = [f"{t:X}" for t in e["tags"]]
    return out


class Run:
    def __init__(self, out=None):
        self.out, self.n, self.failed, self.aborted = out or sys.stdout, 0, 0, None

    def emit(self, check, ok, **info):
        self.n += 1
        ok = bool(ok)
        if not ok:
            self.failed += 1
        print(json.dumps({"step": self.n, "check": check, "ok": ok, **jsonable(info)}), file=self.out,
              flush=True)
        return ok

    def abort(self, e):
        self.aborted = f"{type(e).__name__}: {e}"
        if not isinstance(e, (GPError, ParseError, SessionError, ScenarioError)):
            traceback.print_exc(file=sys.stderr)
        self.emit("scenario aborted", False, error=self.aborted)

    def sw_of(self, fn):
        """(sw, data) of a management call, 9000 when it returned."""
        try:
            return SW_OK, fn()
        except GPError as e:
            return e.sw, e.data


def aids_of(entries):
    return [e["aid"] for e in entries]


def bulk_aids(base, n):
    """n distinct 16-byte AIDs, none a prefix of the main test AID or of each other."""
    prefix = bytearray(base[:9].ljust(9, b"\x00"))
    prefix[-1] ^= 0x01
    return [bytes(prefix) + b"\x00" * 6 + bytes([i + 1]) for i in range(n)]


def scenario_list(gp, run, args):
    gp.open_session()
    run.emit("SELECT of the ISD answers an FCI with 84", gp.isd_aid is not None, fci=gp.isd_fci)
    for p1 in (P1_ISD, P1_APPS, P1_ELF, P1_ELF_MODULES):
        entries = gp.get_status(p1)
        run.emit(f"GET STATUS P1 {p1:02X} parses", True, responses=gp.responses(),
                 entries=[brief(e) for e in entries])


def scenario_lifecycle(gp, run, args):
    app, ds = args.aid, DATA_STORE
    bulk = bulk_aids(app, args.bulk)
    installed = []      # what this run installed and has not deleted yet

    def installs(aid, module=ds, elf=None):
        r = gp.install(elf or module, module, aid)
        installed.append(aid)
        return r

    def listed(aid):
        return [e for e in gp.get_status(P1_APPS) if e["aid"] == aid]

    try:
        # -- the ISD
        gp.open_session()
        isd = gp.isd_aid
        run.emit("SELECT of the ISD answers an FCI with 84", isd is not None, fci=gp.isd_fci)
        data, sw = gp.select(b"")
        run.emit("empty SELECT answers the ISD's FCI (same 84)", sw == SW_OK and fci_aid(data) == isd,
                 sw=f"{sw:04X}", fci=data)

        # -- leftovers of an aborted run
        present = {x["aid"]: x for x in gp.get_status(P1_APPS)}
        for a in [app] + bulk:
            if a in present:
                if present[a]["elf"] != ds:   # never delete what this scenario did not install
                    raise ScenarioError(f"AID {hx(a)} is taken by an application of module "
                                     f"{hx(present[a]['elf'] or b'')}: choose another --aid")
                gp.delete(a)
                run.emit("cleanup: deleted a leftover test instance", True, aid=a)
        baseline = gp.get_status(P1_APPS)
        base_aids = set(aids_of(baseline))

        e = gp.get_status(P1_ISD)
        run.emit("P1 80: one ISD, AID = the FCI's 84, GP life cycle", len(e) == 1 and e[0]["aid"] == isd,
                 entries=[brief(x) for x in e])
        run.emit("P1 80: the ISD's privileges are C5 03 9EFE80 (applications.md §7)",
                 e[0]["privileges"] == bytes.fromhex("9EFE80"), privileges=e[0]["privileges"])
        e = gp.get_status(P1_ISD, tags=[0x4F, 0x9F70])
        run.emit("P1 80 with 5C 03 4F9F70: only 4F and 9F70",
                 len(e) == 1 and sorted(e[0]["tags"]) == [0x4F, 0x9F70], entries=[brief(x) for x in e])

        # -- applications
        run.emit("P1 40: applications listed and valid", len(baseline) > 0, responses=gp.responses(),
                 entries=[brief(x) for x in baseline])
        bad = [brief(x) for x in baseline
               if x["privileges"] is None or len(x["privileges"]) != 3 or x["elf"] not in MODULES
               or x["sd"] != isd]
        run.emit("P1 40: every entry has C5 (3 bytes), C4 = a built-in module, CC = the ISD (applications.md §7)",
                 not bad, bad=bad)

        # -- load files
        elfs = gp.get_status(P1_ELF)
        run.emit("P1 20: exactly the built-in modules, LOADED 01",
                 sorted(aids_of(elfs)) == sorted(MODULES) and all(x["lifecycle"] == 1 for x in elfs),
                 entries=[brief(x) for x in elfs])
        run.emit("P1 20: entries carry 4F and 9F70 only (applications.md §7)",
                 all(sorted(x["tags"]) == [0x4F, 0x9F70] for x in elfs))
        mods = gp.get_status(P1_ELF_MODULES)
        run.emit("P1 10: the built-in modules, LOADED 01, each with 84 = its module AID",
                 sorted(aids_of(mods)) == sorted(MODULES)
                 and all(x["lifecycle"] == 1 and x["modules"] == [x["aid"]] for x in mods),
                 entries=[brief(x) for x in mods])

        # -- install, lock, unlock, delete
        r = installs(app)
        run.emit("INSTALL [for install and make selectable] of a DATA STORE: 9000, no data", r == b"",
                 aid=app, data=r)
        e = gp.get_status(P1_APPS, aid=app)
        run.emit("P1 40 with 4F = the AID: exactly the new instance", aids_of(e) == [app],
                 entries=[brief(x) for x in e])
        x = e[0] if e else None
        run.emit("the instance: 9F70 07, C5 000000, C4 = the module, CC = the ISD",
                 x is not None and x["lifecycle"] == 0x07 and x["privileges"] == b"\x00\x00\x00"
                 and x["elf"] == ds and x["sd"] == isd, entry=brief(x) if x else None)
        run.emit("the instance appears in the full P1 40 listing", len(listed(app)) == 1)
        data, sw = gp.select(app)
        run.emit("SELECT of the instance: 9000", sw == SW_OK, sw=f"{sw:04X}")

        r = gp.set_status_app(app, True)
        run.emit("SET STATUS 80F04080 (lock): 9000, no data", r == b"", data=r)
        x = (listed(app) or [None])[0]
        run.emit("locked: 9F70 with (v & 83) == 83", x is not None and x["lifecycle"] & 0x83 == 0x83,
                 entry=brief(x) if x else None)
        data, sw = gp.select(app)
        run.emit("SELECT of the locked instance: 6283", sw == 0x6283, sw=f"{sw:04X}")

        r = gp.set_status_app(app, False)
        run.emit("SET STATUS 80F04000 (unlock): 9000, no data", r == b"", data=r)
        x = (listed(app) or [None])[0]
        run.emit("unlocked: 9F70 07", x is not None and x["lifecycle"] == 0x07, entry=brief(x) if x else None)
        data, sw = gp.select(app)
        run.emit("SELECT of the unlocked instance: 9000", sw == SW_OK, sw=f"{sw:04X}")

        r = gp.delete(app)
        installed.remove(app)
        run.emit("DELETE 80E40000 4F..: 9000, no data", r == b"", data=r)
        run.emit("deleted: gone from the full P1 40 listing", not listed(app))
        e = gp.get_status(P1_APPS, aid=app)
        run.emit("deleted: P1 40 with 4F = the AID answers 6A88", e == [] and gp.last_chunks == [(0, SW_NOT_FOUND)],
                 responses=gp.responses())
        data, sw = gp.select(app)
        run.emit("SELECT of the deleted instance: 6A82", sw == 0x6A82, sw=f"{sw:04X}")
        sw, _ = run.sw_of(lambda: gp.delete(app))
        run.emit("DELETE again: not 9000", sw != SW_OK, sw=f"{sw:04X}")
        run.emit("DELETE again: 6A88 (applications.md §7: unknown)", sw == SW_NOT_FOUND, sw=f"{sw:04X}")

        # -- refused installations
        unknown = bytes.fromhex("F0544553534552414DEE")
        sw, _ = run.sw_of(lambda: installs(app, unknown))
        run.emit("INSTALL of an unknown module: not 9000", sw != SW_OK, module=unknown, sw=f"{sw:04X}")
        run.emit("INSTALL of an unknown module: 6A88 (applications.md §5.2)", sw == SW_NOT_FOUND, sw=f"{sw:04X}")
        other = bytes.fromhex("F0544553534552414D02")
        sw, _ = run.sw_of(lambda: installs(app, other, elf=ds))
        run.emit("INSTALL with ELF and module naming different modules: not 9000", sw != SW_OK,
                 sw=f"{sw:04X}")
        run.emit("nothing was installed by the refused INSTALLs", not listed(app))

        # -- more than one response: 6310 and P2 | 01
        for a in bulk:
            installs(a)
        run.emit(f"INSTALL of {len(bulk)} instances with 16-byte AIDs: 9000 each", True, aids=bulk)
        full = gp.get_status(P1_APPS)
        chunks = list(gp.last_chunks)
        sws = [sw for _, sw in chunks]
        run.emit("P1 40 needed more than one response: 6310 ... 6310 9000",
                 len(chunks) >= 2 and sws == [SW_MORE] * (len(chunks) - 1) + [SW_OK],
                 responses=[(n, f"{sw:04X}") for n, sw in chunks])
        run.emit("every response is at most 240 bytes (applications.md §7)", all(n <= 240 for n, _ in chunks),
                 sizes=[n for n, _ in chunks])
        counts = Counter(aids_of(full))
        run.emit("the continuation returned every entry exactly once",
                 set(counts) == base_aids | set(bulk) and all(v == 1 for v in counts.values()),
                 missing=sorted((base_aids | set(bulk)) - set(counts)),
                 unexpected=sorted(set(counts) - base_aids - set(bulk)))
        run.emit("the bulk instances: 9F70 07", all(x["lifecycle"] == 0x07 for x in full if x["aid"] in bulk))

        first = get_status_data()
        r1, sw1 = gp.get_status_raw(P1_APPS, 0x02, first)
        r2, sw2 = gp.get_status_raw(P1_APPS, 0x02, first)
        joined = b"".join(x["raw"] for x in full)
        run.emit("a new P2 = 02 restarts the listing (the same first response twice)",
                 sw1 == sw2 == SW_MORE and r1 == r2 == joined[:chunks[0][0]],
                 sws=[f"{sw1:04X}", f"{sw2:04X}"], sizes=[len(r1), len(r2)])

        tl = gp.get_status(P1_APPS, tags=[0x4F, 0x9F70])
        run.emit("P1 40 with 5C 03 4F9F70: entries with only 4F and 9F70",
                 all(sorted(x["tags"]) == [0x4F, 0x9F70] for x in tl), responses=gp.responses())
        run.emit("P1 40 with 5C: the same AIDs and life cycles as without",
                 {(x["aid"], x["lifecycle"]) for x in tl} == {(x["aid"], x["lifecycle"]) for x in full})

        # -- legacy format (P2 = 00)
        lg = gp.get_status(P1_APPS, legacy=True)
        run.emit("legacy P1 40: the same AIDs, life cycles and first privilege byte",
                 {(x["aid"], x["lifecycle"], x["privileges"][:1]) for x in lg}
                 == {(x["aid"], x["lifecycle"], (x["privileges"] or b"")[:1]) for x in full},
                 responses=gp.responses())
        lg = gp.get_status(P1_ISD, legacy=True)
        run.emit("legacy P1 80: the ISD", aids_of(lg) == [isd], entries=[brief(x) for x in lg])
        lg = gp.get_status(P1_ELF_MODULES, legacy=True)
        run.emit("legacy P1 10: the built-in modules, each with its own module AID",
                 sorted(aids_of(lg)) == sorted(MODULES) and all(x["modules"] == [x["aid"]] for x in lg),
                 entries=[brief(x) for x in lg])

        for a in bulk:
            gp.delete(a)
            installed.remove(a)
        run.emit(f"DELETE of the {len(bulk)} instances: 9000 each", True)
        after = gp.get_status(P1_APPS)
        run.emit("P1 40 lists what it listed before the run", set(aids_of(after)) == base_aids,
                 responses=gp.responses(), entries=[brief(x) for x in after])
    except Exception as e:  # noqa: BLE001 -- reported as a failed step, then the cleanup runs
        run.abort(e)
    finally:
        gp.session = None   # the cleanup starts a fresh session whatever happened to this one
        for a in list(installed):
            sw, _ = run.sw_of(lambda: gp.delete(a))
            run.emit("cleanup: DELETE of an instance this run installed", sw == SW_OK, aid=a, sw=f"{sw:04X}")


def scenario_packages(gp, run, args):
    """An applet package a loader put on the card (docs/applets.md; `tessera apps load`): GET
    STATUS lists it as a load file with its modules (gp --list's PKG lines), INSTALL [for install]
    makes an application of a module (gp --create), DELETE refuses the package while that
    application exists and, with P2 80, deletes both (gp --delete --force)."""
    pkg, module, app = args.package, args.module, args.aid
    gp.open_session()
    elfs = gp.get_status(P1_ELF_MODULES)
    mine = [e for e in elfs if e["aid"] == pkg]
    run.emit("P1 10: the package is listed, LOADED 01, with its module",
             len(mine) == 1 and mine[0]["lifecycle"] == 1 and module in mine[0]["modules"],
             entries=[brief(x) for x in elfs])
    run.emit("P1 20: the package is listed with 4F and 9F70 only",
             any(e["aid"] == pkg and sorted(e["tags"]) == [0x4F, 0x9F70]
                 for e in gp.get_status(P1_ELF)))
    r = gp.install(pkg, module, app)
    run.emit("INSTALL [for install] of a module of the package: 9000, no data", r == b"", data=r)
    e = gp.get_status(P1_APPS, aid=app)
    run.emit("P1 40: the instance, SELECTABLE, C4 = its module",
             len(e) == 1 and e[0]["lifecycle"] == 0x07 and e[0]["elf"] == module,
             entries=[brief(x) for x in e])
    data, sw = gp.select(app)
    run.emit("SELECT of the instance: 9000", sw == SW_OK, sw=f"{sw:04X}")
    data, sw = gp.transmit(bytes.fromhex("8001000000"))
    run.emit("the instance's Lua code answers a command", sw == SW_OK and data == args.expect,
             data=data, sw=f"{sw:04X}")
    try:
        gp.open_session()
        gp.delete(pkg)
        run.emit("DELETE of the package while its application exists: refused", False)
    except GPError as err:
        run.emit("DELETE of the package while its application exists: 6985", err.sw == 0x6985,
                 sw=f"{err.sw:04X}")
    gp.open_session()
    gp.delete(pkg, related=True)
    run.emit("DELETE with P2 80: the package is no longer listed",
             all(e["aid"] != pkg for e in gp.get_status(P1_ELF)))
    run.emit("... and nor is its application", not gp.get_status_raw(P1_APPS, 0x02,
                                                                       b"\x4F" + lv(app))[0])
    data, sw = gp.select(app)
    run.emit("SELECT of the deleted application: 6A82", sw == 0x6A82, sw=f"{sw:04X}")


SCENARIOS = {"lifecycle": scenario_lifecycle, "list": scenario_list, "packages": scenario_packages}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reader", default=DEFAULT_READER, help="PC/SC reader name (default %(default)r)")
    ap.add_argument("--scenario", choices=sorted(SCENARIOS), default="lifecycle")
    ap.add_argument("--aid", type=bytes.fromhex, default=DEFAULT_APP,
                    help=f"AID of the DATA STORE instance to install (default {hx(DEFAULT_APP)})")
    ap.add_argument("--bulk", type=int, default=6, help="instances installed for the 6310 check")
    ap.add_argument("--package", type=bytes.fromhex, default=b"",
                    help="(packages) the AID of the loaded package")
    ap.add_argument("--module", type=bytes.fromhex, default=b"",
                    help="(packages) the AID of one of its modules")
    ap.add_argument("--expect", type=lambda t: t.encode(), default=b"1",
                    help="(packages) what the instance answers to 80 01 00 00 00")
    ap.add_argument("--key", type=bytes.fromhex, default=TEST_KEY,
                    help="SCP03 static key, used for ENC, MAC and DEK (default: the test keys 404142..4F)")
    ap.add_argument("--kvn", type=lambda s: int(s, 16), default=0, help="key version number, hex (default 00)")
    ap.add_argument("--level", type=lambda s: int(s, 16), default=0x01,
                    choices=[0x01, 0x03, 0x11, 0x13, 0x33], metavar="{01,03,11,13,33}",
                    help="SCP03 security level, hex (default 01 = C-MAC)")
    ap.add_argument("--isd", type=bytes.fromhex, default=DEFAULT_ISD, help="ISD AID to select")
    ap.add_argument("--trace", action="store_true", help="every APDU to stderr")
    args = ap.parse_args(argv)
    if not 5 <= len(args.aid) <= 16 or not 0 <= args.bulk <= 15:
        ap.error("--aid must be 5..16 bytes and --bulk 0..15")
    try:
        gp = connect(args.reader, key=args.key, kvn=args.kvn, level=args.level, isd=args.isd,
                     trace=args.trace)
    except Exception as e:  # noqa: BLE001 -- no reader, no pcscd, no card
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}))
        return 2
    run = Run()
    try:
        SCENARIOS[args.scenario](gp, run, args)
    except Exception as e:  # noqa: BLE001
        run.abort(e)
    print(json.dumps({"scenario": args.scenario, "passed": run.n - run.failed, "failed": run.failed,
                      "aborted": run.aborted, "sessions": gp.sessions_opened}), flush=True)
    return 0 if run.failed == 0 and run.aborted is None else 1


if __name__ == "__main__":
    sys.exit(main())
