// `tessera card set-date|date` (also `apps set-date`) and `tessera admin add|list`: the card's
// trusted date and its administrators (docs/applications.md §3, §5.3), at the issuer security
// domain.
#pragma once

#include <string>

#include "card_commands.h"
#include "cli_args.h"

namespace tessera::tools {

// `command` names the command in messages ("apps set-date" or "card set-date").
int SetDate(const LinkOptions& o, const Args& a, const std::string& command);
int ShowDate(const LinkOptions& o, const Args& a);
int AdminAdd(const LinkOptions& o, const Args& a);
int AdminList(const LinkOptions& o, const Args& a);

}  // namespace tessera::tools
