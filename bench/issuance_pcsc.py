#!/usr/bin/python3
"""Self-issuance against sending the same commands one by one, through pcscd (pyscard), on a
fresh default card served by tessera-card. Sets the card up itself (SCP03 with the test keys,
written from the specification in tests/pcsc/scp03_lib.py): installs a data store and the
issuance application and loads two 50-command groups, then times
  plain:  SELECT + VERIFY + 48 UPDATE BINARY of the data store, one APDU at a time, against
          one EXECUTE ISSUANCE of the same 50 commands;
  SCP03:  50 GET STATUS at level 33 inside a session with the ISD, one at a time, against one
          EXECUTE ISSUANCE of SELECT ISD + 49 GET STATUS, sent inside a level-33 session
          with the issuance application.
Each run's acknowledgement (needed before the next run id) is sent but not timed: the
comparison is one request against fifty.
Prints one JSON object: microseconds per 50-command issuance each way and the ratios."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "pcsc"))
from scp03_lib import Host  # noqa: E402
from smartcard.System import readers  # noqa: E402

READER, N = sys.argv[1], int(sys.argv[2])
ISSUANCE = bytes.fromhex("F05445535345524102")
ISSUANCE_MODULE = bytes.fromhex("F0544553534552414D04")
STORE = bytes.fromhex("F05445535345524153")
STORE_MODULE = bytes.fromhex("F0544553534552414D01")
ISD = bytes.fromhex("A000000151000000")


def lv(b):
    return bytes([len(b)]) + b


def tlv(tag, value):
    t = tag.to_bytes(2, "big") if tag > 0xFF else bytes([tag])
    n = len(value)
    ln = bytes([n]) if n < 0x80 else bytes([0x81, n]) if n < 0x100 else bytes([0x82]) + n.to_bytes(2, "big")
    return t + ln + value


def group(commands):  # docs/self-issuance.md §3; commands: (harmless, apdu)
    g = b"G\x01" + len(commands).to_bytes(2, "big")
    for harmless, apdu in commands:
        g += bytes([1 if harmless else 0, 0]) + len(apdu).to_bytes(2, "big") + apdu
    return g


deadline = time.time() + 20
while True:
    try:
        conn = [r for r in readers() if str(r) == READER][0].createConnection()
        conn.connect()
        break
    except Exception:
        if time.time() > deadline:
            raise
        time.sleep(0.2)


def raw(apdu):
    data, sw1, sw2 = conn.transmit(list(apdu))
    return bytes(data), (sw1 << 8) | sw2


def need(r, what):
    assert r[1] in (0x9000,), f"{what}: {r[1]:04X}"
    return r[0]


# Set-up: a data store (PIN 1234) and the issuance application, by GP INSTALL in an ISD session.
isd = Host(conn, 0x03, False)
isd.open()
store_params = tlv(0xC9, tlv(0x81, b"1234"))
need(isd.send(0x80, 0xE6, 0x0C, 0x00, lv(STORE_MODULE) + lv(STORE_MODULE) + lv(STORE) + lv(b"\x00") +
              lv(store_params) + b"\x00"), "INSTALL data store")
need(isd.send(0x80, 0xE6, 0x0C, 0x00, lv(ISSUANCE_MODULE) + lv(ISSUANCE_MODULE) + lv(ISSUANCE) +
              lv(b"\x80\x00\x00") + lv(b"\xC9\x00") + b"\x00"), "INSTALL issuance")
select_store = bytes([0, 0xA4, 4, 0, len(STORE)]) + STORE + b"\0"
verify = bytes.fromhex("002000800431323334")
updates = [bytes([0, 0xD6, (i * 10) >> 8, (i * 10) & 0xFF, 10]) + bytes([0x54, i]) + bytes(8) for i in range(48)]
plain_cmds = [select_store, verify] + updates
get_status = bytes.fromhex("80F24002024F00")
select_isd = bytes([0, 0xA4, 4, 0, len(ISD)]) + ISD
gp_group = [(True, select_isd)] + [(False, get_status)] * 49
assert len(plain_cmds) == 50 and len(gp_group) == 50
iss = Host(conn, 0x03, False, aid=ISSUANCE)
iss.open()
for fn, cmds in ((1, [(i < 2, c) for i, c in enumerate(plain_cmds)]), (2, gp_group)):
    upload = tlv(0xBF73, tlv(0xC1, bytes([fn])) + tlv(0xC3, b"\x01") + tlv(0xC5, b"\x01") +
                 tlv(0xC6, group(cmds)))
    blocks = [upload[i:i + 200] for i in range(0, len(upload), 200)]
    for k, b in enumerate(blocks):
        need(iss.send(0x80, 0xE2, 0x90 if k == len(blocks) - 1 else 0x10, k, b, le=False),
             "STORE DATA group")


def execute(send, p1, fn, run):
    return send(bytes([0x80, 0xEA, p1, 0x00, 13]) + tlv(0xC1, bytes([fn])) + tlv(0xC8, run) + b"\0")


def one_request(send, fn):
    """Mean microseconds of EXECUTE ISSUANCE of function `fn`, a new run id each time; each
    run's acknowledgement (needed before the next run id) is sent but not timed."""
    spent = 0.0
    for i in range(N):
        run = (fn << 32 | i).to_bytes(8, "big")
        t0 = time.perf_counter()
        r = execute(send, 0, fn, run)
        spent += time.perf_counter() - t0
        assert r[1] == 0x9000 and r[0][0] == 0xE5, f"EXECUTE {r[1]:04X}"
        need(execute(send, 4, fn, run), "ACK")
    return spent / N * 1e6


# Plain, one by one.
t0 = time.perf_counter()
for _ in range(N):
    for c in plain_cmds:
        need(raw(c), "plain command")
one_by_one_plain = (time.perf_counter() - t0) / N * 1e6
# Plain, one request (+ acknowledgement).
need(raw(bytes([0, 0xA4, 4, 0, len(ISSUANCE)]) + ISSUANCE + b"\0"), "SELECT issuance")
one_request_plain = one_request(raw, 1)

# SCP03 level 33, one by one, in a session with the ISD.
isd = Host(conn, 0x33, False)
isd.open()
t0 = time.perf_counter()
for _ in range(N):
    for _ in range(50):
        need(isd.send(0x80, 0xF2, 0x40, 0x02, bytes.fromhex("4F00")), "GET STATUS")
one_by_one_scp03 = (time.perf_counter() - t0) / N * 1e6
# SCP03 level 33, one request inside a session with the issuance application.
iss = Host(conn, 0x33, False, aid=ISSUANCE)
iss.open()
send33 = lambda apdu: iss.send(apdu[0], apdu[1], apdu[2], apdu[3], apdu[5:5 + apdu[4]])  # noqa: E731
one_request_scp03 = one_request(send33, 2)
print(json.dumps({
    "commands": 50, "issuances": N,
    "plain_one_by_one_us": round(one_by_one_plain), "plain_one_request_us": round(one_request_plain),
    "plain_ratio": round(one_by_one_plain / one_request_plain, 1),
    "scp03_33_one_by_one_us": round(one_by_one_scp03), "scp03_33_one_request_us": round(one_request_scp03),
    "scp03_ratio": round(one_by_one_scp03 / one_request_scp03, 1)}))
