#include "core/tlv.h"

#include <gtest/gtest.h>

namespace tessera {
namespace {

TEST(Tlv, ParsesOneByteTagShortLength) {
  Bytes in = HexOrDie("4F08A000000151000000");
  auto r = ParseTlv(in);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->tag, 0x4Fu);
  EXPECT_EQ(ToHex(r->value), "A000000151000000");
  EXPECT_EQ(r->encoded_size, 10u);
  EXPECT_FALSE(r->constructed());
}

TEST(Tlv, ParsesMultiByteTags) {
  auto two = ParseTlv(HexOrDie("9F700107"));
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->tag, 0x9F70u);
  auto three = ParseTlv(HexOrDie("BF8101028000"));
  ASSERT_TRUE(three.ok()) << three.status().ToString();
  EXPECT_EQ(three->tag, 0xBF8101u);
  EXPECT_TRUE(three->constructed());
}

TEST(Tlv, ParsesLongLengths) {
  Bytes v81 = HexOrDie("5381C8");
  v81.resize(3 + 200, 0xAB);
  auto r = ParseTlv(v81);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->value.size(), 200u);

  Bytes v82 = HexOrDie("53820100");
  v82.resize(4 + 256, 0x01);
  auto r2 = ParseTlv(v82);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->value.size(), 256u);

  // Non-minimal long form is valid BER.
  auto r3 = ParseTlv(HexOrDie("53810100"));
  ASSERT_TRUE(r3.ok());
  EXPECT_EQ(r3->value.size(), 1u);
}

TEST(Tlv, RefusesMalformedInput) {
  const char* bad[] = {
      "9F",            // truncated tag
      "9F80",          // truncated tag continuation
      "1F8001",        // leading-zero subsequent byte
      "9F818181",      // tag longer than 3 bytes
      "4F",            // missing length
      "4F80",          // indefinite length
      "4F8401000000",  // 4 length bytes
      "4F82 01",       // truncated length
      "4F0301",        // value runs past the end
      "00",            // 00 is not a tag
      "FF0100",        // FF is not a tag
      "E303 4F0201",   // constructed value is not a valid sequence
  };
  for (const char* hex : bad) {
    auto r = ParseTlvSequence(HexOrDie(hex));
    EXPECT_EQ(r.status().code(), ErrorCode::kMalformed) << hex;
  }
  EXPECT_EQ(ParseTlv({}).status().code(), ErrorCode::kMalformed);
  EXPECT_TRUE(ParseTlvSequence({}).ok());  // an empty sequence is well-formed
}

TEST(Tlv, PaddingOnlyWhenAllowed) {
  Bytes in = HexOrDie("00 4F0101 FFFF 500141 00");
  EXPECT_FALSE(ParseTlvSequence(in).ok());
  auto r = ParseTlvSequence(in, {.allow_padding = true});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[1].tag, 0x50u);
}

TEST(Tlv, RefusesExcessiveNesting) {
  Bytes deep = HexOrDie("0100");  // innermost primitive
  for (int i = 0; i < 20; ++i) deep = EncodeTlv(0xE1, deep);
  EXPECT_EQ(ParseTlvSequence(deep).status().code(), ErrorCode::kMalformed);
}

TEST(Tlv, NestedSearch) {
  TlvBuilder b;
  b.Open(0xE3).Add(0x4F, HexOrDie("A0000001510000")).AddByte(0x9F70, 0x0F);
  b.Open(0xA5).Add(0x9F65, HexOrDie("FF")).Close().Close();
  b.Open(0xE3).Add(0x4F, HexOrDie("A00000000101")).Close();
  Bytes seq = b.Take();

  auto f = FindTlv(seq, 0x9F65);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE(f->has_value());
  EXPECT_EQ(ToHex((*f)->value), "FF");

  auto missing = FindTlv(seq, 0x84);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  const TlvTag path[] = {0xE3, 0xA5, 0x9F65};
  auto p = FindTlvPath(seq, path);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(p->has_value());
  const TlvTag wrong_path[] = {0xE3, 0x9F65};
  auto q = FindTlvPath(seq, wrong_path);
  ASSERT_TRUE(q.ok());
  EXPECT_FALSE(q->has_value());

  EXPECT_FALSE(FindTlv(HexOrDie("E3034F0201"), 0x4F).ok());
}

TEST(Tlv, EncodesMinimalLengths) {
  EXPECT_EQ(ToHex(EncodeTlv(0x4F, Bytes(5, 0))), "4F050000000000");
  EXPECT_EQ(ToHex(EncodeTlv(0x9F7F, Bytes(0x2A, 0))).substr(0, 6), "9F7F2A");
  EXPECT_EQ(ToHex(EncodeTlv(0x53, Bytes(0x80, 0))).substr(0, 6), "538180");
  EXPECT_EQ(ToHex(EncodeTlv(0x53, Bytes(0x100, 0))).substr(0, 8), "53820100");
  EXPECT_EQ(ToHex(EncodeTlv(0x53, Bytes(0x10000, 0))).substr(0, 10), "5383010000");
  EXPECT_EQ(TlvTagToHex(0xBF8101), "BF8101");
}

TEST(Tlv, EncodeParseRoundTrip) {
  for (size_t len : {0u, 1u, 127u, 128u, 255u, 256u, 65535u, 65536u}) {
    Bytes value(len, 0x5A);
    Bytes enc = EncodeTlv(0x5F25, value);
    auto r = ParseTlv(enc);
    ASSERT_TRUE(r.ok()) << len;
    EXPECT_EQ(r->tag, 0x5F25u);
    EXPECT_EQ(r->value.size(), len);
    EXPECT_EQ(r->encoded_size, enc.size());
  }
}

}  // namespace
}  // namespace tessera
