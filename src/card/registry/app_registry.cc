#include "card/registry/app_registry.h"

#include <algorithm>

namespace tessera::card {
namespace {

constexpr uint8_t kRegistryMagic = 'R';
constexpr uint8_t kEntryMagic = 'A';
constexpr uint8_t kVersion = 1;
constexpr size_t kRecordSize = 256;  // a registry or entry record (the first 256 bytes of a block)

uint32_t Offset(const nvm::NvmStore& store, uint16_t block) {
  return store.layout().BlockOffset(block);
}

void PutLv(Bytes& b, size_t at, ByteView v, size_t max) {
  const size_t n = std::min(v.size(), max);
  b[at] = static_cast<uint8_t>(n);
  std::copy_n(v.begin(), n, b.begin() + static_cast<ptrdiff_t>(at + 1));
}

Bytes GetLv(const Bytes& b, size_t at, size_t max) {
  const size_t n = std::min<size_t>(b[at], max);
  return Bytes(b.begin() + static_cast<ptrdiff_t>(at + 1),
               b.begin() + static_cast<ptrdiff_t>(at + 1 + n));
}

int Bcd(uint8_t b) {
  return (b >> 4) * 10 + (b & 0x0F);
}

uint32_t DateValue(ByteView d) {
  return static_cast<uint32_t>(Bcd(d[0]) * 10000 + Bcd(d[1]) * 100 + Bcd(d[2]));
}

bool IsZero(ByteView d) {
  return std::all_of(d.begin(), d.end(), [](uint8_t b) { return b == 0; });
}

}  // namespace

CardResult<Registry> LoadRegistry(const nvm::NvmStore& store, const CardRoot& root) {
  Registry r;
  if (root.registry == 0xFFFF) return r;
  Bytes b(kRecordSize);
  CARD_TRY_STATUS(store.Read(Offset(store, root.registry), b));
  if (b[0] != kRegistryMagic || b[1] != kVersion || b[5] > kMaxApplications) {
    return Error::kMemoryFailure;
  }
  r.block = root.registry;
  r.trusted_date.assign(b.begin() + 2, b.begin() + 5);
  for (size_t i = 0; i < b[5]; ++i) r.entries.push_back(GetU16(&b[6 + 2 * i]));
  return r;
}

CardStatus SaveRegistry(nvm::NvmStore& store, CardRoot& root, Registry& r) {
  if (r.entries.size() > kMaxApplications) return Error::kNotEnoughMemory;
  if (r.block == 0xFFFF) {
    auto block = store.AllocateBlock();
    if (!block.ok()) return FromStatus(block.status());
    r.block = static_cast<uint16_t>(*block);
    root.registry = r.block;
    CARD_TRY(SaveRoot(store, root));
  }
  Bytes b(kRecordSize, 0);
  b[0] = kRegistryMagic;
  b[1] = kVersion;
  std::copy_n(r.trusted_date.begin(), 3, b.begin() + 2);
  b[5] = static_cast<uint8_t>(r.entries.size());
  for (size_t i = 0; i < r.entries.size(); ++i) PutU16(&b[6 + 2 * i], r.entries[i]);
  CARD_TRY_STATUS(store.Write(Offset(store, r.block), b));
  return Ok{};
}

CardResult<RegistryEntry> LoadEntry(const nvm::NvmStore& store, uint16_t block) {
  Bytes b(kRecordSize);
  CARD_TRY_STATUS(store.Read(Offset(store, block), b));
  if (b[0] != kEntryMagic || b[1] != kVersion || b[2] > 3 || b[3] > 3) {
    return Error::kMemoryFailure;
  }
  RegistryEntry e;
  e.block = block;
  e.state = static_cast<AppState>(b[2]);
  e.before_erase = static_cast<AppState>(b[3]);
  e.admin_id = b[4];
  e.privileges.assign(b.begin() + 5, b.begin() + 8);
  e.aid = GetLv(b, 8, kMaxAidLength);
  e.code_format = b[25];
  e.module_aid = GetLv(b, 26, kMaxAidLength);
  e.df = GetU16(&b[43]);
  e.use_start.assign(b.begin() + 45, b.begin() + 48);
  e.expiration.assign(b.begin() + 48, b.begin() + 51);
  Bytes name = GetLv(b, 51, kMaxAppName);
  e.name.assign(name.begin(), name.end());
  return e;
}

CardResult<AppState> LoadEntryState(const nvm::NvmStore& store, uint16_t block) {
  uint8_t head[3] = {};
  CARD_TRY_STATUS(store.Read(Offset(store, block), head));
  if (head[0] != kEntryMagic || head[2] > 3) return Error::kMemoryFailure;
  return static_cast<AppState>(head[2]);
}

CardStatus SaveEntry(nvm::NvmStore& store, RegistryEntry& e) {
  if (e.aid.size() > kMaxAidLength || e.module_aid.size() > kMaxAidLength ||
      e.name.size() > kMaxAppName || e.privileges.size() != 3 || e.use_start.size() != 3 ||
      e.expiration.size() != 3) {
    return Error::kWrongData;
  }
  if (e.block == 0xFFFF) {
    auto block = store.AllocateBlock();
    if (!block.ok()) return FromStatus(block.status());
    e.block = static_cast<uint16_t>(*block);
  }
  Bytes b(kRecordSize, 0);
  b[0] = kEntryMagic;
  b[1] = kVersion;
  b[2] = static_cast<uint8_t>(e.state);
  b[3] = static_cast<uint8_t>(e.before_erase);
  b[4] = e.admin_id;
  std::copy_n(e.privileges.begin(), 3, b.begin() + 5);
  PutLv(b, 8, e.aid, kMaxAidLength);
  b[25] = e.code_format;
  PutLv(b, 26, e.module_aid, kMaxAidLength);
  PutU16(&b[43], e.df);
  std::copy_n(e.use_start.begin(), 3, b.begin() + 45);
  std::copy_n(e.expiration.begin(), 3, b.begin() + 48);
  PutLv(b, 51, ToBytes(e.name), kMaxAppName);
  CARD_TRY_STATUS(store.Write(Offset(store, e.block), b));
  return Ok{};
}

CardResult<std::vector<RegistryEntry>> AllEntries(const nvm::NvmStore& store, const Registry& r) {
  std::vector<RegistryEntry> out;
  for (uint16_t block : r.entries) {
    CARD_ASSIGN(RegistryEntry e, LoadEntry(store, block));
    out.push_back(std::move(e));
  }
  return out;
}

CardResult<std::optional<RegistryEntry>> FindEntry(const nvm::NvmStore& store, const Registry& r,
                                                   ByteView aid) {
  for (uint16_t block : r.entries) {
    CARD_ASSIGN(RegistryEntry e, LoadEntry(store, block));
    if (std::equal(e.aid.begin(), e.aid.end(), aid.begin(), aid.end())) {
      return std::optional<RegistryEntry>(std::move(e));
    }
  }
  return std::optional<RegistryEntry>();
}

bool IsAllowedTransition(AppState from, AppState to) {
  // Staying erased or terminated is no change either: an erased application is restored to a
  // state, a terminated one changes no more (not even its record's name or dates).
  if (from == to) return from != AppState::kErased && from != AppState::kTerminated;
  switch (from) {
    case AppState::kActive:
    case AppState::kLocked:
      return true;  // to each other, terminated or erased
    case AppState::kErased:
      return to == AppState::kActive || to == AppState::kLocked;
    case AppState::kTerminated:
      return false;
  }
  return false;
}

uint8_t GpLifeCycle(AppState state) {
  switch (state) {
    case AppState::kActive:
      return 0x07;  // SELECTABLE
    case AppState::kLocked:
      return 0x83;  // LOCKED (b8 over INSTALLED)
    case AppState::kTerminated:
      return 0x0F;  // application-specific
    case AppState::kErased:
      return 0x00;
  }
  return 0x00;
}

bool InsideWindow(const RegistryEntry& e, ByteView today) {
  if (today.size() != 3 || IsZero(today)) return true;
  const uint32_t now = DateValue(today);
  if (!IsZero(e.use_start) && now < DateValue(e.use_start)) return false;
  if (!IsZero(e.expiration) && now > DateValue(e.expiration)) return false;
  return true;
}

}  // namespace tessera::card
