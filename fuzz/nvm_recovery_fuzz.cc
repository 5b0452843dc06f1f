// Fuzz target: power-on over damaged images. The input damages a small formatted image that
// holds data and a COMMITTED journal (bit flips at chosen offsets, or raw bytes over any region),
// then the card powers on. Recovery must refuse (kCorruption) or recover, and it must agree with
// the read-only inspector (nvm/image_inspector.h), which is run on the damaged image before the
// mount and on the recovered image after it:
//   - a COMMITTED journal that cannot be replayed (bad length, checksum or entries) must be
//     refused with kCorruption, and a refused mount is only allowed when the inspector also finds
//     damage in the input;
//   - a successful mount must replay a journal the inspector calls committed, discard one it calls
//     torn, leave the journal IDLE with no block WIPING (I1, I2), and add no damage: every error
//     the inspector reports after recovery must already have been reported before it (recovery
//     cannot repair damage in places it never reads, such as data written into a free block, but
//     it must never create any);
//   - the recovered store must run a transaction, which again adds no damage (the integrity
//     checks may refuse it with kCorruption, on an image the inspector found damaged).
// Anything else (including a crash) aborts.
//
// Input format: data[0] bit 0 selects the damage. Set: raw overwrite, data[1..2] a big-endian
// offset, the rest of the input the bytes written there. Clear: bit flips, (u16 offset, u8 xor)
// triples from data[1].
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/crc32.h"
#include "nvm/image_inspector.h"
#include "nvm/journal.h"
#include "nvm/nvm_store.h"

using namespace tessera;
using namespace tessera::nvm;

