#include "core/apdu.h"

#include <gtest/gtest.h>

namespace tessera {
namespace {

CommandApdu ParseOk(const char* hex) {
  auto r = CommandApdu::Parse(HexOrDie(hex));
  EXPECT_TRUE(r.ok()) << hex << ": " << r.status().ToString();
  return r.ok() ? *r : CommandApdu{};
}

TEST(CommandApdu, Case1) {
  CommandApdu a = ParseOk("80F0807F");
  EXPECT_EQ(a.Case(), ApduCase::k1);
  EXPECT_EQ(a.ins, 0xF0);
  EXPECT_EQ(a.ne, 0u);
  EXPECT_TRUE(a.data.empty());
}

TEST(CommandApdu, Case2Short) {
  EXPECT_EQ(ParseOk("00B0000010").ne, 16u);
  CommandApdu a = ParseOk("00B0000000");
  EXPECT_EQ(a.Case(), ApduCase::k2);
  EXPECT_EQ(a.ne, 256u);
  EXPECT_FALSE(a.extended);
}

TEST(CommandApdu, Case3And4Short) {
  CommandApdu a = ParseOk("00A4040C07A0000000041010");
  EXPECT_EQ(a.Case(), ApduCase::k3);
  EXPECT_EQ(a.data.size(), 7u);
  CommandApdu b = ParseOk("00A4040007A000000004101000");
  EXPECT_EQ(b.Case(), ApduCase::k4);
  EXPECT_EQ(b.ne, 256u);
  EXPECT_EQ(ToHex(b.data), "A0000000041010");
}

TEST(CommandApdu, ExtendedCases) {
  CommandApdu a = ParseOk("00B00000000000");
  EXPECT_EQ(a.Case(), ApduCase::k2);
  EXPECT_TRUE(a.extended);
  EXPECT_EQ(a.ne, 65536u);
  EXPECT_EQ(ParseOk("00B00000000100").ne, 256u);

  Bytes c3 = HexOrDie("00D60000000100");
  c3.resize(c3.size() + 256, 0x11);
  auto r3 = CommandApdu::Parse(c3);
  ASSERT_TRUE(r3.ok());
  EXPECT_EQ(r3->Case(), ApduCase::k3);
  EXPECT_EQ(r3->data.size(), 256u);

  Bytes c4 = c3;
  c4.push_back(0x00);
  c4.push_back(0x00);
  auto r4 = CommandApdu::Parse(c4);
  ASSERT_TRUE(r4.ok());
  EXPECT_EQ(r4->Case(), ApduCase::k4);
  EXPECT_EQ(r4->ne, 65536u);
}

TEST(CommandApdu, RefusesMalformed) {
  const char* bad[] = {
      "",
      "00",
      "00A404",              // short header
      "00A4040002A0",        // Lc larger than data
      "00A4040001A0B0C0",    // Lc smaller than data + Le
      "00B000000001",        // extended, truncated
      "00B0000000000005",    // extended Lc 0
      "00D6000000000211",    // extended Lc 2, one byte
      "00D60000000001AA00",  // extended case 4 with 1-byte Le
  };
  for (const char* hex : bad) {
    EXPECT_EQ(CommandApdu::Parse(HexOrDie(hex)).status().code(), ErrorCode::kMalformed) << hex;
  }
}

TEST(CommandApdu, SerialiseRoundTrips) {
  const char* good[] = {"80F0807F",
                        "00B0000010",
                        "00B0000000",
                        "00A4040C07A0000000041010",
                        "00A4040007A000000004101000",
                        "00B00000000000",
                        "00B00000000100",
                        "00D600000000030102030000",
                        "00D6000000000301020300FF"};
  for (const char* hex : good) {
    Bytes b = HexOrDie(hex);
    auto r = CommandApdu::Parse(b);
    ASSERT_TRUE(r.ok()) << hex;
    EXPECT_EQ(ToHex(r->Serialize()), ToHex(b)) << hex;
    auto again = CommandApdu::Parse(r->Serialize());
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *r);
  }
}

TEST(CommandApdu, SerialiseChoosesExtendedOnlyWhenAsked) {
  CommandApdu a{
      .cla = 0x00, .ins = 0xB0, .p1 = 0, .p2 = 0, .data = {}, .ne = 256, .extended = false};
  EXPECT_EQ(ToHex(a.Serialize()), "00B0000000");
  a.ne = 1000;
  EXPECT_TRUE(a.NeedsExtended());
  a.extended = true;
  EXPECT_EQ(ToHex(a.Serialize()), "00B000000003E8");
}

TEST(ClassByte, FirstInterindustry) {
  ClassByte c = DecodeClass(0x00);
  EXPECT_TRUE(c.valid);
  EXPECT_EQ(c.channel, 0);
  EXPECT_FALSE(c.chaining);
  c = DecodeClass(0x13);
  EXPECT_TRUE(c.chaining);
  EXPECT_EQ(c.channel, 3);
  EXPECT_EQ(DecodeClass(0x0C).secure_messaging, SecureMessaging::kHeaderAuthenticated);
  EXPECT_EQ(DecodeClass(0x04).secure_messaging, SecureMessaging::kProprietary);
  EXPECT_EQ(DecodeClass(0x08).secure_messaging, SecureMessaging::kHeaderNotAuthenticated);
}

TEST(ClassByte, FurtherInterindustryChannels4To19) {
  ClassByte c = DecodeClass(0x40);
  EXPECT_TRUE(c.valid);
  EXPECT_EQ(c.channel, 4);
  c = DecodeClass(0x7F);
  EXPECT_EQ(c.channel, 19);
  EXPECT_TRUE(c.chaining);
  EXPECT_EQ(c.secure_messaging, SecureMessaging::kHeaderNotAuthenticated);
}

TEST(ClassByte, GlobalPlatformAndInvalid) {
  ClassByte gp = DecodeClass(0x84);
  EXPECT_TRUE(gp.valid);
  EXPECT_TRUE(gp.proprietary);
  EXPECT_EQ(gp.channel, 0);
  EXPECT_NE(gp.secure_messaging, SecureMessaging::kNone);
  EXPECT_EQ(DecodeClass(0xE1).channel, 5);
  EXPECT_FALSE(DecodeClass(0xFF).valid);
  EXPECT_FALSE(DecodeClass(0x20).valid);
  EXPECT_FALSE(DecodeClass(0xA0).valid);
}

TEST(ClassByte, EncodeDecodeRoundTrip) {
  for (uint8_t ch = 0; ch <= 19; ++ch) {
    for (bool chain : {false, true}) {
      for (bool prop : {false, true}) {
        ClassByte c = DecodeClass(EncodeClass(ch, chain, false, prop));
        EXPECT_TRUE(c.valid);
        EXPECT_EQ(c.channel, ch);
        EXPECT_EQ(c.chaining, chain);
        EXPECT_EQ(c.proprietary, prop);
      }
    }
  }
  EXPECT_EQ(EncodeClass(1, false, true, true), 0x85);
}

TEST(ResponseApdu, ParseAndSerialise) {
  auto r = ResponseApdu::Parse(HexOrDie("01029000"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->sw, 0x9000);
  EXPECT_EQ(ToHex(r->data), "0102");
  EXPECT_EQ(ToHex(r->Serialize()), "01029000");
  EXPECT_FALSE(ResponseApdu::Parse(HexOrDie("90")).ok());
}

}  // namespace
}  // namespace tessera
