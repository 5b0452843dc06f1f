// PUT KEY (D8) and DELETE (E4) of a key set on the issuer security domain (GP CS 2.3 §11.8,
// §11.2; keys wrapped with the session's DEK, GP Amendment D).
#include "card/gp/isd_application.h"
#include "card/gp/key_store.h"
#include "card/gp/secure_channel_service.h"
#include "card/kernel/card_root.h"
#include "card/kernel/identifiers.h"
#include "core/tlv.h"
#include "crypto/aes.h"
#include "crypto/put_key.h"
#include "format/status_words.h"

#include <optional>

namespace tessera::card {

CardResult<crypto::scp03::StaticKeys> UnwrapKeyComponents(ByteView d,
                                                          const crypto::SecureBuffer& dek,
                                                          Bytes& kcvs) {
  auto got = crypto::scp03::UnwrapKeyComponents(d, dek);
  if (!got.ok()) {
    return got.status().code() == ErrorCode::kInvalidArgument ? Error::kInvalidKeyCheckValue
                                                              : Error::kWrongData;
  }
  Append(kcvs, got->kcvs);
  return std::move(got->keys);
}

CardResult<crypto::SecureBuffer> SessionDek(Card& card, const ChannelState& ch) {
  CARD_ASSIGN(CardRoot root, card.root());
  CARD_ASSIGN(auto sets, AllKeySets(card.store(), root));
  for (auto& k : sets) {
    if (k.block == ch.scp_key_set_block) return std::move(k.keys.dek);
  }
  return Error::kReferencedDataNotFound;
}

CardResult<Response> HandlePutKey(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  CARD_TRY(RequireAdminSession(card, ch));
  CARD_ASSIGN(CardRoot root, card.root());
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
  }
  // KVNs stay unique: adding one that exists, or renaming a replaced set onto another
  // set's KVN, is refused.
  if (new_kvn != cmd.p1) {
    CARD_ASSIGN(bool used, KvnInUse(card, root, new_kvn));
    if (used) return Error::kConditionsNotSatisfied;
  }
  // The DEK that wraps the new keys: the one of the key set this session was opened with.
  CARD_ASSIGN(crypto::SecureBuffer dek, SessionDek(card, ch));
  Response r;
  r.data.push_back(new_kvn);
  CARD_ASSIGN(crypto::scp03::StaticKeys keys, UnwrapKeyComponents(d.subspan(pos), dek, r.data));
  target.kvn = new_kvn;
  target.keys = std::move(keys);
  target.failures_left = target.max_failures;
  target.sequence = 0;
  CARD_TRY(SaveKeySet(card.store(), root, target));
  card.store().MarkSensitive();
  return r;
}

CardResult<Response> HandleDeleteKey(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  CARD_TRY(RequireAdminSession(card, ch));
  if (cmd.p1 != 0x00 || (cmd.p2 != 0x00 && cmd.p2 != 0x80)) return Error::kWrongP1P2;
  // D2 {KVN} (and optionally D0 {key id}): a whole key set; tag 4F (an application) arrives
  // with card content management.
  auto items = ParseTlvSequence(cmd.data);
  if (!items.ok() || items->empty()) return Error::kWrongData;
  std::optional<uint8_t> kvn;
  for (const TlvView& t : *items) {
    if (t.tag == 0xD2 && t.value.size() == 1) {
      kvn = t.value[0];
    } else if (t.tag == 0xD0 && t.value.size() == 1) {
      // Key ids 1..3 name the keys of one set; Tessera deletes sets whole.
    } else if (t.tag == 0x4F) {
      return Error::kReferencedDataNotFound;
    } else {
      return Error::kWrongData;
    }
  }
  if (!kvn) return Error::kWrongData;
  // Key sets are the session's business, never a stored command's (docs/self-issuance.md §5):
  // a run would end the issuer's own session, or take the issuer's keys.
  if (card.privileged_internal(ch)) return Error::kConditionsNotSatisfied;
  CARD_ASSIGN(CardRoot root, card.root());
  CARD_ASSIGN(KeySet set, FindKeySet(card.store(), root, *kvn));
  if (*kvn == 0) return Error::kWrongData;
  // Never the key set of the session deleting it, and never the last one (the card would lose
  // its issuer for good).
  if (set.block == ch.scp_key_set_block) return Error::kConditionsNotSatisfied;
  size_t sets = 0;
  for (uint16_t b : root.key_sets) sets += b != 0xFFFF;
  if (sets <= 1) return Error::kConditionsNotSatisfied;
  for (uint16_t& b : root.key_sets) {
    if (b == set.block) b = 0xFFFF;
  }
  CARD_TRY(SaveRoot(card.store(), root));
  CARD_TRY_STATUS(card.store().FreeBlock(set.block));  // wiped after the commit
  card.EndSessionsOf(set.block);
  return GpReceipt(cmd);
}

}  // namespace tessera::card
