#!/usr/bin/env bash
# The whole test suite: installs what it needs, then
#   1. builds with GCC and warnings as errors, runs every test through CTest (unit tests, the
#      tear suite, CLI tests, fuzz corpus replay) and builds the benchmarks; then runs the CLI,
#      socket and PC/SC tests a second time beside a CPU hog (stress-ng, one busy worker per
#      core), so that a test that depends on timing fails here rather than on a busy machine;
#   2. builds with Clang, ASan and UBSan, runs the same tests again, and runs every libFuzzer
#      target for a short fixed time (FUZZ_SECONDS, default 20).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
FUZZ_SECONDS="${FUZZ_SECONDS:-20}"

echo "== build (gcc, -Werror)"
scripts/build.sh build -DTESSERA_WERROR=ON
echo "== tests (gcc)"
(cd build && ctest --output-on-failure -j 2)
build/tessera_tear_tests --gtest_brief=1 | grep 'tear:'

echo "== CLI, socket and PC/SC tests again, under load (stress-ng --cpu $(nproc))"
stress-ng --cpu "$(nproc)" --quiet &
hog=$!
stop_hog() { kill -TERM "$hog" 2>/dev/null; wait "$hog" 2>/dev/null || true; }
trap stop_hog EXIT
(cd build && ctest --output-on-failure -R 'cli_|socket|pcsc')
stop_hog
trap - EXIT

echo "== build (clang, ASan+UBSan, libFuzzer)"
CC=clang CXX=clang++ scripts/build.sh build-asan -DTESSERA_WERROR=ON -DTESSERA_SANITIZE=ON \
  -DTESSERA_FUZZ=ON -DTESSERA_BENCH=OFF
echo "== tests (clang, ASan+UBSan)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ctest --output-on-failure -j 2)

echo "== fuzzing, ${FUZZ_SECONDS}s per target"
for target in build-asan/*_fuzz; do
  name=$(basename "$target")
  work=$(mktemp -d)
  cp fuzz/corpus/"$name"/* "$work"/
  "$target" -max_total_time="$FUZZ_SECONDS" -max_len=4096 -artifact_prefix="$work/" "$work" \
    2>"$work.log" || {
      tail -50 "$work.log"
      echo "fuzz target $name failed; the crashing input is in $work" >&2
      exit 1
    }
  echo "$name: $(grep -Eo 'Done [0-9]+ runs' "$work.log" | awk '{print $2}') runs, no crash"
  rm -rf "$work" "$work.log"
done
echo "== all tests passed"
