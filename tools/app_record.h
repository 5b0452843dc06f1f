// The host's view of the application list (docs/applications.md §4): the E1 record of one
// application, the bytes its signature covers, the module AIDs (§1), dates (YYMMDD in BCD) and
// the FF7x objects whose first tag byte FF core's TLV parser refuses.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/status.h"

namespace tessera::tools {

// F054455353455241 01: the management application; A000000151000000: the ISD.
Bytes ManagementAid();
Bytes IsdAid();

// "data-store" → F054455353455241 4D01 and back (§1); nullopt / "" when unknown.
std::optional<Bytes> ModuleAidByName(std::string_view name);
std::string ModuleNameByAid(ByteView aid);
// Why the card refuses this AID for a new application (§5.2: the ISD's, the management
// application's, a module AID), or "" when it does not.
std::string ReservedAidReason(ByteView aid);

// Record status (C2, §2).
inline constexpr uint8_t kStatusActive = 0x00;
inline constexpr uint8_t kStatusLocked = 0x01;
inline constexpr uint8_t kStatusTerminated = 0x02;
inline constexpr uint8_t kStatusErased = 0x03;
std::string StatusName(uint8_t status);  // "active", ..., "status 7F" for others

struct AppRecord {
  Bytes aid;
  std::string name;
  std::string admin_name;
  uint8_t admin_id = 0;
  Bytes use_start = Bytes(3, 0);   // BCD YYMMDD, 000000 = none
  Bytes expiration = Bytes(3, 0);  // BCD YYMMDD, 000000 = none
  uint8_t status = kStatusActive;
  Bytes signature;    // 64 bytes r||s; empty: unsigned
  Bytes signed_data;  // as parsed: the encodings of 4F 50 C0 C1 5F25 5F24 found in the record
};

// The encodings (tag, length, value) of 4F 50 C0 C1 5F25 5F24 in that order: what 9E signs.
Bytes SignedData(const AppRecord& r);
// E1 L { 4F 50 C0 C1 5F25 5F24 C2 [9E] }.
Bytes EncodeRecord(const AppRecord& r);
// Parses E1 L {...} (exactly one object, the fields in the order of §4). kMalformed names what
// is wrong.
Result<AppRecord> ParseRecord(ByteView bytes);
// The record with C2 replaced by `status` and, when `signature` is given, 9E replaced (or added)
// by it; every other field's bytes are kept as they are. REQUIRES: ParseRecord(record).ok().
Bytes RewriteRecord(ByteView record, uint8_t status, const std::optional<Bytes>& signature);

// "YYMMDD" (digits, a real date in 2000-2099, or "000000") → 3 BCD bytes. The error says why.
Result<Bytes> ParseYymmdd(std::string_view text);
// 3 BCD bytes → "YYMMDD" (hex digits as they are if the bytes are not BCD).
std::string YymmddText(ByteView bcd);
// 3 BCD bytes → "2026-01-31", or `none` for 000000.
std::string DateDisplay(ByteView bcd, std::string_view none = "none");

// Well-formed UTF-8 (RFC 3629) without control characters.
bool IsPrintableUtf8(std::string_view s);
// For a table: control characters and bytes that are not UTF-8 become '?'.
std::string Printable(std::string_view s);
// Display width of printable UTF-8 (one column per code point).
size_t DisplayWidth(std::string_view s);

// The value of the one object `bytes` holds, whose tag must be `tag` (BF70, BF71).
Result<ByteView> UnwrapObject(ByteView bytes, uint32_t tag);

}  // namespace tessera::tools
