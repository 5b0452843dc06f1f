// NVM benchmarks: commit cost against the bytes a transaction writes, and write amplification
// (bytes programmed per byte logically changed). Run: build/nvm_bench. Results and the command
// line that produced them are in docs/performance.md.
#include <benchmark/benchmark.h>

#include <random>

#include "nvm/nvm_store.h"

namespace tessera::nvm {
namespace {

Geometry BenchGeometry() {
  Geometry g;  // the default image geometry: 1 MiB, 64-byte pages, 16 KiB commit capacity
  return g;
}

struct Fixture {
  Fixture() : ram(BenchGeometry().nvm_size, BenchGeometry().page_size) {
    (void)NvmStore::Format(ram.device(), BenchGeometry());
    store = std::move(NvmStore::Mount(ram.device(), BenchGeometry())).value();
    (void)store->Begin();
    for (int i = 0; i < 48; ++i) blocks.push_back(*store->AllocateBlock());
    (void)store->Commit();
  }
  RamNvm ram;
  std::unique_ptr<NvmStore> store;
  std::vector<uint32_t> blocks;
};

// One transaction writing `bytes` contiguous bytes at a random offset of the allocated blocks.
void BM_CommitContiguous(benchmark::State& state) {
  Fixture f;
  const uint32_t bytes = static_cast<uint32_t>(state.range(0));
  const uint32_t base = f.store->layout().BlockOffset(f.blocks.front());
  const uint32_t span = 48 * f.store->layout().geometry.block_size - bytes;
  std::mt19937 rng(1);
  Bytes data(bytes);
  uint64_t programs_before = f.ram.device().programs();
  for (auto _ : state) {
    for (auto& b : data) b = static_cast<uint8_t>(rng());  // every byte really changes
    (void)f.store->Begin();
    (void)f.store->Write(base + static_cast<uint32_t>(rng() % span), data);
    (void)f.store->Commit();
  }
  const double programmed =
      static_cast<double>(f.ram.device().programs() - programs_before) * f.ram.device().page_size();
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * bytes);
  state.counters["pages/commit"] = programmed / 64.0 / static_cast<double>(state.iterations());
  state.counters["write_amp"] =
      programmed / (static_cast<double>(bytes) * static_cast<double>(state.iterations()));
}
BENCHMARK(BM_CommitContiguous)
    ->Arg(1)
    ->Arg(16)
    ->Arg(64)
    ->Arg(256)
    ->Arg(1024)
    ->Arg(4096)
    ->Arg(12000);

// One transaction of n scattered 4-byte writes (a record update touching several structures).
void BM_CommitScattered(benchmark::State& state) {
  Fixture f;
  const int n = static_cast<int>(state.range(0));
  const uint32_t base = f.store->layout().BlockOffset(f.blocks.front());
  const uint32_t span = 48 * f.store->layout().geometry.block_size - 4;
  std::mt19937 rng(2);
  uint64_t programs_before = f.ram.device().programs();
  for (auto _ : state) {
    (void)f.store->Begin();
    for (int i = 0; i < n; ++i) {
      const uint32_t v = static_cast<uint32_t>(rng()) | 0x01010101u;
      uint8_t b[4] = {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)};
      (void)f.store->Write(base + static_cast<uint32_t>(rng() % span), b);
    }
    (void)f.store->Commit();
  }
  const double programmed =
      static_cast<double>(f.ram.device().programs() - programs_before) * f.ram.device().page_size();
  state.counters["write_amp"] = programmed / (4.0 * n * static_cast<double>(state.iterations()));
}
BENCHMARK(BM_CommitScattered)->Arg(1)->Arg(4)->Arg(16);

// The early commit a PIN check makes before comparing.
void BM_CommitNowRetryCounter(benchmark::State& state) {
  Fixture f;
  const uint32_t at = f.store->layout().root_offset;
  uint8_t counter = 0;
  for (auto _ : state) {
    ++counter;
    (void)f.store->CommitNow(at, ByteView(&counter, 1));
  }
}
BENCHMARK(BM_CommitNowRetryCounter);

// Reads of committed data, outside a transaction: what a READ BINARY or a node lookup costs
// the store (with integrity checks, the block's check is verified on every read).
void BM_Read(benchmark::State& state) {
  Fixture f;
  const uint32_t bytes = static_cast<uint32_t>(state.range(0));
  const uint32_t base = f.store->layout().BlockOffset(f.blocks.front());
  const uint32_t bs = f.store->layout().geometry.block_size;
  std::mt19937 rng(3);
  Bytes out(bytes);
  for (auto _ : state) {
    // Within one block, at a random block of the 48.
    const uint32_t at = base + static_cast<uint32_t>(rng() % 48) * bs +
                        static_cast<uint32_t>(rng() % (bs - bytes + 1));
    benchmark::DoNotOptimize(f.store->Read(at, out));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * bytes);
}
BENCHMARK(BM_Read)->Arg(1)->Arg(39)->Arg(256);

// A block's allocator state (every Write checks the blocks it touches).
void BM_GetBlockState(benchmark::State& state) {
  Fixture f;
  std::mt19937 rng(4);
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        f.store->GetBlockState(static_cast<uint32_t>(rng() % f.store->layout().block_count)));
  }
}
BENCHMARK(BM_GetBlockState);

// Allocating and freeing one block (allocator table read, two commits and a wipe).
void BM_AllocateFree(benchmark::State& state) {
  Fixture f;
  for (auto _ : state) {
    (void)f.store->Begin();
    auto b = f.store->AllocateBlock();
    (void)f.store->Commit();
    (void)f.store->Begin();
    (void)f.store->FreeBlock(*b);
    (void)f.store->Commit();
  }
}
BENCHMARK(BM_AllocateFree);

// Power-on recovery of an idle image (the cost every power-on pays).
void BM_MountIdle(benchmark::State& state) {
  Fixture f;
  for (auto _ : state) {
    auto s = NvmStore::Mount(f.ram.device(), BenchGeometry());
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_MountIdle);

}  // namespace
}  // namespace tessera::nvm

BENCHMARK_MAIN();
