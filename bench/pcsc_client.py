#!/usr/bin/python3
"""Times N round trips of one APDU through pcscd (pyscard). Prints mean microseconds."""
import sys
import time

from smartcard.System import readers

reader, apdu, n = sys.argv[1], bytes.fromhex(sys.argv[2]), int(sys.argv[3])
deadline = time.time() + 20
while True:
    try:
        c = [r for r in readers() if str(r) == reader][0].createConnection()
        c.connect()
        break
    except Exception:
        if time.time() > deadline:
            raise
        time.sleep(0.2)
data, sw1, sw2 = c.transmit(list(apdu))
if sw1 != 0x90:
    sys.exit(f"card answered {sw1:02X}{sw2:02X}")
t0 = time.perf_counter()
for _ in range(n):
    c.transmit(list(apdu))
print((time.perf_counter() - t0) / n * 1e6)
