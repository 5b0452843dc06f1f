// The host's view of the application list (docs/applications.md §4): the module AIDs (§1),
// dates (YYMMDD in BCD) as operators type and read them, and the FF7x objects whose first tag
// byte FF core's TLV parser refuses. The record's codec is format/application_record.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/status.h"
#include "format/application_record.h"

namespace tessera::host {

// F054455353455241 01: the management application; A000000151000000: the ISD.
Bytes ManagementAid();
Bytes IsdAid();

// "data-store" → F054455353455241 4D01 and back (§1); nullopt / "" when unknown.
std::optional<Bytes> ModuleAidByName(std::string_view name);
std::string ModuleNameByAid(ByteView aid);
// Why the card refuses this AID for a new application (§5.2: the ISD's, the management
// application's, a module AID), or "" when it does not.
std::string ReservedAidReason(ByteView aid);

// The record itself and what its signature covers: format/application_record.h.
using format::AppRecord;
using format::AppState;
using format::EncodeRecord;
using format::ParseRecord;
using format::SignedPart;
// "active", ..., as the record's C2 says.
inline std::string StatusName(AppState status) {
  return std::string(format::AppStateName(status));
}

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

}  // namespace tessera::host
