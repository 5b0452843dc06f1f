// The applet runtime (docs/applets.md): the module that runs code format 02, applet packages
// in Lua 5.4. It stores an installation's package in the application's DF, and runs the
// package's module in a sandboxed interpreter per (application, channel) for SELECT and every
// command while the application is selected.
#pragma once

#include "card/kernel/card.h"

namespace tessera::apps {

// Registers the runtime for code format 02 with `card`.
void RegisterLuaRuntime(card::Card& card);

}  // namespace tessera::apps