namespace {

Geometry FuzzGeometry() {
  Geometry g;
  g.page_size = 64;
  g.nvm_size = 8 * 1024;
  g.journal_capacity = 1024;
  g.block_size = 128;
  g.root_size = 128;
  return g;
}

const Layout& FuzzLayout() {
  static const Layout layout = [] {
    auto l = ComputeLayout(FuzzGeometry());
    if (!l.ok()) std::abort();
    return *l;
  }();
  return layout;
}

// A formatted image holding data (a USED block), then a second transaction (a root write and the
// freeing of that block), cut by power loss at program operation `cut` of its commit (nullopt:
// it completes).
Bytes ImageWithCutCommit(std::optional<uint64_t> cut) {
  const Geometry g = FuzzGeometry();
  RamNvm ram(g.nvm_size, g.page_size);
  if (!NvmStore::Format(ram.device(), g).ok()) std::abort();
  auto store = NvmStore::Mount(ram.device(), g);
  if (!store.ok()) std::abort();
  NvmStore& s = **store;
  if (!s.Begin().ok()) std::abort();
  auto b = s.AllocateBlock();
  if (!b.ok() || !s.Write(s.layout().BlockOffset(*b), Bytes(100, 0x5A)).ok()) std::abort();
  if (!s.Commit().ok()) std::abort();
  if (!s.Begin().ok() || !s.Write(s.layout().root_offset, Bytes(40, 0x11)).ok()) std::abort();
  if (!s.FreeBlock(*b).ok()) std::abort();
  if (cut) {
    ram.device().ScheduleCut(*cut, TearMode::kNormal, 1);
    (void)s.Commit();
  } else if (!s.Commit().ok()) {
    std::abort();
  }
  return ram.cells();
}

std::optional<JournalHeader> HeaderOf(const Bytes& image) {
  return DecodeJournalHeader(
      ByteView(image).subspan(FuzzLayout().journal_header_offset, FuzzGeometry().page_size));
}

// The base image: the cut tears the first program after the commit point (the header program
// that says COMMITTED), so power-on must replay the journal. The cut index is searched rather
// than hard-coded so that a change in how many pages the journal body takes cannot silently turn
// this into an image with nothing to replay; start-up aborts if no such image can be built.
const Bytes& BaseImage() {
  static const Bytes image = [] {
    for (uint64_t cut = 0; cut < 64; ++cut) {
      Bytes candidate = ImageWithCutCommit(cut);
      std::optional<JournalHeader> h = HeaderOf(candidate);
      if (h && h->state == kJournalCommitted) return candidate;
    }
    std::abort();
  }();
  return image;
}

// A COMMITTED journal whose body cannot be replayed (longer than the capacity, failing its
// checksum, or not decoding into entries inside the data area) must make recovery refuse.
bool HoldsUnreplayableJournal(const Bytes& image) {
  const Layout& l = FuzzLayout();
  std::optional<JournalHeader> h = HeaderOf(image);
  if (!h || h->state != kJournalCommitted) return false;
  if (h->body_length > l.geometry.journal_capacity) return true;
  ByteView body = ByteView(image).subspan(l.journal_body_offset, h->body_length);
  if (Crc32(body) != h->body_crc) return true;
  return !DecodeJournalBody(body, l.table_offset, l.end()).ok();
}

std::vector<std::string> SortedErrors(const ImageReport& r) {
  std::vector<std::string> e = r.errors;
  std::sort(e.begin(), e.end());
  return e;
}

// Recovery and transactions may leave damage they cannot see, never create it.
void RequireNoNewDamage(const std::vector<std::string>& before, const ImageReport& after) {
  const std::vector<std::string> now = SortedErrors(after);
  if (!std::includes(before.begin(), before.end(), now.begin(), now.end())) std::abort();
  if (after.journal_state != JournalState::kIdle) std::abort();  // I1
  if (after.blocks_wiping != 0) std::abort();                    // I2
}

ByteView DataArea(const Bytes& image) {
  const Layout& l = FuzzLayout();
  return ByteView(image).subspan(l.table_offset, l.end() - l.table_offset);
}

// Start-up self-check: the undamaged base image holds a committed journal that the inspector
// finds sound, and power-on replays it into an image that passes inspection and holds exactly
// the data of the transaction completed without a cut.
void CheckBaseImage() {
  static const bool checked = [] {
    const Geometry g = FuzzGeometry();
    const Bytes& base = BaseImage();
    std::optional<JournalHeader> h = HeaderOf(base);
    if (!h || h->state != kJournalCommitted || h->body_length == 0) std::abort();
    if (HoldsUnreplayableJournal(base)) std::abort();
    RamNvm ram(g.nvm_size, g.page_size);
    ram.cells() = base;
    const ImageReport before = InspectImage(ram.device(), FuzzLayout());
    if (!before.ok() || before.journal_state != JournalState::kCommitted) std::abort();
    RecoveryReport report;
    auto store = NvmStore::Mount(ram.device(), g, &report);
    if (!store.ok() || !report.replayed_transaction) std::abort();
    const ImageReport after = InspectImage(ram.device(), FuzzLayout());
    if (!after.ok() || after.journal_state != JournalState::kIdle) std::abort();
    const Bytes completed = ImageWithCutCommit(std::nullopt);
    if (!std::ranges::equal(DataArea(ram.cells()), DataArea(completed))) std::abort();
    return true;
  }();
  (void)checked;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  CheckBaseImage();
  const Geometry g = FuzzGeometry();
  const Layout& layout = FuzzLayout();
  RamNvm ram(g.nvm_size, g.page_size);
  ram.cells() = BaseImage();
  if (size > 0 && (data[0] & 1)) {
    // Raw overwrite from offset (data[1..2]) with the rest of the input.
    if (size < 3) return 0;
    const size_t at = GetU16(data + 1) % g.nvm_size;
    for (size_t i = 3; i < size && at + i - 3 < g.nvm_size; ++i) ram.cells()[at + i - 3] = data[i];
  } else {
    // Bit flips: (u16 offset, u8 xor) triples.
    for (size_t i = 1; i + 3 <= size; i += 3) {
      ram.cells()[GetU16(data + i) % g.nvm_size] ^= data[i + 2];
    }
  }

  const ImageReport damaged = InspectImage(ram.device(), layout);
  const std::vector<std::string> damage = SortedErrors(damaged);
  const bool unreplayable = HoldsUnreplayableJournal(ram.cells());

  RecoveryReport report;
  auto store = NvmStore::Mount(ram.device(), g, &report);
  if (unreplayable && (store.ok() || store.status().code() != ErrorCode::kCorruption)) {
    std::abort();
  }
  if (!store.ok()) {
    if (store.status().code() != ErrorCode::kCorruption) std::abort();
    // Recovery refuses only images the inspector also finds damaged.
    if (damaged.ok()) std::abort();
    return 0;
  }
  if (report.replayed_transaction != (damaged.journal_state == JournalState::kCommitted)) {
    std::abort();
  }
  if (report.discarded_torn_header != (damaged.journal_state == JournalState::kTorn)) std::abort();
  RequireNoNewDamage(damage, InspectImage(ram.device(), layout));

  // The recovered store runs a transaction, reads its own write back, and stays sound.
  NvmStore& s = **store;
  if (!s.Begin().ok()) std::abort();
  auto b = s.AllocateBlock();
  bool wrote = false;
  // Damage the integrity checks find (a table page, the block, its check entry) refuses the
  // allocation or the write with kCorruption, on an image the inspector found damaged.
  auto refused = [&](const Status& st) {
    return st.code() == ErrorCode::kCorruption && !damaged.ok();
  };
  if (b.ok()) {
    Status w = s.Write(s.layout().BlockOffset(*b), Bytes(64, 0x77));
    if (!w.ok() && w.code() != ErrorCode::kCapacityExceeded && !refused(w)) std::abort();
    wrote = w.ok();
  } else if (b.status().code() != ErrorCode::kOutOfSpace && !refused(b.status())) {
    std::abort();
  }
  if (Status c = s.Commit(); !c.ok() && !refused(c)) std::abort();
  if (wrote) {
    Bytes back(64);
    if (!s.Read(s.layout().BlockOffset(*b), back).ok() || back != Bytes(64, 0x77)) std::abort();
  }
  RequireNoNewDamage(damage, InspectImage(ram.device(), layout));
  return 0;
}
