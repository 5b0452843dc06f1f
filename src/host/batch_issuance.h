// Issuance at bureau scale (docs/self-issuance.md §7): a card function issued to N independent
// card images in this process — each image created with its own serial and its own SCP03 keys
// derived from a master key (host/card_keys.h) — with per-card JSON-lines logs. A shard takes
// only the cards whose index is i modulo n, so a batch splits across processes and machines
// with any scheduler. The card is the record of what is done: a re-run skips cards whose
// function is done and acknowledged, finishes interrupted or unacknowledged ones, and creates
// only images that do not exist.
#pragma once

#include <cstdint>
#include <string>

#include "core/bytes.h"
#include "core/status.h"
#include "nvm/geometry.h"

namespace tessera::host {

struct BatchPlan {
  std::string images;  // directory of card-SERIAL.img and logs/card-SERIAL.jsonl
  Bytes group;         // the compiled group (host/group_compiler.h)
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

// A serial as card images and logs are named: 16 upper-case hex digits.
std::string SerialHex(uint64_t serial);

}  // namespace tessera::host
