// The card's names for the identifiers it answers to, which live with the other byte formats
// (format/identifiers.h) so that hosts read them from the same place.
#pragma once

#include "format/identifiers.h"

namespace tessera::card {

namespace aid = format::aid;
namespace ins = format::ins;
namespace tag = format::tag;
using format::InstructionInfo;
using format::InstructionName;
using format::KnownInstructions;

}  // namespace tessera::card
