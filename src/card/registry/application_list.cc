#include "card/registry/application_list.h"

#include "card/kernel/card.h"
#include "card/kernel/identifiers.h"
#include "card/registry/admin_registry.h"
#include "core/tlv.h"
#include "crypto/ecdsa.h"

namespace tessera::card {
CardResult<AppRecord> ParseRecord(ByteView bytes) {
  auto r = format::ParseRecord(bytes);
  if (!r.ok()) return Error::kWrongData;
  return std::move(*r);
}

CardResult<SignatureState> CheckAdministratorSignature(Card& card, uint8_t admin_id,
                                                       ByteView signed_bytes, ByteView signature) {
  if (signature.empty()) return SignatureState::kUnsigned;
  CARD_ASSIGN(CardRoot root, card.root());
  CARD_ASSIGN(auto admin, FindAdministrator(card.store(), root, admin_id));
  if (!admin || admin->public_key.empty()) return SignatureState::kInvalid;
  return crypto::EcdsaP256Verify(admin->public_key, signed_bytes, signature).ok()
             ? SignatureState::kValid
             : SignatureState::kInvalid;
}

CardResult<SignatureState> CheckSignature(Card& card, const AppRecord& r) {
  return CheckAdministratorSignature(card, r.admin_id, SignedPart(r), r.signature);
}

CardResult<std::optional<FileNode>> ApplicationListFile(Card& card) {
  CARD_ASSIGN(CardRoot root, card.root());
  CARD_ASSIGN(Registry registry, LoadRegistry(card.store(), root));
  CARD_ASSIGN(auto entry, FindEntry(card.store(), registry, aid::kManagementApplication));
  if (!entry) return std::optional<FileNode>();
  CARD_ASSIGN(FileNode df, card.fs().Load(entry->df));
  CARD_ASSIGN(FileNode list, card.fs().ChildBySfi(df, kApplicationListSfi));
  return std::optional<FileNode>(std::move(list));
}

CardResult<AppRecord> ReadListRecord(Card& card, const FileNode& list, uint16_t slot) {
  CARD_ASSIGN(Bytes bytes, card.fs().ReadSlot(list, slot));
  auto r = ParseRecord(bytes);
  if (!r.ok()) return Error::kMemoryFailure;  // the card wrote it: damaged
  return r;
}

CardResult<std::optional<uint16_t>> FindRecordSlot(Card& card, const FileNode& list, ByteView aid) {
  for (uint16_t slot = 0; slot < list.record_count; ++slot) {
    CARD_ASSIGN(AppRecord r, ReadListRecord(card, list, slot));
    if (std::equal(r.aid.begin(), r.aid.end(), aid.begin(), aid.end())) {
      return std::optional<uint16_t>(slot);
    }
  }
  return std::optional<uint16_t>();
}

CardStatus WriteListRecord(Card& card, const FileNode& list, uint16_t slot,
                           const AppRecord& record) {
  const Bytes bytes = EncodeRecord(record);
  if (bytes.size() > list.size) return Error::kWrongLength;
  return card.fs().WriteSlot(list, slot, bytes);
}

CardStatus AppendListRecord(Card& card, FileNode& list, const AppRecord& record) {
  if (list.record_count >= list.max_records) return Error::kNotEnoughMemory;
  CARD_TRY(WriteListRecord(card, list, list.record_count, record));
  ++list.record_count;
  return card.fs().Save(list);
}

CardStatus RemoveListRecord(Card& card, FileNode& list, uint16_t slot) {
  if (slot >= list.record_count) return Error::kRecordNotFound;
  for (uint16_t i = slot; i + 1 < list.record_count; ++i) {
    CARD_ASSIGN(Bytes next, card.fs().ReadSlot(list, i + 1));
    CARD_TRY(card.fs().WriteSlot(list, i, next));
  }
  // The freed slot is zeroed: no trace of the deleted record stays in the file.
  CARD_TRY(card.fs().WriteSlot(list, static_cast<uint16_t>(list.record_count - 1), {}));
  --list.record_count;
  return card.fs().Save(list);
}

}  // namespace tessera::card
