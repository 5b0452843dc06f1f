// `tessera issue ...`: the host's issuance manager (docs/self-issuance.md §6). It compiles
// card functions' command groups, installs the issuance application, loads groups into it and
// runs them as the external device of US 7,428,992 (claims 10-12): a durable run id, the E5
// template read after every request, retries of transient failures, reconnection and resume
// after a lost link, a JSON-lines log, and the acknowledgement once the log is on disk.
// `tessera image write-group` is load-group on an image file, in-process (claim 2).
#pragma once

#include "card_commands.h"
#include "cli_args.h"

namespace tessera::tools {

// `tessera issue compile|install-app|load-group|run|status|resume|retry-failed|ack`. Exit
// codes: 0 issued / done, 1 tool, link or card failure, 2 usage error, 3 the issuance stopped on
// a command's non-transient failure.
void AddIssueCommands(CommandTree& tree, const LinkOptions& link);
// `tessera image write-group IMAGE GROUP --function N [...]`, under `image`.
void AddImageWriteGroup(CommandTree& tree, CLI::App* image, const LinkOptions& link);

}  // namespace tessera::tools
