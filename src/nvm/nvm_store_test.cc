#include "nvm/nvm_store.h"

#include <gtest/gtest.h>

#include <algorithm>

#include <functional>

#include "nvm/image_inspector.h"
#include "nvm/integrity.h"

namespace tessera::nvm {
namespace {

Geometry SmallGeometry() {
  Geometry g;
  g.page_size = 64;
  g.nvm_size = 16 * 1024;
  g.journal_capacity = 1024;
  g.block_size = 256;
  g.root_size = 256;
  return g;
}

class NvmStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(NvmStore::Format(ram_.device(), g_).ok());
    Remount();
  }
  void Remount() {
    store_.reset();
    auto s = NvmStore::Mount(ram_.device(), g_, &report_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  Bytes ReadBytes(uint32_t off, size_t n) {
    Bytes b(n);
    EXPECT_TRUE(store_->Read(off, b).ok());
    return b;
  }
  uint32_t root() const { return store_->layout().root_offset; }
  // Program operations the given transaction's Commit() performs, measured on a copy.
  uint64_t CommitPrograms(const std::function<void(NvmStore&)>& fill) {
    auto copy = RamNvm::CopyOf(ram_.device());
    auto s = NvmStore::Mount(copy->device(), g_);
    EXPECT_TRUE(s.ok());
    EXPECT_TRUE((*s)->Begin().ok());
    fill(**s);
    const uint64_t before = copy->device().programs();
    EXPECT_TRUE((*s)->Commit().ok());
    return copy->device().programs() - before;
  }

  Geometry g_ = SmallGeometry();
  RamNvm ram_{16 * 1024, 64};
  std::unique_ptr<NvmStore> store_;
  RecoveryReport report_;
};

TEST(Geometry, LayoutIsPageAlignedAndFits) {
  auto l = ComputeLayout(Geometry{});
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->journal_body_offset, 64u);
  EXPECT_EQ(l->table_offset % 64, 0u);
  EXPECT_EQ(l->root_offset % 64, 0u);
  EXPECT_GE(l->root_offset - l->table_offset, l->block_count);
  EXPECT_LE(l->end(), 1u << 20);
  EXPECT_GT(l->block_count, 3900u);
  // The check table: an entry per table page, root page and block, between table and root.
  EXPECT_EQ(l->check_offset % 64, 0u);
  EXPECT_EQ(l->check_offset - l->table_offset, (l->block_count + 63) / 64 * 64);
  EXPECT_EQ(l->check_units, (l->block_count + 63) / 64 + 4 + l->block_count);
  EXPECT_GE(l->root_offset - l->check_offset, 4 * l->check_units);
  EXPECT_LT(l->root_offset - l->check_offset, 4 * l->check_units + 64);
  Geometry bad;
  bad.page_size = 48;
  EXPECT_EQ(ComputeLayout(bad).status().code(), ErrorCode::kInvalidArgument);
  bad = Geometry{};
  bad.block_size = 100;
  EXPECT_FALSE(ComputeLayout(bad).ok());
  bad = Geometry{};
  bad.nvm_size = 64 * 200;  // journal alone does not fit
  EXPECT_FALSE(ComputeLayout(bad).ok());
}

TEST_F(NvmStoreTest, CommitMakesWritesDurableAndVisible) {
  ASSERT_TRUE(store_->Begin().ok());
  ASSERT_TRUE(store_->Write(root() + 3, ToBytes("hello")).ok());
  EXPECT_EQ(ReadBytes(root() + 3, 5), ToBytes("hello"));  // read your writes
  Bytes raw(5);
  ASSERT_TRUE(ram_.device().Read(root() + 3, raw).ok());
  EXPECT_EQ(raw, Bytes(5, 0));  // not on NVM before commit
  ASSERT_TRUE(store_->Commit().ok());
  EXPECT_EQ(store_->sequence(), 1u);
  Remount();
  EXPECT_EQ(ReadBytes(root() + 3, 5), ToBytes("hello"));
  EXPECT_FALSE(report_.replayed_transaction);
}

TEST_F(NvmStoreTest, AbortChangesNothing) {
  ASSERT_TRUE(store_->Begin().ok());
  ASSERT_TRUE(store_->Write(root(), ToBytes("gone")).ok());
  uint64_t before = ram_.device().programs();
  store_->Abort();
  EXPECT_EQ(ram_.device().programs(), before);
  EXPECT_EQ(ReadBytes(root(), 4), Bytes(4, 0));
}

TEST_F(NvmStoreTest, OverlappingWritesMerge) {
  ASSERT_TRUE(store_->Begin().ok());
  ASSERT_TRUE(store_->Write(root() + 10, ToBytes("aaaaaa")).ok());
  ASSERT_TRUE(store_->Write(root() + 12, ToBytes("bb")).ok());
  ASSERT_TRUE(store_->Write(root() + 60, ToBytes("cccccccc")).ok());  // crosses a page
  EXPECT_EQ(ReadBytes(root() + 10, 6), ToBytes("aabbaa"));
  ASSERT_TRUE(store_->Commit().ok());
  Remount();
  EXPECT_EQ(ReadBytes(root() + 10, 6), ToBytes("aabbaa"));
  EXPECT_EQ(ReadBytes(root() + 60, 8), ToBytes("cccccccc"));
}

TEST_F(NvmStoreTest, RefusesWritesOutsideTheDataAreaAndOutsideTransactions) {
  EXPECT_EQ(store_->Write(root(), ToBytes("x")).code(), ErrorCode::kFailedPrecondition);
  ASSERT_TRUE(store_->Begin().ok());
  EXPECT_EQ(store_->Begin().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(store_->Write(store_->layout().table_offset, ToBytes("x")).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->Write(0, ToBytes("x")).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->Write(store_->layout().end() - 1, ToBytes("xy")).code(),
            ErrorCode::kInvalidArgument);
  store_->Abort();
  EXPECT_EQ(store_->Commit().code(), ErrorCode::kFailedPrecondition);
}

TEST_F(NvmStoreTest, ExceedingCommitCapacityFailsCleanly) {
  // Four adjacent blocks (1024 bytes) to write into.
  ASSERT_TRUE(store_->Begin().ok());
  std::vector<uint32_t> blocks;
  for (int i = 0; i < 4; ++i) blocks.push_back(*store_->AllocateBlock());
  ASSERT_TRUE(store_->Commit().ok());
  ASSERT_EQ(blocks.back(), blocks.front() + 3);
  const uint32_t base = store_->layout().BlockOffset(blocks.front());

  // Every run of pages costs 6 bytes plus its pages, and the page of the check table that holds
  // the touched units' entries (G8) is one more run: here the entries of the root area's first
  // page and of the four blocks share check page 0, which is adjacent to none of the data.
  const uint32_t check_page = store_->layout().check_offset;
  ASSERT_LT(CheckEntryOffset(store_->layout(), BlockUnit(store_->layout(), blocks.back())),
            check_page + 64);
  ASSERT_TRUE(store_->Begin().ok());
  ASSERT_TRUE(store_->Write(root(), Bytes(8, 1)).ok());
  EXPECT_EQ(store_->pending_journal_bytes(), 6u + 64 + 6 + 64);
  ASSERT_TRUE(store_->Write(base, Bytes(13 * 64, 9)).ok());
  const size_t before = store_->pending_journal_bytes();
  EXPECT_EQ(before, 6u + 64 + 6 + 64 + 6 + 13 * 64);
  Status s = store_->Write(base, Bytes(15 * 64, 7));
  EXPECT_EQ(s.code(), ErrorCode::kCapacityExceeded);
  EXPECT_NE(s.message().find("commit capacity is 1024"), std::string::npos);
  EXPECT_EQ(store_->pending_journal_bytes(), before);  // the transaction is unchanged
  EXPECT_EQ(ReadBytes(base, 1), Bytes(1, 9));
  const uint64_t programs = ram_.device().programs();
  store_->Abort();
  EXPECT_EQ(ram_.device().programs(), programs);  // nothing reached NVM
  Remount();
  EXPECT_EQ(ReadBytes(root(), 8), Bytes(8, 0));
  EXPECT_EQ(ReadBytes(base, 64), Bytes(64, 0));

  // The largest page run that fits with its check page: 6 + 14 pages + 6 + 1 page = 972.
  ASSERT_TRUE(store_->Begin().ok());
  EXPECT_EQ(store_->Write(base, Bytes(15 * 64, 9)).code(), ErrorCode::kCapacityExceeded);
  ASSERT_TRUE(store_->Write(base, Bytes(14 * 64, 9)).ok());
  EXPECT_EQ(store_->pending_journal_bytes(), 972u);
  ASSERT_TRUE(store_->Commit().ok());
  Remount();
  EXPECT_EQ(ReadBytes(base + 14 * 64 - 1, 2), (Bytes{9, 0}));
}

TEST_F(NvmStoreTest, CommitNowIsDurableBeforeTheTransactionCommits) {
  ASSERT_TRUE(store_->Begin().ok());
  ASSERT_TRUE(store_->Write(root() + 8, ToBytes("other")).ok());
  ASSERT_TRUE(store_->Write(root(), ToBytes("AAAA")).ok());
  ASSERT_TRUE(store_->CommitNow(root() + 1, ToBytes("3")).ok());
  EXPECT_EQ(ReadBytes(root(), 4), ToBytes("A3AA"));  // the transaction sees it
  // Power is lost before the transaction commits: the early write survives alone.
  store_.reset();
  Remount();
  EXPECT_EQ(ReadBytes(root(), 4), (Bytes{0, '3', 0, 0}));
  EXPECT_EQ(ReadBytes(root() + 8, 5), Bytes(5, 0));
}

// A counter in a block allocated by the same transaction (a PIN file made and tried in one
// command): committing it early would leave data in a free block after an abort; it commits
// with the block instead.
TEST_F(NvmStoreTest, CommitNowIntoABlockOfTheOpenTransactionCommitsWithIt) {
  ASSERT_TRUE(store_->Begin().ok());
  auto b = store_->AllocateBlock();
  ASSERT_TRUE(b.ok());
  const uint32_t at = store_->layout().BlockOffset(*b);
  ASSERT_TRUE(store_->CommitNow(at + 1, ToBytes("7")).ok());
  EXPECT_EQ(ReadBytes(at + 1, 1), ToBytes("7"));  // the transaction sees it
  store_->Abort();
  EXPECT_EQ(store_->GetBlockState(*b).value(), BlockState::kFree);
  EXPECT_EQ(ReadBytes(at, 4), Bytes(4, 0));
  EXPECT_TRUE(InspectImage(ram_.device(), store_->layout()).ok());
  // Committed, it is there.
  ASSERT_TRUE(store_->Begin().ok());
  b = store_->AllocateBlock();
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(store_->CommitNow(store_->layout().BlockOffset(*b) + 1, ToBytes("8")).ok());
  ASSERT_TRUE(store_->Commit().ok());
  Remount();
  EXPECT_EQ(ReadBytes(store_->layout().BlockOffset(*b) + 1, 1), ToBytes("8"));
}

TEST_F(NvmStoreTest, AllocatorAllocatesFreesAndWipes) {
  ASSERT_TRUE(store_->Begin().ok());
  auto a = store_->AllocateBlock();
  auto b = store_->AllocateBlock();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  ASSERT_TRUE(store_->Write(store_->layout().BlockOffset(*a), Bytes(256, 0xAA)).ok());
  // A write that reaches into a block not allocated is refused.
  auto st = store_->Write(store_->layout().BlockOffset(*b) + 200, Bytes(100, 1));
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(st.message().find("not allocated"), std::string::npos);
  ASSERT_TRUE(store_->Commit().ok());
  EXPECT_EQ(store_->CountBlocks(BlockState::kUsed), 2u);

  ASSERT_TRUE(store_->Begin().ok());
  ASSERT_TRUE(store_->FreeBlock(*a).ok());
  EXPECT_EQ(store_->FreeBlock(*a).code(), ErrorCode::kFailedPrecondition);  // already WIPING
  ASSERT_TRUE(store_->Commit().ok());
  EXPECT_EQ(*store_->GetBlockState(*a), BlockState::kFree);
  EXPECT_EQ(ReadBytes(store_->layout().BlockOffset(*a), 256), Bytes(256, 0));
  EXPECT_TRUE(InspectImage(ram_.device(), store_->layout()).ok());
}

TEST_F(NvmStoreTest, AllocatorReportsExhaustion) {
  const uint32_t n = store_->layout().block_count;
  for (uint32_t i = 0; i < n; ++i) {
    ASSERT_TRUE(store_->Begin().ok());
    ASSERT_TRUE(store_->AllocateBlock().ok()) << i;
    ASSERT_TRUE(store_->Commit().ok());
  }
  ASSERT_TRUE(store_->Begin().ok());
  EXPECT_EQ(store_->AllocateBlock().status().code(), ErrorCode::kOutOfSpace);
}

TEST_F(NvmStoreTest, RecoveryFinishesAnInterruptedWipe) {
  ASSERT_TRUE(store_->Begin().ok());
  auto a = store_->AllocateBlock();
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(store_->Write(store_->layout().BlockOffset(*a), Bytes(256, 0xEE)).ok());
  ASSERT_TRUE(store_->Commit().ok());
  auto fill = [&](NvmStore& s) { ASSERT_TRUE(s.FreeBlock(*a).ok()); };
  // Commit = body, header, table apply, idle header, then 4 wipe programs, then the release
  // transaction: cut in the middle of the wipe.
  const uint64_t n = CommitPrograms(fill);
  ASSERT_TRUE(store_->Begin().ok());
  fill(*store_);
  ram_.device().ScheduleCut(n - 6, TearMode::kHarsh, 5);
  EXPECT_EQ(store_->Commit().code(), ErrorCode::kPowerLost);
  EXPECT_EQ(store_->Begin().code(), ErrorCode::kPowerLost);  // the store is dead
  ram_.device().PowerOn();
  ImageReport before = InspectImage(ram_.device(), store_->layout());
  EXPECT_EQ(before.blocks_wiping, 1u);
  Remount();
  EXPECT_EQ(report_.wipes_finished, 1u);
  EXPECT_EQ(*store_->GetBlockState(*a), BlockState::kFree);
  EXPECT_EQ(ReadBytes(store_->layout().BlockOffset(*a), 256), Bytes(256, 0));
}

TEST_F(NvmStoreTest, RecoveryReplaysACommittedJournal) {
  auto fill = [&](NvmStore& s) { ASSERT_TRUE(s.Write(root(), ToBytes("replayed")).ok()); };
  const uint64_t n = CommitPrograms(fill);  // body..., header, apply, idle header
  ASSERT_TRUE(store_->Begin().ok());
  fill(*store_);
  ram_.device().ScheduleCut(n - 2, TearMode::kNormal, 3);  // the home-page program
  EXPECT_EQ(store_->Commit().code(), ErrorCode::kPowerLost);
  ram_.device().PowerOn();
  EXPECT_EQ(InspectImage(ram_.device(), store_->layout()).journal_state, JournalState::kCommitted);
  Remount();
  EXPECT_TRUE(report_.replayed_transaction);
  EXPECT_EQ(ReadBytes(root(), 8), ToBytes("replayed"));
  EXPECT_EQ(InspectImage(ram_.device(), store_->layout()).journal_state, JournalState::kIdle);
}

TEST_F(NvmStoreTest, DamagedJournalOrTableIsCorruptionNotSilentRepair) {
  auto fill = [&](NvmStore& s) { ASSERT_TRUE(s.Write(root(), ToBytes("x")).ok()); };
  const uint64_t n = CommitPrograms(fill);
  ASSERT_TRUE(store_->Begin().ok());
  fill(*store_);
  ram_.device().ScheduleCut(n - 2, TearMode::kNormal, 3);
  EXPECT_EQ(store_->Commit().code(), ErrorCode::kPowerLost);
  ram_.device().PowerOn();
  ram_.cells()[64 + 10] ^= 0xFF;  // flip a committed body byte
  store_.reset();
  auto m = NvmStore::Mount(ram_.device(), g_);
  EXPECT_EQ(m.status().code(), ErrorCode::kCorruption);
  EXPECT_FALSE(InspectImage(ram_.device(), *ComputeLayout(g_)).ok());

  RamNvm other(16 * 1024, 64);
  ASSERT_TRUE(NvmStore::Format(other.device(), g_).ok());
  other.cells()[ComputeLayout(g_)->table_offset + 2] = 0x07;
  EXPECT_EQ(NvmStore::Mount(other.device(), g_).status().code(), ErrorCode::kCorruption);
}

}  // namespace
}  // namespace tessera::nvm

