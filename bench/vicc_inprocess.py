#!/usr/bin/python3
"""Debian's Python card emulator (vsmartcard-vpicc) run in-process on the command sequence of
bench/card_bench.cc: SELECT EF 2F01, READ BINARY 16 bytes, UPDATE RECORD 1 (16 bytes).
Prints microseconds per command as JSON."""
import json
import logging
import sys
import time
import types

sys.path.insert(0, "/usr/lib/python3/site-packages/virtualsmartcard")
# The emulator imports "Crypto"; Debian ships the same API as "Cryptodome".
import Cryptodome  # noqa: E402
sys.modules.setdefault("Crypto", Cryptodome)
for sub in ("Cipher", "Hash", "Random", "Util", "PublicKey", "Protocol", "Signature"):
    try:
        sys.modules.setdefault("Crypto." + sub, __import__("Cryptodome." + sub, fromlist=["*"]))
    except ImportError:
        pass
logging.disable(logging.CRITICAL)

from virtualsmartcard.CardGenerator import CardGenerator  # noqa: E402
from virtualsmartcard.VirtualSmartcard import Iso7816OS  # noqa: E402
from virtualsmartcard.SmartcardFilesystem import (  # noqa: E402
    TransparentStructureEF, RecordStructureEF, Record)
from virtualsmartcard.ConstantDefinitions import FDB  # noqa: E402

mf, sam = CardGenerator("iso7816").getCard()
mf.append(TransparentStructureEF(parent=mf, fid=0x2F01, data=b"x" * 64))
mf.append(RecordStructureEF(parent=mf, fid=0x1002, shortfid=2,
                            filedescriptor=FDB["EFSTRUCTURE_LINEAR_FIXED_NOFURTHERINFO"],
                            maxrecordsize=16, records=[Record(data=b"\0" * 16) for _ in range(5)]))
os_ = Iso7816OS(mf, sam)

commands = {
    "SELECT": bytes.fromhex("00A4000C022F0100"),
    "READ BINARY": bytes.fromhex("00B0000010"),
    "UPDATE RECORD": bytes.fromhex("00DC011410") + b"\x5a" * 16 + b"\x00",  # case 3 crashes vicc
}
N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
out = {}
for name, apdu in commands.items():
    r = os_.execute(apdu)
    if r[-2] not in (0x90, 0x62):  # vicc answers 6282 to a case-4 UPDATE RECORD
        sys.exit(f"{name}: vicc answered {r.hex()}")
    t0 = time.perf_counter()
    for _ in range(N):
        os_.execute(apdu)
    out[name] = (time.perf_counter() - t0) / N * 1e6
print(json.dumps(out))
