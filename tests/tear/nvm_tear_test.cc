// Power cut at every program operation of random transactions and allocator sequences, in both
// tear modes, with a second cut during recovery. Each test prints how many cut points it ran and
// fails if it ran fewer than its own floor (the floors add up to 10,000), so no count depends on
// which other tests ran.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>

#include "nvm/image_inspector.h"
#include "nvm/nvm_store.h"
#include "support/tear_harness.h"

namespace tessera::nvm {
namespace {

using testing::RunAtEveryCutPoint;
using testing::TearOptions;
using testing::TearScenario;
using testing::TearStats;

// Each test's floor; together at least 10,000 cut points (docs/nvm-format.md §7).
constexpr uint64_t kMinimumTransactionCutPoints = 6000;
constexpr uint64_t kMinimumAllocatorCutPoints = 4000;

Geometry TearGeometry() {
  Geometry g;
  g.page_size = 64;
  g.nvm_size = 16 * 1024;
  g.journal_capacity = 2048;
  g.block_size = 256;
  g.root_size = 256;
  return g;
}

// The observable state: the whole data area after recovery, provided the invariants hold.
Result<Bytes> ObserveDataArea(NvmDevice& device) {
  const Geometry g = TearGeometry();
  auto store = NvmStore::Mount(device, g);
  if (!store.ok()) return store.status();
  const Layout& l = (*store)->layout();
  ImageReport report = InspectImage(device, l);
  if (!report.ok()) return Corruption("invariant broken: " + report.errors.front());
  if (report.blocks_wiping != 0) return Corruption("a wipe was left unfinished after recovery");
  if (report.journal_state != JournalState::kIdle)
    return Corruption("journal not idle after recovery");
  Bytes state(l.end() - l.table_offset);
  TESSERA_RETURN_IF_ERROR((*store)->Read(l.table_offset, state));
  return state;
}

// The cut points one test ran. Each test counts and checks its own, so no assertion depends on
// which other tests ran before it (or at all).
struct Totals {
  uint64_t cut_points = 0;
  uint64_t recovery_cut_points = 0;
  uint64_t normal = 0;
  uint64_t harsh = 0;
  void Add(const TearStats& s, TearMode mode) {
    cut_points += s.cut_points;
    recovery_cut_points += s.recovery_cut_points;
    (mode == TearMode::kNormal ? normal : harsh) += s.cut_points;
  }
  void Print(const char* what) const {
    std::printf(
        "tear: %llu cut points (%llu normal, %llu harsh) plus %llu cuts during recovery, %s\n",
        static_cast<unsigned long long>(cut_points), static_cast<unsigned long long>(normal),
        static_cast<unsigned long long>(harsh),
        static_cast<unsigned long long>(recovery_cut_points), what);
  }
};

// What a test that cuts power must have run: at least `minimum` cut points, in both tear modes,
// and cuts during recovery too.
void ExpectCoverage(const Totals& t, uint64_t minimum) {
  EXPECT_GE(t.cut_points, minimum);
  EXPECT_GT(t.normal, 0u);
  EXPECT_GT(t.harsh, 0u);
  EXPECT_GT(t.recovery_cut_points, 0u);
}

// A random image: formatted, then a few committed transactions with data and blocks in use.
std::unique_ptr<RamNvm> RandomInitialImage(std::mt19937_64& rng) {
  const Geometry g = TearGeometry();
  auto ram = std::make_unique<RamNvm>(g.nvm_size, g.page_size);
  EXPECT_TRUE(NvmStore::Format(ram->device(), g).ok());
  auto store = NvmStore::Mount(ram->device(), g);
  EXPECT_TRUE(store.ok());
  NvmStore& s = **store;
  const int txs = static_cast<int>(rng() % 4);
  for (int t = 0; t < txs; ++t) {
    EXPECT_TRUE(s.Begin().ok());
    for (int b = 0, n = static_cast<int>(rng() % 3); b < n; ++b) {
      auto block = s.AllocateBlock();
      if (!block.ok()) break;
      Bytes fill(g.block_size, static_cast<uint8_t>(rng()));
      EXPECT_TRUE(s.Write(s.layout().BlockOffset(*block), ByteView(fill).first(200)).ok());
    }
    Bytes root(32, static_cast<uint8_t>(rng()));
    EXPECT_TRUE(s.Write(s.layout().root_offset + static_cast<uint32_t>(rng() % 200), root).ok());
    EXPECT_TRUE(s.Commit().ok());
  }
  return ram;
}

// A random multi-write transaction over the root area and the blocks, sometimes with an early
// commit (a retry counter) in the middle.
// The steps the harness checks old-or-new: each early commit and the transaction.
using Run = std::function<Status(NvmDevice&, const std::function<void()>&)>;

Run RandomTransaction(uint64_t seed) {
  return [seed](NvmDevice& device, const std::function<void()>& step_done) -> Status {
    std::mt19937_64 rng(seed);
    TESSERA_ASSIGN_OR_RETURN(auto store, NvmStore::Mount(device, TearGeometry()));
    const Layout& l = store->layout();
    TESSERA_RETURN_IF_ERROR(store->Begin());
    // Targets: the root area and every allocated block.
    std::vector<std::pair<uint32_t, uint32_t>> targets = {{l.root_offset, l.geometry.root_size}};
    for (uint32_t b = 0; b < l.block_count; ++b) {
      auto st = store->GetBlockState(b);
      if (st.ok() && *st == BlockState::kUsed)
        targets.push_back({l.BlockOffset(b), l.geometry.block_size});
    }
    const int writes = 1 + static_cast<int>(rng() % 8);
    for (int i = 0; i < writes; ++i) {
      const auto [start, size] = targets[rng() % targets.size()];
      const uint32_t len = 1 + static_cast<uint32_t>(rng() % std::min<uint32_t>(size, 150));
      const uint32_t off = start + static_cast<uint32_t>(rng() % (size - len + 1));
      Bytes data(len);
      for (auto& b : data) b = static_cast<uint8_t>(rng());
      Status s = store->Write(off, data);
      if (s.code() == ErrorCode::kCapacityExceeded) break;  // the command would fail cleanly
      TESSERA_RETURN_IF_ERROR(s);
      if (rng() % 5 == 0) {
        const uint8_t counter = static_cast<uint8_t>(rng());
        TESSERA_RETURN_IF_ERROR(store->CommitNow(l.root_offset, ByteView(&counter, 1)));
        step_done();
      }
    }
    TESSERA_RETURN_IF_ERROR(store->Commit());
    step_done();
    return Status::Ok();
  };
}

// A random allocator sequence in one transaction: allocate, fill, free, and fill fresh
// (copy-on-write) blocks, some of them taken after a savepoint that is rolled back.
Run RandomAllocatorOps(uint64_t seed) {
  return [seed](NvmDevice& device, const std::function<void()>& step_done) -> Status {
    std::mt19937_64 rng(seed);
    TESSERA_ASSIGN_OR_RETURN(auto store, NvmStore::Mount(device, TearGeometry()));
    const Layout& l = store->layout();
    TESSERA_RETURN_IF_ERROR(store->Begin());
    const int ops = 1 + static_cast<int>(rng() % 5);
    for (int i = 0; i < ops; ++i) {
      if (rng() % 2 == 0) {
        std::vector<uint32_t> used;
        for (uint32_t b = 0; b < l.block_count; ++b) {
          auto st = store->GetBlockState(b);
          if (st.ok() && *st == BlockState::kUsed) used.push_back(b);
        }
        if (!used.empty()) {
          TESSERA_RETURN_IF_ERROR(store->FreeBlock(used[rng() % used.size()]));
          continue;
        }
      }
      if (rng() % 3 == 0) {
        // Copy-on-write blocks: written outside the journal. The early commit that takes
        // them changes nothing a later power-on keeps unless the transaction commits.
        const bool roll_back = rng() % 3 == 0;
        const Savepoint mark = store->Mark();
        auto fresh = store->AllocateFreshBlocks(1 + rng() % 3);
        if (!fresh.ok()) return fresh.status();
        for (uint32_t b : *fresh) {
          Bytes data(l.geometry.block_size, static_cast<uint8_t>(rng() | 1));
          TESSERA_RETURN_IF_ERROR(store->Write(l.BlockOffset(b), data));
        }
        if (roll_back) store->RollbackTo(mark);
        continue;
      }
      auto block = store->AllocateBlock();
      if (!block.ok()) return block.status();
      Bytes data(64 + rng() % 128, static_cast<uint8_t>(rng() | 1));
      Status s = store->Write(l.BlockOffset(*block), data);
      if (s.code() == ErrorCode::kCapacityExceeded) break;
      TESSERA_RETURN_IF_ERROR(s);
    }
    TESSERA_RETURN_IF_ERROR(store->Commit());
    step_done();
    return Status::Ok();
  };
}

void RunMany(const char* kind, std::function<Run(uint64_t)> make, int count, uint64_t base_seed,
             Totals& totals) {
  for (TearMode mode : {TearMode::kNormal, TearMode::kHarsh}) {
    for (int i = 0; i < count; ++i) {
      const uint64_t seed = base_seed + static_cast<uint64_t>(i) * 7919;
      std::mt19937_64 rng(seed);
      auto initial = RandomInitialImage(rng);
      TearScenario scenario{std::string(kind) + " #" + std::to_string(i), &initial->device(),
                            make(seed), ObserveDataArea, nullptr};
      auto stats = RunAtEveryCutPoint(scenario, TearOptions{mode, seed, true});
      ASSERT_TRUE(stats.ok()) << stats.status().ToString();
      totals.Add(*stats, mode);
    }
  }
}

TEST(NvmTear, RandomMultiWriteTransactions) {
  Totals t;
  RunMany("transaction", RandomTransaction, 200, 1, t);
  t.Print("multi-write transactions");
  ExpectCoverage(t, kMinimumTransactionCutPoints);
}

TEST(NvmTear, RandomAllocatorSequences) {
  Totals t;
  RunMany("allocator", RandomAllocatorOps, 160, 100003, t);
  t.Print("allocator sequences");
  ExpectCoverage(t, kMinimumAllocatorCutPoints);
}

TEST(NvmTear, ExceededCapacityChangesNothing) {
  std::mt19937_64 rng(5);
  auto initial = RandomInitialImage(rng);
  auto before = RamNvm::CopyOf(initial->device());
  auto store = NvmStore::Mount(initial->device(), TearGeometry());
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Begin().ok());
  std::vector<uint32_t> blocks;
  for (int i = 0; i < 16; ++i) {
    auto b = (*store)->AllocateBlock();
    ASSERT_TRUE(b.ok());
    blocks.push_back(*b);
  }
  for (uint32_t b : blocks) {
    Status s = (*store)->Write((*store)->layout().BlockOffset(b), Bytes(256, 1));
    if (!s.ok()) {
      EXPECT_EQ(s.code(), ErrorCode::kCapacityExceeded);
      break;
    }
  }
  (*store)->Abort();
  EXPECT_EQ(initial->cells(), before->cells());
}

}  // namespace
}  // namespace tessera::nvm

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
