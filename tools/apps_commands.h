// `tessera apps ...`, `tessera admin ...`, `tessera card ...`: application management on the
// card as docs/applications.md fixes it. Installation files are built offline (make-install-
// file); the application list is read from the management application, administrators and the
// GP registry from the issuer security domain; changes travel inside SCP03 sessions.
#pragma once

#include "card_commands.h"
#include "cli_args.h"

namespace tessera::tools {

// `tessera apps|admin|card ...`. Exit codes: 0 success, 1 a card refusal (status word and
// meaning printed) or an I/O or card-link failure, 2 a usage error.
void AddManagementCommands(CommandTree& tree, const LinkOptions& link);

}  // namespace tessera::tools
