// Errors as values. Every fallible call inside the card OS returns a Status or a Result<T>;
// the dispatcher (a later layer) turns them into status words in exactly one place.
//
// A Status also says what state the failed operation leaves behind (see ErrorCode): callers can
// tell "nothing changed" (kInvalidArgument, kMalformed, kCapacityExceeded, ...) from "power was
// lost; run recovery before anything else" (kPowerLost) and "the image is damaged"
// (kCorruption).
#pragma once

#include <cassert>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace tessera {

enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,     // caller passed something out of range; nothing changed
  kMalformed,           // input bytes do not follow the encoding; nothing changed
  kNotFound,            // the referenced object does not exist; nothing changed
  kCapacityExceeded,    // the transaction would exceed the journal capacity; nothing changed
  kOutOfSpace,          // no free block; nothing changed
  kCorruption,          // persistent data fails its checks; the image is invalid
  kIOError,             // the host file system failed
  kPowerLost,           // the simulated power was cut; state may be torn until recovery runs
  kBusy,                // the resource is held by someone else (e.g. an image lock)
  kFailedPrecondition,  // the call is not allowed in the current state; nothing changed
  kUnsupported,         // recognised but not implemented (e.g. a newer format version)
  kCryptoError,         // the crypto library refused an operation
  kUnavailable,         // (host) the card cannot be reached: no card, a link that fails or is lost
};

std::string_view ErrorCodeName(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "Corruption: journal body checksum mismatch"
  std::string ToString() const;

  // Host side only: the status word of the card's answer this failure reports (a refusal), so
  // that a front-end can show it apart from the message. The card OS never sets it: there,
  // status words come from ToStatusWord alone.
  Status WithCardSw(uint16_t sw) && {
    card_sw_ = sw;
    has_card_sw_ = true;
    return std::move(*this);
  }
  bool has_card_sw() const { return has_card_sw_; }
  uint16_t card_sw() const { return card_sw_; }

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
  uint16_t card_sw_ = 0;
  bool has_card_sw_ = false;
};

inline Status InvalidArgument(std::string m) {
  return {ErrorCode::kInvalidArgument, std::move(m)};
}
inline Status Malformed(std::string m) {
  return {ErrorCode::kMalformed, std::move(m)};
}
inline Status NotFound(std::string m) {
  return {ErrorCode::kNotFound, std::move(m)};
}
inline Status Corruption(std::string m) {
  return {ErrorCode::kCorruption, std::move(m)};
}
inline Status IOError(std::string m) {
  return {ErrorCode::kIOError, std::move(m)};
}
inline Status PowerLost(std::string m) {
  return {ErrorCode::kPowerLost, std::move(m)};
}
inline Status FailedPrecondition(std::string m) {
  return {ErrorCode::kFailedPrecondition, std::move(m)};
}

// Result<T> holds either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok() && "Result built from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  // REQUIRES: ok()
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  // Returns OK when a value is held.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace tessera

// Propagates a non-OK Status to the caller.
#define TESSERA_RETURN_IF_ERROR(expr) \
  do {                                \
    ::tessera::Status _st = (expr);   \
    if (!_st.ok()) return _st;        \
  } while (0)

#define TESSERA_CONCAT_INNER(a, b) a##b
#define TESSERA_CONCAT(a, b) TESSERA_CONCAT_INNER(a, b)
// TESSERA_ASSIGN_OR_RETURN(auto x, Foo()); declares x from a Result or returns its Status.
#define TESSERA_ASSIGN_OR_RETURN(lhs, expr)                                                   \
  auto TESSERA_CONCAT(_res_, __LINE__) = (expr);                                              \
  if (!TESSERA_CONCAT(_res_, __LINE__).ok()) return TESSERA_CONCAT(_res_, __LINE__).status(); \
  lhs = std::move(TESSERA_CONCAT(_res_, __LINE__)).value()
