// SCP03 against published vectors (pySim, kaoh/globalplatform, the default test keys), byte for
// byte, on both sides.
#include "crypto/scp03.h"

#include <gtest/gtest.h>

namespace tessera::crypto::scp03 {
namespace {

CommandApdu Cmd(const char* hex) {
  return *CommandApdu::Parse(HexOrDie(hex));
}
std::string Hex(const Result<CommandApdu>& c) {
  return c.ok() ? ToHex(c->Serialize()) : c.status().ToString();
}

StaticKeys Keys(const char* enc, const char* mac, const char* dek) {
  return {MakeSecure(HexOrDie(enc)), MakeSecure(HexOrDie(mac)), MakeSecure(HexOrDie(dek))};
}

TEST(Scp03, PySimVectorsHostAndCardSide) {
  StaticKeys keys = Keys("000102030405060708090A0B0C0D0E0F", "101112131415161718191A1B1C1D1E1F",
                         "202122232425262728292A2B2C2D2E2F");
  // The card challenge pySim's card derived (sequence 1, ISD-R AID).
  auto challenge = CardChallenge(keys.enc, 1, HexOrDie("A0000005591010FFFFFFFF8900000100"), 8);
  ASSERT_TRUE(challenge.ok());
  EXPECT_EQ(ToHex(*challenge), "30760CD2C47C1DD3");
  Bytes context = HexOrDie("8E1552D0513C60F3");
  Append(context, *challenge);
  auto sk = DeriveSessionKeys(keys, context);
  ASSERT_TRUE(sk.ok());
  EXPECT_EQ(ToHex(*Cryptogram(*sk, kDeriveCardCryptogram, context, 8)), "95065FE5EAD8A9D7");
  auto host_crypto = Cryptogram(*sk, kDeriveHostCryptogram, context, 8);
  ASSERT_TRUE(host_crypto.ok());

  Session host(*sk, 8), card(*sk, 8);
  CommandApdu ea{0x80, 0x82, 0x03, 0x00, *host_crypto, 0, false};
  auto wrapped_ea = host.WrapExternalAuthenticate(ea);
  EXPECT_EQ(Hex(wrapped_ea), "8482030010FD4721A14D9B07003C451D2F8AE6BB21");
  auto card_ea = card.UnwrapExternalAuthenticate(*wrapped_ea);
  ASSERT_TRUE(card_ea.ok());
  EXPECT_EQ(ToHex(card_ea->data), ToHex(*host_crypto));
  host.set_level(0x03);
  card.set_level(0x03);

  auto store_data = host.WrapCommand(Cmd("80E2910006BF3E035C015A00"));
  EXPECT_EQ(Hex(store_data), "84E2910018CA9C00F6713D79BC8BAA642BDFF51C3F6A4082D3BD9AD26C00");
  EXPECT_EQ(Hex(card.UnwrapCommand(*store_data)), "80E2910006BF3E035C015A00");
  auto get_status = host.WrapCommand(Cmd("80F22002"));
  EXPECT_EQ(Hex(get_status), "84F2200208C9811B11F1264CF1");
  EXPECT_EQ(Hex(card.UnwrapCommand(*get_status)), "80F22002");
}

TEST(Scp03, KaohVectorWithCommandEncryption) {
  StaticKeys keys = Keys("F995D0A069335C7DF42E590317FFEA6D", "58563362EC5A4541ABCD32B34B1EAE7D",
                         "F995D0A069335C7DF42E590317FFEA6D");
  auto challenge = CardChallenge(keys.enc, 0x15, HexOrDie("A000000151000000"), 8);
  EXPECT_EQ(ToHex(*challenge), "C40932A6FEFEAEB2");
  Bytes context = HexOrDie("B2BDE1A2DC66BD56");
  Append(context, *challenge);
  auto sk = DeriveSessionKeys(keys, context);
  ASSERT_TRUE(sk.ok());
  EXPECT_EQ(ToHex(*Cryptogram(*sk, kDeriveCardCryptogram, context, 8)), "E127185170F45FCA");
  EXPECT_EQ(ToHex(sk->enc).substr(0, 8), "9B841BB6");
  EXPECT_EQ(ToHex(sk->mac).substr(0, 8), "8117FE5A");
  EXPECT_EQ(ToHex(sk->rmac).substr(0, 8), "4521D75E");
  Session host(*sk, 8), card(*sk, 8);
  CommandApdu ea{0x80, 0x82, 0x03, 0x00, *Cryptogram(*sk, kDeriveHostCryptogram, context, 8),
                 0,    false};
  auto wrapped = host.WrapExternalAuthenticate(ea);
  EXPECT_EQ(Hex(wrapped), "848203001059D54D932423D29F6313C970875F8C2F");
  ASSERT_TRUE(card.UnwrapExternalAuthenticate(*wrapped).ok());
  host.set_level(0x03);
  card.set_level(0x03);
  auto del = host.WrapCommand(Cmd("80E400800A4F08A00100015141434C"));
  EXPECT_EQ(Hex(del), "84E400801829F06AEC3180B3EFE91FF662310B945DE0D5FE66AD67A5B6");
  EXPECT_EQ(Hex(card.UnwrapCommand(*del)), "80E400800A4F08A00100015141434C");
}

TEST(Scp03, DefaultTestKeysVectors) {
  StaticKeys keys = Keys("404142434445464748494A4B4C4D4E4F", "404142434445464748494A4B4C4D4E4F",
                         "404142434445464748494A4B4C4D4E4F");
  auto challenge = CardChallenge(keys.enc, 1, HexOrDie("A000000151000000"), 8);
  EXPECT_EQ(ToHex(*challenge), "86C8BD65FA1044EE");
  Bytes context = HexOrDie("0001020304050607");
  Append(context, *challenge);
  auto sk = DeriveSessionKeys(keys, context);
  ASSERT_TRUE(sk.ok());
  EXPECT_EQ(ToHex(*Cryptogram(*sk, kDeriveCardCryptogram, context, 8)), "7CED45F4C595BC4B");
  EXPECT_EQ(ToHex(sk->enc), "3AF1BB59A13D6F7BE025CD9C6BB89B49");
  EXPECT_EQ(ToHex(sk->mac), "590581B85A754F2CE087139C1AC67342");
  EXPECT_EQ(ToHex(sk->rmac), "763DF686B1B1F2B417D9978A458866B8");
  auto host_crypto = *Cryptogram(*sk, kDeriveHostCryptogram, context, 8);
  for (uint8_t level : {uint8_t{0x01}, uint8_t{0x03}}) {
    Session host(*sk, 8);
    auto ea =
        host.WrapExternalAuthenticate(CommandApdu{0x80, 0x82, level, 0x00, host_crypto, 0, false});
    EXPECT_EQ(Hex(ea), level == 1 ? "8482010010DD233EF86835D80334D3D599D3CFE74D"
                                  : "8482030010DD233EF86835D8038FCDBA52B744406F");
    host.set_level(level);
    EXPECT_EQ(Hex(host.WrapCommand(Cmd("80F28002024F0000"))),
              level == 1 ? "84F280020A4F002154BAB841F72F7300"
                         : "84F2800218475B7557C8C1459CCE532D1D4C2635CEFEAF748D1FEDD85900");
  }
}

TEST(Scp03, ResponseProtectionRoundTripsAndDetectsTampering) {
  StaticKeys keys = Keys("404142434445464748494A4B4C4D4E4F", "404142434445464748494A4B4C4D4E4F",
                         "404142434445464748494A4B4C4D4E4F");
  auto sk = DeriveSessionKeys(keys, HexOrDie("00010203040506070809101112131415"));
  ASSERT_TRUE(sk.ok());
  for (size_t mac_len : {size_t{8}, size_t{16}}) {
    Session host(*sk, mac_len), card(*sk, mac_len);
    auto ea = host.WrapExternalAuthenticate(
        CommandApdu{0x80, 0x82, 0x33, 0, Bytes(mac_len, 1), 0, false});
    ASSERT_TRUE(card.UnwrapExternalAuthenticate(*ea).ok());
    host.set_level(0x33);
    card.set_level(0x33);
    auto cmd = host.WrapCommand(Cmd("80CA006600"));
    auto plain = card.UnwrapCommand(*cmd);
    ASSERT_TRUE(plain.ok());
    EXPECT_EQ(ToHex(plain->Serialize()), "80CA006600");
    ResponseApdu resp{HexOrDie("6603010203"), 0x9000};
    auto wrapped = card.WrapResponse(resp);
    ASSERT_TRUE(wrapped.ok());
    EXPECT_NE(wrapped->data, resp.data);  // R-ENC
    auto back = host.UnwrapResponse(*wrapped);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->data, resp.data);
    // Errors are never protected.
    auto err = card.WrapResponse(ResponseApdu{{}, 0x6A88});
    EXPECT_TRUE(err->data.empty());
    // A flipped C-MAC byte is refused.
    auto next = host.WrapCommand(Cmd("80CA006600"));
    next->data.back() ^= 1;
    EXPECT_EQ(card.UnwrapCommand(*next).status().code(), ErrorCode::kFailedPrecondition);
    // A flipped R-MAC byte is refused by the host.
    wrapped->data.back() ^= 1;
    EXPECT_FALSE(host.UnwrapResponse(*wrapped).ok());
  }
}

TEST(Scp03, KeyCheckValueAndLevels) {
  EXPECT_EQ(ToHex(*KeyCheckValue(HexOrDie("000102030405060708090A0B0C0D0E0F"))), "C35280");
  EXPECT_TRUE(ValidSecurityLevel(0x33));
  EXPECT_FALSE(ValidSecurityLevel(0x02));
  EXPECT_FALSE(ValidSecurityLevel(0x21));
}

}  // namespace
}  // namespace tessera::crypto::scp03
