// The application list (docs/applications.md §4, seed JP6426411B2 FIG. 5): the records the
// management application keeps in its EF SFI 1, one per installed application. The OS reads and
// writes it here, so that every door onto the registry (records, GlobalPlatform, installation)
// keeps record and application in step in the same transaction.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "card/fs/file_node.h"
#include "card/kernel/card_error.h"
#include "card/registry/app_registry.h"
#include "format/application_record.h"

namespace tessera::card {

class Card;

// The list EF in the management application's DF: FID 0101, SFI 1, linear variable, one record
// of up to 255 bytes per application; anyone reads it (the acquisition command), nobody writes
// it through the OS's record commands.
inline constexpr uint16_t kApplicationListFid = 0x0101;
inline constexpr uint8_t kApplicationListSfi = 1;
inline constexpr uint16_t kApplicationListRecordSize = 255;
inline const Bytes kApplicationListSecurity = HexOrDie("7FFFFFFFFFFFFF00");

// The record's bytes: format/application_record.h.
using format::AppRecord;
using format::EncodeRecord;
using format::SignedPart;
// format::ParseRecord, any refusal answered 6A80.
CardResult<AppRecord> ParseRecord(ByteView record);

enum class SignatureState : uint8_t { kValid, kUnsigned, kInvalid };
// Checks `signature` (64 bytes r||s, or empty: unsigned) over `signed_bytes` with the public
// key of administrator `admin_id` (not registered, or without a key: invalid).
CardResult<SignatureState> CheckAdministratorSignature(Card& card, uint8_t admin_id,
                                                       ByteView signed_bytes, ByteView signature);
// Checks the record's signature (over SignedPart) with its administrator's public key.
CardResult<SignatureState> CheckSignature(Card& card, const AppRecord& record);

// The list EF of the installed management application, or nullopt when there is none.
CardResult<std::optional<FileNode>> ApplicationListFile(Card& card);
// Record slot index (0-based) of the record for `aid`, or nullopt.
CardResult<std::optional<uint16_t>> FindRecordSlot(Card& card, const FileNode& list, ByteView aid);
CardResult<AppRecord> ReadListRecord(Card& card, const FileNode& list, uint16_t slot);
CardStatus WriteListRecord(Card& card, const FileNode& list, uint16_t slot,
                           const AppRecord& record);
// Appends a record (6A84 when the list is full).
CardStatus AppendListRecord(Card& card, FileNode& list, const AppRecord& record);
// Removes record `slot`; later records move down one.
CardStatus RemoveListRecord(Card& card, FileNode& list, uint16_t slot);

}  // namespace tessera::card
