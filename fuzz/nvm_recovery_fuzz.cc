// Fuzz target: power-on over damaged images. The input damages a small formatted image that
// holds data (bit flips at chosen offsets, or raw bytes over the journal), then the card powers
// on. Recovery must refuse (kCorruption) or recover; after a successful mount the store must
// accept a transaction and still satisfy its invariants. It must never crash.
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "core/bytes.h"
#include "nvm/image_inspector.h"
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

// A formatted image with a committed journal (cut right after the commit point) and data.
const Bytes& BaseImage() {
  static const Bytes image = [] {
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
    ram.device().ScheduleCut(4, TearMode::kNormal,
                             1);  // 3 body pages, header, then cut in the apply
    (void)s.Commit();
    return ram.cells();
  }();
  return image;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Geometry g = FuzzGeometry();
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
  auto store = NvmStore::Mount(ram.device(), g);
  if (!store.ok()) {
    if (store.status().code() != ErrorCode::kCorruption) std::abort();
    return 0;
  }
  NvmStore& s = **store;
  if (!s.Begin().ok()) std::abort();
  auto b = s.AllocateBlock();
  if (b.ok()) {
    Status w = s.Write(s.layout().BlockOffset(*b), Bytes(64, 0x77));
    if (!w.ok() && w.code() != ErrorCode::kCapacityExceeded) std::abort();
  }
  if (!s.Commit().ok()) std::abort();
  // Damage inside blocks (a free block holding data) is reported by the inspector, not hidden.
  (void)InspectImage(ram.device(), s.layout());
  return 0;
}
