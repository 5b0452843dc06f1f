// The issuer security domain and SCP03 through the card's APDU interface, with the host side
// (crypto::scp03::SecureChannel) on the other end: published vectors, every security level,
// tampering, the failure counter, the card life cycle and PUT KEY.
#include "crypto/aes.h"
#include "crypto/scp03_host.h"
#include "support/card_fixture.h"

namespace tessera::card {
namespace {

namespace scp03 = crypto::scp03;

class IsdTest : public CardTest {
 protected:
  crypto::scp03::RawTransmit Raw() {
    return [this](ByteView c) -> Result<Bytes> { return card_->Transmit(c); };
  }
  std::unique_ptr<crypto::scp03::SecureChannel> Open(
      uint8_t level, bool s16 = false, uint8_t kvn = 0,
      scp03::StaticKeys keys = crypto::scp03::TestKeys()) {
    crypto::scp03::ChannelOptions o;
    o.keys = std::move(keys);
    o.kvn = kvn;
    o.level = level;
    o.s16 = s16;
    auto sc = crypto::scp03::SecureChannel::Open(Raw(), o);
    EXPECT_TRUE(sc.ok()) << sc.status().ToString();
    return sc.ok() ? std::move(*sc) : nullptr;
  }
  std::string Sec(crypto::scp03::SecureChannel& sc, const std::string& hex) {
    auto r = sc.Transmit(HexOrDie(hex));
    return r.ok() ? ToHex(*r) : r.status().ToString();
  }
};

TEST_F(IsdTest, EmptySelectReturnsTheIsdFci) {
  EXPECT_EQ(Tx("00A4040000"), "6F108408A000000151000000A5049F6501FF9000");
  EXPECT_EQ(Tx("00A4040008A00000015100000000"), "6F108408A000000151000000A5049F6501FF9000");
}

TEST_F(IsdTest, GetDataObjects) {
  Tx("00A4040000");
  EXPECT_EQ(Tx("80CA00E000"),
            "E012C00401308810C00402308810C00403308810"
            "9000");
  EXPECT_EQ(Tx("80CA9F7F00").substr(0, 6), "9F7F2A");
  EXPECT_EQ(Tx("80CA006600").substr(0, 2), "66");
  EXPECT_NE(Tx("80CA006600").find("2A864886FC6B040370"), std::string::npos);  // SCP03 i=70
  EXPECT_EQ(Tx("80CA004200").substr(0, 2), "42");
  EXPECT_EQ(Tx("80CA004500").substr(0, 2), "45");
  EXPECT_EQ(Tx("80CA00CF00"), "CF0A000000000000000000009000");
  EXPECT_EQ(Tx("80CA00C100"),
            "C103000000"
            "9000");
  EXPECT_EQ(Tx("00CA00C100"),
            "C103000000"
            "9000");  // CLA 00 accepted too
  EXPECT_EQ(Sw("80CA00FE00"), "6A88");
}

TEST_F(IsdTest, ReproducesThePublishedDefaultKeyVectorOnTheCard) {
  Tx("00A4040000");
  EXPECT_EQ(Tx("8050300008000102030405060700"),
            "00000000000000000000"
            "300370"
            "86C8BD65FA1044EE"
            "7CED45F4C595BC4B"
            "000001"
            "9000");
  EXPECT_EQ(Tx("8482010010DD233EF86835D80334D3D599D3CFE74D"), "9000");
  EXPECT_EQ(Tx("84F280020A4F002154BAB841F72F7300"),
            "E3134F08A0000001510000009F700101C5039EFE80"
            "9000");
  EXPECT_EQ(Tx("80CA00C100"),
            "C103000001"
            "9000");
}

TEST_F(IsdTest, EveryLevelS8AndS16) {
  for (bool s16 : {false, true}) {
    for (int level : {0x01, 0x03, 0x11, 0x13, 0x33}) {
      auto sc = Open(static_cast<uint8_t>(level), s16);
      ASSERT_TRUE(sc) << int(level);
      EXPECT_EQ(Sec(*sc, "80F28002024F0000"),
                "E3134F08A0000001510000009F700101C5039EFE80"
                "9000")
          << "level " << int(level) << " s16 " << s16;
      EXPECT_EQ(Sec(*sc, "80CA006600").substr(0, 2), "66");
    }
  }
}

TEST_F(IsdTest, TamperingIsRefusedAndEndsTheSession) {
  auto sc = Open(0x03);
  ASSERT_TRUE(sc);
  // Wrap a command by hand with a copy of the session to flip a MAC byte.
  Tx("00A4040000");
  // Plain administrative commands are refused.
  EXPECT_EQ(Sw("80F28002024F0000"), "6982");
  sc = Open(0x01);
  ASSERT_TRUE(sc);
  Bytes good = HexOrDie("84F280020A4F00");  // header + data; MAC appended below is wrong
  Append(good, Bytes(8, 0x11));
  good.push_back(0x00);
  EXPECT_EQ(ToHex(card_->Transmit(good)), "6982");
  // The session is gone: the next correctly wrapped command finds none.
  auto r = sc->Transmit(HexOrDie("80F28002024F0000"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ToHex(*r), "6882");
}

TEST_F(IsdTest, ReplayedCommandIsRefused) {
  Tx("00A4040000");
  EXPECT_EQ(Sw("8050300008000102030405060700"), "9000");
  EXPECT_EQ(Tx("8482010010DD233EF86835D80334D3D599D3CFE74D"), "9000");
  const std::string wrapped = "84F280020A4F002154BAB841F72F7300";
  EXPECT_EQ(Sw(wrapped), "9000");
  EXPECT_EQ(Sw(wrapped), "6982");  // the MAC chain moved on
}

TEST_F(IsdTest, WrongHostCryptogramGets6300AndSpendsATry) {
  Tx("00A4040000");
  EXPECT_EQ(Sw("8050300008000102030405060700"), "9000");
  // A right MAC over a wrong cryptogram: wrap it with the real session keys.
  Bytes context = HexOrDie("000102030405060786C8BD65FA1044EE");
  auto keys = scp03::DeriveSessionKeys(crypto::scp03::TestKeys(), context);
  scp03::Session s(*keys, 8);
  auto ea = s.WrapExternalAuthenticate(CommandApdu{0x80, 0x82, 0x01, 0, Bytes(8, 0xEE), 0, false});
  EXPECT_EQ(ToHex(card_->Transmit(ea->Serialize())), "6300");
  EXPECT_EQ(Sw("84F280020A4F002154BAB841F72F7300"), "6882");            // no session
  EXPECT_EQ(Sw("8482010010DD233EF86835D80334D3D599D3CFE74D"), "6985");  // no IU pending
}

TEST_F(IsdTest, UnknownKeyVersionAndWrongLengths) {
  Tx("00A4040000");
  EXPECT_EQ(Sw("8050350008000102030405060700"), "6A88");
  EXPECT_EQ(Sw("80503000050001020304"), "6700");
  EXPECT_EQ(Sw("8050300108000102030405060700"), "6A86");
  EXPECT_EQ(Sw("0050300008000102030405060700"), "6E00");
  Tx("00A4000C023F00");  // the ISD is no longer selected
  EXPECT_EQ(Sw("8050300008000102030405060700"), "6D00");
}

TEST_F(IsdTest, FailureCounterBlocksTheKeySetAcrossPowerCycles) {
  scp03::StaticKeys wrong = crypto::scp03::TestKeys();
  wrong.mac = crypto::MakeSecure(Bytes(16, 0x42));
  for (int i = 0; i < 10; ++i) {
    if (i == 5) Reboot();
    Tx("00A4040000");
    ASSERT_EQ(Sw("8050300008000102030405060700"), "9000") << i;
    // The host cannot make the card cryptogram match; it sends its own EA anyway.
    Bytes context = HexOrDie("0001020304050607");
    auto iu = card_->Transmit(HexOrDie("8050300008000102030405060700"));
    Append(context, ByteView(iu).subspan(13, 8));
    auto keys = scp03::DeriveSessionKeys(wrong, context);
    scp03::Session s(*keys, 8);
    auto ea = s.WrapExternalAuthenticate(CommandApdu{0x80, 0x82, 0x01, 0, Bytes(8, 1), 0, false});
    EXPECT_EQ(ToHex(card_->Transmit(ea->Serialize())), "6982") << i;  // wrong MAC key: bad MAC
  }
  Tx("00A4040000");
  EXPECT_EQ(Sw("8050300008000102030405060700"), "6983");
  Reboot();
  Tx("00A4040000");
  EXPECT_EQ(Sw("8050300008000102030405060700"), "6983");
}

TEST_F(IsdTest, CardLifeCycleWithExactGpCodings) {
  auto sc = Open(0x03);
  ASSERT_TRUE(sc);
  EXPECT_EQ(Sec(*sc, "80F0800F"), "6985");  // OP_READY -> SECURED skips INITIALIZED
  EXPECT_EQ(Sec(*sc, "80F08007"), "9000");
  EXPECT_EQ(Sec(*sc, "80F08001"), "6985");  // no way back
  EXPECT_EQ(Sec(*sc, "80F0800F"), "9000");
  EXPECT_EQ(Sec(*sc, "80F28002024F0000"),
            "E3134F08A0000001510000009F70010FC5039EFE80"
            "9000");
  EXPECT_EQ(Sec(*sc, "80F0807F08A000000151000000"), "9000");  // data = the ISD AID, accepted
  EXPECT_EQ(Sw("00A4040000"), "6283");                        // locked: the ISD says so
  EXPECT_EQ(Sw("00A4040C09F05445535345524110"), "6A81");      // applications are not selectable
  sc = Open(0x03);
  ASSERT_TRUE(sc);
  EXPECT_EQ(Sec(*sc, "80F0800F"), "9000");  // unlock
  EXPECT_EQ(Sw("00A4040C09F05445535345524110"), "9000");
  sc = Open(0x01);
  ASSERT_TRUE(sc);
  // SECURED: C-MAC (level 01) is enough by default, as GlobalPlatform hosts use it.
  EXPECT_EQ(Sec(*sc, "80F28002024F0000"),
            "E3134F08A0000001510000009F70010FC5039EFE80"
            "9000");
  sc = Open(0x03);
  ASSERT_TRUE(sc);
  EXPECT_EQ(Sec(*sc, "80F080FF"), "9000");
  EXPECT_EQ(Sw("00A4040000"), "6A81");  // terminated
  Reboot();
  EXPECT_EQ(Sw("00A4000C023F00"), "6A81");
}

TEST_F(IsdTest, AStricterMinimumLevelIsAnImageOption) {
  // An image made with --min-security-level 03: once SECURED, level 01 is refused.
  card_->PowerOff();
  ASSERT_TRUE(InstallDefaultProfile(ram_->device(), geometry_, nullptr, 0x03).ok());
  ASSERT_TRUE(card_->PowerOn().ok());
  auto sc = Open(0x03);
  ASSERT_TRUE(sc);
  EXPECT_EQ(Sec(*sc, "80F08007"), "9000");
  EXPECT_EQ(Sec(*sc, "80F0800F"), "9000");
  EXPECT_EQ(Sec(*sc, "80F28002024F0000").substr(0, 4), "E313");
  sc = Open(0x01);
  ASSERT_TRUE(sc);
  EXPECT_EQ(Sec(*sc, "80F28002024F0000"), "6982");
  EXPECT_FALSE(InstallDefaultProfile(ram_->device(), geometry_, nullptr, 0x02).ok());
}

Bytes WrapKey(ByteView dek, ByteView key) {
  Bytes out{0x88, static_cast<uint8_t>(1 + key.size()), static_cast<uint8_t>(key.size())};
  Append(out, *crypto::AesCbcEncrypt(dek, Bytes(16, 0), key));
  out.push_back(0x03);
  Append(out, *scp03::KeyCheckValue(key));
  return out;
}

TEST_F(IsdTest, PutKeyAddsAndReplacesKeySets) {
  const Bytes enc = HexOrDie("00112233445566778899AABBCCDDEEFF");
  const Bytes mac = HexOrDie("0123456789ABCDEF0123456789ABCDEF");
  const Bytes dek = HexOrDie("FEDCBA9876543210FEDCBA9876543210");
  const Bytes test = HexOrDie("404142434445464748494A4B4C4D4E4F");
  auto sc = Open(0x03);
  ASSERT_TRUE(sc);
  Bytes data{0x31};
  Append(data, WrapKey(test, enc));
  Append(data, WrapKey(test, mac));
  Append(data, WrapKey(test, dek));
  CommandApdu put{0x80, 0xD8, 0x00, 0x81, data, 256, false};
  auto r = sc->Transmit(put.Serialize());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ToHex(*r), "31" + ToHex(*scp03::KeyCheckValue(enc)) +
                           ToHex(*scp03::KeyCheckValue(mac)) + ToHex(*scp03::KeyCheckValue(dek)) +
                           "9000");
  // A wrong key check value is refused.
  Bytes bad = data;
  bad[0] = 0x32;
  bad[1 + 3 + 16 + 1] ^= 0x01;
  CommandApdu put_bad{0x80, 0xD8, 0x00, 0x81, bad, 256, false};
  r = sc->Transmit(put_bad.Serialize());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ToHex(*r), "9485");
  // The new key set opens a session; the key information lists both.
  scp03::StaticKeys k31{crypto::MakeSecure(enc), crypto::MakeSecure(mac), crypto::MakeSecure(dek)};
  auto sc31 = Open(0x03, false, 0x31, k31);
  ASSERT_TRUE(sc31);
  EXPECT_EQ(Sec(*sc31, "80CA00E000"),
            "E024C00401308810C00402308810C00403308810C00401318810C00402318810C00403318810"
            "9000");
  // Replace KVN 30 with new keys (wrapped under KVN 31's DEK, the session's).
  Bytes rep{0x30};
  Append(rep, WrapKey(dek, enc));
  Append(rep, WrapKey(dek, mac));
  Append(rep, WrapKey(dek, dek));
  CommandApdu replace{0x80, 0xD8, 0x30, 0x81, rep, 256, false};
  r = sc31->Transmit(replace.Serialize());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ToHex(*r).substr(0, 2), "30");
  Reboot();
  Tx("00A4040000");
  crypto::scp03::ChannelOptions o;
  o.keys = crypto::scp03::TestKeys();
  o.kvn = 0x30;
  EXPECT_FALSE(crypto::scp03::SecureChannel::Open(Raw(), o).ok());  // the test keys are gone
  auto again = Open(0x03, false, 0x30, k31);
  EXPECT_TRUE(again);
  // No byte of the old test keys remains in NVM.
  const Bytes& cells = ram_->cells();
  EXPECT_EQ(std::search(cells.begin(), cells.end(), test.begin(), test.end()), cells.end());
}

