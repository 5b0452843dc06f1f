#include "card/card_root.h"

#include <algorithm>
#include <cstring>

namespace tessera::card {
namespace {

constexpr uint8_t kRootMagic[4] = {'T', 'C', 'O', 'S'};
constexpr uint8_t kRootVersion = 1;
constexpr size_t kPinTable = 32;
constexpr size_t kPinEntry = 24;
constexpr size_t kRootBytes = kPinTable + kMaxPins * kPinEntry;  // 224

}  // namespace

int CardRoot::FindPin(uint8_t reference) const {
  for (size_t i = 0; i < pins.size(); ++i) {
    if (pins[i].reference != 0 && pins[i].reference == reference) return static_cast<int>(i);
  }
  return -1;
}

CardResult<CardRoot> LoadRoot(const nvm::NvmStore& store) {
  Bytes b(kRootBytes);
  CARD_TRY_STATUS(store.Read(store.layout().root_offset, b));
  if (std::memcmp(b.data(), kRootMagic, 4) != 0 || b[4] != kRootVersion) {
    return Error::kMemoryFailure;
  }
  CardRoot r;
  r.card_state = b[5];
  r.mf = GetU16(&b[6]);
  r.data_objects = GetU16(&b[8]);
  for (size_t i = 0; i < kMaxKeySets; ++i) r.key_sets[i] = GetU16(&b[10 + 2 * i]);
  r.gp_life_cycle = b[26];
  r.admin_level = b[27];
  for (size_t i = 0; i < kMaxPins; ++i) {
    const uint8_t* e = &b[kPinTable + i * kPinEntry];
    PinRecord& p = r.pins[i];
    p.reference = e[0];
    p.max_tries = e[1];
    p.tries_left = e[2];
    const uint8_t len = std::min<uint8_t>(e[3], kMaxPinLength);
    p.value.assign(e + 4, e + 4 + len);
    p.puk_reference = e[20];
  }
  return r;
}

CardStatus SaveRoot(nvm::NvmStore& store, const CardRoot& r) {
  Bytes b(kRootBytes, 0);
  std::memcpy(b.data(), kRootMagic, 4);
  b[4] = kRootVersion;
  b[5] = r.card_state;
  PutU16(&b[6], r.mf);
  PutU16(&b[8], r.data_objects);
  for (size_t i = 0; i < kMaxKeySets; ++i) PutU16(&b[10 + 2 * i], r.key_sets[i]);
  b[26] = r.gp_life_cycle;
  b[27] = r.admin_level;
  for (size_t i = 0; i < kMaxPins; ++i) {
    uint8_t* e = &b[kPinTable + i * kPinEntry];
    const PinRecord& p = r.pins[i];
    e[0] = p.reference;
    e[1] = p.max_tries;
    e[2] = p.tries_left;
    e[3] = static_cast<uint8_t>(p.value.size());
    std::copy_n(p.value.begin(), std::min(p.value.size(), kMaxPinLength), e + 4);
    e[20] = p.puk_reference;
  }
  CARD_TRY_STATUS(store.Write(store.layout().root_offset, b));
  store.MarkSensitive();  // the journal now holds the PIN table
  return Ok{};
}

CardResult<std::array<uint8_t, kMaxPins>> LoadPinReferences(const nvm::NvmStore& store) {
  std::array<uint8_t, kMaxPins> refs{};
  Bytes table(kMaxPins * kPinEntry);
  CARD_TRY_STATUS(store.Read(store.layout().root_offset + kPinTable, table));
  for (size_t i = 0; i < kMaxPins; ++i) refs[i] = table[i * kPinEntry];
  return refs;
}

CardResult<uint8_t> LoadCardState(const nvm::NvmStore& store) {
  uint8_t state = 0;
  CARD_TRY_STATUS(store.Read(store.layout().root_offset + 5, std::span<uint8_t>(&state, 1)));
  return state;
}

uint32_t PinTriesOffset(const nvm::NvmStore& store, size_t slot) {
  return store.layout().root_offset + static_cast<uint32_t>(kPinTable + slot * kPinEntry + 2);
}

}  // namespace tessera::card
