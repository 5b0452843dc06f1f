// The OS-level command table: the interindustry commands ISO/IEC 7816-4/-9 keeps at the OS.
// GET RESPONSE (C0) is part of admission (card.cc), not a handler.
#include "card/iso/handlers.h"
#include "card/kernel/identifiers.h"

namespace tessera::card {
namespace {

constexpr Route kIsoCommands[] = {
    {ins::kSelect, HandleSelect},
    {ins::kReadBinary, HandleReadBinary},
    {ins::kUpdateBinary, HandleUpdateBinary},
    {ins::kEraseBinary, HandleEraseBinary},
    {ins::kReadRecord, HandleReadRecord},
    {ins::kUpdateRecord, HandleUpdateRecord},
    {ins::kAppendRecord, HandleAppendRecord},
    {ins::kEraseRecord, HandleEraseRecord},
    {ins::kSearchRecord, HandleSearchRecord},
    {ins::kCreateFile, HandleCreateFile},
    {ins::kDeleteFile, HandleDeleteFile},
    {ins::kActivateFile, HandleActivateFile},
    {ins::kDeactivateFile, HandleDeactivateFile},
    {ins::kTerminateDf, HandleTerminateDf},
    {ins::kTerminateEf, HandleTerminateEf},
    {ins::kTerminateCardUsage, HandleTerminateCardUsage},
    {ins::kVerify, HandleVerify},
    {ins::kChangeReferenceData, HandleChangeReferenceData},
    {ins::kResetRetryCounter, HandleResetRetryCounter},
    {ins::kGetData, HandleGetData},
    {ins::kPutData, HandlePutData},
    {ins::kGetChallenge, HandleGetChallenge},
    {ins::kManageChannel, HandleManageChannel},
};

}  // namespace

std::span<const Route> IsoCommands() {
  return kIsoCommands;
}

}  // namespace tessera::card
