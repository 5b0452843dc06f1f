#!/usr/bin/python3
"""An EMV-style terminal (EMV Book 1 §12.3.2, from the specification): selects the PSE
1PAY.SYS.DDF01, takes the directory's SFI from tag 88 of its FCI, reads records 1, 2, ... until
6A83, collects the ADF names (4F) of every 61 entry, then selects each candidate and keeps those
that answer 9000 (6283 = blocked: excluded). Prints the selectable AIDs, one per line, in
directory order; exits 1 when the PSE is missing."""
import sys

from smartcard.System import readers

READER = sys.argv[1] if len(sys.argv) > 1 else "Virtual PCD 00 00"


def tlv(data):
    i, out = 0, []
    while i < len(data):
        t = data[i]; i += 1
        if t & 0x1F == 0x1F:
            t = (t << 8) | data[i]; i += 1
            while data[i - 1] & 0x80:
                t = (t << 8) | data[i]; i += 1
        n = data[i]; i += 1
        if n & 0x80:
            k = n & 0x7F
            n = int.from_bytes(bytes(data[i:i + k]), "big"); i += k
        out.append((t, data[i:i + n])); i += n
    return out


def find(data, tag):
    for t, v in tlv(data):
        if t == tag:
            return v
        if (t >> (8 * ((t.bit_length() - 1) // 8))) & 0x20:  # constructed
            r = find(v, tag)
            if r is not None:
                return r
    return None


def tx(conn, apdu):
    data, sw1, sw2 = conn.transmit(apdu)
    if sw1 == 0x61:
        more, sw1, sw2 = conn.transmit([0x00, 0xC0, 0, 0, sw2])
        data += more
    elif sw1 == 0x6C:
        data, sw1, sw2 = conn.transmit(apdu[:-1] + [sw2])
    return data, (sw1 << 8) | sw2


def main():
    r = [x for x in readers() if str(x) == READER]
    if not r:
        sys.exit(f"reader {READER!r} not found")
    conn = r[0].createConnection()
    conn.connect()
    pse = list(b"1PAY.SYS.DDF01")
    fci, sw = tx(conn, [0x00, 0xA4, 0x04, 0x00, len(pse)] + pse + [0x00])
    if sw != 0x9000:
        print(f"no PSE: {sw:04X}")
        sys.exit(1)
    sfi = find(fci, 0x88)
    if not sfi or len(sfi) != 1:
        sys.exit("the PSE's FCI has no SFI (88)")
    candidates = []
    for n in range(1, 32):
        rec, sw = tx(conn, [0x00, 0xB2, n, (sfi[0] << 3) | 4, 0x00])
        if sw == 0x6A83:
            break
        if sw != 0x9000:
            continue
        for t, v in tlv(rec):
            if t != 0x70:
                continue
            for t2, e in tlv(v):
                if t2 == 0x61:
                    aid = find(e, 0x4F)
                    if aid:
                        candidates.append(bytes(aid))
    for aid in candidates:
        _, sw = tx(conn, [0x00, 0xA4, 0x04, 0x00, len(aid)] + list(aid) + [0x00])
        if sw == 0x9000:
            print(aid.hex().upper())
        else:
            print(f"{aid.hex().upper()} listed but SELECT answers {sw:04X}", file=sys.stderr)
            print(f"NOT-SELECTABLE {aid.hex().upper()}")


if __name__ == "__main__":
    main()
