// Typed errors of the card OS. Handlers return them; the dispatcher turns them into status words
// in exactly one place (ToStatusWord). Every error leaves NVM unchanged: the dispatcher aborts
// the command's transaction (retry counters are the documented exception, see pin_handler.cc and
// key_store.h).
#pragma once

#include <cstdint>
#include <string_view>

#include "core/status.h"

namespace tessera::card {

enum class Error : uint8_t {
  kWrongLength,                  // 6700
  kWrongLengthExpected,          // 6Cxx (param = exact length)
  kChannelNotSupported,          // 6881
  kSecureMessagingNotSupported,  // 6882
  kLastCommandExpected,          // 6883
  kChainingNotSupported,         // 6884
  kIncompatibleFile,             // 6981
  kSecurityNotSatisfied,         // 6982
  kAuthenticationBlocked,        // 6983
  kReferenceDataNotUsable,       // 6984
  kConditionsNotSatisfied,       // 6985
  kNoCurrentEf,                  // 6986
  kSmDataIncorrect,              // 6988
  kWrongData,                    // 6A80
  kFunctionNotSupported,         // 6A81
  kFileNotFound,                 // 6A82
  kRecordNotFound,               // 6A83
  kNotEnoughMemory,              // 6A84
  kWrongP1P2,                    // 6A86
  kNcInconsistentWithP1P2,       // 6A87
  kReferencedDataNotFound,       // 6A88
  kFileExists,                   // 6A89
  kDfNameExists,                 // 6A8A
  kOffsetOutsideFile,            // 6B00
  kInsNotSupported,              // 6D00
  kClaNotSupported,              // 6E00
  kMemoryFailure,                // 6581
  kNoPreciseDiagnosis,           // 6F00
  kInvalidKeyCheckValue,         // 9485
  kApplicationStatus,            // the status word an applet raised (CardError::sw, 64xx..6Fxx)
  kPowerLost,                    // no status word: the card lost power mid-command
};

struct CardError {
  Error code;
  uint8_t param = 0;
  uint16_t sw = 0;  // kApplicationStatus only
};

uint16_t ToStatusWord(CardError e);
// Maps a lower-layer Status (NVM, crypto) to the card error it means for a command.
CardError FromStatus(const Status& s);

// Result of a card operation: a value or a CardError.
template <typename T>
class [[nodiscard]] CardResult {
 public:
  CardResult(T v) : ok_(true), value_(std::move(v)) {}  // NOLINT
  CardResult(CardError e) : ok_(false), error_(e) {}    // NOLINT
  CardResult(Error e) : ok_(false), error_{e} {}        // NOLINT
  bool ok() const { return ok_; }
  T& value() { return value_; }
  const T& value() const { return value_; }
  T& operator*() { return value_; }
  const T& operator*() const { return value_; }
  T* operator->() { return &value_; }
  const T* operator->() const { return &value_; }
  CardError error() const { return error_; }

 private:
  bool ok_;
  T value_{};
  CardError error_{Error::kNoPreciseDiagnosis};
};

struct Ok {};
using CardStatus = CardResult<Ok>;

}  // namespace tessera::card

#define CARD_TRY(expr)               \
  do {                               \
    auto _r = (expr);                \
    if (!_r.ok()) return _r.error(); \
  } while (0)

#define CARD_ASSIGN_INNER(tmp, lhs, expr) \
  auto tmp = (expr);                      \
  if (!tmp.ok()) return tmp.error();      \
  lhs = std::move(tmp.value())
#define CARD_ASSIGN(lhs, expr) CARD_ASSIGN_INNER(TESSERA_CONCAT(_cr_, __LINE__), lhs, expr)

// Converts a lower-layer Status into a card error return.
#define CARD_TRY_STATUS(expr)                             \
  do {                                                    \
    ::tessera::Status _s = (expr);                        \
    if (!_s.ok()) return ::tessera::card::FromStatus(_s); \
  } while (0)
