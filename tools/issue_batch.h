// `tessera issue batch`: issuance at bureau scale (docs/self-issuance.md §7). Issues a card
// function to N independent card images in this process — each image created with its own
// serial and its own SCP03 keys derived from a master key (card_keys.h) — with a progress line,
// per-card JSON-lines logs and a summary. `--shard i/n` takes only the cards whose index is i
// modulo n, so a batch splits across processes and machines with any scheduler. The card is
// the record of what is done: a re-run skips cards whose function is done and acknowledged,
// finishes interrupted or unacknowledged ones, and creates only images that do not exist.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"
#include "nvm/geometry.h"

namespace tessera::tools {

struct BatchPlan {
  std::string images;  // directory of card-SERIAL.img and logs/card-SERIAL.jsonl
  Bytes group;         // the compiled group (issue_group.h)
  Bytes target;        // the function's target application AID (may be empty)
  uint8_t function = 1;
  Bytes master;  // the master key
  nvm::Geometry geometry;
  bool sync_logs = true;  // fsync a card's log before acknowledging (the claim-12 order)
  bool trace = false;     // every card's commands and responses decoded on stderr (--trace)
};

enum class CardOutcome { kIssued, kCompleted, kAlreadyIssued, kFailed };

struct CardReport {
  uint64_t serial = 0;
  CardOutcome outcome = CardOutcome::kFailed;
  std::string error;  // kFailed: why
};

std::string ImagePath(const BatchPlan& plan, uint64_t serial);
// Issues the function to the card `serial`: creates its image if it does not exist, installs
// the issuance application and loads the group if missing, then starts, resumes, retries or
// only acknowledges, as the card's journal says.
CardReport IssueCard(const BatchPlan& plan, uint64_t serial);

// `args`: the operands and options after "batch" (the global --trace comes as one of them);
// `json`: the global --json. Exit codes: 0
// every card of the shard is issued, 1 some card failed (listed) or the batch cannot start,
// 2 usage error.
int RunIssueBatch(const std::vector<std::string>& args, bool json);
// `tessera issue card-keys --master-key M --serial S -o FILE`: a card's SCP03 key file.
int RunCardKeys(const std::vector<std::string>& args, bool json);

}  // namespace tessera::tools
