#include "card/gp/key_store.h"

#include <algorithm>

namespace tessera::card {
namespace {

constexpr size_t kMagic = 0, kKvn = 1, kKeyLen = 2, kMaxFail = 3, kFailLeft = 4, kSeq = 5;
constexpr size_t kEnc = 8, kMac = 40, kDek = 72, kEnd = 104;

}  // namespace

CardResult<KeySet> LoadKeySet(const nvm::NvmStore& store, uint16_t block) {
  crypto::SecureBuffer b(kEnd);
  CARD_TRY_STATUS(store.Read(store.layout().BlockOffset(block), b));
  const size_t len = b[kKeyLen];
  if (b[kMagic] != 'K' || (len != 16 && len != 24 && len != 32)) return Error::kMemoryFailure;
  KeySet k;
  k.block = block;
  k.kvn = b[kKvn];
  k.max_failures = b[kMaxFail];
  k.failures_left = b[kFailLeft];
  k.sequence = (uint32_t{b[kSeq]} << 16) | (uint32_t{b[kSeq + 1]} << 8) | b[kSeq + 2];
  k.keys.enc.assign(b.begin() + kEnc, b.begin() + kEnc + static_cast<ptrdiff_t>(len));
  k.keys.mac.assign(b.begin() + kMac, b.begin() + kMac + static_cast<ptrdiff_t>(len));
  k.keys.dek.assign(b.begin() + kDek, b.begin() + kDek + static_cast<ptrdiff_t>(len));
  return k;
}

CardResult<std::vector<KeySet>> AllKeySets(const nvm::NvmStore& store, const CardRoot& root) {
  std::vector<KeySet> out;
  for (uint16_t block : root.key_sets) {
    if (block == 0xFFFF) continue;
    CARD_ASSIGN(KeySet k, LoadKeySet(store, block));
    out.push_back(std::move(k));
  }
  return out;
}

CardResult<KeySet> FindKeySet(const nvm::NvmStore& store, const CardRoot& root, uint8_t kvn) {
  for (uint16_t block : root.key_sets) {
    if (block == 0xFFFF) continue;
    CARD_ASSIGN(KeySet k, LoadKeySet(store, block));
    if (kvn == 0 || k.kvn == kvn) return k;
  }
  return Error::kReferencedDataNotFound;
}

CardStatus SaveKeySet(nvm::NvmStore& store, CardRoot& root, KeySet& set) {
  if (set.block == 0xFFFF) {
    auto slot = std::find(root.key_sets.begin(), root.key_sets.end(), uint16_t{0xFFFF});
    if (slot == root.key_sets.end()) return Error::kNotEnoughMemory;
    CARD_TRY(WriteKeySet(store, set));
    *slot = set.block;
    return SaveRoot(store, root);
  }
  return WriteKeySet(store, set);
}

CardStatus WriteKeySet(nvm::NvmStore& store, KeySet& set) {
  const size_t len = set.keys.enc.size();
  if ((len != 16 && len != 24 && len != 32) || set.keys.mac.size() != len ||
      set.keys.dek.size() != len) {
    return Error::kWrongData;
  }
  if (set.block == 0xFFFF) {
    auto b = store.AllocateBlock();
    if (!b.ok()) return FromStatus(b.status());
    set.block = static_cast<uint16_t>(*b);
  }
  crypto::SecureBuffer b(kEnd, 0);
  b[kMagic] = 'K';
  b[kKvn] = set.kvn;
  b[kKeyLen] = static_cast<uint8_t>(len);
  b[kMaxFail] = set.max_failures;
  b[kFailLeft] = set.failures_left;
  b[kSeq] = static_cast<uint8_t>(set.sequence >> 16);
  b[kSeq + 1] = static_cast<uint8_t>(set.sequence >> 8);
  b[kSeq + 2] = static_cast<uint8_t>(set.sequence);
  std::copy(set.keys.enc.begin(), set.keys.enc.end(), b.begin() + kEnc);
  std::copy(set.keys.mac.begin(), set.keys.mac.end(), b.begin() + kMac);
  std::copy(set.keys.dek.begin(), set.keys.dek.end(), b.begin() + kDek);
  CARD_TRY_STATUS(store.Write(store.layout().BlockOffset(set.block), b));
  store.MarkSensitive();  // the journal now holds key bytes
  return Ok{};
}

uint32_t FailuresLeftOffset(const nvm::NvmStore& store, const KeySet& set) {
  return store.layout().BlockOffset(set.block) + static_cast<uint32_t>(kFailLeft);
}

}  // namespace tessera::card
