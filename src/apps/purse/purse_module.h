// PURSE (docs/applications.md §6.2): a stored-value purse with a cyclic log.
#pragma once

#include "card/kernel/card.h"

namespace tessera::apps {

// Adds the module to `card` (apps/builtin_modules.cc, the one list of built-in modules).
void RegisterPurseModule(card::Card& card);

}  // namespace tessera::apps
