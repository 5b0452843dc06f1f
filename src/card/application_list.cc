#include "card/application_list.h"

#include "card/admin_registry.h"
#include "card/card.h"
#include "card/identifiers.h"
#include "core/tlv.h"
#include "crypto/ecdsa.h"

namespace tessera::card {
namespace {

bool Utf8Name(ByteView v) {
  return !v.empty() && v.size() <= kMaxAppName;
}

}  // namespace

CardResult<AppRecord> ParseRecord(ByteView bytes) {
  auto outer = ParseTlv(bytes);
  if (!outer.ok() || outer->tag != 0xE1 || outer->encoded_size != bytes.size()) {
    return Error::kWrongData;
  }
  auto fields = ParseTlvSequence(outer->value);
  if (!fields.ok()) return Error::kWrongData;
  static constexpr TlvTag kOrder[] = {0x4F, 0x50, 0xC0, 0xC1, 0x5F25, 0x5F24, 0xC2, 0x9E};
  AppRecord r;
  size_t next = 0;
  for (const TlvView& f : *fields) {
    while (next < std::size(kOrder) && kOrder[next] != f.tag) {
      if (kOrder[next] != 0x9E) return Error::kWrongData;  // only the signature is optional
      ++next;
    }
    if (next == std::size(kOrder)) return Error::kWrongData;
    ++next;
    switch (f.tag) {
      case 0x4F:
        if (f.value.size() < 5 || f.value.size() > kMaxAidLength) return Error::kWrongData;
        r.aid.assign(f.value.begin(), f.value.end());
        break;
      case 0x50:
        if (!Utf8Name(f.value)) return Error::kWrongData;
        r.name.assign(f.value.begin(), f.value.end());
        break;
      case 0xC0:
        if (!Utf8Name(f.value)) return Error::kWrongData;
        r.admin_name.assign(f.value.begin(), f.value.end());
        break;
      case 0xC1:
        if (f.value.size() != 1) return Error::kWrongData;
        r.admin_id = f.value[0];
        break;
      case 0x5F25:
      case 0x5F24:
        if (!IsValidDate(f.value)) return Error::kWrongData;
        (f.tag == 0x5F25 ? r.use_start : r.expiration).assign(f.value.begin(), f.value.end());
        break;
      case 0xC2:
        if (f.value.size() != 1 || f.value[0] > 3) return Error::kWrongData;
        r.status = static_cast<AppState>(f.value[0]);
        break;
      case 0x9E:
        if (f.value.size() != crypto::kP256SignatureSize) return Error::kWrongData;
        r.signature.assign(f.value.begin(), f.value.end());
        break;
    }
  }
  // Everything but the signature is required.
  if (next < 7) return Error::kWrongData;
  return r;
}

Bytes SignedPart(const AppRecord& r) {
  TlvBuilder b;
  b.Add(0x4F, r.aid).Add(0x50, ToBytes(r.name)).Add(0xC0, ToBytes(r.admin_name));
  b.AddByte(0xC1, r.admin_id).Add(0x5F25, r.use_start).Add(0x5F24, r.expiration);
  return b.Take();
}

Bytes EncodeRecord(const AppRecord& r) {
  Bytes inner = SignedPart(r);
  TlvBuilder tail;
  tail.AddByte(0xC2, static_cast<uint8_t>(r.status));
  if (!r.signature.empty()) tail.Add(0x9E, r.signature);
  Append(inner, tail.Take());
  TlvBuilder b;
  b.Add(0xE1, inner);
  return b.Take();
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
