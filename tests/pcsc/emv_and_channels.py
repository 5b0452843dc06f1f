#!/usr/bin/python3
"""Talks to the card through pcscd like an EMV terminal and a multi-channel host (pyscard)."""
import sys

from smartcard.System import readers

READER = sys.argv[1] if len(sys.argv) > 1 else "Virtual PCD 00 00"


def connect():
    matches = [r for r in readers() if str(r) == READER]
    if not matches:
        sys.exit(f"reader {READER!r} not found among {[str(r) for r in readers()]}")
    conn = matches[0].createConnection()
    conn.connect()
    return conn


def tx(conn, apdu):
    data, sw1, sw2 = conn.transmit(apdu)
    if sw1 == 0x61:  # T=0 style continuation
        more, sw1, sw2 = conn.transmit([apdu[0] & 0x03, 0xC0, 0, 0, sw2])
        data += more
    return data, (sw1 << 8) | sw2


def check(cond, what):
    if not cond:
        sys.exit("FAIL: " + what)
    print("ok:", what)


conn = connect()
# Earlier clients may have left PIN 81 verified on channel 0 (PC/SC does not reset the card
# between connections): forget it first.
tx(conn, [0x00, 0x20, 0xFF, 0x81])

# EMV: SELECT the PSE, read its directory SFI record by record until 6A83.
pse = list(b"1PAY.SYS.DDF01")
fci, sw = tx(conn, [0x00, 0xA4, 0x04, 0x00, len(pse)] + pse + [0x00])
check(sw == 0x9000 and fci[0] == 0x6F, "SELECT 1PAY.SYS.DDF01 returns an FCI")
# The SFI of the directory is in A5 / 88 (EMV: the plain SFI value).
i = bytes(fci).find(b"\x88\x01")
check(i > 0, "FCI carries tag 88")
sfi = fci[i + 2]
records = []
for n in range(1, 20):
    rec, sw = tx(conn, [0x00, 0xB2, n, (sfi << 3) | 4, 0x00])
    if sw == 0x6A83:
        break
    check(sw == 0x9000 and rec[0] == 0x70, f"directory record {n} is a 70 template")
    records.append(bytes(rec))
check(len(records) >= 1, "the PSE lists at least one application")
aid_at = records[0].find(b"\x4F")
aid = list(records[0][aid_at + 2: aid_at + 2 + records[0][aid_at + 1]])
print("application:", bytes(aid).hex().upper())
_, sw = tx(conn, [0x00, 0xA4, 0x04, 0x00, len(aid)] + aid + [0x00])
check(sw == 0x9000, "the listed application can be selected")

# Two logical channels at once, each with its own selection and security status.
ch, sw = tx(conn, [0x00, 0x70, 0x00, 0x00, 0x01])
check(sw == 0x9000 and len(ch) == 1 and 1 <= ch[0] <= 19, "MANAGE CHANNEL opens a channel")
c = ch[0]
cla = c if c < 4 else 0x40 | (c - 4)
_, sw = tx(conn, [cla, 0xA4, 0x04, 0x0C, len(aid)] + aid)
check(sw == 0x9000, f"channel {c}: SELECT the demo application")
_, sw = tx(conn, [cla, 0x20, 0x00, 0x81, 0x04] + list(b"1234"))
check(sw == 0x9000, f"channel {c}: VERIFY the user PIN")
data, sw = tx(conn, [cla, 0xB0, 0x81, 0x00, 0x04])
check(sw == 0x9000 and bytes(data) == b"demo", f"channel {c}: READ BINARY after VERIFY")
_, sw = tx(conn, [0x00, 0xA4, 0x00, 0x0C, 0x02, 0x2F, 0x01])
check(sw == 0x9000, "channel 0: a different file selected meanwhile")
data, sw = tx(conn, [0x00, 0xB0, 0x00, 0x00, 0x07])
check(sw == 0x9000 and bytes(data) == b"Tessera", "channel 0 reads its own EF")
data, sw = tx(conn, [cla, 0xB0, 0x00, 0x00, 0x04])
check(sw == 0x9000 and bytes(data) == b"demo", f"channel {c} kept its selection")
_, sw = tx(conn, [0x00, 0xA4, 0x04, 0x0C, len(aid)] + aid)
_, sw = tx(conn, [0x00, 0xB0, 0x81, 0x00, 0x04])
check(sw == 0x6982, "channel 0 has not verified the PIN")
_, sw = tx(conn, [0x00, 0x70, 0x80, c])
check(sw == 0x9000, f"MANAGE CHANNEL closes channel {c}")
_, sw = tx(conn, [cla, 0xB0, 0x00, 0x00, 0x04])
check(sw == 0x6881, "a closed channel refuses commands")

# Extended length: write 128 bytes with an extended Lc, read them back with an extended Le.
_, sw = tx(conn, [0x00, 0x20, 0x00, 0x81, 0x04] + list(b"1234"))
payload = list(range(128))
_, sw = tx(conn, [0x00, 0xD6, 0x81, 0x00, 0x00, 0x00, 0x80] + payload)
check(sw == 0x9000, "UPDATE BINARY with extended Lc")
data, sw = tx(conn, [0x00, 0xB0, 0x81, 0x00, 0x00, 0x00, 0x00])
check(sw == 0x9000 and data == payload, "READ BINARY with extended Le returns the 128 bytes")
# Put the demo text back for other tests.
text = list(b"demo transparent EF, readable after VERIFY 81")
_, sw = tx(conn, [0x00, 0xD6, 0x81, 0x00, 0x00, 0x00, 0x80] + text + [0] * (128 - len(text)))
check(sw == 0x9000, "restore the demo EF")
print("1 passed, 0 failed")
