#include "core/status.h"

namespace tessera {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return "OK";
    case ErrorCode::kInvalidArgument:
      return "Invalid argument";
    case ErrorCode::kMalformed:
      return "Malformed";
    case ErrorCode::kNotFound:
      return "Not found";
    case ErrorCode::kCapacityExceeded:
      return "Capacity exceeded";
    case ErrorCode::kOutOfSpace:
      return "Out of space";
    case ErrorCode::kCorruption:
      return "Corruption";
    case ErrorCode::kIOError:
      return "I/O error";
    case ErrorCode::kPowerLost:
      return "Power lost";
    case ErrorCode::kBusy:
      return "Busy";
    case ErrorCode::kFailedPrecondition:
      return "Failed precondition";
    case ErrorCode::kUnsupported:
      return "Unsupported";
    case ErrorCode::kCryptoError:
      return "Crypto error";
    case ErrorCode::kUnavailable:
      return "Unavailable";
  }
  return "Unknown error";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string s(ErrorCodeName(code_));
  if (!message_.empty()) {
    s += ": ";
    s += message_;
  }
  return s;
}

}  // namespace tessera
