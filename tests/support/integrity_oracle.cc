#include "support/integrity_oracle.h"

#include "core/crc32.h"

namespace tessera::testing {

OracleUnit UnitHolding(const nvm::Layout& layout, uint32_t nvm_offset) {
  const uint32_t ps = layout.geometry.page_size;
  const uint32_t table_pages = (layout.check_offset - layout.table_offset) / ps;
  const uint32_t root_pages = layout.geometry.root_size / ps;
  uint32_t unit = 0;
  OracleUnit u;
  if (nvm_offset < layout.check_offset) {
    unit = (nvm_offset - layout.table_offset) / ps;
    u.start = layout.table_offset + unit * ps;
    u.length = ps;
  } else if (nvm_offset < layout.blocks_offset) {
    const uint32_t page = (nvm_offset - layout.root_offset) / ps;
    unit = table_pages + page;
    u.start = layout.root_offset + page * ps;
    u.length = ps;
  } else {
    const uint32_t block = (nvm_offset - layout.blocks_offset) / layout.geometry.block_size;
    unit = table_pages + root_pages + block;
    u.start = layout.blocks_offset + block * layout.geometry.block_size;
    u.length = layout.geometry.block_size;
  }
  u.entry = layout.check_offset + 4 * unit;
  return u;
}

void SpendCounter(Bytes& data_area, const nvm::Layout& layout, uint32_t at) {
  if (at >= data_area.size() || data_area[at] == 0) return;
  --data_area[at];
  const uint32_t nvm_offset = layout.table_offset + at;
  if (nvm_offset >= layout.check_offset && nvm_offset < layout.root_offset) return;
  const OracleUnit u = UnitHolding(layout, nvm_offset);
  const uint32_t base = layout.table_offset;
  PutU32(&data_area[u.entry - base], Crc32(ByteView(data_area).subspan(u.start - base, u.length)));
}

}  // namespace tessera::testing
