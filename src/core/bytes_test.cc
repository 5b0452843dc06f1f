#include "core/bytes.h"

#include <gtest/gtest.h>

#include "core/crc32.h"

namespace tessera {
namespace {

TEST(Hex, RoundTripsAllByteValues) {
  Bytes all(256);
  for (int i = 0; i < 256; ++i) all[i] = static_cast<uint8_t>(i);
  auto back = FromHex(ToHex(all));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, all);
}

TEST(Hex, AcceptsSeparatorsAndLowerCase) {
  auto r = FromHex("00 a4:04\n0C\t07");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (Bytes{0x00, 0xA4, 0x04, 0x0C, 0x07}));
}

TEST(Hex, RefusesOddDigitsSplitBytesAndBadCharacters) {
  EXPECT_EQ(FromHex("ABC").status().code(), ErrorCode::kMalformed);
  EXPECT_EQ(FromHex("A BC").status().code(), ErrorCode::kMalformed);
  EXPECT_EQ(FromHex("0G").status().code(), ErrorCode::kMalformed);
  EXPECT_TRUE(FromHex("").ok());
}

TEST(BigEndian, PutAndGet) {
  uint8_t b[8];
  PutU64(b, 0x0102030405060708ull);
  EXPECT_EQ(b[0], 1);
  EXPECT_EQ(b[7], 8);
  EXPECT_EQ(GetU64(b), 0x0102030405060708ull);
  EXPECT_EQ(GetU32(b + 4), 0x05060708u);
  EXPECT_EQ(GetU16(b + 6), 0x0708);
}

TEST(ConstantTimeEqual, ComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEqual(HexOrDie("0102"), HexOrDie("0102")));
  EXPECT_FALSE(ConstantTimeEqual(HexOrDie("0102"), HexOrDie("0103")));
  EXPECT_FALSE(ConstantTimeEqual(HexOrDie("0102"), HexOrDie("010203")));
}

TEST(Crc32, CheckValue) {
  // The standard CRC-32 check value of "123456789".
  EXPECT_EQ(Crc32(ToBytes("123456789")), 0xCBF43926u);
  // Incremental computation equals one-shot.
  EXPECT_EQ(Crc32(ToBytes("6789"), Crc32(ToBytes("12345"))), 0xCBF43926u);
}

TEST(Crc32, EqualsTheBitwiseDefinitionAtEveryLengthAndSplit) {
  // Reference: the reflected polynomial EDB88320 one bit at a time, no tables.
  const auto bitwise = [](ByteView d) {
    uint32_t c = 0xFFFFFFFFu;
    for (uint8_t b : d) {
      c ^= b;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    return ~c;
  };
  Bytes data(300);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 131 + 7);
  for (size_t n = 0; n <= data.size(); ++n) {
    const ByteView d = ByteView(data).first(n);
    ASSERT_EQ(Crc32(d), bitwise(d)) << n;
    const size_t cut = n / 3;
    ASSERT_EQ(Crc32(d.subspan(cut), Crc32(d.first(cut))), bitwise(d)) << n;
  }
}

TEST(Wipe, ZeroesEveryByte) {
  Bytes b(37, 0xAB);
  Wipe(b.data() + 1, 35);
  EXPECT_EQ(b.front(), 0xAB);
  EXPECT_EQ(b.back(), 0xAB);
  for (size_t i = 1; i < 36; ++i) EXPECT_EQ(b[i], 0) << i;
}

TEST(StatusTest, CarriesCodeAndMessage) {
  Status s = Corruption("journal body checksum mismatch");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.ToString(), "Corruption: journal body checksum mismatch");
  EXPECT_EQ(Status::Ok().ToString(), "OK");
  Result<int> r = NotFound("x");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace tessera
