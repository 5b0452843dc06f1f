#!/usr/bin/env bash
# The main job on the embedded default: builds Tessera, creates a card image in var/ and shows
# it (geometry, usage, journal, wear), then verifies it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build -DTESSERA_BENCH=OFF >/dev/null
mkdir -p var
image=var/card.img
echo "== tessera image init $image"
build/tessera image init "$image" --force
echo
echo "== tessera image show $image"
build/tessera image show "$image"
echo
echo "== tessera image check $image"
build/tessera image check "$image"
