#include "format/status_words.h"

#include <array>
#include <cstdio>

namespace tessera::sw {
namespace {

struct Entry {
  uint16_t sw;
  Description d;
};

constexpr std::array kTable = {
    Entry{kOk, {"OK", "normal processing"}},
    Entry{kWarningNvmUnchanged, {"WARNING_NVM_UNCHANGED", "warning, state of NVM unchanged"}},
    Entry{kWarningEndOfFile, {"END_OF_FILE", "end of file or record reached before Ne bytes"}},
    Entry{kWarningFileDeactivated,
          {"FILE_DEACTIVATED", "selected file deactivated (GP: card locked)"}},
    Entry{kWarningFileTerminated, {"FILE_TERMINATED", "selected file in termination state"}},
    Entry{kWarningNvmChanged,
          {"WARNING_NVM_CHANGED", "warning, NVM changed (GP: authentication failed)"}},
    Entry{kMoreData, {"MORE_DATA", "more data available (repeat with next-occurrence P2)"}},
    Entry{kExecutionError, {"EXECUTION_ERROR", "execution error, NVM unchanged"}},
    Entry{kMemoryFailure, {"MEMORY_FAILURE", "memory failure"}},
    Entry{kWrongLength, {"WRONG_LENGTH", "wrong length"}},
    Entry{kChannelNotSupported,
          {"CHANNEL_NOT_SUPPORTED", "logical channel not supported or not open"}},
    Entry{kSecureMessagingNotSupported, {"SM_NOT_SUPPORTED", "secure messaging not supported"}},
    Entry{kLastCommandOfChainExpected,
          {"LAST_COMMAND_EXPECTED", "last command of the chain expected"}},
    Entry{kChainingNotSupported, {"CHAINING_NOT_SUPPORTED", "command chaining not supported"}},
    Entry{kCommandIncompatible,
          {"INCOMPATIBLE_FILE_STRUCTURE", "command incompatible with file structure"}},
    Entry{kSecurityNotSatisfied, {"SECURITY_NOT_SATISFIED", "security status not satisfied"}},
    Entry{kAuthenticationBlocked, {"AUTH_BLOCKED", "authentication method blocked"}},
    Entry{kReferenceDataNotUsable, {"REFERENCE_DATA_NOT_USABLE", "reference data not usable"}},
    Entry{kConditionsNotSatisfied, {"CONDITIONS_NOT_SATISFIED", "conditions of use not satisfied"}},
    Entry{kNoCurrentEf, {"NO_CURRENT_EF", "command not allowed, no current EF"}},
    Entry{kSmDataMissing, {"SM_DATA_MISSING", "expected secure messaging data objects missing"}},
    Entry{kSmDataIncorrect, {"SM_DATA_INCORRECT", "incorrect secure messaging data objects"}},
    Entry{kAppletSelectionFailed, {"SELECTION_FAILED", "application selection failed"}},
    Entry{kWrongData, {"WRONG_DATA", "incorrect parameters in the command data field"}},
    Entry{kFunctionNotSupported, {"FUNCTION_NOT_SUPPORTED", "function not supported"}},
    Entry{kFileNotFound, {"FILE_NOT_FOUND", "file or application not found"}},
    Entry{kRecordNotFound, {"RECORD_NOT_FOUND", "record not found"}},
    Entry{kNotEnoughMemory, {"NOT_ENOUGH_MEMORY", "not enough memory space in the file"}},
    Entry{kNcInconsistentWithTlv, {"NC_INCONSISTENT_TLV", "Nc inconsistent with TLV structure"}},
    Entry{kWrongP1P2, {"WRONG_P1P2", "incorrect parameters P1-P2"}},
    Entry{kNcInconsistentWithP1P2, {"NC_INCONSISTENT_P1P2", "Nc inconsistent with P1-P2"}},
    Entry{kReferencedDataNotFound,
          {"DATA_NOT_FOUND", "referenced data or reference data not found"}},
    Entry{kFileExists, {"FILE_EXISTS", "file already exists"}},
    Entry{kDfNameExists, {"DF_NAME_EXISTS", "DF name already exists"}},
    Entry{kWrongP1P2NoInfo, {"WRONG_P1P2", "wrong parameters P1-P2"}},
    Entry{kInsNotSupported, {"INS_NOT_SUPPORTED", "instruction code not supported or invalid"}},
    Entry{kClaNotSupported, {"CLA_NOT_SUPPORTED", "class not supported"}},
    Entry{kNoPreciseDiagnosis, {"NO_PRECISE_DIAGNOSIS", "no precise diagnosis"}},
    Entry{kAlgorithmNotSupported, {"ALGORITHM_NOT_SUPPORTED", "algorithm not supported"}},
    Entry{kInvalidKeyCheckValue, {"INVALID_KCV", "invalid key check value"}},
};

}  // namespace

Description Lookup(uint16_t sw) {
  for (const Entry& e : kTable) {
    if (e.sw == sw) return e.d;
  }
  switch (sw >> 8) {
    case 0x61:
      return {"BYTES_REMAINING", "response bytes still available"};
    case 0x6C:
      return {"WRONG_LE", "wrong Le field; SW2 gives the exact length"};
    default:
      break;
  }
  if ((sw & 0xFFF0) == kCounterBase) return {"COUNTER", "verification failed, tries left"};
  switch (sw >> 8) {
    case 0x62:
      return {"WARNING", "warning, NVM unchanged"};
    case 0x63:
      return {"WARNING", "warning, NVM changed"};
    case 0x64:
      return {"EXECUTION_ERROR", "execution error, NVM unchanged"};
    case 0x65:
      return {"EXECUTION_ERROR", "execution error, NVM changed"};
    case 0x66:
      return {"SECURITY_ERROR", "security-related issue"};
    case 0x68:
      return {"CLA_FUNCTION_NOT_SUPPORTED", "functions in CLA not supported"};
    case 0x69:
      return {"COMMAND_NOT_ALLOWED", "command not allowed"};
    case 0x6A:
      return {"WRONG_PARAMETERS", "wrong parameters"};
    default:
      return {"UNKNOWN", "unknown status word"};
  }
}

std::string Describe(uint16_t sw) {
  char hex[5];
  std::snprintf(hex, sizeof hex, "%04X", sw);
  Description d = Lookup(sw);
  std::string out = std::string(hex) + " " + std::string(d.name) + ": " + std::string(d.meaning);
  const unsigned x = sw & 0xFF;
  if ((sw >> 8) == 0x61) {
    out += " (" + std::to_string(x == 0 ? 256 : x) + " bytes)";
  } else if ((sw >> 8) == 0x6C) {
    out += " (Le=" + std::to_string(x == 0 ? 256 : x) + ")";
  } else if ((sw & 0xFFF0) == kCounterBase) {
    out += " (" + std::to_string(sw & 0x0F) + " left)";
  }
  return out;
}

}  // namespace tessera::sw
