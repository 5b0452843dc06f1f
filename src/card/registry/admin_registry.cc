#include "card/registry/admin_registry.h"

#include <algorithm>

namespace tessera::card {
namespace {

constexpr uint8_t kListMagic = 'D';
constexpr uint8_t kEntryMagic = 'M';
constexpr uint8_t kVersion = 1;
constexpr size_t kRecordSize = 256;
constexpr size_t kMaxName = 32;

uint32_t Offset(const nvm::NvmStore& store, uint16_t block) {
  return store.layout().BlockOffset(block);
}

CardResult<std::vector<uint16_t>> ListBlocks(const nvm::NvmStore& store, const CardRoot& root) {
  std::vector<uint16_t> blocks;
  if (root.administrators == 0xFFFF) return blocks;
  Bytes b(kRecordSize);
  CARD_TRY_STATUS(store.Read(Offset(store, root.administrators), b));
  if (b[0] != kListMagic || b[1] != kVersion || b[2] > kMaxAdministrators) {
    return Error::kMemoryFailure;
  }
  for (size_t i = 0; i < b[2]; ++i) blocks.push_back(GetU16(&b[3 + 2 * i]));
  return blocks;
}

CardResult<Administrator> LoadOne(const nvm::NvmStore& store, uint16_t block) {
  Bytes b(kRecordSize);
  CARD_TRY_STATUS(store.Read(Offset(store, block), b));
  if (b[0] != kEntryMagic || b[1] != kVersion) return Error::kMemoryFailure;
  Administrator a;
  a.block = block;
  a.id = b[2];
  const size_t n = std::min<size_t>(b[3], kMaxName);
  a.name.assign(b.begin() + 4, b.begin() + 4 + static_cast<ptrdiff_t>(n));
  const auto key = b.begin() + 36;
  if (std::any_of(key, key + 65, [](uint8_t x) { return x != 0; }))
    a.public_key.assign(key, key + 65);
  a.key_set = GetU16(&b[101]);
  return a;
}

}  // namespace

CardResult<std::vector<Administrator>> LoadAdministrators(const nvm::NvmStore& store,
                                                          const CardRoot& root) {
  CARD_ASSIGN(auto blocks, ListBlocks(store, root));
  std::vector<Administrator> out;
  for (uint16_t block : blocks) {
    CARD_ASSIGN(Administrator a, LoadOne(store, block));
    out.push_back(std::move(a));
  }
  return out;
}

CardResult<std::optional<Administrator>> FindAdministrator(const nvm::NvmStore& store,
                                                           const CardRoot& root, uint8_t id) {
  CARD_ASSIGN(auto all, LoadAdministrators(store, root));
  for (auto& a : all) {
    if (a.id == id) return std::optional<Administrator>(std::move(a));
  }
  return std::optional<Administrator>();
}

CardResult<std::optional<Administrator>> AdministratorOfKeySet(const nvm::NvmStore& store,
                                                               const CardRoot& root,
                                                               uint16_t key_set_block) {
  CARD_ASSIGN(auto all, LoadAdministrators(store, root));
  for (auto& a : all) {
    if (a.key_set != 0xFFFF && a.key_set == key_set_block) {
      return std::optional<Administrator>(std::move(a));
    }
  }
  return std::optional<Administrator>();
}

CardStatus AddAdministrator(nvm::NvmStore& store, CardRoot& root, Administrator& a) {
  if (a.name.size() > kMaxName || (!a.public_key.empty() && a.public_key.size() != 65)) {
    return Error::kWrongData;
  }
  CARD_ASSIGN(auto blocks, ListBlocks(store, root));
  if (blocks.size() >= kMaxAdministrators) return Error::kNotEnoughMemory;
  auto block = store.AllocateBlock();
  if (!block.ok()) return FromStatus(block.status());
  a.block = static_cast<uint16_t>(*block);
  Bytes b(kRecordSize, 0);
  b[0] = kEntryMagic;
  b[1] = kVersion;
  b[2] = a.id;
  b[3] = static_cast<uint8_t>(a.name.size());
  std::copy(a.name.begin(), a.name.end(), b.begin() + 4);
  std::copy(a.public_key.begin(), a.public_key.end(), b.begin() + 36);
  PutU16(&b[101], a.key_set);
  CARD_TRY_STATUS(store.Write(Offset(store, a.block), b));
  blocks.push_back(a.block);
  if (root.administrators == 0xFFFF) {
    auto list = store.AllocateBlock();
    if (!list.ok()) return FromStatus(list.status());
    root.administrators = static_cast<uint16_t>(*list);
    CARD_TRY(SaveRoot(store, root));
  }
  Bytes l(kRecordSize, 0);
  l[0] = kListMagic;
  l[1] = kVersion;
  l[2] = static_cast<uint8_t>(blocks.size());
  for (size_t i = 0; i < blocks.size(); ++i) PutU16(&l[3 + 2 * i], blocks[i]);
  CARD_TRY_STATUS(store.Write(Offset(store, root.administrators), l));
  return Ok{};
}

}  // namespace tessera::card
