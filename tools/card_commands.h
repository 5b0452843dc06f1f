// `tessera apdu`, `tessera script`, `tessera readers`: raw access to a card.
#pragma once

#include <string>
#include <vector>

#include "cli_args.h"
#include "host/link_options.h"

namespace tessera::tools {

using host::LinkOptions;

// `tessera apdu|script|readers`. Exit codes, as 'tessera --help' documents them: 0 every
// command was exchanged with the card (whatever its status words), 1 a card, image or I/O
// failure or an APDU that is not one, 2 a usage error. Responses already received are printed
// before a failure is reported.
void AddCardCommands(CommandTree& tree, const LinkOptions& link);
// `tessera script FILE` ('-': standard input), for the commands that run one too (apps try).
int RunScript(const LinkOptions& o, const std::vector<std::string>& args);

}  // namespace tessera::tools
