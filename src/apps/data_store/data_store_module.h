// DATA STORE (docs/applications.md §6.1): 512 bytes behind the application's own PIN.
#pragma once

#include "card/kernel/card.h"

namespace tessera::apps {

// Adds the module to `card` (apps/builtin_modules.cc, the one list of built-in modules).
void RegisterDataStoreModule(card::Card& card);

}  // namespace tessera::apps