TEST_F(IsdTest, SecureMessagingFileConditionNeedsTheSession) {
  // An EF under the MF readable only with secure messaging (SC 40), addressed by SFI 5.
  EXPECT_EQ(Tx("00200082083837363534333231"), "9000");
  EXPECT_EQ(Tx("00E0000017"
               "6215"
               "820101"
               "83020305"
               "80020004"
               "880128"
               "8A0105"
               "8C020140"),
            "9000");
  Tx("00A4040000");  // the ISD; the current DF stays the MF
  EXPECT_EQ(Sw("00B0850004"), "6982");
  auto sc = Open(0x01);
  ASSERT_TRUE(sc);
  EXPECT_EQ(Sec(*sc, "00B0850004"), "000000009000");
  EXPECT_EQ(Sw("00B0850004"), "6982");  // plain, even with the session open
}

}  // namespace
}  // namespace tessera::card

namespace tessera::card {
namespace {

TEST_F(IsdTest, Aes192And256KeySetsWork) {
  const Bytes test = HexOrDie("404142434445464748494A4B4C4D4E4F");
  for (size_t len : {size_t{24}, size_t{32}}) {
    auto sc = Open(0x03);
    ASSERT_TRUE(sc);
    Bytes k(len);
    for (size_t i = 0; i < len; ++i) k[i] = static_cast<uint8_t>(0xA0 + i);
    const uint8_t kvn = len == 24 ? 0x32 : 0x33;
    Bytes data{kvn};
    for (int i = 0; i < 3; ++i) {
      // The wrapped key fills whole AES blocks (an AES-192 key: 24 bytes padded to 32).
      Bytes padded = k;
      padded.resize((len + 15) / 16 * 16, 0);
      Bytes w{0x88, static_cast<uint8_t>(1 + padded.size()), static_cast<uint8_t>(len)};
      Append(w, *crypto::AesCbcEncrypt(test, Bytes(16, 0), padded));
      w.push_back(0x03);
      Append(w, *scp03::KeyCheckValue(k));
      Append(data, w);
    }
    auto r = sc->Transmit(CommandApdu{0x80, 0xD8, 0x00, 0x81, data, 256, false}.Serialize());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(ToHex(ByteView(*r).last(2)), "9000") << len;
    scp03::StaticKeys keys{crypto::MakeSecure(k), crypto::MakeSecure(k), crypto::MakeSecure(k)};
    for (bool s16 : {false, true}) {
      auto big = Open(0x33, s16, kvn, keys);
      ASSERT_TRUE(big) << len;
      EXPECT_EQ(Sec(*big, "80CA006600").substr(0, 2), "66");
    }
  }
}

TEST_F(IsdTest, OneSessionPerChannelAndResetEndsThem) {
  auto sc0 = Open(0x01);
  ASSERT_TRUE(sc0);
  EXPECT_EQ(Tx("0070000001"), "019000");
  EXPECT_EQ(Tx("01A4040000"), "6F108408A000000151000000A5049F6501FF9000");
  // Channel 1 has no session: a wrapped command there finds none.
  EXPECT_EQ(Sw("85F280020A4F00"
               "1111111111111111"
               "00"),
            "6882");
  // Channel 0's session is untouched.
  EXPECT_EQ(Sec(*sc0, "80CA006600").substr(0, 2), "66");
  Reboot();
  auto r = sc0->Transmit(HexOrDie("80CA006600"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ToHex(*r), "6882");  // a reset ends every session
}

}  // namespace
}  // namespace tessera::card

namespace tessera::card {
namespace {

TEST_F(IsdTest, ProtectedResponseLongerThanLeComesThroughGetResponse) {
  EXPECT_EQ(Tx("00200082083837363534333231"), "9000");
  // A 300-byte EF with SFI 6 under the MF, readable with secure messaging only.
  EXPECT_EQ(Tx("00E0000017"
               "6215"
               "820101"
               "83020306"
               "8002012C"
               "880130"
               "8A0105"
               "8C020140"),
            "9000");
  auto sc = Open(0x33);
  ASSERT_TRUE(sc);
  auto r = sc->Transmit(HexOrDie("00B0860000"));  // Le = 00: 256 bytes, then R-ENC and R-MAC
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->size(), 256u + 2);
  EXPECT_EQ(ToHex(ByteView(*r).last(2)), "9000");
}

TEST_F(IsdTest, ProtectedWarningsKeepTheirRMac) {
  // A warning (63C2, a wrong PIN) in an R-MAC session: without Le its R-MAC waits for GET
  // RESPONSE (61xx) and comes back with the warning; with a short Le the last piece of GET
  // RESPONSE ends with the warning the R-MAC was computed over, not 9000.
  auto sc = Open(0x13);
  ASSERT_TRUE(sc);
  auto r = sc->Transmit(HexOrDie("002000810439393939"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(ToHex(*r), "63C2");
  r = sc->Transmit(HexOrDie("00200081043939393904"));  // Le = 4: shorter than the R-MAC
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(ToHex(*r), "63C1");
}

TEST_F(IsdTest, DeselectingTheIsdEndsTheSession) {
  auto sc = Open(0x03);
  ASSERT_TRUE(sc);
  EXPECT_EQ(Tx("00A4000C023F00"), "9000");  // the MF: the ISD is no longer selected
  auto r = sc->Transmit(HexOrDie("80CA006600"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ToHex(*r), "6882");
  // A new INITIALIZE UPDATE also ends a session.
  sc = Open(0x03);
  ASSERT_TRUE(sc);
  EXPECT_EQ(Sw("8050300008000102030405060700"), "9000");
  r = sc->Transmit(HexOrDie("80CA006600"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ToHex(*r), "6882");
}

}  // namespace
}  // namespace tessera::card
