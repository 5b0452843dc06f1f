#include "card/kernel/card_root.h"

#include <algorithm>
#include <cstring>

namespace tessera::card {
namespace {

constexpr uint8_t kRootMagic[4] = {'T', 'C', 'O', 'S'};
// Version 2 added the registry and administrator blocks (bytes 28-31; zero in version 1).
constexpr uint8_t kRootVersion = 2;
using namespace root_field;  // NOLINT: the offsets are this file's vocabulary
constexpr size_t kPinTable = kPins;
// After the PIN table: the card serial (docs/card-format.md §1).
constexpr size_t kSerial = kPinTable + kMaxPins * kPinEntry;
static_assert(kSerial + 8 <= 256, "the root area is at least 256 bytes");

}  // namespace

int PinTable::Find(uint8_t reference) const {
  for (size_t i = 0; i < pins.size(); ++i) {
    if (pins[i].reference != 0 && pins[i].reference == reference) return static_cast<int>(i);
  }
  return -1;
}

CardResult<CardRoot> LoadRoot(const nvm::NvmStore& store) {
  Bytes b(kPinTable);
  CARD_TRY_STATUS(store.Read(store.layout().root_offset, b));
  if (std::memcmp(b.data(), kRootMagic, 4) != 0 ||
      (b[kVersion] != 1 && b[kVersion] != kRootVersion)) {
    return Error::kMemoryFailure;
  }
  CardRoot r;
  r.card_state = b[kCardState];
  r.mf = GetU16(&b[kMf]);
  r.data_objects = GetU16(&b[kDataObjects]);
  for (size_t i = 0; i < kMaxKeySets; ++i) r.key_sets[i] = GetU16(&b[kKeySets + 2 * i]);
  r.gp_life_cycle = b[kLifeCycle];
  r.admin_level = b[kAdminLevel];
  if (b[kVersion] >= 2) {
    r.registry = GetU16(&b[kRegistry]);
    r.administrators = GetU16(&b[kAdministrators]);
  }
  return r;
}

CardStatus SaveRoot(nvm::NvmStore& store, const CardRoot& r) {
  Bytes b(kPinTable, 0);
  std::memcpy(b.data(), kRootMagic, 4);
  b[kVersion] = kRootVersion;
  b[kCardState] = r.card_state;
  PutU16(&b[kMf], r.mf);
  PutU16(&b[kDataObjects], r.data_objects);
  for (size_t i = 0; i < kMaxKeySets; ++i) PutU16(&b[kKeySets + 2 * i], r.key_sets[i]);
  b[kLifeCycle] = r.gp_life_cycle;
  b[kAdminLevel] = r.admin_level;
  PutU16(&b[kRegistry], r.registry);
  PutU16(&b[kAdministrators], r.administrators);
  // The journal holds whole pages, and the root record shares its page with the PIN table.
  store.MarkSensitive();
  CARD_TRY_STATUS(store.Write(store.layout().root_offset, b));
  return Ok{};
}

CardResult<PinTable> LoadPins(const nvm::NvmStore& store) {
  SecureBytes b(kMaxPins * kPinEntry);
  CARD_TRY_STATUS(store.Read(store.layout().root_offset + kPinTable, b));
  PinTable t;
  for (size_t i = 0; i < kMaxPins; ++i) {
    const uint8_t* e = &b[i * kPinEntry];
    PinRecord& p = t.pins[i];
    p.reference = e[kPinReference];
    p.max_tries = e[kPinMaxTries];
    p.tries_left = e[kPinTriesLeft];
    const uint8_t len = std::min<uint8_t>(e[kPinLength], kMaxPinLength);
    p.value.assign(e + kPinValue, e + kPinValue + len);
    p.puk_reference = e[kPinPuk];
  }
  return t;
}

CardStatus SavePins(nvm::NvmStore& store, const PinTable& t) {
  SecureBytes b(kMaxPins * kPinEntry, 0);
  for (size_t i = 0; i < kMaxPins; ++i) {
    uint8_t* e = &b[i * kPinEntry];
    const PinRecord& p = t.pins[i];
    e[kPinReference] = p.reference;
    e[kPinMaxTries] = p.max_tries;
    e[kPinTriesLeft] = p.tries_left;
    e[kPinLength] = static_cast<uint8_t>(std::min(p.value.size(), kMaxPinLength));
    std::copy_n(p.value.begin(), std::min(p.value.size(), kMaxPinLength), e + kPinValue);
    e[kPinPuk] = p.puk_reference;
  }
  store.MarkSensitive();  // the journal is about to hold the PIN table
  CARD_TRY_STATUS(store.Write(store.layout().root_offset + kPinTable, b));
  return Ok{};
}

CardResult<std::array<uint8_t, kMaxPins>> LoadPinReferences(const nvm::NvmStore& store) {
  // Reference bytes only: the values never leave NVM here.
  std::array<uint8_t, kMaxPins> refs{};
  for (size_t i = 0; i < kMaxPins; ++i) {
    CARD_TRY_STATUS(
        store.Read(store.layout().root_offset + static_cast<uint32_t>(kPinTable + i * kPinEntry),
                   std::span<uint8_t>(&refs[i], 1)));
  }
  return refs;
}

CardResult<uint8_t> LoadCardState(const nvm::NvmStore& store) {
  uint8_t state = 0;
  CARD_TRY_STATUS(
      store.Read(store.layout().root_offset + kCardState, std::span<uint8_t>(&state, 1)));
  return state;
}

CardResult<uint64_t> LoadCardSerial(const nvm::NvmStore& store) {
  uint8_t b[8];
  CARD_TRY_STATUS(store.Read(store.layout().root_offset + kSerial, std::span<uint8_t>(b, 8)));
  return GetU64(b);
}

CardStatus SaveCardSerial(nvm::NvmStore& store, uint64_t serial) {
  uint8_t b[8];
  PutU64(b, serial);
  // The serial shares a page with the PIN table, and the journal copies whole pages.
  store.MarkSensitive();
  CARD_TRY_STATUS(store.Write(store.layout().root_offset + kSerial, ByteView(b, 8)));
  return Ok{};
}

uint32_t PinTriesOffset(const nvm::NvmStore& store, size_t slot) {
  return store.layout().root_offset +
         static_cast<uint32_t>(kPinTable + slot * kPinEntry + kPinTriesLeft);
}

}  // namespace tessera::card
