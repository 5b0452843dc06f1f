// Which applications are half-issued: the targets of card functions whose journal says
// running, interrupted or partial (docs/self-issuance.md §4). The card refuses to select them
// from outside; `tessera apps list` shows why.
#pragma once

#include <map>
#include <string>

#include "core/status.h"
#include "host/card_session.h"

namespace tessera::host {

// AID (hex) -> "function NN STATE" for every half-issued function's target. Reads the
// journal (SFI 2, readable without a session) and each such function's template (EXECUTE
// ISSUANCE status: its target, 4F). Empty when the card has no issuance application. Leaves
// the issuance application selected.
Result<std::map<std::string, std::string>> HalfIssuedTargets(CardSession& s);

}  // namespace tessera::host
