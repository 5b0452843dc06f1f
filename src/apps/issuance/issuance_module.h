// ISSUANCE: self-issuance (seed US 7,428,992; docs/self-issuance.md): card functions kept as
// command groups and run inside the card on one EXECUTE ISSUANCE request.
#pragma once

#include "card/kernel/card.h"

namespace tessera::apps {

// Adds the module to `card` with the two rules it brings to the whole card: a half-issued
// function's target application is not selectable from outside (its journal says running,
// interrupted or partial; docs/self-issuance.md §4), and deleting an application forgets the
// functions that targeted it, deleting and wiping their groups (which may carry its PINs and
// keys).
void RegisterIssuanceModule(card::Card& card);

}  // namespace tessera::apps
