// The OS's own commands (ISO/IEC 7816-4/-9), one handler per command group. Each takes the card,
// the channel the command arrived on and the (de-chained) command, and returns a Response or a
// CardError. The OS command table is iso_commands.cc; applications bring their own
// (application.h); docs/apdu-reference.md lists every command.
#pragma once

#include <span>

#include "card/kernel/card.h"

namespace tessera::card {

// The OS-level command table the card starts with.
std::span<const Route> IsoCommands();

// select_handler.cc
CardResult<Response> HandleSelect(Card&, ChannelState&, const CommandApdu&);
// data_unit_handler.cc
CardResult<Response> HandleReadBinary(Card&, ChannelState&, const CommandApdu&);
CardResult<Response> HandleUpdateBinary(Card&, ChannelState&, const CommandApdu&);
CardResult<Response> HandleEraseBinary(Card&, ChannelState&, const CommandApdu&);
// record_handler.cc
CardResult<Response> HandleReadRecord(Card&, ChannelState&, const CommandApdu&);
CardResult<Response> HandleUpdateRecord(Card&, ChannelState&, const CommandApdu&);
CardResult<Response> HandleAppendRecord(Card&, ChannelState&, const CommandApdu&);
CardResult<Response> HandleEraseRecord(Card&, ChannelState&, const CommandApdu&);
CardResult<Response> HandleSearchRecord(Card&, ChannelState&, const CommandApdu&);
// file_management_handler.cc
CardResult<Response> HandleCreateFile(Card&, ChannelState&, const CommandApdu&);
CardResult<Response> HandleDeleteFile(Card&, ChannelState&, const CommandApdu&);
CardResult<Response> HandleActivateFile(Card&, ChannelState&, const CommandApdu&);
CardResult<Response> HandleDeactivateFile(Card&, ChannelState&, const CommandApdu&);
CardResult<Response> HandleTerminateDf(Card&, ChannelState&, const CommandApdu&);
CardResult<Response> HandleTerminateEf(Card&, ChannelState&, const CommandApdu&);
CardResult<Response> HandleTerminateCardUsage(Card&, ChannelState&, const CommandApdu&);
// pin_handler.cc
CardResult<Response> HandleVerify(Card&, ChannelState&, const CommandApdu&);
CardResult<Response> HandleChangeReferenceData(Card&, ChannelState&, const CommandApdu&);
CardResult<Response> HandleResetRetryCounter(Card&, ChannelState&, const CommandApdu&);
// data_object_handler.cc
CardResult<Response> HandleGetData(Card&, ChannelState&, const CommandApdu&);
CardResult<Response> HandlePutData(Card&, ChannelState&, const CommandApdu&);
CardResult<Response> HandleGetChallenge(Card&, ChannelState&, const CommandApdu&);
// channel_handler.cc
CardResult<Response> HandleManageChannel(Card&, ChannelState&, const CommandApdu&);

}  // namespace tessera::card
