// The tear tests' own model of the NVM integrity checks (docs/nvm-format.md §3.1), written from
// the document rather than from src/nvm/integrity.h: the oracle builds the states a cut may
// leave (a retry counter spent by an early commit) and those states carry the check entry that
// the format says goes with the changed bytes.
#pragma once

#include <cstdint>

#include "core/bytes.h"
#include "nvm/geometry.h"

namespace tessera::testing {

// `data_area` holds the NVM from layout.table_offset to layout.end() (what the tear tests
// observe). Decrements the byte at data-area offset `at` (when above zero) and recomputes the
// check entry of the unit holding it: the CRC-32 of the unit's bytes, big-endian, at
// check_offset + 4 × unit, where the units are the allocator table pages, then the root area
// pages, then the blocks.
void SpendCounter(Bytes& data_area, const nvm::Layout& layout, uint32_t at);

// The unit holding NVM offset `nvm_offset` (in the allocator table, the root area or the
// blocks): its bytes [start, start + length) and the NVM offset of its check entry.
struct OracleUnit {
  uint32_t start = 0, length = 0, entry = 0;
};
OracleUnit UnitHolding(const nvm::Layout& layout, uint32_t nvm_offset);

}  // namespace tessera::testing
