#!/usr/bin/python3
"""Streams updates to the card through pcscd while the test kills tessera-card with SIGKILL.

Usage: kill_stream.py write STATE_FILE   -- writes generations until the card disappears;
                                            records the last acknowledged generation
       kill_stream.py check STATE_FILE   -- after the restart: every file holds the last
                                            acknowledged generation or the one after it
"""
import os
import sys
import time

from smartcard.System import readers
from smartcard.Exceptions import CardConnectionException, NoCardException

READER = "Virtual PCD 00 00"
AID = list(bytes.fromhex("F05445535345524110"))


def connect(timeout=120):
    deadline = time.time() + timeout
    while True:
        try:
            r = [x for x in readers() if str(x) == READER][0]
            c = r.createConnection()
            c.connect()
            return c
        except (CardConnectionException, NoCardException, IndexError):
            if time.time() > deadline:
                raise
            time.sleep(0.2)  # polling the reader until the deadline


def tx(c, apdu):
    data, sw1, sw2 = c.transmit(apdu)
    return data, (sw1 << 8) | sw2


def login(c):
    assert tx(c, [0, 0xA4, 4, 0x0C, len(AID)] + AID)[1] == 0x9000
    assert tx(c, [0, 0x20, 0, 0x81, 4] + list(b"1234"))[1] == 0x9000


def binary(gen):
    return [gen & 0xFF, (gen >> 8) & 0xFF] * 64  # 128 bytes: the whole transparent EF


def record(gen):
    return [(gen >> 8) & 0xFF, gen & 0xFF] * 8  # 16 bytes: a whole fixed record


def write(state):
    c = connect()
    login(c)
    gen = 0
    try:
        while True:
            gen += 1
            # One command per file: each is atomic on its own.
            _, sw = tx(c, [0, 0xD6, 0x81, 0, 0x80] + binary(gen))
            assert sw == 0x9000, hex(sw)
            _, sw = tx(c, [0, 0xDC, 1, (2 << 3) | 4, 16] + record(gen))
            assert sw == 0x9000, hex(sw)
            # Atomically: the test reads it while the stream runs, and after the kill.
            with open(state + ".tmp", "w") as f:
                f.write(str(gen))
            os.replace(state + ".tmp", state)
    except (CardConnectionException, NoCardException, AssertionError) as e:
        print(f"stream stopped after generation {gen - 1} acknowledged ({type(e).__name__})")


def check(state):
    acked = int(open(state).read())
    c = connect()
    login(c)
    b, sw = tx(c, [0, 0xB0, 0x81, 0, 0x80])
    assert sw == 0x9000
    r, sw = tx(c, [0, 0xB2, 1, (2 << 3) | 4, 16])
    assert sw == 0x9000
    ok_b = [g for g in (acked, acked + 1) if b == binary(g)]
    ok_r = [g for g in (acked, acked + 1) if r == record(g)]
    if not ok_b:
        sys.exit(f"FAIL: transparent EF holds neither generation {acked} nor {acked + 1}: {bytes(b[:4]).hex()}")
    if not ok_r:
        sys.exit(f"FAIL: record holds no generation near {acked}: {bytes(r[:4]).hex()}")
    print(f"ok: after SIGKILL at generation {acked}, EF holds {ok_b[0]}, record holds {ok_r[0]}")


if __name__ == "__main__":
    {"write": write, "check": check}[sys.argv[1]](sys.argv[2])
