#include "card/gp/secure_channel_service.h"

#include "card/kernel/card_root.h"
#include "format/status_words.h"

namespace tessera::card {
namespace {

namespace scp03 = crypto::scp03;

CardResult<KeySet> KeySetByBlock(Card& card, SecurityDomain& domain, uint16_t block) {
  CARD_ASSIGN(auto sets, domain.KeySets(card));
  for (KeySet& k : sets) {
    if (k.block == block) return std::move(k);
  }
  return Error::kReferencedDataNotFound;
}

}  // namespace

CardResult<Response> HandleInitializeUpdate(Card& card, ChannelState& ch, SecurityDomain& domain,
                                            const CommandApdu& cmd) {
  ch.CloseSecureChannel();  // a new INITIALIZE UPDATE ends any session on this channel
  if (cmd.p2 != 0x00) return Error::kWrongP1P2;
  if (cmd.data.size() != 8 && cmd.data.size() != 16) return Error::kWrongLength;
  const size_t n = cmd.data.size();  // S8 or S16
  CARD_ASSIGN(CardRoot root, card.root());
  if (root.gp_life_cycle == kGpTerminated) return Error::kFunctionNotSupported;
  KeySet set;
  {
    CARD_ASSIGN(auto sets, domain.KeySets(card));
    bool found = false;
    for (KeySet& k : sets) {
      if (!found && (cmd.p1 == 0 || k.kvn == cmd.p1)) {
        set = std::move(k);
        found = true;
      }
    }
    if (!found) return Error::kReferencedDataNotFound;
  }
  if (set.failures_left == 0) return Error::kAuthenticationBlocked;
  if (set.keys.enc.size() != 16 && set.keys.enc.size() != 24 && set.keys.enc.size() != 32) {
    return Error::kMemoryFailure;
  }
  // The sequence counter advances with every INITIALIZE UPDATE and commits with it.
  set.sequence = (set.sequence + 1) & 0xFFFFFF;
  if (set.sequence == 0) return Error::kConditionsNotSatisfied;  // exhausted: never reuse
  CARD_TRY(domain.SaveKeySet(card, set));
  const ByteView aid = ch.selected_app->aid();
  auto challenge = scp03::CardChallenge(set.keys.enc, set.sequence, aid, n);
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
  // Key diversification data, as GET DATA CF answers it: 00 00 || the card serial.
  CARD_ASSIGN(uint64_t serial, LoadCardSerial(card.store()));
  r.data = Bytes(10, 0x00);
  PutU64(&r.data[2], serial);
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
                                                SecurityDomain& domain, const CommandApdu& cmd) {
  if (!ch.scp_pending) return Error::kConditionsNotSatisfied;
  std::shared_ptr<ChannelState::PendingScp> pending = std::move(ch.scp_pending);
  ch.scp_pending.reset();
  if (!scp03::ValidSecurityLevel(cmd.p1) || cmd.p2 != 0x00) return Error::kWrongP1P2;
  if (cmd.data.size() != 2 * pending->mac_length) return Error::kWrongLength;
  CARD_ASSIGN(KeySet set, KeySetByBlock(card, domain, pending->key_set_block));
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
  CARD_TRY(domain.SaveKeySet(card, set));
  card.store().MarkSensitive();
  session->set_level(cmd.p1);
  ch.scp = std::move(session);
  ch.scp_key_set_block = set.block;
  ch.scp_domain = ch.selected_app;
  return Response{};
}

CardStatus RequireAdminSession(Card& card, const ChannelState& ch) {
  if (ch.selected_app != nullptr && card.privileged_internal(ch)) return Ok{};
  if (ch.selected_app == nullptr || !ch.SecuredBy(ch.selected_app)) {
    return Error::kSecurityNotSatisfied;
  }
  CARD_ASSIGN(CardRoot root, card.root());
  const bool secured = root.gp_life_cycle == kGpSecured || root.gp_life_cycle == kGpCardLocked;
  const uint8_t need = secured ? root.admin_level : scp03::kCMac;
  if ((ch.scp->level() & need) != need) return Error::kSecurityNotSatisfied;
  return Ok{};
}

}  // namespace tessera::card
