// Finds the EF a data-unit or record command addresses: by short EF identifier (which makes it
// the current EF, ISO/IEC 7816-4 §7.2.2) or the channel's current EF.
#pragma once

#include "card/kernel/card.h"

namespace tessera::card {

// sfi == 0: the current EF (6986 if none). Checks the file is operational (6985).
CardResult<FileNode> ResolveEf(Card& card, ChannelState& ch, uint8_t sfi);

}  // namespace tessera::card
