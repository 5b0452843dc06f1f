#include "nvm/integrity.h"

#include <algorithm>

#include "core/crc32.h"

namespace tessera::nvm {

uint32_t TablePageCount(const Layout& l) {
  return (l.check_offset - l.table_offset) / l.geometry.page_size;
}

uint32_t RootPageCount(const Layout& l) {
  return l.geometry.root_size / l.geometry.page_size;
}

CheckUnit UnitAt(const Layout& l, uint32_t unit) {
  const uint32_t ps = l.geometry.page_size;
  const uint32_t tables = TablePageCount(l);
  const uint32_t roots = RootPageCount(l);
  if (unit < tables) return {UnitKind::kTablePage, unit, l.table_offset + unit * ps, ps};
  if (unit < tables + roots) {
    const uint32_t n = unit - tables;
    return {UnitKind::kRootPage, n, l.root_offset + n * ps, ps};
  }
  const uint32_t b = unit - tables - roots;
  return {UnitKind::kBlock, b, l.BlockOffset(b), l.geometry.block_size};
}

uint32_t BlockUnit(const Layout& l, uint32_t block) {
  return TablePageCount(l) + RootPageCount(l) + block;
}

uint32_t CheckEntryOffset(const Layout& l, uint32_t unit) {
  return l.check_offset + kCheckEntryBytes * unit;
}

namespace {

// Units that end at or before p (so the first unit overlapping [p, ...) when p is inside one).
uint32_t UnitsEndingBy(const Layout& l, uint64_t p) {
  const uint32_t ps = l.geometry.page_size;
  const uint32_t tables = TablePageCount(l), roots = RootPageCount(l);
  if (p <= l.table_offset) return 0;
  if (p <= l.check_offset) return static_cast<uint32_t>((p - l.table_offset) / ps);
  if (p <= l.root_offset) return tables;
  if (p <= l.blocks_offset) return tables + static_cast<uint32_t>((p - l.root_offset) / ps);
  if (p <= l.end()) {
    return tables + roots + static_cast<uint32_t>((p - l.blocks_offset) / l.geometry.block_size);
  }
  return l.check_units;
}

// Units that start before p.
uint32_t UnitsStartingBefore(const Layout& l, uint64_t p) {
  const uint32_t ps = l.geometry.page_size;
  const uint32_t bs = l.geometry.block_size;
  const uint32_t tables = TablePageCount(l), roots = RootPageCount(l);
  if (p <= l.table_offset) return 0;
  if (p <= l.check_offset) return static_cast<uint32_t>((p - l.table_offset + ps - 1) / ps);
  if (p <= l.root_offset) return tables;
  if (p <= l.blocks_offset) {
    return tables + static_cast<uint32_t>((p - l.root_offset + ps - 1) / ps);
  }
  if (p <= l.end())
    return tables + roots + static_cast<uint32_t>((p - l.blocks_offset + bs - 1) / bs);
  return l.check_units;
}

}  // namespace

std::pair<uint32_t, uint32_t> UnitsOverlapping(const Layout& l, uint32_t offset, uint64_t length) {
  if (length == 0) return {0, 0};
  const uint32_t first = UnitsEndingBy(l, offset);
  const uint32_t last = UnitsStartingBefore(l, uint64_t{offset} + length);
  return {first, std::max(first, last)};
}

std::string UnitName(const Layout& l, uint32_t unit) {
  const CheckUnit u = UnitAt(l, unit);
  switch (u.kind) {
    case UnitKind::kTablePage:
      return "allocator table page " + std::to_string(u.number);
    case UnitKind::kRootPage:
      return "root area page " + std::to_string(u.number);
    case UnitKind::kBlock:
      break;
  }
  return "block " + std::to_string(u.number);
}

Bytes FormattedCheckTable(const Layout& l) {
  Bytes table(l.root_offset - l.check_offset, 0);
  const uint32_t zero_page = Crc32(Bytes(l.geometry.page_size, 0));
  const uint32_t zero_block = Crc32(Bytes(l.geometry.block_size, 0));
  for (uint32_t u = 0; u < l.check_units; ++u) {
    PutU32(&table[kCheckEntryBytes * u],
           UnitAt(l, u).kind == UnitKind::kBlock ? zero_block : zero_page);
  }
  return table;
}

}  // namespace tessera::nvm
