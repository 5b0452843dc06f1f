// `tessera apdu`, `tessera script`, `tessera readers`: raw access to a card.
#pragma once

#include <string>
#include <vector>

#include "host/link_options.h"

namespace tessera::tools {

using host::LinkOptions;

// Exit codes, as 'tessera --help' documents them: 0 every command was exchanged with the card
// (whatever its status words), 1 a card, image or I/O failure or an APDU that is not one, 2 a
// usage error. Responses already received are printed before a failure is reported. `args` are
// the command's operands (main has taken the options); "--help" prints the command's help.
int RunApdu(const LinkOptions& link, const std::vector<std::string>& args);
int RunScript(const LinkOptions& link, const std::vector<std::string>& args);
int RunReaders(const LinkOptions& link, const std::vector<std::string>& args);

}  // namespace tessera::tools
