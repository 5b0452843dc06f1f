// FILES: a plain file application, served by the OS's file commands (docs/applications.md §6).
#pragma once

#include "card/kernel/card.h"

namespace tessera::apps {

// Adds the module to `card` (apps/builtin_modules.cc, the one list of built-in modules).
void RegisterFilesModule(card::Card& card);

}  // namespace tessera::apps
