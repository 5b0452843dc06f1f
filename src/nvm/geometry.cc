#include "nvm/geometry.h"

#include <string>

namespace tessera::nvm {
namespace {

uint32_t RoundUp(uint32_t v, uint32_t unit) {
  return (v + unit - 1) / unit * unit;
}
bool IsPowerOfTwo(uint32_t v) {
  return v != 0 && (v & (v - 1)) == 0;
}

}  // namespace

Result<Layout> ComputeLayout(const Geometry& g) {
  if (!IsPowerOfTwo(g.page_size) || g.page_size < kMinPageSize || g.page_size > kMaxPageSize) {
    return InvalidArgument("page size must be a power of two between 32 and 4096, not " +
                           std::to_string(g.page_size));
  }
  if (g.nvm_size == 0 || g.nvm_size > kMaxNvmSize || g.nvm_size % g.page_size != 0) {
    return InvalidArgument("NVM size must be a multiple of the page size, at most 1 GiB");
  }
  if (g.journal_capacity < g.page_size || g.journal_capacity % g.page_size != 0) {
    return InvalidArgument("journal capacity must be a non-zero multiple of the page size");
  }
  if (g.block_size == 0 || g.block_size % g.page_size != 0) {
    return InvalidArgument("block size must be a non-zero multiple of the page size");
  }
  if (g.root_size == 0 || g.root_size % g.page_size != 0) {
    return InvalidArgument("root area size must be a non-zero multiple of the page size");
  }
  Layout l;
  l.geometry = g;
  l.journal_header_offset = 0;
  l.journal_body_offset = g.page_size;
  l.table_offset = l.journal_body_offset + g.journal_capacity;
  const uint64_t fixed = uint64_t{l.table_offset} + g.root_size;
  if (fixed >= g.nvm_size) return InvalidArgument("NVM too small for its journal and root area");
  // Each block costs block_size bytes, one table byte and a 4-byte check entry; the table and
  // the check table (which also holds an entry per table page and per root page) are padded
  // to a page.
  const uint32_t root_pages = g.root_size / g.page_size;
  auto overhead = [&](uint64_t count) {
    const uint64_t table = RoundUp(static_cast<uint32_t>(count), g.page_size);
    const uint64_t units = table / g.page_size + root_pages + count;
    return table + RoundUp(static_cast<uint32_t>(4 * units), g.page_size);
  };
  uint64_t count = (g.nvm_size - fixed) / (uint64_t{g.block_size} + 5);
  while (count > 0 && fixed + overhead(count) + count * g.block_size > g.nvm_size) --count;
  if (count == 0) return InvalidArgument("NVM too small for a single block");
  l.block_count = static_cast<uint32_t>(count);
  const uint32_t table_size = RoundUp(l.block_count, g.page_size);
  l.check_offset = l.table_offset + table_size;
  l.check_units = table_size / g.page_size + root_pages + l.block_count;
  l.root_offset = l.check_offset + RoundUp(4 * l.check_units, g.page_size);
  l.blocks_offset = l.root_offset + g.root_size;
  return l;
}

}  // namespace tessera::nvm
