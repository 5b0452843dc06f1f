// NVM geometry (fixed when an image is created) and the regions it implies. The byte layout is
// specified in docs/nvm-format.md §3.
//
//   +-------------------+  0
//   | journal header    |  one page
//   +-------------------+
//   | journal body      |  journal_capacity bytes (the commit capacity)
//   +-------------------+  table_offset
//   | allocator table   |  one state byte per block, padded to a page
//   +-------------------+  check_offset
//   | check table       |  a CRC-32 per check unit (integrity.h), padded to a page
//   +-------------------+  root_offset
//   | root area         |  root_size bytes: fixed home of the layers above (card OS roots)
//   +-------------------+  blocks_offset
//   | blocks            |  block_count blocks of block_size bytes
//   +-------------------+  nvm_size (any remainder after the last block is unused)
#pragma once

#include <cstdint>

#include "core/status.h"

namespace tessera::nvm {

struct Geometry {
  uint32_t page_size = 64;
  uint32_t nvm_size = 1u << 20;
  uint32_t journal_capacity = 16 * 1024;
  uint32_t block_size = 256;
  uint32_t root_size = 256;

  bool operator==(const Geometry&) const = default;
};

struct Layout {
  Geometry geometry;
  uint32_t journal_header_offset = 0;
  uint32_t journal_body_offset = 0;
  uint32_t table_offset = 0;
  uint32_t check_offset = 0;  // the check table (integrity.h)
  uint32_t check_units = 0;   // allocator table pages + root area pages + blocks
  uint32_t root_offset = 0;
  uint32_t blocks_offset = 0;
  uint32_t block_count = 0;

  uint32_t BlockOffset(uint32_t block) const { return blocks_offset + block * geometry.block_size; }
  // End of the used area (start of the unused remainder).
  uint32_t end() const { return BlockOffset(block_count); }
};

inline constexpr uint32_t kMinPageSize = 32;  // the journal header needs 28 bytes
inline constexpr uint32_t kMaxPageSize = 4096;
inline constexpr uint32_t kMaxNvmSize = 1u << 30;

// Validates the geometry and computes the regions. kInvalidArgument names the offending field.
Result<Layout> ComputeLayout(const Geometry& g);

}  // namespace tessera::nvm
