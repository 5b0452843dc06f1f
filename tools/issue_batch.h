// `tessera issue batch` and `tessera issue card-keys`: the front-ends of batch issuance
// (host/batch_issuance.h), with a progress line and a summary.
#pragma once

#include "cli_args.h"
#include "host/link_options.h"

namespace tessera::tools {

// `tessera issue batch` and `tessera issue card-keys`, under `issue` (AddIssueCommands first).
// batch exits 0 when every card of the shard is issued, 1 when some card failed (listed) or
// the batch cannot start, 2 on a usage error.
void AddIssueBatchCommands(CommandTree& tree, const host::LinkOptions& link);

}  // namespace tessera::tools
