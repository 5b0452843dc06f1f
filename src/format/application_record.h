// The application record (docs/applications.md §4, seed JP6426411B2 FIG. 5): the E1 object the
// management application keeps, one per installed application, and the part of it that the
// administrator's signature covers. One codec for every side: the card (UPDATE RECORD, the
// installation file, the list it writes), the host tool (apps list, make-install-file, set
// status) and the checker.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/status.h"

namespace tessera::format {

inline constexpr size_t kMinAidLength = 5;
inline constexpr size_t kMaxAidLength = 16;
inline constexpr size_t kMaxAppName = 32;           // bytes of UTF-8, for 50 and C0
inline constexpr size_t kRecordSignatureSize = 64;  // ECDSA P-256 r||s

// The application's state as its record (C2) states it (docs/applications.md §2).
enum class AppState : uint8_t {
  kActive = 0x00,
  kLocked = 0x01,
  kTerminated = 0x02,
  kErased = 0x03
};
// "active", "locked", "terminated", "erased".
std::string_view AppStateName(AppState state);

// A date as YYMMDD BCD, valid (month 01-12, day 01-31) or, when `allow_zero`, 000000 (none).
bool IsValidDate(ByteView date, bool allow_zero = true);

struct AppRecord {
  Bytes aid;                            // 4F, 5..16 bytes
  std::string name;                     // 50, 1..32 bytes
  std::string admin_name;               // C0, 1..32 bytes
  uint8_t admin_id = 0;                 // C1
  Bytes use_start = Bytes(3, 0);        // 5F25, BCD YYMMDD, 000000 = none
  Bytes expiration = Bytes(3, 0);       // 5F24, BCD YYMMDD, 000000 = none
  AppState status = AppState::kActive;  // C2
  Bytes signature;                      // 9E: 64 bytes r||s, or empty: unsigned
};

// Parses exactly one E1 L { 4F 50 C0 C1 5F25 5F24 C2 [9E] } object, the fields in that order
// and within the limits above. kMalformed names the first field that is wrong.
Result<AppRecord> ParseRecord(ByteView bytes);
Bytes EncodeRecord(const AppRecord& record);
// What the signature 9E covers: the encodings of 4F 50 C0 C1 5F25 5F24, in that order, as
// EncodeRecord writes them (the card stores and checks records only in this encoding).
Bytes SignedPart(const AppRecord& record);

}  // namespace tessera::format
