// GET STATUS registry entries against bytes written out from GP CS 2.3 §11.4.3.2.
#include "format/gp_status.h"

#include <gtest/gtest.h>

namespace tessera::format {
namespace {

Bytes Hex(const char* h) {
  return *FromHex(h);
}

TEST(GpRegistryEntry, AnApplicationWithEveryObject) {
  GpRegistryEntry e;
  e.aid = Hex("F05445535345524110");
  e.life_cycle = 0x07;
  e.privileges = Hex("000000");
  e.load_file = Hex("F054455353455241");
  e.associated_domain = Hex("A000000151000000");
  // E3 28 { 4F 09 AID, 9F70 01 07, C5 03 000000, C4 08 ..., CC 08 ISD }: 11+4+5+10+10 bytes
  EXPECT_EQ(ToHex(EncodeGpRegistryEntry(e)),
            "E3"
            "28"
            "4F09F05445535345524110"
            "9F700107"
            "C503000000"
            "C408F054455353455241"
            "CC08A000000151000000");
}

TEST(GpRegistryEntry, OnlyTheTagsAskedFor) {
  GpRegistryEntry e;
  e.aid = Hex("A000000151000000");
  e.life_cycle = 0x0F;
  e.privileges = Hex("9EFE80");
  EXPECT_EQ(ToHex(EncodeGpRegistryEntry(e, {0x4F, 0x9F70})), "E30E4F08A0000001510000009F70010F");
}

TEST(GpRegistryEntry, ParsesEveryE3AndSkipsTheRest) {
  auto got =
      ParseGpRegistryEntries(Hex("E30E4F08A0000001510000009F70010F"
                                 "9F7001FF"
                                 "E30F4F09F054455353455241109F700107"));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ(ToHex((*got)[0].aid), "A000000151000000");
  EXPECT_EQ((*got)[0].life_cycle, 0x0F);
  EXPECT_EQ(ToHex((*got)[1].aid), "F05445535345524110");
  EXPECT_TRUE((*got)[1].load_file.empty());
}

TEST(GpRegistryEntry, ALifeCycleOfTwoBytesIsMalformed) {
  auto got = ParseGpRegistryEntries(Hex("E30F4F08A0000001510000009F7002070F"));
  EXPECT_EQ(got.status().code(), ErrorCode::kMalformed);
}

TEST(GpRegistryEntry, TruncatedDataIsMalformed) {
  EXPECT_EQ(ParseGpRegistryEntries(Hex("E30F4F08A000")).status().code(), ErrorCode::kMalformed);
}

}  // namespace
}  // namespace tessera::format
