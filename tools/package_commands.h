// `tessera apps load|create|packages|delete-package`: applet packages through the
// GlobalPlatform door (docs/applets.md §2), in the issuer's SCP03 session, and `tessera apps
// try`, the developer's loop: rebuild an applet's installation file, reinstall it on an image
// and run a script against it with the card's diagnostics shown.
#pragma once

#include "card_commands.h"
#include "cli_args.h"

namespace tessera::tools {

// Registers the package commands under `apps`.
void AddPackageCommands(CommandTree& tree, Command& apps, const LinkOptions& link);

}  // namespace tessera::tools
