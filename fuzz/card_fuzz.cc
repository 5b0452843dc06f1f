// Stateful fuzz target: a sequence of APDUs sent to a card with the default profile, with power
// cut at a chosen program operation. Input: u16 cut index (FFFF = no cut), u8 tear mode, then
// frames of (u8 length, bytes). Nothing may crash or hang; after a cut the card must power on
// again (recovery) with the NVM invariants intact, and keep answering with status words.
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "card/card.h"
#include "card/profile.h"
#include "nvm/image_inspector.h"

using namespace tessera;

namespace {

nvm::Geometry FuzzGeometry() {
  nvm::Geometry g;
  g.nvm_size = 64 * 1024;
  g.journal_capacity = 4 * 1024;
  return g;
}

const Bytes& ProfileCells() {
  static const Bytes cells = [] {
    nvm::RamNvm ram(FuzzGeometry().nvm_size, FuzzGeometry().page_size);
    if (!card::InstallDefaultProfile(ram.device(), FuzzGeometry()).ok()) std::abort();
    return ram.cells();
  }();
  return cells;
}

void CheckResponse(const Bytes& r) {
  if (r.size() < 2) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  static auto platform = card::DrbgPlatform::FromSeed(Bytes(48, 1), 1700000000);
  const nvm::Geometry g = FuzzGeometry();
  nvm::RamNvm ram(g.nvm_size, g.page_size);
  ram.cells() = ProfileCells();
  auto card = std::make_unique<card::Card>(ram.device(), g, *platform);
  if (!card->PowerOn().ok()) std::abort();
  const uint16_t cut = GetU16(data);
  if (cut != 0xFFFF) {
    ram.device().ScheduleCut(cut, (data[2] & 1) ? nvm::TearMode::kHarsh : nvm::TearMode::kNormal,
                             data[2]);
  }
  size_t pos = 3;
  while (pos < size) {
    const size_t len = std::min<size_t>(data[pos], size - pos - 1);
    ByteView apdu(data + pos + 1, len);
    pos += 1 + len;
    CheckResponse(card->Transmit(apdu));
    if (!card->powered() || !ram.device().powered()) {
      ram.device().CancelCut();
      ram.device().PowerOn();
      card = std::make_unique<card::Card>(ram.device(), g, *platform);
      if (!card->PowerOn().ok()) std::abort();  // recovery must succeed after any cut
      if (!nvm::InspectImage(ram.device(), card->store().layout()).ok()) std::abort();
    }
  }
  return 0;
}
