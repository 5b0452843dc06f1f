"""SCP03 host primitives written from the specification (GPC Amendment D), independent of
Tessera's C++ code: pycryptodome for AES and CMAC, pyscard for the connection. Used by
scp03_host.py (the interop test) and bench/issuance_pcsc.py."""
import os

from Cryptodome.Cipher import AES
from Cryptodome.Hash import CMAC

KEY = bytes.fromhex("404142434445464748494A4B4C4D4E4F")
ISD = bytes.fromhex("A000000151000000")


def cmac(key, data):
    c = CMAC.new(key, ciphermod=AES)
    c.update(data)
    return c.digest()


def kdf(key, const, bits, context):
    out = b""
    i = 1
    while len(out) * 8 < bits:
        out += cmac(key, b"\0" * 11 + bytes([const, 0]) + bits.to_bytes(2, "big") + bytes([i]) + context)
        i += 1
    return out[: bits // 8]


def pad(d):
    d = d + b"\x80"
    return d + b"\0" * (-len(d) % 16)


def unpad(d):
    d = d.rstrip(b"\0")
    assert d.endswith(b"\x80"), "bad padding"
    return d[:-1]


class Host:
    def __init__(self, conn, level, s16, key=KEY, aid=ISD):
        self.conn, self.level, self.n = conn, level, 16 if s16 else 8
        self.key, self.aid = key, aid

    def raw(self, apdu):
        data, sw1, sw2 = self.conn.transmit(list(apdu))
        return bytes(data), (sw1 << 8) | sw2

    def open(self):
        _, sw = self.raw(bytes([0, 0xA4, 4, 0, len(self.aid)]) + self.aid + b"\0")
        assert sw == 0x9000, hex(sw)
        hc = os.urandom(self.n)
        r, sw = self.raw(bytes([0x80, 0x50, 0, 0, self.n]) + hc + b"\0")
        assert sw == 0x9000, f"INITIALIZE UPDATE {sw:04X}"
        assert r[11] == 3, "not SCP03"
        cc, card_crypto = r[13:13 + self.n], r[13 + self.n:13 + 2 * self.n]
        ctx = hc + cc
        self.s_enc = kdf(self.key, 4, 128, ctx)
        self.s_mac = kdf(self.key, 6, 128, ctx)
        self.s_rmac = kdf(self.key, 7, 128, ctx)
        assert kdf(self.s_mac, 0, self.n * 8, ctx) == card_crypto, "card cryptogram"
        host_crypto = kdf(self.s_mac, 1, self.n * 8, ctx)
        self.chain = b"\0" * 16
        self.counter = 0
        hdr = bytes([0x84, 0x82, self.level, 0x00, 2 * self.n])
        mac = cmac(self.s_mac, self.chain + hdr + host_crypto)
        self.chain = mac
        _, sw = self.raw(hdr + host_crypto + mac[: self.n])
        assert sw == 0x9000, f"EXTERNAL AUTHENTICATE {sw:04X}"

    def send(self, cla, ins, p1, p2, data=b"", le=True):
        self.counter += 1
        if self.level & 0x02 and data:
            icv = AES.new(self.s_enc, AES.MODE_ECB).encrypt(self.counter.to_bytes(16, "big"))
            data = AES.new(self.s_enc, AES.MODE_CBC, iv=icv).encrypt(pad(data))
        hdr = bytes([cla | 0x04, ins, p1, p2, len(data) + self.n])
        mac = cmac(self.s_mac, self.chain + hdr + data)
        self.chain = mac
        r, sw = self.raw(hdr + data + mac[: self.n] + (b"\0" if le else b""))
        if self.level & 0x10 and (sw == 0x9000 or sw >> 8 in (0x62, 0x63)):
            body, rmac = r[:-self.n], r[-self.n:]
            assert cmac(self.s_rmac, self.chain + body + sw.to_bytes(2, "big"))[: self.n] == rmac, "R-MAC"
            r = body
            if self.level & 0x20 and r:
                icv = AES.new(self.s_enc, AES.MODE_ECB).encrypt(b"\x80" + self.counter.to_bytes(15, "big"))
                r = unpad(AES.new(self.s_enc, AES.MODE_CBC, iv=icv).decrypt(r))
        return r, sw


