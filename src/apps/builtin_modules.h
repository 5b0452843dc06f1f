// The modules compiled into the card (docs/applications.md §1): the code installed
// applications name by module AID. Each module lives in its own folder (apps/<module>/) and
// comes in by one line of RegisterBuiltInModules; nothing below this layer names a module.
// Cards are assembled in one place, device/virtual_card.h, which calls it.
#pragma once

#include "card/kernel/card.h"

namespace tessera::apps {

// Adds every built-in module to `card`, with the card-wide rules a module brings.
void RegisterBuiltInModules(card::Card& card);

}  // namespace tessera::apps
