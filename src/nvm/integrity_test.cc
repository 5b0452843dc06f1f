#include "nvm/integrity.h"

#include <gtest/gtest.h>

#include "core/crc32.h"
#include "nvm/image_inspector.h"
#include "nvm/nvm_store.h"

namespace tessera::nvm {
namespace {

Geometry SmallGeometry() {
  Geometry g;
  g.page_size = 64;
  g.nvm_size = 32 * 1024;
  g.journal_capacity = 2048;
  g.block_size = 256;
  g.root_size = 256;
  return g;
}

class IntegrityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(NvmStore::Format(ram_.device(), g_).ok());
    Remount();
    l_ = store_->layout();
    // Two blocks with data and a root record.
    ASSERT_TRUE(store_->Begin().ok());
    a_ = *store_->AllocateBlock();
    b_ = *store_->AllocateBlock();
    ASSERT_TRUE(store_->Write(l_.BlockOffset(a_), Bytes(200, 0xA5)).ok());
    ASSERT_TRUE(store_->Write(l_.BlockOffset(b_) + 10, Bytes(20, 0x5A)).ok());
    ASSERT_TRUE(store_->Write(l_.root_offset, Bytes(40, 0x11)).ok());
    ASSERT_TRUE(store_->Commit().ok());
    ASSERT_TRUE(Inspect().ok()) << Inspect().errors.front();
  }
  void Remount() {
    store_.reset();
    auto s = NvmStore::Mount(ram_.device(), g_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  ImageReport Inspect() { return InspectImage(ram_.device(), *ComputeLayout(g_)); }
  Status ReadAt(uint32_t offset, size_t n) {
    Bytes out(n);
    return store_->Read(offset, out);
  }

  Geometry g_ = SmallGeometry();
  RamNvm ram_{32 * 1024, 64};
  std::unique_ptr<NvmStore> store_;
  Layout l_;
  uint32_t a_ = 0, b_ = 0;
};

TEST(IntegrityLayout, EveryByteOfTheDataAreaIsInTheUnitThatHoldsIt) {
  const Layout l = *ComputeLayout(SmallGeometry());
  ASSERT_EQ(l.check_units, TablePageCount(l) + RootPageCount(l) + l.block_count);
  for (uint32_t at = 0; at < l.geometry.nvm_size; ++at) {
    const auto [first, last] = UnitsOverlapping(l, at, 1);
    const bool in_unit =
        (at >= l.table_offset && at < l.check_offset) || (at >= l.root_offset && at < l.end());
    if (!in_unit) {
      EXPECT_EQ(first, last) << "offset " << at;
      continue;
    }
    ASSERT_EQ(last, first + 1) << "offset " << at;
    const CheckUnit u = UnitAt(l, first);
    EXPECT_LE(u.offset, at);
    EXPECT_GT(u.offset + u.length, at);
  }
  // A range across units, and one that spans the check table between the table and the root.
  const auto [f, e] = UnitsOverlapping(l, l.BlockOffset(1) + 10, 2 * l.geometry.block_size);
  EXPECT_EQ(f, BlockUnit(l, 1));
  EXPECT_EQ(e, BlockUnit(l, 3) + 1);
  const auto [t, r] = UnitsOverlapping(l, l.check_offset - 1, l.root_offset - l.check_offset + 2);
  EXPECT_EQ(t, TablePageCount(l) - 1);
  EXPECT_EQ(r, TablePageCount(l) + 1);
}

TEST_F(IntegrityTest, AFreshStoreHoldsTheChecksOfZeros) {
  RamNvm ram(g_.nvm_size, g_.page_size);
  ASSERT_TRUE(NvmStore::Format(ram.device(), g_).ok());
  const ImageReport r = InspectImage(ram.device(), l_);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(GetU32(&ram.cells()[CheckEntryOffset(l_, BlockUnit(l_, 5))]),
            Crc32(Bytes(g_.block_size, 0)));
  EXPECT_EQ(GetU32(&ram.cells()[CheckEntryOffset(l_, 0)]), Crc32(Bytes(g_.page_size, 0)));
}

TEST_F(IntegrityTest, EachCommitWritesTheChecksOfWhatItChanged) {
  for (uint32_t b : {a_, b_}) {
    ByteView block = ByteView(ram_.cells()).subspan(l_.BlockOffset(b), g_.block_size);
    EXPECT_EQ(GetU32(&ram_.cells()[CheckEntryOffset(l_, BlockUnit(l_, b))]), Crc32(block));
  }
  // A freed block is wiped and its entry says zeros again.
  ASSERT_TRUE(store_->Begin().ok());
  ASSERT_TRUE(store_->FreeBlock(a_).ok());
  ASSERT_TRUE(store_->Commit().ok());
  EXPECT_TRUE(Inspect().ok());
  EXPECT_EQ(GetU32(&ram_.cells()[CheckEntryOffset(l_, BlockUnit(l_, a_))]),
            Crc32(Bytes(g_.block_size, 0)));
}

TEST_F(IntegrityTest, DamageInABlockIsRefusedOnReadAndWriteAndNamedByTheInspector) {
  Remount();
  ram_.cells()[l_.BlockOffset(b_) + 100] ^= 0x04;  // a byte no write of ours touched
  Status s = ReadAt(l_.BlockOffset(b_) + 10, 4);
  EXPECT_EQ(s.code(), ErrorCode::kCorruption);
  EXPECT_NE(s.message().find("block " + std::to_string(b_) + " fails its integrity check"),
            std::string::npos)
      << s.message();
  EXPECT_TRUE(ReadAt(l_.BlockOffset(a_), 4).ok());  // other blocks serve on
  // A write into the damaged block would seal the damage under a new check: refused.
  ASSERT_TRUE(store_->Begin().ok());
  EXPECT_EQ(store_->Write(l_.BlockOffset(b_), Bytes(4, 1)).code(), ErrorCode::kCorruption);
  store_->Abort();
  const ImageReport r = Inspect();
  ASSERT_EQ(r.integrity.size(), 1u);
  EXPECT_EQ(r.integrity[0].unit, BlockUnit(l_, b_));
  EXPECT_EQ(r.errors.front(), r.integrity[0].message);
}

TEST_F(IntegrityTest, ADamagedCheckEntryIsDamageToo) {
  Remount();
  ram_.cells()[CheckEntryOffset(l_, BlockUnit(l_, a_)) + 2] ^= 0x80;
  EXPECT_EQ(ReadAt(l_.BlockOffset(a_), 1).code(), ErrorCode::kCorruption);
  EXPECT_FALSE(Inspect().ok());
}

TEST_F(IntegrityTest, ARootPageThatFailsRefusesItsEarlyCommit) {
  Remount();
  ram_.cells()[l_.root_offset + 50] ^= 0x01;
  EXPECT_EQ(ReadAt(l_.root_offset, 1).code(), ErrorCode::kCorruption);
  EXPECT_EQ(store_->CommitNow(l_.root_offset + 2, Bytes(1, 9)).code(), ErrorCode::kCorruption);
  EXPECT_TRUE(ReadAt(l_.root_offset + 64, 4).ok());  // the next root page is intact
}

TEST_F(IntegrityTest, DamageInTheAllocatorTableRefusesWhatUsesIt) {
  // A FREE block's state flipped to USED: the table page fails, so allocation and writes that
  // look the state up are refused, not misled.
  Remount();
  ram_.cells()[l_.table_offset + 20] ^= 0x01;
  ASSERT_TRUE(store_->Begin().ok());
  EXPECT_EQ(store_->AllocateBlock().status().code(), ErrorCode::kCorruption);
  EXPECT_EQ(store_->Write(l_.BlockOffset(a_), Bytes(1, 1)).code(), ErrorCode::kCorruption);
  store_->Abort();
  EXPECT_FALSE(Inspect().ok());
}

TEST_F(IntegrityTest, RecoveryNeverWipesOnTheWordOfADamagedTablePage) {
  // A USED block's state flipped to WIPING: recovery would wipe live data. It refuses to mount.
  ram_.cells()[l_.table_offset + a_] = static_cast<uint8_t>(BlockState::kWiping);
  store_.reset();
  auto s = NvmStore::Mount(ram_.device(), g_);
  EXPECT_EQ(s.status().code(), ErrorCode::kCorruption);
  EXPECT_EQ(ram_.cells()[l_.BlockOffset(a_)], 0xA5);  // nothing wiped
}

TEST_F(IntegrityTest, CopyOnWriteAbortAndRollbackKeepEveryCheck) {
  // Fresh blocks committed, fresh blocks aborted, and fresh blocks rolled back to a savepoint
  // in a transaction that then commits: the image holds every check (I5) each time.
  ASSERT_TRUE(store_->Begin().ok());
  auto fresh = store_->AllocateFreshBlocks(2);
  ASSERT_TRUE(fresh.ok());
  ASSERT_TRUE(store_->Write(l_.BlockOffset((*fresh)[0]), Bytes(256, 0x33)).ok());
  ASSERT_TRUE(store_->Write(l_.BlockOffset((*fresh)[1]) + 5, Bytes(9, 0x44)).ok());
  EXPECT_TRUE(ReadAt(l_.BlockOffset((*fresh)[1]), 20).ok());
  ASSERT_TRUE(store_->Commit().ok());
  EXPECT_TRUE(Inspect().ok()) << Inspect().errors.front();
  Remount();
  EXPECT_TRUE(ReadAt(l_.BlockOffset((*fresh)[1]), 256).ok());

  ASSERT_TRUE(store_->Begin().ok());
  auto gone = store_->AllocateFreshBlocks(1);
  ASSERT_TRUE(store_->Write(l_.BlockOffset((*gone)[0]), Bytes(64, 0x55)).ok());
  store_->Abort();
  EXPECT_TRUE(Inspect().ok()) << Inspect().errors.front();

  ASSERT_TRUE(store_->Begin().ok());
  ASSERT_TRUE(store_->Write(l_.root_offset + 100, Bytes(3, 0x66)).ok());
  const Savepoint mark = store_->Mark();
  auto later = store_->AllocateFreshBlocks(1);
  ASSERT_TRUE(store_->Write(l_.BlockOffset((*later)[0]), Bytes(64, 0x77)).ok());
  ASSERT_TRUE(store_->CommitNow(l_.root_offset + 2, Bytes(1, 0x22)).ok());
  store_->RollbackTo(mark);
  ASSERT_TRUE(store_->Commit().ok());
  EXPECT_TRUE(Inspect().ok()) << Inspect().errors.front();
  Remount();
  Bytes root(104);
  ASSERT_TRUE(store_->Read(l_.root_offset, root).ok());
  EXPECT_EQ(root[2], 0x22);
  EXPECT_EQ(root[100], 0x66);
}

TEST_F(IntegrityTest, UncheckedReadsServeTheBytesForInspection) {
  Remount();
  ram_.cells()[l_.BlockOffset(b_) + 12] ^= 0x01;
  Bytes out(1);
  EXPECT_EQ(store_->Read(l_.BlockOffset(b_) + 12, out).code(), ErrorCode::kCorruption);
  {
    const NvmStore::UncheckedReads unchecked(*store_);
    ASSERT_TRUE(store_->Read(l_.BlockOffset(b_) + 12, out).ok());
    EXPECT_EQ(out[0], 0x5B);
  }
  EXPECT_EQ(store_->Read(l_.BlockOffset(b_) + 12, out).code(), ErrorCode::kCorruption);
  EXPECT_EQ(store_->VerifyUnit(BlockUnit(l_, b_)).code(), ErrorCode::kCorruption);
}

}  // namespace
}  // namespace tessera::nvm
