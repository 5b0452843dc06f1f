#!/usr/bin/env bash
# In-process cost per command: Tessera's card OS (bench/card_bench.cc) against Debian's Python
# emulator (bench/vicc_inprocess.py) on the same commands, in one run. Prints JSON with ratios.
# Usage: bench/card_vs_vicc.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
B="${1:-build}"
t=$("$B"/card_bench --benchmark_min_time=0.5 --benchmark_format=json 2>/dev/null)
v=$(/usr/bin/python3 bench/vicc_inprocess.py 3000)
python3 - "$t" "$v" <<'PY'
import json, sys
t = {b["name"]: b["real_time"] / 1000.0 for b in json.loads(sys.argv[1])["benchmarks"]}  # ns -> us
v = json.loads(sys.argv[2])
names = {"SELECT": "BM_Select", "READ BINARY": "BM_ReadBinary", "UPDATE RECORD": "BM_UpdateRecord"}
out = {k: {"tessera_us": round(t[b], 3), "vicc_us": round(v[k], 1), "speedup": round(v[k] / t[b], 1)}
       for k, b in names.items()}
print(json.dumps(out, indent=1))
PY
