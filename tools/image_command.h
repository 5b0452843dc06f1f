// `tessera image init|show|check|ls|write-group`: create, describe, verify and list NVM image
// files, and write a command group into one offline. Exit codes: 0 success, 1 the image is
// damaged or the operation failed, 2 usage error.
#pragma once

#include <string>

#include "cli_args.h"
#include "host/link_options.h"

namespace tessera::tools {

void AddImageCommands(CommandTree& tree, const host::LinkOptions& link);
// `tessera image check PATH`, plain output: 0 undamaged, 1 damaged or unreadable.
int CheckImage(const std::string& path);

}  // namespace tessera::tools
