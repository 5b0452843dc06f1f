#include "card/kernel/card_error.h"

#include "format/status_words.h"

namespace tessera::card {

uint16_t ToStatusWord(CardError e) {
  switch (e.code) {
    case Error::kWrongLength:
      return sw::kWrongLength;
    case Error::kWrongLengthExpected:
      return static_cast<uint16_t>(sw::kWrongLe | e.param);
    case Error::kChannelNotSupported:
      return sw::kChannelNotSupported;
    case Error::kSecureMessagingNotSupported:
      return sw::kSecureMessagingNotSupported;
    case Error::kLastCommandExpected:
      return sw::kLastCommandOfChainExpected;
    case Error::kChainingNotSupported:
      return sw::kChainingNotSupported;
    case Error::kIncompatibleFile:
      return sw::kCommandIncompatible;
    case Error::kSecurityNotSatisfied:
      return sw::kSecurityNotSatisfied;
    case Error::kAuthenticationBlocked:
      return sw::kAuthenticationBlocked;
    case Error::kReferenceDataNotUsable:
      return sw::kReferenceDataNotUsable;
    case Error::kConditionsNotSatisfied:
      return sw::kConditionsNotSatisfied;
    case Error::kNoCurrentEf:
      return sw::kNoCurrentEf;
    case Error::kSmDataIncorrect:
      return sw::kSmDataIncorrect;
    case Error::kWrongData:
      return sw::kWrongData;
    case Error::kFunctionNotSupported:
      return sw::kFunctionNotSupported;
    case Error::kFileNotFound:
      return sw::kFileNotFound;
    case Error::kRecordNotFound:
      return sw::kRecordNotFound;
    case Error::kNotEnoughMemory:
      return sw::kNotEnoughMemory;
    case Error::kWrongP1P2:
      return sw::kWrongP1P2;
    case Error::kNcInconsistentWithP1P2:
      return sw::kNcInconsistentWithP1P2;
    case Error::kReferencedDataNotFound:
      return sw::kReferencedDataNotFound;
    case Error::kFileExists:
      return sw::kFileExists;
    case Error::kDfNameExists:
      return sw::kDfNameExists;
    case Error::kOffsetOutsideFile:
      return sw::kWrongP1P2NoInfo;
    case Error::kInsNotSupported:
      return sw::kInsNotSupported;
    case Error::kClaNotSupported:
      return sw::kClaNotSupported;
    case Error::kMemoryFailure:
      return sw::kMemoryFailure;
    case Error::kNoPreciseDiagnosis:
      return sw::kNoPreciseDiagnosis;
    case Error::kInvalidKeyCheckValue:
      return sw::kInvalidKeyCheckValue;
    case Error::kApplicationStatus:
      // An applet's own error word (docs/applets.md §4): only 64xx..6Fxx become one, so that no
      // applet can answer 61xx / 6Cxx (the transport's words) or a success as an error.
      if (e.sw >= 0x6400 && e.sw <= 0x6FFF && (e.sw & 0xFF00) != sw::kWrongLe) return e.sw;
      return sw::kNoPreciseDiagnosis;
    case Error::kPowerLost:
      return sw::kNoPreciseDiagnosis;
  }
  return sw::kNoPreciseDiagnosis;
}

CardError FromStatus(const Status& s) {
  switch (s.code()) {
    case ErrorCode::kOk:
      return {Error::kNoPreciseDiagnosis};
    case ErrorCode::kCapacityExceeded:
    case ErrorCode::kOutOfSpace:
      return {Error::kNotEnoughMemory};
    case ErrorCode::kPowerLost:
      return {Error::kPowerLost};
    case ErrorCode::kCorruption:
      return {Error::kMemoryFailure};
    default:
      return {Error::kNoPreciseDiagnosis};
  }
}

}  // namespace tessera::card
