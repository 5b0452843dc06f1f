#include "nvm/nvm_device.h"

#include <gtest/gtest.h>

namespace tessera::nvm {
namespace {

TEST(NvmDevice, ProgramsPagesAndCountsWear) {
  RamNvm ram(256, 64);
  NvmDevice& d = ram.device();
  Bytes page(64, 0xAB);
  ASSERT_TRUE(d.ProgramPage(1, page).ok());
  ASSERT_TRUE(d.ProgramPage(1, page).ok());
  Bytes out(64);
  ASSERT_TRUE(d.Read(64, out).ok());
  EXPECT_EQ(out, page);
  EXPECT_EQ(d.programs(), 2u);
  EXPECT_EQ(d.wear(1), 2u);
  EXPECT_EQ(d.wear(0), 0u);
  EXPECT_EQ(d.ProgramPage(4, page).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(d.ProgramPage(0, Bytes(10)).code(), ErrorCode::kInvalidArgument);
  Bytes big(300);
  EXPECT_EQ(d.Read(0, big).code(), ErrorCode::kInvalidArgument);
}

TEST(NvmDevice, ProgramRangeSkipsUnchangedPages) {
  RamNvm ram(256, 64);
  NvmDevice& d = ram.device();
  ASSERT_TRUE(d.ProgramRange(60, Bytes(10, 1)).ok());  // spans pages 0 and 1
  EXPECT_EQ(d.programs(), 2u);
  ASSERT_TRUE(d.ProgramRange(60, Bytes(10, 1)).ok());  // nothing changes
  EXPECT_EQ(d.programs(), 2u);
  ASSERT_TRUE(d.ProgramRange(0, Bytes(4, 0)).ok());  // already zero
  EXPECT_EQ(d.programs(), 2u);
}

TEST(NvmDevice, NormalCutLeavesOldOrNewBytesAndRefusesUntilPowerOn) {
  RamNvm ram(128, 64);
  NvmDevice& d = ram.device();
  ASSERT_TRUE(d.ProgramPage(0, Bytes(64, 0x11)).ok());
  d.ScheduleCut(1, TearMode::kNormal, 42);
  ASSERT_TRUE(d.ProgramPage(1, Bytes(64, 0x22)).ok());  // index 0: completes
  EXPECT_EQ(d.ProgramPage(0, Bytes(64, 0x33)).code(), ErrorCode::kPowerLost);
  EXPECT_FALSE(d.powered());
  Bytes out(64);
  EXPECT_EQ(d.Read(0, out).code(), ErrorCode::kPowerLost);
  EXPECT_EQ(d.ProgramPage(1, Bytes(64, 0x44)).code(), ErrorCode::kPowerLost);
  d.PowerOn();
  ASSERT_TRUE(d.Read(0, out).ok());
  int old_bytes = 0, new_bytes = 0;
  for (uint8_t b : out) {
    ASSERT_TRUE(b == 0x11 || b == 0x33);
    (b == 0x11 ? old_bytes : new_bytes)++;
  }
  EXPECT_GT(old_bytes, 0);  // with 64 fair coin flips, both appear
  EXPECT_GT(new_bytes, 0);
  ASSERT_TRUE(d.Read(64, out).ok());
  EXPECT_EQ(out, Bytes(64, 0x22));  // programmed before the cut: intact
}

TEST(NvmDevice, HarshCutMayLeaveArbitraryBytes) {
  RamNvm ram(64, 64);
  NvmDevice& d = ram.device();
  d.ScheduleCut(0, TearMode::kHarsh, 7);
  EXPECT_EQ(d.ProgramPage(0, Bytes(64, 0xFF)).code(), ErrorCode::kPowerLost);
  d.PowerOn();
  Bytes out(64);
  ASSERT_TRUE(d.Read(0, out).ok());
  int other = 0;
  for (uint8_t b : out) other += (b != 0x00 && b != 0xFF);
  EXPECT_GT(other, 0);
}

TEST(NvmDevice, TearIsReproducibleFromSeed) {
  auto tear = [](uint64_t seed) {
    RamNvm ram(64, 64);
    ram.device().ScheduleCut(0, TearMode::kHarsh, seed);
    (void)ram.device().ProgramPage(0, Bytes(64, 0x5A));
    return ram.cells();
  };
  EXPECT_EQ(tear(9), tear(9));
  EXPECT_NE(tear(9), tear(10));
}

}  // namespace
}  // namespace tessera::nvm
