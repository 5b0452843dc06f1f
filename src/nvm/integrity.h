// Integrity checks of the NVM data area (docs/nvm-format.md §3.1). The data area is divided into
// check units: each page of the allocator table, each page of the root area and each block.
// The check table holds, for unit i at check_offset + 4 i, the CRC-32 (IEEE, core/crc32.h) of
// the unit's bytes, big-endian. The store updates a unit's entry in the same commit as the
// unit's bytes and verifies it whenever the unit is read; every unit but a WIPING block (whose
// bytes are being zeroed) matches its entry at every commit point. A FREE block is all zeros,
// so its entry is the CRC-32 of a zero block.
//
// The checks detect damage (bit flips, bytes changed behind the store's back); they are not a
// security mechanism: anyone who can write the image can also write a matching entry.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "core/bytes.h"
#include "nvm/geometry.h"

namespace tessera::nvm {

inline constexpr uint32_t kCheckEntryBytes = 4;

enum class UnitKind { kTablePage, kRootPage, kBlock };

struct CheckUnit {
  UnitKind kind = UnitKind::kBlock;
  uint32_t number = 0;  // page of the table or the root area, or block index
  uint32_t offset = 0;  // NVM offset of the unit's first byte
  uint32_t length = 0;
};

uint32_t TablePageCount(const Layout& l);
uint32_t RootPageCount(const Layout& l);
// REQUIRES: unit < l.check_units.
CheckUnit UnitAt(const Layout& l, uint32_t unit);
// REQUIRES: block < l.block_count.
uint32_t BlockUnit(const Layout& l, uint32_t block);
// NVM offset of unit's check entry.
uint32_t CheckEntryOffset(const Layout& l, uint32_t unit);
// The units that overlap [offset, offset + length), as an index range [first, last) (empty
// for bytes of the journal, the check table or the unused remainder).
std::pair<uint32_t, uint32_t> UnitsOverlapping(const Layout& l, uint32_t offset, uint64_t length);
// "block 17", "allocator table page 2", "root area page 0".
std::string UnitName(const Layout& l, uint32_t unit);
// The check table of a freshly formatted store (everything zero): an entry per unit, then zero
// padding to the root area.
Bytes FormattedCheckTable(const Layout& l);

}  // namespace tessera::nvm
