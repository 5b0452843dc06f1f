// The modules' install parameters against bytes written out by hand from docs/applications.md
// §6.1 and §6.2.
#include "format/module_params.h"

#include <gtest/gtest.h>

namespace tessera::format {
namespace {

TEST(ModuleParams, DataStoreFieldsAndLimits) {
  DataStoreParams p;
  p.data = ToBytes("hi");
  p.pin = ToBytes("1234");
  p.tries = 5;
  EXPECT_EQ(ToHex(EncodeDataStoreParams(p)),
            "80026869"
            "810431323334"
            "820105");
  auto back = ParseDataStoreParams(HexOrDie("8201058002686981053132333435"));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->tries, 5);
  EXPECT_EQ(back->pin, ToBytes("12345"));
  EXPECT_TRUE(ParseDataStoreParams({}).ok());
  EXPECT_FALSE(ParseDataStoreParams(HexOrDie("8103313233")).ok());  // a 3-byte PIN
  EXPECT_FALSE(ParseDataStoreParams(HexOrDie("820110")).ok());      // 16 tries
  EXPECT_FALSE(ParseDataStoreParams(HexOrDie("820100")).ok());      // 0 tries
  EXPECT_FALSE(ParseDataStoreParams(HexOrDie("830100")).ok());      // unknown field
  Bytes big = HexOrDie("808202010000");                             // 80 with 513 bytes
  big.resize(4 + 513, 0);
  EXPECT_FALSE(ParseDataStoreParams(big).ok());
}

TEST(ModuleParams, PurseFieldsAndTheBalanceLimit) {
  PurseParams p;
  p.balance = 0x1234;
  p.limit = 0x10000;
  EXPECT_EQ(ToHex(EncodePurseParams(p)),
            "800400001234"
            "830400010000");
  auto back = ParsePurseParams(HexOrDie("800400001234830400010000"));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->balance, 0x1234u);
  EXPECT_EQ(back->limit, 0x10000u);
  // Over the given limit, and over the default one (100 000 000 = 05F5E100).
  EXPECT_FALSE(ParsePurseParams(HexOrDie("800400020000830400010000")).ok());
  EXPECT_TRUE(ParsePurseParams(HexOrDie("800405F5E100")).ok());
  EXPECT_FALSE(ParsePurseParams(HexOrDie("800405F5E101")).ok());
  EXPECT_FALSE(ParsePurseParams(HexOrDie("8003000012")).ok());  // a 3-byte balance
}

}  // namespace
}  // namespace tessera::format
