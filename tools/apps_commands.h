// `tessera apps ...`, `tessera admin ...`, `tessera card ...`: application management on the
// card as docs/applications.md fixes it. Installation files are built offline (make-install-
// file); the application list is read from the management application, administrators and the
// GP registry from the issuer security domain; changes travel inside SCP03 sessions.
#pragma once

#include <string>
#include <vector>

#include "card_commands.h"

namespace tessera::tools {

// For main's option parser: how many values an option of these commands takes (0 a flag, 1 a
// value), or -1 when it is not one of theirs (a global option, or unknown).
int ManagementOptionArity(const std::string& option);

// `group` is "apps", "admin" or "card"; `args` the subcommand and its operands and options
// ("--help" anywhere prints the help of the subcommand, or of the group). Exit codes: 0
// success, 1 a card refusal (status word and meaning printed) or an I/O or card-link failure,
// 2 a usage error.
int RunManagement(const std::string& group, const LinkOptions& link,
                  const std::vector<std::string>& args);

}  // namespace tessera::tools
