#include "crypto/put_key.h"

#include <gtest/gtest.h>

#include "crypto/aes.h"

namespace tessera::crypto::scp03 {
namespace {

SecureBuffer Key(const char* hex) {
  Bytes b = *FromHex(hex);
  return SecureBuffer(b.begin(), b.end());
}

const SecureBuffer kDek = Key("404142434445464748494A4B4C4D4E4F");

// Three components of the keys ENC, MAC, DEK wrapped with kDek.
Bytes Components(const char* enc, const char* mac, const char* dek) {
  Bytes out;
  for (const char* k : {enc, mac, dek}) Append(out, *WrapKeyComponent(kDek, Key(k)));
  return out;
}

TEST(PutKey, AComponentIs88LengthWrappedKeyThenItsCheckValue) {
  const SecureBuffer key = Key("00112233445566778899AABBCCDDEEFF");
  auto c = WrapKeyComponent(kDek, key);
  ASSERT_TRUE(c.ok());
  // 88 11 10 <16 bytes> 03 <KCV>: one AES block, CBC with a zero IV is ECB of that block.
  ASSERT_EQ(c->size(), 2u + 1 + 16 + 1 + 3);
  EXPECT_EQ(ToHex(ByteView(*c).first(3)), "881110");
  EXPECT_EQ(ToHex(ByteView(*c).subspan(3, 16)), ToHex(*AesEcbEncrypt(kDek, key)));
  EXPECT_EQ((*c)[19], 0x03);
  EXPECT_EQ(ToHex(ByteView(*c).subspan(20)), ToHex(*KeyCheckValue(key)));
}

TEST(PutKey, ThreeComponentsUnwrapToTheKeys) {
  auto got = UnwrapKeyComponents(
      Components("00112233445566778899AABBCCDDEEFF", "0123456789ABCDEF0123456789ABCDEF",
                 "FEDCBA9876543210FEDCBA9876543210"),
      kDek);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(ToHex(got->keys.mac), "0123456789ABCDEF0123456789ABCDEF");
  EXPECT_EQ(got->kcvs.size(), 9u);
}

TEST(PutKey, AWrongCheckValueIsInvalidArgumentAndAnExtraByteMalformed) {
  Bytes d = Components("00112233445566778899AABBCCDDEEFF", "0123456789ABCDEF0123456789ABCDEF",
                       "FEDCBA9876543210FEDCBA9876543210");
  Bytes bad_kcv = d;
  bad_kcv[20] ^= 0x01;  // the first component's KCV
  EXPECT_EQ(UnwrapKeyComponents(bad_kcv, kDek).status().code(), ErrorCode::kInvalidArgument);
  Bytes longer = d;
  longer.push_back(0x00);
  EXPECT_EQ(UnwrapKeyComponents(longer, kDek).status().code(), ErrorCode::kMalformed);
  EXPECT_EQ(UnwrapKeyComponents(ByteView(d).first(10), kDek).status().code(),
            ErrorCode::kMalformed);
}

TEST(PutKey, KeysOfDifferentLengthsAreMalformed) {
  Bytes d = Components("00112233445566778899AABBCCDDEEFF",
                       "0123456789ABCDEF0123456789ABCDEF0011223344556677",
                       "FEDCBA9876543210FEDCBA9876543210");
  EXPECT_EQ(UnwrapKeyComponents(d, kDek).status().code(), ErrorCode::kMalformed);
}

}  // namespace
}  // namespace tessera::crypto::scp03
