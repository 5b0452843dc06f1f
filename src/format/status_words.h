// Status words (ISO/IEC 7816-4 §5.6, GlobalPlatform Card Specification 2.3 §11.1.3) with their
// names and meanings, for the dispatcher and for human-readable traces. One table, one place.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tessera::sw {

inline constexpr uint16_t kOk = 0x9000;
inline constexpr uint16_t kBytesRemaining = 0x6100;  // 61xx: xx more bytes (GET RESPONSE)
inline constexpr uint16_t kWarningNvmUnchanged = 0x6200;
inline constexpr uint16_t kWarningFileDeactivated = 0x6283;  // also GP: card locked
inline constexpr uint16_t kWarningEndOfFile = 0x6282;
inline constexpr uint16_t kWarningFileTerminated = 0x6285;
inline constexpr uint16_t kWarningNvmChanged = 0x6300;  // GP: authentication failed
inline constexpr uint16_t kMoreData = 0x6310;           // GP GET STATUS continuation
inline constexpr uint16_t kCounterBase = 0x63C0;        // 63Cx: x tries left
inline constexpr uint16_t kExecutionError = 0x6400;
inline constexpr uint16_t kMemoryFailure = 0x6581;
inline constexpr uint16_t kWrongLength = 0x6700;
inline constexpr uint16_t kChannelNotSupported = 0x6881;
inline constexpr uint16_t kSecureMessagingNotSupported = 0x6882;
inline constexpr uint16_t kLastCommandOfChainExpected = 0x6883;
inline constexpr uint16_t kChainingNotSupported = 0x6884;
inline constexpr uint16_t kCommandIncompatible = 0x6981;
inline constexpr uint16_t kSecurityNotSatisfied = 0x6982;
inline constexpr uint16_t kAuthenticationBlocked = 0x6983;
inline constexpr uint16_t kReferenceDataNotUsable = 0x6984;
inline constexpr uint16_t kConditionsNotSatisfied = 0x6985;
inline constexpr uint16_t kNoCurrentEf = 0x6986;
inline constexpr uint16_t kSmDataMissing = 0x6987;
inline constexpr uint16_t kSmDataIncorrect = 0x6988;
inline constexpr uint16_t kAppletSelectionFailed = 0x6999;
inline constexpr uint16_t kWrongData = 0x6A80;
inline constexpr uint16_t kFunctionNotSupported = 0x6A81;
inline constexpr uint16_t kFileNotFound = 0x6A82;
inline constexpr uint16_t kRecordNotFound = 0x6A83;
inline constexpr uint16_t kNotEnoughMemory = 0x6A84;
inline constexpr uint16_t kNcInconsistentWithTlv = 0x6A85;
inline constexpr uint16_t kWrongP1P2 = 0x6A86;
inline constexpr uint16_t kNcInconsistentWithP1P2 = 0x6A87;
inline constexpr uint16_t kReferencedDataNotFound = 0x6A88;
inline constexpr uint16_t kFileExists = 0x6A89;
inline constexpr uint16_t kDfNameExists = 0x6A8A;
inline constexpr uint16_t kWrongP1P2NoInfo = 0x6B00;
inline constexpr uint16_t kWrongLe = 0x6C00;  // 6Cxx: xx is the exact Le
inline constexpr uint16_t kInsNotSupported = 0x6D00;
inline constexpr uint16_t kClaNotSupported = 0x6E00;
inline constexpr uint16_t kNoPreciseDiagnosis = 0x6F00;
inline constexpr uint16_t kAlgorithmNotSupported = 0x9484;
inline constexpr uint16_t kInvalidKeyCheckValue = 0x9485;

struct Description {
  std::string_view name;     // "kFileNotFound"-style short name: "FILE_NOT_FOUND"
  std::string_view meaning;  // one line for traces
};

// Describes any status word; for 61xx, 63Cx and 6Cxx the meaning names the parameter.
// Unknown status words are described as such (never an error).
std::string Describe(uint16_t sw);
Description Lookup(uint16_t sw);

inline constexpr bool IsSuccess(uint16_t sw) {
  return sw == kOk || (sw >> 8) == 0x61;
}
inline constexpr bool IsWarning(uint16_t sw) {
  return (sw >> 8) == 0x62 || (sw >> 8) == 0x63;
}

}  // namespace tessera::sw
