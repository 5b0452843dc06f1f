// `tessera issue ...`: the host's issuance manager (docs/self-issuance.md §6). It compiles
// card functions' command groups, installs the issuance application, loads groups into it and
// runs them as the external device of US 7,428,992 (claims 10-12): a durable run id, the E5
// template read after every request, retries of transient failures, reconnection and resume
// after a lost link, a JSON-lines log, and the acknowledgement once the log is on disk.
// `tessera image write-group` is load-group on an image file, in-process (claim 2).
#pragma once

#include <string>
#include <vector>

#include "card_commands.h"

namespace tessera::tools {

// For main's option parser: 0 a flag of `issue`, 1 an option with a value, -1 not one of its
// options (a global option, or unknown).
int IssueOptionArity(const std::string& option);

// `args`: the subcommand, its operands and its options ("--help" anywhere: the help of the
// subcommand, or of `issue`). Exit codes: 0 issued / done, 1 tool, link or card failure, 2
// usage error, 3 the issuance stopped on a command's non-transient failure.
int RunIssue(const LinkOptions& link, const std::vector<std::string>& args);

// `tessera image write-group IMAGE GROUP --function N [...]`: `args` are everything after
// `image` (the verb first); "--help" prints its help (tools/issue_help.cc).
int RunImageWriteGroup(const std::vector<std::string>& args);

}  // namespace tessera::tools
