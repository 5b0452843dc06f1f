// GET DATA (CA) on the issuer security domain: CPLC, card data, key information template, IIN,
// CIN, key diversification data and the SCP03 sequence counter (GP CS 2.3 §11.3).
#include "card/gp/isd_application.h"
#include "card/gp/key_store.h"
#include "card/gp/secure_channel_service.h"
#include "card/kernel/card_root.h"
#include "card/kernel/identifiers.h"
#include "card/registry/admin_registry.h"
#include "card/registry/app_registry.h"
#include "core/tlv.h"
#include "format/administrator.h"
#include "format/status_words.h"

namespace tessera::card {
namespace {

Bytes Cplc(uint64_t serial) {
  // 42 bytes: IC fabricator .. personalisation equipment. Tessera fills the identifiers that
  // say what it is and the IC serial number (the low 4 bytes of the card serial), and leaves
  // dates zero.
  Bytes c(42, 0);
  PutU32(&c[12], static_cast<uint32_t>(serial));
  c[0] = 0x54;  // IC fabricator "T"
  c[1] = 0x53;
  c[2] = 0x00;  // IC type
  c[3] = 0x01;
  c[4] = 0x54;  // OS identifier "TE"
  c[5] = 0x45;
  c[8] = 0x00;  // OS release level 0.2
  c[9] = 0x02;
  return EncodeTlv(0x9F7F, c);
}

Bytes CardData() {
  // 66 { 73 { OID GP, 60 {GP 2.3}, 63 {card id scheme}, 64 {SCP03, i = 70} } }
  TlvBuilder b;
  b.Open(0x66).Open(0x73);
  b.Add(0x06, HexOrDie("2A864886FC6B01"));
  b.Open(0x60).Add(0x06, HexOrDie("2A864886FC6B02020301")).Close();
  b.Open(0x63).Add(0x06, HexOrDie("2A864886FC6B03")).Close();
  b.Open(0x64).Add(0x06, HexOrDie("2A864886FC6B040370")).Close();
  b.Close().Close();
  return b.Take();
}

CardResult<Bytes> KeyInformation(Card& card, const CardRoot& root) {
  CARD_ASSIGN(auto sets, AllKeySets(card.store(), root));
  TlvBuilder b;
  b.Open(0xE0);
  for (const KeySet& k : sets) {
    const uint8_t len = static_cast<uint8_t>(k.keys.enc.size());
    for (uint8_t id = 1; id <= 3; ++id) b.Add(0xC0, Bytes{id, k.kvn, 0x88, len});
  }
  b.Close();
  return b.Take();
}

}  // namespace

CardResult<Response> HandleIsdGetData(Card& card, ChannelState&, const CommandApdu& cmd) {
  const uint16_t tag = static_cast<uint16_t>((cmd.p1 << 8) | cmd.p2);
  CARD_ASSIGN(CardRoot root, card.root());
  Response r;
  switch (tag) {
    case tag::kCplc: {
      CARD_ASSIGN(uint64_t serial, LoadCardSerial(card.store()));
      r.data = Cplc(serial);
      break;
    }
    case tag::kCardData:
      r.data = CardData();
      break;
    case tag::kKeyInformation: {
      CARD_ASSIGN(r.data, KeyInformation(card, root));
      break;
    }
    case tag::kIin:
      r.data = EncodeTlv(0x42, HexOrDie("545353"));
      break;  // IIN
    case tag::kCin:
      r.data = EncodeTlv(0x45, HexOrDie("5445535345524100000001"));
      break;  // CIN
    case tag::kKeyDiversificationData: {
      // Key diversification data: 00 00 || the card serial its keys derive from.
      CARD_ASSIGN(uint64_t serial, LoadCardSerial(card.store()));
      Bytes kdd(10, 0x00);
      PutU64(&kdd[2], serial);
      r.data = EncodeTlv(0xCF, kdd);
      break;
    }
    case tag::kAdministrator: {
      // The administrators and their public keys (docs/applications.md §5.3): public.
      CARD_ASSIGN(auto admins, LoadAdministrators(card.store(), root));
      std::vector<format::AdministratorEntry> list;
      for (const Administrator& a : admins) {
        format::AdministratorEntry e{a.id, a.name, a.public_key, std::nullopt};
        if (a.key_set != 0xFFFF) {
          CARD_ASSIGN(KeySet set, LoadKeySet(card.store(), a.key_set));
          e.kvn = set.kvn;
        }
        list.push_back(std::move(e));
      }
      r.data = format::EncodeAdministratorList(list);
      break;
    }
    case tag::kTrustedDate: {
      CARD_ASSIGN(Registry registry, LoadRegistry(card.store(), root));
      if (registry.trusted_date == Bytes(3, 0)) return Error::kReferencedDataNotFound;
      r.data = EncodeTlv(tag::kTrustedDate, registry.trusted_date);
      break;
    }
    case tag::kSequenceCounter: {
      CARD_ASSIGN(KeySet set, FindKeySet(card.store(), root, 0));
      r.data = EncodeTlv(
          0xC1, Bytes{static_cast<uint8_t>(set.sequence >> 16),
                      static_cast<uint8_t>(set.sequence >> 8), static_cast<uint8_t>(set.sequence)});
      break;
    }
    default:
      return Error::kReferencedDataNotFound;
  }
  return r;
}

}  // namespace tessera::card
