// MANAGEMENT: the management application's code (docs/applications.md §4), which keeps the
// signed application records and manages applications by them (seed JP6426411B2).
#pragma once

#include "card/kernel/card.h"

namespace tessera::apps {

// Adds the module to `card` (apps/builtin_modules.cc, the one list of built-in modules).
void RegisterManagementModule(card::Card& card);

}  // namespace tessera::apps
