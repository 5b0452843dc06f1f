// SCP03 against published vectors (pySim, kaoh/globalplatform, the default test keys), byte for
// byte, on both sides.
#include "crypto/scp03.h"

#include <gtest/gtest.h>

#include <utility>

#include "crypto/aes.h"

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

// Deterministic test bytes.
Bytes Pattern(size_t n, uint32_t seed) {
  Bytes b(n);
  for (auto& x : b) {
    seed = seed * 1103515245u + 12345u;
    x = static_cast<uint8_t>(seed >> 16);
  }
  return b;
}

TEST(Aes, PreparedKeysMatchOneShotFunctions) {
  for (size_t key_len : {size_t{16}, size_t{24}, size_t{32}}) {
    Bytes key = Pattern(key_len, static_cast<uint32_t>(key_len));
    auto aes = AesKey::Create(key);
    auto cmac = AesCmacKey::Create(key);
    ASSERT_TRUE(aes.ok());
    ASSERT_TRUE(cmac.ok());
    // Interleaved operations on the same contexts: none leaks state into the next.
    for (uint32_t i = 0; i < 40; ++i) {
      Bytes iv = Pattern(16, 1000 + i);
      Bytes data = Pattern(16 * (i % 7), 2000 + i);
      EXPECT_EQ(*aes->EcbEncrypt(data), *AesEcbEncrypt(key, data));
      EXPECT_EQ(*aes->CbcEncrypt(iv, data), *AesCbcEncrypt(key, iv, data));
      EXPECT_EQ(*aes->CbcDecrypt(iv, data), *AesCbcDecrypt(key, iv, data));
      Bytes message = Pattern(i * 3, 3000 + i);  // every length class: empty, partial, whole
      EXPECT_EQ(*cmac->Mac(message), *AesCmac(key, message)) << i;
    }
    EXPECT_EQ(aes->CbcEncrypt(Bytes(16), Bytes(15)).status().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(aes->CbcEncrypt(Bytes(8), Bytes(16)).status().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(aes->EcbEncrypt(Bytes(17)).status().code(), ErrorCode::kInvalidArgument);
  }
  EXPECT_EQ(AesKey::Create(Bytes(15)).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(AesCmacKey::Create(Bytes(20)).status().code(), ErrorCode::kInvalidArgument);
}

// Level 33 secure messaging written out with the one-shot functions only (short APDUs).
class ReferenceSession {
 public:
  ReferenceSession(const SessionKeys& k, size_t mac_len) : k_(k), mac_len_(mac_len) {}

  CommandApdu WrapExternalAuthenticate(const CommandApdu& plain) {
    CommandApdu w = plain;
    w.cla = static_cast<uint8_t>(w.cla | 0x04);
    return AddMac(w, plain.data);
  }
  CommandApdu WrapCommand(const CommandApdu& plain) {
    ++counter_;
    CommandApdu w = plain;
    w.cla = static_cast<uint8_t>(w.cla | 0x04);
    Bytes body = plain.data;
    if (!body.empty()) body = *AesCbcEncrypt(k_.enc, Icv(0x00), Pad(body));
    return AddMac(w, body);
  }
  ResponseApdu WrapResponse(const ResponseApdu& plain) {
    Bytes body = plain.data;
    if (!body.empty()) body = *AesCbcEncrypt(k_.enc, Icv(0x80), Pad(body));
    Bytes input = chaining_;
    Append(input, body);
    AppendU16(input, plain.sw);
    Bytes rmac = *AesCmac(k_.rmac, input);
    body.insert(body.end(), rmac.begin(), rmac.begin() + static_cast<ptrdiff_t>(mac_len_));
    return ResponseApdu{body, plain.sw};
  }

 private:
  static Bytes Pad(Bytes b) {
    b.push_back(0x80);
    while (b.size() % 16 != 0) b.push_back(0);
    return b;
  }
  Bytes Icv(uint8_t first) const {
    Bytes block(16, 0);
    block[0] = first;
    for (int i = 0; i < 8; ++i) block[15 - i] = static_cast<uint8_t>(counter_ >> (8 * i));
    return *AesEcbEncrypt(k_.enc, block);
  }
  CommandApdu AddMac(CommandApdu w, const Bytes& body) {
    Bytes input = chaining_;
    input.insert(input.end(),
                 {w.cla, w.ins, w.p1, w.p2, static_cast<uint8_t>(body.size() + mac_len_)});
    Append(input, body);
    chaining_ = *AesCmac(k_.mac, input);
    w.data = body;
    w.data.insert(w.data.end(), chaining_.begin(),
                  chaining_.begin() + static_cast<ptrdiff_t>(mac_len_));
    return w;
  }

  SessionKeys k_;
  size_t mac_len_;
  Bytes chaining_ = Bytes(16, 0);
  uint64_t counter_ = 0;
};

// One exchange through the host and card sessions, checked against the reference byte for
// byte in both directions.
void Exchange(Session& host, Session& card, ReferenceSession& ref, uint32_t i) {
  CommandApdu plain{0x80, 0xCA, 0x00, static_cast<uint8_t>(i), Pattern((i * 7) % 90, i), 0, false};
  auto wrapped = host.WrapCommand(plain);
  ASSERT_TRUE(wrapped.ok());
  EXPECT_EQ(ToHex(wrapped->Serialize()), ToHex(ref.WrapCommand(plain).Serialize())) << i;
  auto unwrapped = card.UnwrapCommand(*wrapped);
  ASSERT_TRUE(unwrapped.ok());
  EXPECT_EQ(ToHex(unwrapped->Serialize()), ToHex(plain.Serialize())) << i;
  ResponseApdu resp{Pattern((i * 11) % 120, 5000 + i), 0x9000};
  auto wrapped_resp = card.WrapResponse(resp);
  ASSERT_TRUE(wrapped_resp.ok());
  EXPECT_EQ(*wrapped_resp, ref.WrapResponse(resp)) << i;
  auto back = host.UnwrapResponse(*wrapped_resp);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, resp) << i;
}

TEST(Scp03, CachedContextsMatchOneShotFunctionsAcrossCopiesAndMoves) {
  StaticKeys keys = Keys("404142434445464748494A4B4C4D4E4F", "505152535455565758595A5B5C5D5E5F",
                         "606162636465666768696A6B6C6D6E6F");
  auto sk = DeriveSessionKeys(keys, HexOrDie("00010203040506070809101112131415"));
  ASSERT_TRUE(sk.ok());
  for (size_t mac_len : {size_t{8}, size_t{16}}) {
    Session host(*sk, mac_len), card(*sk, mac_len);
    ReferenceSession ref(*sk, mac_len);
    CommandApdu ea{0x80, 0x82, 0x33, 0x00, Bytes(8, 0xEA), 0, false};
    auto wrapped_ea = host.WrapExternalAuthenticate(ea);
    ASSERT_TRUE(wrapped_ea.ok());
    EXPECT_EQ(ToHex(wrapped_ea->Serialize()), ToHex(ref.WrapExternalAuthenticate(ea).Serialize()));
    ASSERT_TRUE(card.UnwrapExternalAuthenticate(*wrapped_ea).ok());
    host.set_level(0x33);
    card.set_level(0x33);
    for (uint32_t i = 0; i < 50; ++i) Exchange(host, card, ref, i);

    // Copies carry the chaining value and counter and prepare their own contexts: the copy
    // and the original then run the same exchanges independently with equal results.
    Session host_copy(host), card_copy = card;
    ReferenceSession ref_copy = ref;
    for (uint32_t i = 50; i < 80; ++i) {
      Exchange(host, card, ref, i);
      Exchange(host_copy, card_copy, ref_copy, i);
    }
    // Moved-from sessions are left alone; the moved-to ones continue the stream.
    Session host_moved(std::move(host));
    Session card_moved = std::move(card);
    for (uint32_t i = 80; i < 100; ++i) Exchange(host_moved, card_moved, ref, i);
    // Copy and move assignment over a session that already has contexts of other keys.
    auto other = DeriveSessionKeys(keys, HexOrDie("FFFEFDFCFBFAF9F8F7F6F5F4F3F2F1F0"));
    ASSERT_TRUE(other.ok());
    Session host_assigned(*other, mac_len), card_assigned(*other, mac_len);
    ASSERT_TRUE(host_assigned.WrapExternalAuthenticate(ea).ok());  // contexts of `other` made
    host_assigned = host_moved;
    card_assigned = std::move(card_moved);
    ReferenceSession ref_assigned = ref;
    for (uint32_t i = 100; i < 120; ++i) Exchange(host_assigned, card_assigned, ref_assigned, i);
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
