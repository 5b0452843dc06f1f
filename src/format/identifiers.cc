#include "format/identifiers.h"

#include <algorithm>

namespace tessera::format {
namespace {

constexpr InstructionInfo kInstructions[] = {
    {ins::kDeactivateFile, "DEACTIVATE FILE", ""},
    {ins::kEraseRecord, "ERASE RECORD(S)", ""},
    {ins::kEraseBinary, "ERASE BINARY", ""},
    {ins::kVerify, "VERIFY", ""},
    {ins::kChangeReferenceData, "CHANGE REFERENCE DATA", ""},
    {ins::kResetRetryCounter, "RESET RETRY COUNTER", ""},
    {ins::kActivateFile, "ACTIVATE FILE", ""},
    {ins::kInitializeUpdate, "", "INITIALIZE UPDATE"},
    {ins::kManageChannel, "MANAGE CHANNEL", ""},
    {ins::kExternalAuthenticate, "EXTERNAL AUTHENTICATE", "EXTERNAL AUTHENTICATE"},
    {ins::kGetChallenge, "GET CHALLENGE", ""},
    {ins::kSearchRecord, "SEARCH RECORD", ""},
    {ins::kSelect, "SELECT", ""},
    {ins::kReadBinary, "READ BINARY", ""},
    {ins::kReadRecord, "READ RECORD(S)", ""},
    {ins::kGetResponse, "GET RESPONSE", ""},
    {ins::kGetData, "GET DATA", ""},
    {ins::kUpdateBinary, "UPDATE BINARY", ""},
    {ins::kPutKey, "", "PUT KEY"},
    {ins::kPutData, "PUT DATA", ""},
    {ins::kUpdateRecord, "UPDATE RECORD", ""},
    {ins::kCreateFile, "CREATE FILE", ""},
    {ins::kAppendRecord, "APPEND RECORD", "STORE DATA"},
    {ins::kDeleteFile, "DELETE FILE", "DELETE"},
    {ins::kTerminateDf, "TERMINATE DF", "INSTALL"},
    {ins::kTerminateEf, "TERMINATE EF", "LOAD"},
    {ins::kExecuteIssuance, "", "EXECUTE ISSUANCE"},
    {ins::kSetStatus, "", "SET STATUS"},
    {ins::kGetStatus, "", "GET STATUS"},
    {ins::kTerminateCardUsage, "TERMINATE CARD USAGE", ""},
};

}  // namespace

std::span<const InstructionInfo> KnownInstructions() {
  return kInstructions;
}

std::string_view InstructionName(uint8_t cla, uint8_t code) {
  auto it = std::find_if(std::begin(kInstructions), std::end(kInstructions),
                         [&](const InstructionInfo& i) { return i.ins == code; });
  if (it == std::end(kInstructions)) return "";
  // Interindustry commands keep their name under a proprietary class (GET DATA, SELECT...);
  // a GlobalPlatform code under an interindustry class is no command at all.
  if ((cla & 0x80) != 0 && !it->proprietary.empty()) return it->proprietary;
  return it->interindustry;
}

}  // namespace tessera::format
