// `tessera issue batch` and `tessera issue card-keys`: the front-ends of batch issuance
// (host/batch_issuance.h), with a progress line and a summary.
#pragma once

#include <string>
#include <vector>

namespace tessera::tools {

// `args`: the operands and options after "batch" (the global --trace comes as one of them);
// `json`: the global --json. Exit codes: 0
// every card of the shard is issued, 1 some card failed (listed) or the batch cannot start,
// 2 usage error.
int RunIssueBatch(const std::vector<std::string>& args, bool json);
// `tessera issue card-keys --master-key M --serial S -o FILE`: a card's SCP03 key file.
int RunCardKeys(const std::vector<std::string>& args, bool json);

}  // namespace tessera::tools
