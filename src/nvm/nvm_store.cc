#include "nvm/nvm_store.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <tuple>

#include "core/crc32.h"
#include "nvm/integrity.h"

namespace tessera::nvm {

Status NvmStore::Format(NvmDevice& device, const Geometry& geometry) {
  TESSERA_ASSIGN_OR_RETURN(Layout layout, ComputeLayout(geometry));
  if (device.size() != geometry.nvm_size || device.page_size() != geometry.page_size) {
    return InvalidArgument("device does not match the geometry");
  }
  Bytes zero(geometry.page_size, 0);
  for (uint32_t p = 1; p < device.page_count(); ++p) {
    TESSERA_RETURN_IF_ERROR(device.ProgramPage(p, zero));
  }
  // Every unit is zero: its check entry is the CRC-32 of zeros (G8).
  TESSERA_RETURN_IF_ERROR(device.ProgramRange(layout.check_offset, FormattedCheckTable(layout)));
  return device.ProgramPage(0, EncodeJournalHeader(JournalHeader{}, geometry.page_size));
}

Result<std::unique_ptr<NvmStore>> NvmStore::Mount(NvmDevice& device, const Geometry& geometry,
                                                  RecoveryReport* report) {
  TESSERA_ASSIGN_OR_RETURN(Layout layout, ComputeLayout(geometry));
  if (device.size() != geometry.nvm_size || device.page_size() != geometry.page_size) {
    return InvalidArgument("device does not match the geometry");
  }
  std::unique_ptr<NvmStore> store(new NvmStore(device, layout));
  store->verified_.assign((layout.check_units + 63) / 64, 0);
  store->block_unit_base_ = BlockUnit(layout, 0);
  const uint32_t bs = layout.geometry.block_size;
  if ((bs & (bs - 1)) == 0) {
    while ((1u << store->block_shift_) < bs) ++store->block_shift_;
  } else {
    store->block_shift_ = -1;
  }
  RecoveryReport local;
  TESSERA_RETURN_IF_ERROR(store->Recover(report != nullptr ? *report : local));
  return store;
}

Status NvmStore::CheckAlive() const {
  if (dead_ || !device_.powered()) {
    return PowerLost("power was lost; power on and mount again before using the store");
  }
  return Status::Ok();
}

Status NvmStore::CheckDataRange(uint32_t offset, size_t length) const {
  const uint32_t lo = layout_.root_offset;
  if (offset < lo || offset > layout_.end() || length > layout_.end() - offset) {
    return InvalidArgument("write outside the data area (offset " + std::to_string(offset) +
                           ", length " + std::to_string(length) + ")");
  }
  return Status::Ok();
}

Status NvmStore::CheckBlocksInUse(uint32_t offset, size_t length) const {
  const uint64_t end = uint64_t{offset} + length;
  if (end <= layout_.blocks_offset) return Status::Ok();
  const uint32_t bs = layout_.geometry.block_size;
  const uint32_t first =
      offset <= layout_.blocks_offset ? 0 : (offset - layout_.blocks_offset) / bs;
  const uint32_t last = static_cast<uint32_t>((end - 1 - layout_.blocks_offset) / bs);
  for (uint32_t b = first; b <= last; ++b) {
    TESSERA_ASSIGN_OR_RETURN(BlockState state, GetBlockState(b));
    if (state != BlockState::kUsed) {
      return InvalidArgument("write into block " + std::to_string(b) + ", which is not allocated");
    }
  }
  return Status::Ok();
}

Result<bool> NvmStore::AllocatedInOpenTransaction(uint32_t offset, size_t length) const {
  const uint64_t end = uint64_t{offset} + length;
  if (!in_tx_ || end <= layout_.blocks_offset) return false;
  const uint32_t bs = layout_.geometry.block_size;
  const uint32_t first =
      offset <= layout_.blocks_offset ? 0 : (offset - layout_.blocks_offset) / bs;
  const uint32_t last = static_cast<uint32_t>((end - 1 - layout_.blocks_offset) / bs);
  for (uint32_t b = first; b <= last; ++b) {
    uint8_t committed = 0;  // the allocator entry on NVM, not the transaction's view of it
    TESSERA_RETURN_IF_ERROR(
        device_.Read(layout_.table_offset + b, std::span<uint8_t>(&committed, 1)));
    if (committed != static_cast<uint8_t>(BlockState::kUsed)) return true;
  }
  return false;
}

Status NvmStore::Begin() {
  TESSERA_RETURN_IF_ERROR(CheckAlive());
  if (in_tx_) return FailedPrecondition("a transaction is already open");
  in_tx_ = true;
  pending_.clear();
  pending_bytes_ = 0;
  freed_.clear();
  fresh_.clear();
  orphans_.clear();
  early_.clear();
  sensitive_ = false;
  return Status::Ok();
}

void NvmStore::Abort() {
  in_tx_ = false;
  pending_.clear();
  pending_bytes_ = 0;
  freed_.clear();
  sensitive_ = false;
  early_.clear();
  std::vector<uint32_t> fresh = std::move(fresh_);
  fresh.insert(fresh.end(), orphans_.begin(), orphans_.end());
  fresh_.clear();
  orphans_.clear();
  // Fresh blocks are durably WIPING and may hold this transaction's bytes: wipe them now (a
  // cut leaves them WIPING, and the next Mount() finishes the wipe).
  if (!fresh.empty() && CheckAlive().ok() && !WipeAndRelease(fresh).ok()) dead_ = true;
}

Savepoint NvmStore::Mark() const {
  return Savepoint{pending_, pending_bytes_, freed_.size(), fresh_.size()};
}

void NvmStore::RollbackTo(const Savepoint& point) {
  pending_ = point.pending;
  pending_bytes_ = point.pending_bytes;
  freed_.resize(std::min(point.freed, freed_.size()));
  // Fresh blocks taken since the mark hold bytes nothing will refer to: wipe them after the
  // commit, like freed blocks.
  std::vector<uint32_t> later(
      fresh_.begin() + static_cast<ptrdiff_t>(std::min(point.fresh, fresh_.size())), fresh_.end());
  fresh_.resize(std::min(point.fresh, fresh_.size()));
  const uint8_t wiping = static_cast<uint8_t>(BlockState::kWiping);
  for (uint32_t b : later) {
    // The table must say WIPING for it at the commit, as it does on NVM (else a cut between
    // the commit and the wipe would leave a FREE block with data). With no room even for
    // that, nothing else can commit either, and the next Mount() wipes it.
    (void)StageBytes(layout_.table_offset + b, ByteView(&wiping, 1));
    orphans_.push_back(b);
  }
  // Early commits made since the mark are durable: the restored page images must show them,
  // and the check entries the transaction holds must match what it now shows.
  for (const auto& [offset, data] : early_) PatchPending(offset, data);
  RefreshAllPendingChecks();
  // Fresh blocks taken before the mark keep their bytes (they went to NVM at once), but the
  // entries staged for them since the mark are gone. Without room for them the commit seals
  // nothing wrong either way: such a block then fails its check (damage named, never served).
  for (uint32_t b : fresh_) {
    const uint32_t u = BlockUnit(layout_, b);
    (void)StageChecks(u, u + 1);
  }
}

Status NvmStore::CommitAndContinue() {
  TESSERA_RETURN_IF_ERROR(Commit());
  return Begin();
}

Status NvmStore::Read(uint32_t offset, std::span<uint8_t> out) const {
  TESSERA_RETURN_IF_ERROR(ReadUnverified(offset, out));
  if (unchecked_reads_ > 0 || out.empty()) return Status::Ok();
  uint32_t first = 0, last = 0;
  const uint64_t end = uint64_t{offset} + out.size();
  if (offset >= layout_.blocks_offset && end <= layout_.end()) {
    // The hot path (file data and nodes): blocks only.
    first = block_unit_base_ + BlockIndex(offset);
    last = block_unit_base_ + BlockIndex(static_cast<uint32_t>(end - 1)) + 1;
  } else {
    std::tie(first, last) = UnitsOverlapping(layout_, offset, out.size());
  }
  for (uint32_t u = first; u < last; ++u) TESSERA_RETURN_IF_ERROR(Verified(u, &pending_));
  return Status::Ok();
}

Status NvmStore::VerifyUnit(uint32_t unit) const {
  TESSERA_RETURN_IF_ERROR(CheckAlive());
  if (unit >= layout_.check_units) return InvalidArgument("no such check unit");
  return CheckUnitIn(unit, &pending_);
}

namespace {

// Calls fn(piece) for the bytes [offset, offset + length) of `cells` overlaid by `overlay`, in
// order, without copying them.
template <typename Fn>
void ForEachViewPiece(ByteView cells, const ExtentMap* overlay, uint32_t offset, uint32_t length,
                      Fn fn) {
  uint64_t at = offset;
  const uint64_t end = uint64_t{offset} + length;
  if (overlay != nullptr && !overlay->empty()) {
    auto it = overlay->upper_bound(offset);
    if (it != overlay->begin()) --it;
    for (; it != overlay->end() && it->first < end && at < end; ++it) {
      const uint64_t e_start = it->first;
      const uint64_t e_end = e_start + it->second.size();
      if (e_end <= at) continue;
      if (e_start > at) {
        fn(cells.subspan(at, e_start - at));
        at = e_start;
      }
      const uint64_t hi = std::min(e_end, end);
      fn(ByteView(it->second).subspan(at - e_start, hi - at));
      at = hi;
    }
  }
  if (at < end) fn(cells.subspan(at, end - at));
}

std::string Hex32(uint32_t v) {
  char s[16];
  std::snprintf(s, sizeof s, "0x%08X", v);
  return s;
}

}  // namespace

uint32_t NvmStore::ViewCrc(uint32_t offset, uint32_t length, const ExtentMap* overlay) const {
  uint32_t crc = 0;
  ForEachViewPiece(device_.cells(), overlay, offset, length,
                   [&](ByteView piece) { crc = Crc32(piece, crc); });
  return crc;
}

void NvmStore::ViewCopy(uint32_t offset, std::span<uint8_t> out, const ExtentMap* overlay) const {
  size_t done = 0;
  ForEachViewPiece(device_.cells(), overlay, offset, static_cast<uint32_t>(out.size()),
                   [&](ByteView piece) {
                     std::memcpy(out.data() + done, piece.data(), piece.size());
                     done += piece.size();
                   });
}

namespace {

bool Touches(const ExtentMap& extents, uint32_t offset, uint32_t length) {
  auto it = extents.upper_bound(offset);
  if (it != extents.begin() && std::prev(it)->first + std::prev(it)->second.size() > offset) {
    return true;
  }
  return it != extents.end() && it->first < uint64_t{offset} + length;
}

}  // namespace

Status NvmStore::Verified(uint32_t unit, const ExtentMap* overlay) const {
  const uint64_t bit = uint64_t{1} << (unit % 64);
  if (verified_[unit / 64] & bit) return Status::Ok();
  bool checked = false;
  TESSERA_RETURN_IF_ERROR(CheckUnitIn(unit, overlay, &checked));
  if (!checked) return Status::Ok();
  // What passed is NVM itself only when the overlay touches neither the unit, nor its entry,
  // nor (for a block) its state.
  if (overlay != nullptr && !overlay->empty()) {
    const CheckUnit u = UnitAt(layout_, unit);
    if (Touches(*overlay, u.offset, u.length) ||
        Touches(*overlay, CheckEntryOffset(layout_, unit), kCheckEntryBytes) ||
        (u.kind == UnitKind::kBlock && Touches(*overlay, layout_.table_offset + u.number, 1))) {
      return Status::Ok();
    }
  }
  verified_[unit / 64] |= bit;
  return Status::Ok();
}

Status NvmStore::CheckUnitIn(uint32_t unit, const ExtentMap* overlay, bool* checked) const {
  if (checked != nullptr) *checked = false;
  const CheckUnit u = UnitAt(layout_, unit);
  if (u.kind == UnitKind::kBlock) {
    uint8_t state = 0;
    ViewCopy(layout_.table_offset + u.number, std::span<uint8_t>(&state, 1), overlay);
    // A WIPING block's bytes are being zeroed, outside any commit: nothing reads it.
    if (state == static_cast<uint8_t>(BlockState::kWiping)) return Status::Ok();
  }
  if (checked != nullptr) *checked = true;
  uint8_t entry[kCheckEntryBytes];
  ViewCopy(CheckEntryOffset(layout_, unit), entry, overlay);
  const uint32_t stored = GetU32(entry);
  const uint32_t computed = ViewCrc(u.offset, u.length, overlay);
  if (stored == computed) return Status::Ok();
  return Corruption("NVM " + UnitName(layout_, unit) +
                    " fails its integrity check: the CRC-32 of its bytes is " + Hex32(computed) +
                    ", its check entry says " + Hex32(stored));
}

Status NvmStore::ReadUnverified(uint32_t offset, std::span<uint8_t> out) const {
  TESSERA_RETURN_IF_ERROR(CheckAlive());
  TESSERA_RETURN_IF_ERROR(device_.Read(offset, out));
  if (pending_.empty() || out.empty()) return Status::Ok();
  const uint64_t end = uint64_t{offset} + out.size();
  auto it = pending_.upper_bound(offset);
  if (it != pending_.begin()) --it;
  for (; it != pending_.end() && it->first < end; ++it) {
    const uint64_t e_start = it->first;
    const uint64_t e_end = e_start + it->second.size();
    const uint64_t lo = std::max<uint64_t>(e_start, offset);
    const uint64_t hi = std::min(e_end, end);
    if (lo < hi) {
      std::memcpy(out.data() + (lo - offset), it->second.data() + (lo - e_start), hi - lo);
    }
  }
  return Status::Ok();
}

void NvmStore::MergeExtent(ExtentMap& extents, uint32_t offset, ByteView data) {
  uint64_t start = offset;
  uint64_t end = start + data.size();
  auto first = extents.upper_bound(offset);
  if (first != extents.begin()) {
    auto prev = std::prev(first);
    if (prev->first + prev->second.size() >= offset) first = prev;
  }
  auto last = first;
  while (last != extents.end() && last->first <= end) {
    start = std::min<uint64_t>(start, last->first);
    end = std::max<uint64_t>(end, last->first + last->second.size());
    ++last;
  }
  SecureBytes merged(end - start);
  for (auto it = first; it != last; ++it) {
    std::memcpy(merged.data() + (it->first - start), it->second.data(), it->second.size());
  }
  std::memcpy(merged.data() + (offset - start), data.data(), data.size());
  extents.erase(first, last);
  extents.emplace(static_cast<uint32_t>(start), std::move(merged));
}

size_t NvmStore::EncodedSize(const ExtentMap& extents) {
  size_t total = 0;
  for (const auto& [offset, data] : extents) total += EncodedExtentSize(data.size());
  return total;
}

size_t NvmStore::SizeWith(std::initializer_list<std::pair<uint64_t, uint64_t>> ranges) const {
  // The new ranges, and the pending extents they touch (which the merge joins); pending extents
  // are disjoint and never adjacent, so every join runs through a new range.
  std::vector<std::pair<uint64_t, uint64_t>> all(ranges);
  std::vector<uint32_t> joined;
  size_t joined_bytes = 0;
  for (const auto& [start, end] : ranges) {
    auto first = pending_.upper_bound(static_cast<uint32_t>(start));
    if (first != pending_.begin()) {
      auto prev = std::prev(first);
      if (prev->first + prev->second.size() >= start) first = prev;
    }
    for (auto it = first; it != pending_.end() && it->first <= end; ++it) {
      if (std::find(joined.begin(), joined.end(), it->first) != joined.end()) continue;
      joined.push_back(it->first);
      joined_bytes += EncodedExtentSize(it->second.size());
      all.emplace_back(it->first, it->first + it->second.size());
    }
  }
  std::sort(all.begin(), all.end());
  size_t merged = 0;
  for (size_t i = 0; i < all.size();) {
    const uint64_t lo = all[i].first;
    uint64_t hi = all[i].second;
    for (++i; i < all.size() && all[i].first <= hi; ++i) hi = std::max(hi, all[i].second);
    merged += EncodedExtentSize(hi - lo);
  }
  return pending_bytes_ - joined_bytes + merged;
}

Status NvmStore::StageBytes(uint32_t offset, ByteView data) {
  // The journal holds whole pages, so that replay can restore a page that a harsh-mode cut left
  // with arbitrary bytes outside the written range (docs/nvm-format.md §4).
  const uint32_t ps = layout_.geometry.page_size;
  const uint32_t a_start = offset / ps * ps;
  const uint32_t a_end = static_cast<uint32_t>((uint64_t{offset} + data.size() + ps - 1) / ps * ps);
  // G8: the units the bytes fall in must be intact before they change (a new check over
  // damaged bytes would hide the damage), and their entries change with them.
  const auto [first, last] = UnitsOverlapping(layout_, offset, data.size());
  for (uint32_t u = first; u < last; ++u) TESSERA_RETURN_IF_ERROR(Verified(u, &pending_));
  SecureBytes image(a_end - a_start);
  TESSERA_RETURN_IF_ERROR(ReadUnverified(a_start, image));
  std::memcpy(image.data() + (offset - a_start), data.data(), data.size());
  uint32_t c_start = 0, c_end = 0;
  SecureBytes checks;
  if (first < last) {
    c_start = CheckEntryOffset(layout_, first) / ps * ps;
    c_end = (CheckEntryOffset(layout_, last - 1) + kCheckEntryBytes + ps - 1) / ps * ps;
    checks.resize(c_end - c_start);
    ViewCopy(c_start, checks, &pending_);
    for (uint32_t u = first; u < last; ++u) {
      // The unit as the transaction will see it: its pages in `image` from there, the rest as
      // it sees them now.
      const CheckUnit unit = UnitAt(layout_, u);
      SecureBytes content(unit.length);
      ViewCopy(unit.offset, content, &pending_);
      const uint64_t lo = std::max<uint64_t>(unit.offset, a_start);
      const uint64_t hi = std::min<uint64_t>(uint64_t{unit.offset} + unit.length, a_end);
      std::memcpy(content.data() + (lo - unit.offset), image.data() + (lo - a_start), hi - lo);
      PutU32(&checks[CheckEntryOffset(layout_, u) - c_start], Crc32(content));
    }
  }
  const size_t bytes =
      first < last ? SizeWith({{a_start, a_end}, {c_start, c_end}}) : SizeWith({{a_start, a_end}});
  if (bytes > commit_capacity()) {
    return Status(ErrorCode::kCapacityExceeded, "transaction needs " + std::to_string(bytes) +
                                                    " journal bytes; the commit capacity is " +
                                                    std::to_string(commit_capacity()));
  }
  MergeExtent(pending_, a_start, image);
  if (first < last) MergeExtent(pending_, c_start, checks);
  pending_bytes_ = bytes;
  return Status::Ok();
}

Status NvmStore::StageChecks(uint32_t first, uint32_t last) {
  if (first >= last) return Status::Ok();
  const uint32_t ps = layout_.geometry.page_size;
  const uint32_t c_start = CheckEntryOffset(layout_, first) / ps * ps;
  const uint32_t c_end =
      (CheckEntryOffset(layout_, last - 1) + kCheckEntryBytes + ps - 1) / ps * ps;
  SecureBytes checks(c_end - c_start);
  ViewCopy(c_start, checks, &pending_);
  for (uint32_t u = first; u < last; ++u) {
    const CheckUnit unit = UnitAt(layout_, u);
    PutU32(&checks[CheckEntryOffset(layout_, u) - c_start],
           ViewCrc(unit.offset, unit.length, &pending_));
  }
  const size_t bytes = SizeWith({{c_start, c_end}});
  if (bytes > commit_capacity()) {
    return Status(ErrorCode::kCapacityExceeded, "transaction needs " + std::to_string(bytes) +
                                                    " journal bytes; the commit capacity is " +
                                                    std::to_string(commit_capacity()));
  }
  MergeExtent(pending_, c_start, checks);
  pending_bytes_ = bytes;
  return Status::Ok();
}

void NvmStore::AddChecks(ExtentMap& extents, const std::vector<uint32_t>& extra) const {
  std::vector<uint32_t> units = extra;
  for (const auto& [offset, data] : extents) {
    const auto [first, last] = UnitsOverlapping(layout_, offset, data.size());
    for (uint32_t u = first; u < last; ++u) units.push_back(u);
  }
  std::sort(units.begin(), units.end());
  units.erase(std::unique(units.begin(), units.end()), units.end());
  const uint32_t ps = layout_.geometry.page_size;
  ExtentMap pages;
  for (uint32_t u : units) {
    const uint32_t at = CheckEntryOffset(layout_, u);
    const uint32_t page_start = at / ps * ps;
    auto it = pages.find(page_start);
    if (it == pages.end()) {
      SecureBytes page(ps);
      ViewCopy(page_start, page, &extents);
      it = pages.emplace(page_start, std::move(page)).first;
    }
    const CheckUnit unit = UnitAt(layout_, u);
    PutU32(&it->second[at - page_start], ViewCrc(unit.offset, unit.length, &extents));
  }
  for (const auto& [offset, page] : pages) MergeExtent(extents, offset, page);
}

void NvmStore::RefreshPendingChecks(uint32_t first, uint32_t last) {
  for (uint32_t u = first; u < last; ++u) {
    const uint32_t at = CheckEntryOffset(layout_, u);
    auto it = pending_.upper_bound(at);
    if (it == pending_.begin()) continue;
    --it;
    if (uint64_t{at} + kCheckEntryBytes > it->first + it->second.size()) continue;  // not held
    const CheckUnit unit = UnitAt(layout_, u);
    PutU32(&it->second[at - it->first], ViewCrc(unit.offset, unit.length, &pending_));
  }
}

void NvmStore::RefreshAllPendingChecks() {
  const uint32_t lo = layout_.check_offset;
  const uint32_t hi = CheckEntryOffset(layout_, layout_.check_units);
  std::vector<std::pair<uint32_t, uint32_t>> spans;
  for (const auto& [offset, data] : pending_) {
    const uint64_t e_end = uint64_t{offset} + data.size();
    if (e_end <= lo || offset >= hi) continue;
    const uint32_t from = std::max(offset, lo);
    const uint32_t to = static_cast<uint32_t>(std::min<uint64_t>(e_end, hi));
    spans.emplace_back((from - lo) / kCheckEntryBytes, (to - lo) / kCheckEntryBytes);
  }
  for (const auto& [first, last] : spans) RefreshPendingChecks(first, last);
}

Status NvmStore::Write(uint32_t offset, ByteView data) {
  TESSERA_RETURN_IF_ERROR(CheckAlive());
  if (!in_tx_) return FailedPrecondition("write outside a transaction");
  TESSERA_RETURN_IF_ERROR(CheckDataRange(offset, data.size()));
  if (data.empty()) return Status::Ok();
  TESSERA_RETURN_IF_ERROR(CheckBlocksInUse(offset, data.size()));
  if (fresh_.empty() || offset + data.size() <= layout_.blocks_offset) {
    return StageBytes(offset, data);
  }
  // Split at block boundaries: fresh blocks are programmed directly (G6).
  size_t done = 0;
  if (offset < layout_.blocks_offset) {
    done = layout_.blocks_offset - offset;
    TESSERA_RETURN_IF_ERROR(StageBytes(offset, data.first(done)));
  }
  const uint32_t bs = layout_.geometry.block_size;
  while (done < data.size()) {
    const uint32_t at = offset + static_cast<uint32_t>(done);
    const size_t n = std::min<size_t>(bs - (at - layout_.blocks_offset) % bs, data.size() - done);
    TESSERA_RETURN_IF_ERROR(WritePiece(at, data.subspan(done, n)));
    done += n;
  }
  return Status::Ok();
}

Status NvmStore::WritePiece(uint32_t offset, ByteView data) {
  const uint32_t block = (offset - layout_.blocks_offset) / layout_.geometry.block_size;
  if (std::find(fresh_.begin(), fresh_.end(), block) == fresh_.end()) {
    return StageBytes(offset, data);
  }
  const uint32_t unit = BlockUnit(layout_, block);
  TESSERA_RETURN_IF_ERROR(Verified(unit, &pending_));
  Status s = device_.ProgramRange(offset, data);
  if (!s.ok()) {
    dead_ = true;
    return s;
  }
  // The block's entry commits with the pointer switch (the block is WIPING on NVM until then).
  return StageChecks(unit, unit + 1);
}

Result<BlockState> NvmStore::GetBlockState(uint32_t block) const {
  if (block >= layout_.block_count) return InvalidArgument("no such block");
  uint8_t b = 0;
  TESSERA_RETURN_IF_ERROR(Read(layout_.table_offset + block, std::span<uint8_t>(&b, 1)));
  if (b > static_cast<uint8_t>(BlockState::kWiping)) {
    return Corruption("allocator table entry " + std::to_string(block) + " holds " +
                      std::to_string(b));
  }
  return static_cast<BlockState>(b);
}

uint32_t NvmStore::CountBlocks(BlockState state) const {
  Bytes table(layout_.block_count);
  if (!Read(layout_.table_offset, table).ok()) return 0;
  return static_cast<uint32_t>(std::count(table.begin(), table.end(), static_cast<uint8_t>(state)));
}

Result<uint32_t> NvmStore::AllocateBlock() {
  TESSERA_RETURN_IF_ERROR(CheckAlive());
  if (!in_tx_) return FailedPrecondition("allocation outside a transaction");
  Bytes table(layout_.block_count);
  TESSERA_RETURN_IF_ERROR(Read(layout_.table_offset, table));
  auto it = std::find(table.begin(), table.end(), static_cast<uint8_t>(BlockState::kFree));
  if (it == table.end()) return Status(ErrorCode::kOutOfSpace, "no free NVM block");
  const uint32_t block = static_cast<uint32_t>(it - table.begin());
  const uint8_t used = static_cast<uint8_t>(BlockState::kUsed);
  TESSERA_RETURN_IF_ERROR(StageBytes(layout_.table_offset + block, ByteView(&used, 1)));
  return block;
}

Result<std::vector<uint32_t>> NvmStore::AllocateFreshBlocks(size_t n) {
  TESSERA_RETURN_IF_ERROR(CheckAlive());
  if (!in_tx_) return FailedPrecondition("allocation outside a transaction");
  // FREE as the transaction sees it is FREE on NVM too (a transaction only turns FREE into
  // USED and USED into WIPING).
  Bytes table(layout_.block_count);
  TESSERA_RETURN_IF_ERROR(Read(layout_.table_offset, table));
  std::vector<uint32_t> blocks;
  for (uint32_t b = 0; b < layout_.block_count && blocks.size() < n; ++b) {
    if (table[b] == static_cast<uint8_t>(BlockState::kFree)) blocks.push_back(b);
  }
  if (blocks.size() < n) return Status(ErrorCode::kOutOfSpace, "not enough free NVM blocks");
  if (blocks.empty()) return blocks;
  // One early commit makes them WIPING on NVM, with page images taken from NVM (the open
  // transaction's other writes must not become durable early).
  TESSERA_ASSIGN_OR_RETURN(ExtentMap merged, TablePages(blocks, BlockState::kWiping));
  AddChecks(merged, {});
  if (EncodedSize(merged) > commit_capacity()) {
    return Status(ErrorCode::kCapacityExceeded, "too many fresh blocks for one early commit");
  }
  Status s = CommitExtents(merged, false);
  if (!s.ok()) {
    dead_ = true;
    return s;
  }
  // The transaction's copies of the check pages just committed are stale now.
  RefreshAllPendingChecks();
  // Registered before staging, so that Abort() and RollbackTo() wipe them whatever happens.
  fresh_.insert(fresh_.end(), blocks.begin(), blocks.end());
  const uint8_t used = static_cast<uint8_t>(BlockState::kUsed);
  for (uint32_t b : blocks) {
    TESSERA_RETURN_IF_ERROR(StageBytes(layout_.table_offset + b, ByteView(&used, 1)));
  }
  return blocks;
}

Status NvmStore::FreeBlock(uint32_t block) {
  TESSERA_RETURN_IF_ERROR(CheckAlive());
  if (!in_tx_) return FailedPrecondition("free outside a transaction");
  TESSERA_ASSIGN_OR_RETURN(BlockState state, GetBlockState(block));
  if (state != BlockState::kUsed) {
    return FailedPrecondition("block " + std::to_string(block) + " is not in use");
  }
  const uint8_t wiping = static_cast<uint8_t>(BlockState::kWiping);
  TESSERA_RETURN_IF_ERROR(StageBytes(layout_.table_offset + block, ByteView(&wiping, 1)));
  freed_.push_back(block);
  return Status::Ok();
}

Status NvmStore::WriteHeader(uint8_t state, uint8_t flags, uint32_t body_length,
                             uint32_t body_crc) {
  JournalHeader h;
  h.state = state;
  h.flags = flags;
  h.sequence = sequence_;
  h.body_length = body_length;
  h.body_crc = body_crc;
  return device_.ProgramPage(0, EncodeJournalHeader(h, layout_.geometry.page_size));
}

Status NvmStore::WriteIdleHeader() {
  return WriteHeader(kJournalIdle, 0, 0, 0);
}

Status NvmStore::ZeroBody(size_t length) {
  // Pages already zero are skipped by ProgramRange.
  return device_.ProgramRange(layout_.journal_body_offset,
                              Bytes(std::min<size_t>(length, commit_capacity()), 0));
}

Status NvmStore::CommitExtents(const ExtentMap& extents, bool sensitive) {
  const SecureBytes body = EncodeJournalBody(extents);
  if (body.size() > commit_capacity()) {
    return Status(ErrorCode::kCapacityExceeded, "transaction exceeds the commit capacity");
  }
  const uint32_t length = static_cast<uint32_t>(body.size());
  // 0. A sensitive body is announced before it is written: from here until step 6 a cut
  //    leaves a header that makes recovery zero it (WIPE, COMMITTED+sensitive, or torn).
  if (sensitive) TESSERA_RETURN_IF_ERROR(WriteHeader(kJournalWipeBody, 0, length, 0));
  // 1. Body, while the header says IDLE (or WIPE): nothing to replay yet.
  TESSERA_RETURN_IF_ERROR(device_.ProgramRange(layout_.journal_body_offset, body));
  // 2. The commit point: one page program.
  ++sequence_;
  Status s =
      WriteHeader(kJournalCommitted, sensitive ? kJournalFlagSensitive : 0, length, Crc32(body));
  if (!s.ok()) {
    --sequence_;
    return s;
  }
  // 3. Apply to the home locations.
  for (const auto& [offset, data] : extents) {
    TESSERA_RETURN_IF_ERROR(device_.ProgramRange(offset, data));
  }
  // 4-5. A sensitive body is dead now: zero it under a WIPE header.
  if (sensitive) {
    TESSERA_RETURN_IF_ERROR(WriteHeader(kJournalWipeBody, 0, length, 0));
    TESSERA_RETURN_IF_ERROR(ZeroBody(length));
  }
  // 6. Back to IDLE.
  return WriteIdleHeader();
}

Status NvmStore::WipeAndRelease(const std::vector<uint32_t>& blocks) {
  if (blocks.empty()) return Status::Ok();
  const Bytes zeros(layout_.geometry.block_size, 0);
  for (uint32_t b : blocks) {
    TESSERA_RETURN_IF_ERROR(device_.ProgramRange(layout_.BlockOffset(b), zeros));
  }
  TESSERA_ASSIGN_OR_RETURN(ExtentMap merged, TablePages(blocks, BlockState::kFree));
  // FREE blocks are zero, and their entries say so (G8).
  std::vector<uint32_t> units;
  for (uint32_t b : blocks) units.push_back(BlockUnit(layout_, b));
  AddChecks(merged, units);
  return CommitExtents(merged, false);
}

Result<ExtentMap> NvmStore::TablePages(const std::vector<uint32_t>& blocks,
                                       BlockState state) const {
  const uint32_t ps = layout_.geometry.page_size;
  ExtentMap pages;
  for (uint32_t b : blocks) {
    const uint32_t at = layout_.table_offset + b;
    const uint32_t page_start = at / ps * ps;
    auto it = pages.find(page_start);
    if (it == pages.end()) {
      // G8: a damaged table page is not rewritten under a new check.
      const auto [unit, unit_end] = UnitsOverlapping(layout_, page_start, ps);
      for (uint32_t u = unit; u < unit_end; ++u) TESSERA_RETURN_IF_ERROR(Verified(u, nullptr));
      SecureBytes page(ps);
      TESSERA_RETURN_IF_ERROR(device_.Read(page_start, page));
      it = pages.emplace(page_start, std::move(page)).first;
    }
    it->second[at - page_start] = static_cast<uint8_t>(state);
  }
  // Pages are disjoint but may be adjacent: merge them into maximal extents.
  ExtentMap merged;
  for (const auto& [offset, page] : pages) MergeExtent(merged, offset, page);
  return merged;
}

Status NvmStore::Commit() {
  TESSERA_RETURN_IF_ERROR(CheckAlive());
  if (!in_tx_) return FailedPrecondition("commit without a transaction");
  in_tx_ = false;
  ExtentMap extents = std::move(pending_);
  std::vector<uint32_t> freed = std::move(freed_);
  freed.insert(freed.end(), orphans_.begin(), orphans_.end());
  const bool sensitive = sensitive_;
  pending_.clear();
  pending_bytes_ = 0;
  freed_.clear();
  fresh_.clear();
  orphans_.clear();
  early_.clear();
  sensitive_ = false;
  if (extents.empty()) return Status::Ok();
  Status s = CommitExtents(extents, sensitive);
  if (s.ok()) s = WipeAndRelease(freed);
  if (!s.ok()) {
    dead_ = true;
    return s;
  }
  return Status::Ok();
}

Status NvmStore::CommitNow(uint32_t offset, ByteView data) {
  TESSERA_RETURN_IF_ERROR(CheckAlive());
  TESSERA_RETURN_IF_ERROR(CheckDataRange(offset, data.size()));
  if (data.empty()) return Status::Ok();
  TESSERA_RETURN_IF_ERROR(CheckBlocksInUse(offset, data.size()));
  // A block the open transaction allocated is FREE on NVM until it commits: bytes committed
  // into it early would outlive an abort or a cut as data in a free block (G1). They belong to
  // the transaction, and are durable exactly when the block is.
  TESSERA_ASSIGN_OR_RETURN(bool fresh, AllocatedInOpenTransaction(offset, data.size()));
  if (fresh) return Write(offset, data);
  // The page images come from NVM, not from the open transaction: its other writes must not
  // become durable early.
  const uint32_t ps = layout_.geometry.page_size;
  const uint32_t a_start = offset / ps * ps;
  const uint32_t a_end = static_cast<uint32_t>((uint64_t{offset} + data.size() + ps - 1) / ps * ps);
  SecureBytes image(a_end - a_start);
  TESSERA_RETURN_IF_ERROR(device_.Read(a_start, image));
  std::memcpy(image.data() + (offset - a_start), data.data(), data.size());
  // G8: the unit must be intact on NVM, and its entry commits with the bytes.
  const auto [first, last] = UnitsOverlapping(layout_, offset, data.size());
  for (uint32_t u = first; u < last; ++u) TESSERA_RETURN_IF_ERROR(Verified(u, nullptr));
  ExtentMap one;
  one.emplace(a_start, std::move(image));
  AddChecks(one, {});
  if (EncodedSize(one) > commit_capacity()) {
    return Status(ErrorCode::kCapacityExceeded, "early commit exceeds the commit capacity");
  }
  // Early commits update counters that sit next to secrets (PINs, keys) in the same page:
  // they are always sensitive.
  Status s = CommitExtents(one, true);
  if (!s.ok()) {
    dead_ = true;
    return s;
  }
  // The open transaction keeps its writes but must now see (and, on commit, keep) these bytes,
  // also after a RollbackTo().
  PatchPending(offset, data);
  RefreshPendingChecks(first, last);
  if (in_tx_) early_.emplace_back(offset, SecureBytes(data.begin(), data.end()));
  return Status::Ok();
}

void NvmStore::PatchPending(uint32_t offset, ByteView data) {
  const uint64_t end = uint64_t{offset} + data.size();
  for (auto& [e_start, e_data] : pending_) {
    const uint64_t lo = std::max<uint64_t>(e_start, offset);
    const uint64_t hi = std::min<uint64_t>(e_start + e_data.size(), end);
    if (lo < hi) std::memcpy(e_data.data() + (lo - e_start), data.data() + (lo - offset), hi - lo);
  }
}

Status NvmStore::Recover(RecoveryReport& report) {
  const uint32_t ps = layout_.geometry.page_size;
  Bytes page(ps);
  TESSERA_RETURN_IF_ERROR(device_.Read(layout_.journal_header_offset, page));
  std::optional<JournalHeader> h = DecodeJournalHeader(page);
  if (!h) {
    // A cut while the header was programmed: the commit point (the transaction did not
    // happen), a WIPE announcement or the return to IDLE (it was already applied). All mean:
    // nothing to replay. The body may hold a sensitive transaction's secrets, and it is dead:
    // zero it.
    report.discarded_torn_header = true;
    report.wiped_journal_body = true;
    sequence_ = 0;
    TESSERA_RETURN_IF_ERROR(ZeroBody(commit_capacity()));
    TESSERA_RETURN_IF_ERROR(WriteIdleHeader());
  } else {
    sequence_ = h->sequence;
    if (h->state == kJournalWipeBody) {
      if (h->body_length > commit_capacity()) {
        return Corruption("journal header asks to wipe " + std::to_string(h->body_length) +
                          " body bytes, more than the capacity");
      }
      TESSERA_RETURN_IF_ERROR(ZeroBody(h->body_length));
      TESSERA_RETURN_IF_ERROR(WriteIdleHeader());
      report.wiped_journal_body = true;
    } else if (h->state == kJournalCommitted) {
      if (h->body_length > commit_capacity()) {
        return Corruption("journal header claims a body of " + std::to_string(h->body_length) +
                          " bytes, more than the capacity");
      }
      SecureBytes body(h->body_length);
      TESSERA_RETURN_IF_ERROR(device_.Read(layout_.journal_body_offset, body));
      if (Crc32(body) != h->body_crc) {
        return Corruption("committed journal body fails its checksum");
      }
      TESSERA_ASSIGN_OR_RETURN(auto entries,
                               DecodeJournalBody(body, layout_.table_offset, layout_.end()));
      TESSERA_RETURN_IF_ERROR(ApplyEntries(entries));
      if (h->flags & kJournalFlagSensitive) {
        TESSERA_RETURN_IF_ERROR(WriteHeader(kJournalWipeBody, 0, h->body_length, 0));
        TESSERA_RETURN_IF_ERROR(ZeroBody(h->body_length));
        report.wiped_journal_body = true;
      }
      TESSERA_RETURN_IF_ERROR(WriteIdleHeader());
      report.replayed_transaction = true;
    }
  }
  Bytes table(layout_.block_count);
  TESSERA_RETURN_IF_ERROR(device_.Read(layout_.table_offset, table));
  std::vector<uint32_t> wiping;
  for (uint32_t b = 0; b < layout_.block_count; ++b) {
    if (table[b] > static_cast<uint8_t>(BlockState::kWiping)) {
      return Corruption("allocator table entry for block " + std::to_string(b) +
                        " holds invalid state " + std::to_string(table[b]));
    }
    if (table[b] == static_cast<uint8_t>(BlockState::kWiping)) wiping.push_back(b);
  }
  // Wiping acts on the table: a damaged page could name a block in use as WIPING (G8). Every
  // page holding a WIPING entry is verified before anything is wiped.
  for (uint32_t b : wiping) {
    const auto [first, last] = UnitsOverlapping(layout_, layout_.table_offset + b, 1);
    for (uint32_t u = first; u < last; ++u) TESSERA_RETURN_IF_ERROR(Verified(u, nullptr));
  }
  TESSERA_RETURN_IF_ERROR(WipeAndRelease(wiping));
  report.wipes_finished = static_cast<uint32_t>(wiping.size());
  return Status::Ok();
}

Status NvmStore::ApplyEntries(const std::vector<JournalEntry>& entries) {
  for (const JournalEntry& e : entries) {
    TESSERA_RETURN_IF_ERROR(device_.ProgramRange(e.offset, e.data));
  }
  return Status::Ok();
}

}  // namespace tessera::nvm
