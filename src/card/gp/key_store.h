// SCP03 key sets, one per administrator, identified by key version number (KVN). Each lives in
// its own NVM block (docs/card-format.md §2a): the three keys (ENC, MAC, DEK), the
// INITIALIZE UPDATE sequence counter, and a failure counter that EXTERNAL AUTHENTICATE
// decrements and commits before it checks the host cryptogram, so that a power cut at a wrong
// guess never gives a free try. At zero the key set is blocked (INITIALIZE UPDATE: 6983).
#pragma once

#include <cstdint>
#include <vector>

#include "card/kernel/card_error.h"
#include "card/kernel/card_root.h"
#include "crypto/scp03.h"
#include "nvm/nvm_store.h"

namespace tessera::card {

inline constexpr uint8_t kDefaultMaxFailures = 10;

struct KeySet {
  uint16_t block = 0xFFFF;
  uint8_t kvn = 0;
  uint8_t max_failures = kDefaultMaxFailures;
  uint8_t failures_left = kDefaultMaxFailures;
  uint32_t sequence = 0;  // 24 bits
  crypto::scp03::StaticKeys keys;
};

// The key set with this KVN; KVN 00 means the first one. kReferencedDataNotFound otherwise.
CardResult<KeySet> FindKeySet(const nvm::NvmStore& store, const CardRoot& root, uint8_t kvn);
CardResult<std::vector<KeySet>> AllKeySets(const nvm::NvmStore& store, const CardRoot& root);
// Writes `set` (allocating a block and registering it in `root` if it is new): the issuer
// security domain's key sets.
CardStatus SaveKeySet(nvm::NvmStore& store, CardRoot& root, KeySet& set);
// The key set in `block`, and writing one (allocating a block when set.block is FFFF) without
// registering it anywhere: for security domains that keep their own list of key sets.
CardResult<KeySet> LoadKeySet(const nvm::NvmStore& store, uint16_t block);
CardStatus WriteKeySet(nvm::NvmStore& store, KeySet& set);
// NVM offset of the failure counter, for the early commit.
uint32_t FailuresLeftOffset(const nvm::NvmStore& store, const KeySet& set);

}  // namespace tessera::card
