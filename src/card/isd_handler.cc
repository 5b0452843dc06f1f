// The issuer security domain (GlobalPlatform Card Specification 2.3, reference §1 and §2):
// INITIALIZE UPDATE (50) and EXTERNAL AUTHENTICATE (82) open an SCP03 session; GET DATA (CA),
// GET STATUS (F2) and SET STATUS (F0) for the card; PUT KEY (D8) adds or replaces key sets.
#include "card/card_root.h"
#include "card/handlers.h"
#include "card/key_store.h"
#include "core/status_words.h"
#include "core/tlv.h"
#include "crypto/aes.h"

namespace tessera::card {
namespace {

namespace scp03 = crypto::scp03;

const Bytes kIsdAid = HexOrDie("A000000151000000");

CardStatus RequireIsd(const ChannelState& ch, const CommandApdu& cmd) {
  if (!ch.isd_selected) return Error::kInsNotSupported;
  if ((cmd.cla & 0x80) == 0) return Error::kClaNotSupported;
  return Ok{};
}

// Administrative commands need the command to arrive in an authenticated session; once the
// card is SECURED (or locked), at the level the card's policy names.
CardStatus RequireAdmin(const ChannelState& ch, const CardRoot& root) {
  if (!ch.scp || !ch.command_secured) return Error::kSecurityNotSatisfied;
  const bool secured = root.gp_life_cycle == kGpSecured || root.gp_life_cycle == kGpCardLocked;
  const uint8_t need = secured ? root.admin_level : scp03::kCMac;
  if ((ch.scp->level() & need) != need) return Error::kSecurityNotSatisfied;
  return Ok{};
}

Bytes Cplc() {
  // 42 bytes: IC fabricator .. personalisation equipment. Tessera fills the identifiers that
  // say what it is and leaves dates and serials zero.
  Bytes c(42, 0);
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

bool NamesIsd(ByteView name) {
  return name.empty() || (name.size() >= 5 && name.size() <= kIsdAid.size() &&
                          std::equal(name.begin(), name.end(), kIsdAid.begin()));
}

Bytes IsdFci() {
  TlvBuilder b;
  b.Open(0x6F).Add(0x84, kIsdAid).Open(0xA5).AddByte(0x9F65, 0xFF).Close().Close();
  return b.Take();
}

CardResult<Response> HandleInitializeUpdate(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  CARD_TRY(RequireIsd(ch, cmd));
  ch.CloseSecureChannel();  // a new INITIALIZE UPDATE ends any session on this channel
  if (cmd.p2 != 0x00) return Error::kWrongP1P2;
  if (cmd.data.size() != 8 && cmd.data.size() != 16) return Error::kWrongLength;
  const size_t n = cmd.data.size();  // S8 or S16
  CARD_ASSIGN(CardRoot root, card.root());
  if (root.gp_life_cycle == kGpTerminated) return Error::kFunctionNotSupported;
  CARD_ASSIGN(KeySet set, FindKeySet(card.store(), root, cmd.p1));
  if (set.failures_left == 0) return Error::kAuthenticationBlocked;
  if (set.keys.enc.size() != 16 && set.keys.enc.size() != 24 && set.keys.enc.size() != 32) {
    return Error::kMemoryFailure;
  }
  // The sequence counter advances with every INITIALIZE UPDATE and commits with it.
  set.sequence = (set.sequence + 1) & 0xFFFFFF;
  if (set.sequence == 0) return Error::kConditionsNotSatisfied;  // exhausted: never reuse
  CARD_TRY(SaveKeySet(card.store(), root, set));
  auto challenge = scp03::CardChallenge(set.keys.enc, set.sequence, kIsdAid, n);
  if (!challenge.ok()) return FromStatus(challenge.status());
  Bytes context = cmd.data;
  Append(context, *challenge);
  auto keys = scp03::DeriveSessionKeys(set.keys, context);
  if (!keys.ok()) return FromStatus(keys.status());
  auto cryptogram = scp03::Cryptogram(*keys, scp03::kDeriveCardCryptogram, context, n);
  if (!cryptogram.ok()) return FromStatus(cryptogram.status());
  auto pending = std::make_shared<ChannelState::PendingScp>();
  pending->keys = std::move(*keys);
  pending->context = context;
  pending->key_set_block = set.block;
  pending->mac_length = n;
  ch.scp_pending = std::move(pending);

  Response r;
  r.data = Bytes(10, 0x00);  // key diversification data
  r.data.push_back(set.kvn);
  r.data.push_back(0x03);  // SCP03
  r.data.push_back(static_cast<uint8_t>(scp03::kIPseudoRandom | scp03::kIRMac | scp03::kIREnc |
                                        (n == 16 ? scp03::kIS16 : 0)));
  Append(r.data, *challenge);
  Append(r.data, *cryptogram);
  r.data.push_back(static_cast<uint8_t>(set.sequence >> 16));
  r.data.push_back(static_cast<uint8_t>(set.sequence >> 8));
  r.data.push_back(static_cast<uint8_t>(set.sequence));
  return r;
}

CardResult<Response> HandleExternalAuthenticate(Card& card, ChannelState& ch,
                                                const CommandApdu& cmd) {
  CARD_TRY(RequireIsd(ch, cmd));
  if (!ch.scp_pending) return Error::kConditionsNotSatisfied;
  std::shared_ptr<ChannelState::PendingScp> pending = std::move(ch.scp_pending);
  ch.scp_pending.reset();
  if (!scp03::ValidSecurityLevel(cmd.p1) || cmd.p2 != 0x00) return Error::kWrongP1P2;
  if (cmd.data.size() != 2 * pending->mac_length) return Error::kWrongLength;
  CARD_ASSIGN(CardRoot root, card.root());
  KeySet set;
  {
    CARD_ASSIGN(auto sets, AllKeySets(card.store(), root));
    bool found = false;
    for (auto& k : sets) {
      if (k.block == pending->key_set_block) {
        set = std::move(k);
        found = true;
      }
    }
    if (!found) return Error::kReferencedDataNotFound;
  }
  if (set.failures_left == 0) return Error::kAuthenticationBlocked;
  // Spend a try first, durably; give it back only after the check passed.
  const uint8_t left = static_cast<uint8_t>(set.failures_left - 1);
  CARD_TRY_STATUS(
      card.store().CommitNow(FailuresLeftOffset(card.store(), set), ByteView(&left, 1)));
  set.failures_left = left;

  auto session = std::make_shared<scp03::Session>(pending->keys, pending->mac_length);
  auto plain = session->UnwrapExternalAuthenticate(cmd);
  if (!plain.ok()) return Error::kSecurityNotSatisfied;
  auto expected = scp03::Cryptogram(pending->keys, scp03::kDeriveHostCryptogram, pending->context,
                                    pending->mac_length);
  if (!expected.ok()) return FromStatus(expected.status());
  if (!ConstantTimeEqual(*expected, plain->data)) {
    return Response{{}, sw::kWarningNvmChanged};  // 6300: authentication failed, try spent
  }
  set.failures_left = set.max_failures;
  CARD_TRY(SaveKeySet(card.store(), root, set));
  card.store().MarkSensitive();
  session->set_level(cmd.p1);
  ch.scp = std::move(session);
  ch.scp_key_set_block = set.block;
  return Response{};
}

CardResult<Response> HandleIsdGetData(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  (void)ch;
  const uint16_t tag = static_cast<uint16_t>((cmd.p1 << 8) | cmd.p2);
  CARD_ASSIGN(CardRoot root, card.root());
  Response r;
  switch (tag) {
    case 0x9F7F:
      r.data = Cplc();
      break;
    case 0x0066:
      r.data = CardData();
      break;
    case 0x00E0: {
      CARD_ASSIGN(r.data, KeyInformation(card, root));
      break;
    }
    case 0x0042:
      r.data = EncodeTlv(0x42, HexOrDie("545353"));
      break;  // IIN
    case 0x0045:
      r.data = EncodeTlv(0x45, HexOrDie("5445535345524100000001"));
      break;  // CIN
    case 0x00CF:
      r.data = EncodeTlv(0xCF, Bytes(10, 0x00));
      break;  // key diversification data
    case 0x00C1: {
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

CardResult<Response> HandleGetStatus(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  CARD_TRY(RequireIsd(ch, cmd));
  CARD_ASSIGN(CardRoot root, card.root());
  CARD_TRY(RequireAdmin(ch, root));
  if (cmd.p1 != 0x80 && cmd.p1 != 0x40 && cmd.p1 != 0x20 && cmd.p1 != 0x10) {
    return Error::kWrongP1P2;
  }
  if ((cmd.p2 & ~0x03) != 0) return Error::kWrongP1P2;
  if (cmd.data.empty()) return Error::kWrongData;
  auto search = FindTlv(cmd.data, 0x4F);
  if (!search.ok() || !search->has_value()) return Error::kWrongData;
  ByteView aid = (*search)->value;
  // Applications and load files arrive with card content management; only the ISD exists.
  if (cmd.p1 != 0x80) return Error::kReferencedDataNotFound;
  if (!aid.empty() &&
      !std::equal(aid.begin(), aid.end(), kIsdAid.begin(),
                  kIsdAid.begin() + static_cast<ptrdiff_t>(std::min(aid.size(), kIsdAid.size())))) {
    return Error::kReferencedDataNotFound;
  }
  if (cmd.p2 & 0x01) return Error::kReferencedDataNotFound;  // no further entries
  Response r;
  if (cmd.p2 & 0x02) {
    TlvBuilder b;
    b.Open(0xE3)
        .Add(0x4F, kIsdAid)
        .AddByte(0x9F70, root.gp_life_cycle)
        .Add(0xC5, HexOrDie("9EFE80"));
    b.Close();
    r.data = b.Take();
  } else {
    r.data.push_back(static_cast<uint8_t>(kIsdAid.size()));
    Append(r.data, kIsdAid);
    r.data.push_back(root.gp_life_cycle);
    r.data.push_back(0x9E);
  }
  return r;
}

CardResult<Response> HandleSetStatus(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  CARD_TRY(RequireIsd(ch, cmd));
  CARD_ASSIGN(CardRoot root, card.root());
  CARD_TRY(RequireAdmin(ch, root));
  if (cmd.p1 != 0x80)
    return cmd.p1 == 0x40 || cmd.p1 == 0x60 ? CardResult<Response>(Error::kReferencedDataNotFound)
                                            : CardResult<Response>(Error::kWrongP1P2);
  if (!cmd.data.empty() && Bytes(cmd.data) != kIsdAid) return Error::kReferencedDataNotFound;
  const uint8_t from = root.gp_life_cycle, to = cmd.p2;
  const bool allowed =
      (from == kGpOpReady && to == kGpInitialized) ||
      (from == kGpInitialized && to == kGpSecured) || (from == kGpSecured && to == kGpCardLocked) ||
      (from == kGpCardLocked && to == kGpSecured) || (to == kGpTerminated && from != kGpTerminated);
  if (to != kGpOpReady && to != kGpInitialized && to != kGpSecured && to != kGpCardLocked &&
      to != kGpTerminated) {
    return Error::kWrongP1P2;
  }
  if (!allowed) return Error::kConditionsNotSatisfied;
  root.gp_life_cycle = to;
  if (to == kGpTerminated) root.card_state = kCardTerminated;
  CARD_TRY(SaveRoot(card.store(), root));
  return Response{};
}

CardResult<Response> HandlePutKey(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  CARD_TRY(RequireIsd(ch, cmd));
  CARD_ASSIGN(CardRoot root, card.root());
  CARD_TRY(RequireAdmin(ch, root));
  // P1 = KVN to replace (00: add a new key set), P2 = 81: the three keys from key id 1.
  if (cmd.p2 != 0x81 || (cmd.p1 & 0x80)) return Error::kWrongP1P2;
  ByteView d = cmd.data;
  if (d.size() < 1) return Error::kWrongData;
  const uint8_t new_kvn = d[0];
  if (new_kvn == 0 || new_kvn > 0x7F) return Error::kWrongData;
  size_t pos = 1;
  KeySet target;
  if (cmd.p1 != 0) {
    CARD_ASSIGN(target, FindKeySet(card.store(), root, cmd.p1));
  } else {
    if (FindKeySet(card.store(), root, new_kvn).ok()) return Error::kConditionsNotSatisfied;
  }
  // The DEK that wraps the new keys: the one of the key set this session was opened with.
  crypto::SecureBuffer dek;
  {
    CARD_ASSIGN(auto sets, AllKeySets(card.store(), root));
    for (auto& k : sets) {
      if (k.block == ch.scp_key_set_block) dek = k.keys.dek;
    }
    if (dek.empty()) return Error::kReferencedDataNotFound;
  }
  std::vector<crypto::SecureBuffer> keys;
  Response r;
  r.data.push_back(new_kvn);
  for (int i = 0; i < 3; ++i) {
    // 88 L { key length, encrypted key } KCV length, KCV.
    if (d.size() < pos + 3 || d[pos] != 0x88) return Error::kWrongData;
    const size_t block_len = d[pos + 1];
    const size_t key_len = d[pos + 2];
    if ((key_len != 16 && key_len != 24 && key_len != 32) || block_len < 1 + key_len ||
        d.size() < pos + 2 + block_len + 1) {
      return Error::kWrongData;
    }
    ByteView wrapped = d.subspan(pos + 3, block_len - 1);
    pos += 2 + block_len;
    const size_t kcv_len = d[pos++];
    if (kcv_len != 3 || d.size() < pos + kcv_len) return Error::kWrongData;
    ByteView kcv = d.subspan(pos, kcv_len);
    pos += kcv_len;
    if (wrapped.size() % 16 != 0) return Error::kWrongData;
    auto clear = crypto::AesCbcDecrypt(dek, Bytes(16, 0), wrapped);
    if (!clear.ok()) return Error::kWrongData;
    crypto::SecureBuffer key(clear->begin(), clear->begin() + static_cast<ptrdiff_t>(key_len));
    crypto::SecureZero(clear->data(), clear->size());
    auto check = crypto::scp03::KeyCheckValue(key);
    if (!check.ok() || !ConstantTimeEqual(*check, kcv)) {
      return Error::kInvalidKeyCheckValue;
    }
    Append(r.data, *check);
    keys.push_back(std::move(key));
  }
  if (pos != d.size()) return Error::kWrongData;
  if (keys[0].size() != keys[1].size() || keys[1].size() != keys[2].size())
    return Error::kWrongData;
  target.kvn = new_kvn;
  target.keys.enc = std::move(keys[0]);
  target.keys.mac = std::move(keys[1]);
  target.keys.dek = std::move(keys[2]);
  target.failures_left = target.max_failures;
  target.sequence = 0;
  CARD_TRY(SaveKeySet(card.store(), root, target));
  card.store().MarkSensitive();
  return r;
}

}  // namespace tessera::card