namespace tessera::nvm {
namespace {

bool BlockIsZero(NvmDevice& d, const Layout& l, uint32_t b) {
  ByteView cells = d.cells();
  auto start = cells.begin() + l.BlockOffset(b);
  return std::all_of(start, start + l.geometry.block_size, [](uint8_t x) { return x == 0; });
}

TEST_F(NvmStoreTest, FreshBlocksAreWrittenDirectlyAndSwitchedAtCommit) {
  ASSERT_TRUE(store_->Begin().ok());
  auto fresh = store_->AllocateFreshBlocks(2);
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  const Bytes data(g_.block_size, 0x5C);
  ASSERT_TRUE(store_->Write(store_->layout().BlockOffset((*fresh)[0]), data).ok());
  // Outside the journal: already on NVM, and the transaction's journal use stays small.
  EXPECT_FALSE(BlockIsZero(ram_.device(), store_->layout(), (*fresh)[0]));
  EXPECT_LT(store_->pending_journal_bytes(), size_t{g_.block_size});
  ASSERT_TRUE(store_->Commit().ok());
  EXPECT_EQ(*store_->GetBlockState((*fresh)[0]), BlockState::kUsed);
  EXPECT_EQ(*store_->GetBlockState((*fresh)[1]), BlockState::kUsed);
  EXPECT_EQ(ReadBytes(store_->layout().BlockOffset((*fresh)[0]), g_.block_size), data);
}

TEST_F(NvmStoreTest, AbortAndRollbackWipeFreshBlocks) {
  const uint32_t free_before = store_->CountBlocks(BlockState::kFree);
  // Abort: the fresh blocks are wiped and free again at once.
  ASSERT_TRUE(store_->Begin().ok());
  auto a = store_->AllocateFreshBlocks(1);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(store_->Write(store_->layout().BlockOffset((*a)[0]), Bytes(64, 0x11)).ok());
  store_->Abort();
  EXPECT_EQ(store_->CountBlocks(BlockState::kFree), free_before);
  EXPECT_TRUE(BlockIsZero(ram_.device(), store_->layout(), (*a)[0]));
  EXPECT_TRUE(InspectImage(ram_.device(), store_->layout()).ok());
  // RollbackTo then Abort (a failed command inside a caller's transaction, then the caller
  // aborts): wiped too.
  ASSERT_TRUE(store_->Begin().ok());
  const Savepoint mark = store_->Mark();
  auto b = store_->AllocateFreshBlocks(1);
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(store_->Write(store_->layout().BlockOffset((*b)[0]), Bytes(64, 0x22)).ok());
  store_->RollbackTo(mark);
  store_->Abort();
  EXPECT_EQ(store_->CountBlocks(BlockState::kFree), free_before);
  EXPECT_TRUE(BlockIsZero(ram_.device(), store_->layout(), (*b)[0]));
  // RollbackTo then Commit of the rest: wiped after the commit.
  ASSERT_TRUE(store_->Begin().ok());
  ASSERT_TRUE(store_->Write(root(), ToBytes("kept")).ok());
  const Savepoint mark2 = store_->Mark();
  auto c = store_->AllocateFreshBlocks(1);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(store_->Write(store_->layout().BlockOffset((*c)[0]), Bytes(64, 0x33)).ok());
  store_->RollbackTo(mark2);
  ASSERT_TRUE(store_->Commit().ok());
  EXPECT_EQ(ReadBytes(root(), 4), ToBytes("kept"));
  EXPECT_EQ(store_->CountBlocks(BlockState::kFree), free_before);
  EXPECT_TRUE(BlockIsZero(ram_.device(), store_->layout(), (*c)[0]));
  EXPECT_TRUE(InspectImage(ram_.device(), store_->layout()).ok());
}

TEST_F(NvmStoreTest, RollbackKeepsAnEarlyCommit) {
  // A retry counter committed early after the savepoint must survive a rollback of the
  // transaction's other writes (no free try).
  ASSERT_TRUE(store_->Begin().ok());
  ASSERT_TRUE(store_->Write(root(), Bytes{3, 3, 3, 3}).ok());
  const Savepoint mark = store_->Mark();
  const uint8_t spent = 2;
  ASSERT_TRUE(store_->CommitNow(root() + 1, ByteView(&spent, 1)).ok());
  ASSERT_TRUE(store_->Write(root() + 2, Bytes{9}).ok());
  store_->RollbackTo(mark);
  ASSERT_TRUE(store_->Commit().ok());
  EXPECT_EQ(ReadBytes(root(), 4), (Bytes{3, 2, 3, 3}));
}

TEST_F(NvmStoreTest, SensitiveBodyIsZeroedAndACutDuringTheWipeIsFinishedByRecovery) {
  const Bytes secret = ToBytes("SECRET-PIN-8642!");
  auto fill = [&](NvmStore& s) {
    ASSERT_TRUE(s.Write(root(), secret).ok());
    s.MarkSensitive();
  };
  auto count = [&] {
    ByteView cells = ram_.device().cells();
    size_t n = 0;
    for (auto it = cells.begin();
         (it = std::search(it, cells.end(), secret.begin(), secret.end())) != cells.end(); ++it)
      ++n;
    return n;
  };
  const uint64_t n = CommitPrograms(fill);
  // Cut at every program after the commit point: recovery must leave the secret at its home
  // only.
  for (uint64_t k = 0; k < n; ++k) {
    ASSERT_TRUE(NvmStore::Format(ram_.device(), g_).ok());
    Remount();
    ASSERT_TRUE(store_->Begin().ok());
    fill(*store_);
    ram_.device().ScheduleCut(k, TearMode::kNormal, k);
    EXPECT_EQ(store_->Commit().code(), ErrorCode::kPowerLost);
    ram_.device().CancelCut();
    ram_.device().PowerOn();
    Remount();
    const size_t found = count();
    const bool committed = ReadBytes(root(), secret.size()) == secret;
    EXPECT_EQ(found, committed ? 1u : 0u) << "cut at program " << k << " of " << n;
  }
}

}  // namespace
}  // namespace tessera::nvm
