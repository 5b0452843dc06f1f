// A card with the default profile, an issuer session, an administrator with its own signing
// key and key set, and installation files built here from docs/applications.md (not with the
// card's encoders; both signatures, the record's and the file's), for the tests of
// record-driven application management.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/tlv.h"
#include "crypto/aes.h"
#include "crypto/ecdsa.h"
#include "crypto/scp03.h"
#include "crypto/scp03_host.h"
#include "support/card_fixture.h"

namespace tessera::apps {

namespace scp03 = crypto::scp03;

inline const std::string kMgmtAid = "F05445535345524101";
inline const std::string kDataStoreModuleAid =
    "F054455353455241"
    "4D01";
inline const std::string kPurseModuleAid =
    "F054455353455241"
    "4D02";

inline scp03::StaticKeys AdminKeys() {
  scp03::StaticKeys k;
  k.enc = crypto::MakeSecure(HexOrDie("A1A2A3A4A5A6A7A8A9AAABACADAEAFA0"));
  k.mac = crypto::MakeSecure(HexOrDie("B1B2B3B4B5B6B7B8B9BABBBCBDBEBFB0"));
  k.dek = crypto::MakeSecure(HexOrDie("C1C2C3C4C5C6C7C8C9CACBCCCDCECFC0"));
  return k;
}

struct Fields {
  std::string aid;
  std::string name = "APP";
  std::string admin_name = "ACME";
  uint8_t admin_id = 1;
  std::string start = "000000", expiry = "000000";
  uint8_t status = 0;
};

inline std::string Lc(size_t n) {
  char b[8];
  std::snprintf(b, sizeof b, "%02X", static_cast<unsigned>(n));
  return b;
}

class AppManagementTest : public card::CardTest {
 protected:
  void SetUp() override {
    card::CardTest::SetUp();
    auto pair = crypto::GenerateP256KeyPair();
    ASSERT_TRUE(pair.ok());
    admin_key_ = std::move(*pair);
    auto other = crypto::GenerateP256KeyPair();
    ASSERT_TRUE(other.ok());
    other_key_ = std::move(*other);
  }

  // --- sessions ---
  std::unique_ptr<crypto::scp03::SecureChannel> Open(const std::string& domain_hex, uint8_t kvn,
                                                     scp03::StaticKeys keys,
                                                     std::string* error = nullptr) {
    crypto::scp03::ChannelOptions o;
    o.keys = std::move(keys);
    o.kvn = kvn;
    o.level = scp03::kCMac;
    o.security_domain = HexOrDie(domain_hex);
    auto sc = crypto::scp03::SecureChannel::Open(
        [this](ByteView c) -> Result<Bytes> { return card_->Transmit(c); }, o);
    if (!sc.ok()) {
      if (error) *error = sc.status().ToString();
      return nullptr;
    }
    return std::move(*sc);
  }
  std::unique_ptr<crypto::scp03::SecureChannel> Issuer() {
    return Open("A000000151000000", 0x30, crypto::scp03::TestKeys());
  }
  std::unique_ptr<crypto::scp03::SecureChannel> Manager(uint8_t kvn, scp03::StaticKeys keys) {
    return Open(kMgmtAid, kvn, std::move(keys));
  }
  static std::string Sec(crypto::scp03::SecureChannel& sc, const std::string& hex) {
    auto r = sc.Transmit(HexOrDie(hex));
    return r.ok() ? ToHex(*r) : r.status().ToString();
  }
  static std::string SecSw(crypto::scp03::SecureChannel& sc, const std::string& hex) {
    std::string r = Sec(sc, hex);
    return r.size() >= 4 ? r.substr(r.size() - 4) : r;
  }

  // --- objects, from docs/applications.md ---
  static Bytes SignedPart(const Fields& f) {
    TlvBuilder b;
    b.Add(0x4F, HexOrDie(f.aid)).Add(0x50, ToBytes(f.name)).Add(0xC0, ToBytes(f.admin_name));
    b.AddByte(0xC1, f.admin_id).Add(0x5F25, HexOrDie(f.start)).Add(0x5F24, HexOrDie(f.expiry));
    return b.Take();
  }
  // The E1 record, signed with `key` (nullptr: unsigned).
  static Bytes Record(const Fields& f, const crypto::P256KeyPair* key) {
    Bytes inner = SignedPart(f);
    TlvBuilder t;
    t.AddByte(0xC2, f.status);
    if (key != nullptr) {
      auto sig = crypto::EcdsaP256Sign(key->private_key, SignedPart(f));
      t.Add(0x9E, *sig);
    }
    Append(inner, t.Take());
    return EncodeTlv(0xE1, inner);
  }
  // BF70 { inner, 9E }: the file signature by `key` over every byte of `inner` (nullptr: no
  // file signature).
  static Bytes SignedFile(const Bytes& inner, const crypto::P256KeyPair* key) {
    Bytes value = inner;
    if (key != nullptr) {
      Append(value, EncodeTlv(0x9E, *crypto::EcdsaP256Sign(key->private_key, inner)));
    }
    return EncodeTlv(0xBF70, value);
  }
  // E1 { record signed by key }, C4, [C9]: what the file signature covers.
  static Bytes FileContent(const Fields& f, const crypto::P256KeyPair* key,
                           const std::string& module_hex, const Bytes& params) {
    Bytes inner = Record(f, key);
    Append(inner, EncodeTlv(0xC4, HexOrDie(module_hex)));
    if (!params.empty()) Append(inner, EncodeTlv(0xC9, params));
    return inner;
  }
  // An installation file whose record and file are both signed by `key` (nullptr: neither).
  static Bytes InstallFile(const Fields& f, const crypto::P256KeyPair* key,
                           const std::string& module_hex, const Bytes& params) {
    return SignedFile(FileContent(f, key, module_hex, params), key);
  }
  static Bytes AdminObject(uint8_t id, const std::string& name, const Bytes& public_key,
                           uint8_t kvn, const scp03::StaticKeys* keys) {
    TlvBuilder b;
    b.Open(0xBF71).AddByte(0xC1, id).Add(0xC0, ToBytes(name));
    if (!public_key.empty()) b.Add(0x86, public_key);
    if (keys != nullptr) {
      Bytes d{kvn};
      const crypto::SecureBuffer* parts[] = {&keys->enc, &keys->mac, &keys->dek};
      const auto dek = HexOrDie("404142434445464748494A4B4C4D4E4F");  // the session's static DEK
      for (const crypto::SecureBuffer* k : parts) {
        auto wrapped = crypto::AesCbcEncrypt(dek, Bytes(16, 0), *k);
        d.push_back(0x88);
        d.push_back(static_cast<uint8_t>(1 + wrapped->size()));
        d.push_back(static_cast<uint8_t>(k->size()));
        Append(d, *wrapped);
        d.push_back(0x03);
        Append(d, *scp03::KeyCheckValue(*k));
      }
      b.Add(0xD8, d);
    }
    b.Close();
    return b.Take();
  }
  // Uploads `data` to the ISD in STORE DATA blocks of `block` bytes; the last status word.
  static std::string Upload(crypto::scp03::SecureChannel& isd, const Bytes& data,
                            size_t block = 200) {
    std::string sw;
    for (size_t off = 0, n = 0; off < data.size(); off += block, ++n) {
      const size_t len = std::min(block, data.size() - off);
      const bool last = off + len == data.size();
      char head[16];
      std::snprintf(head, sizeof head, "80E2%02X%02X", last ? 0x90 : 0x10,
                    static_cast<unsigned>(n));
      sw = SecSw(isd, head + Lc(len) + ToHex(ByteView(data).subspan(off, len)));
      if (sw != "9000") return sw;
    }
    return sw;
  }
  // Administrator 01 "ACME", signing key admin_key_, key set KVN 21 = AdminKeys().
  void AddAdmin(uint8_t id = 1, const std::string& name = "ACME", uint8_t kvn = 0x21) {
    auto isd = Issuer();
    ASSERT_NE(isd, nullptr);
    scp03::StaticKeys keys = AdminKeys();
    ASSERT_EQ(Upload(*isd, AdminObject(id, name, admin_key_.public_key, kvn, &keys)), "9000");
  }
  // Installs a DATA STORE (PIN 1234, `data`) signed by administrator 01.
  std::string InstallDataStore(const std::string& aid, const std::string& data = "secret data",
                               uint8_t status = 0) {
    auto isd = Issuer();
    Fields f;
    f.aid = aid;
    f.name = "STORE " + aid.substr(aid.size() - 2);
    f.status = status;
    TlvBuilder p;
    p.Add(0x80, ToBytes(data)).Add(0x81, ToBytes("1234"));
    return Upload(*isd, InstallFile(f, &admin_key_, kDataStoreModuleAid, p.Take()));
  }
  // The application list, as READ RECORD returns it (record n = [n-1]).
  std::vector<Bytes> List() {
    std::vector<Bytes> out;
    EXPECT_EQ(Sw("00A4040C09" + kMgmtAid), "9000");
    for (int n = 1; n < 20; ++n) {
      char cmd[16];
      std::snprintf(cmd, sizeof cmd, "00B2%02X0C00", n);
      std::string r = Tx(cmd);
      if (r.substr(r.size() - 4) != "9000") break;
      out.push_back(HexOrDie(r.substr(0, r.size() - 4)));
    }
    return out;
  }
  // The record number of `aid` in the list (0: none).
  int RecordOf(const std::string& aid) {
    auto list = List();
    for (size_t i = 0; i < list.size(); ++i) {
      if (ToHex(list[i]).find("4F" + Lc(aid.size() / 2) + aid) != std::string::npos) {
        return static_cast<int>(i + 1);
      }
    }
    return 0;
  }
  // The status byte C2 of the record of `aid` (-1: none).
  int RecordStatus(const std::string& aid) {
    int n = RecordOf(aid);
    if (n == 0) return -1;
    std::string hex = ToHex(List()[n - 1]);
    size_t at = hex.find("C201");
    return at == std::string::npos ? -2 : std::stoi(hex.substr(at + 4, 2), nullptr, 16);
  }
  // The AIDs the PSE lists, in order (what an EMV terminal reads).
  std::vector<std::string> Pse() {
    std::vector<std::string> out;
    EXPECT_EQ(Sw("00A404000E315041592E5359532E444446303100"), "9000");
    for (int n = 1; n < 20; ++n) {
      char cmd[16];
      std::snprintf(cmd, sizeof cmd, "00B2%02X0C00", n);
      std::string r = Tx(cmd);
      if (r.substr(r.size() - 4) == "6A83") break;
      Bytes rec = HexOrDie(r.substr(0, r.size() - 4));
      auto id = FindTlv(rec, 0x4F);
      if (id.ok() && *id) out.push_back(ToHex((*id)->value));
    }
    return out;
  }
  // UPDATE RECORD of `aid`'s record with `f` in a session `sc` with the management app.
  std::string Update(crypto::scp03::SecureChannel& sc, const std::string& aid,
                     const Bytes& record) {
    int n = RecordOf(aid);
    char head[16];
    std::snprintf(head, sizeof head, "84DC%02X0C", n);  // the session re-selects nothing
    return SecSw(sc, head + Lc(record.size()) + ToHex(record));
  }

  crypto::P256KeyPair admin_key_, other_key_;
};

}  // namespace tessera::apps
