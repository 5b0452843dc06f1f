// SecureBytes: a byte vector whose storage is overwritten with zeros before it goes back to the
// heap (on destruction and on every reallocation), so that secrets (keys, PINs, the pending
// writes and journal bodies of sensitive transactions) do not linger in freed memory. Copying
// one copies into another zeroising buffer. crypto::SecureBuffer is this type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/bytes.h"

namespace tessera {

// For tests only: called with every block the allocator is about to hand back to the heap,
// after it has been zeroed, so a test can observe what the heap receives. nullptr: none.
using ZeroedBlockObserver = void (*)(const void* p, size_t n);
void SetZeroedBlockObserver(ZeroedBlockObserver observer);
void NotifyZeroedBlock(const void* p, size_t n);

template <typename T>
struct ZeroizingAllocator {
  using value_type = T;
  ZeroizingAllocator() = default;
  template <typename U>
  ZeroizingAllocator(const ZeroizingAllocator<U>&) {}  // NOLINT
  T* allocate(size_t n) { return std::allocator<T>().allocate(n); }
  void deallocate(T* p, size_t n) {
    Wipe(p, n * sizeof(T));
    NotifyZeroedBlock(p, n * sizeof(T));
    std::allocator<T>().deallocate(p, n);
  }
  template <typename U>
  bool operator==(const ZeroizingAllocator<U>&) const {
    return true;
  }
};

using SecureBytes = std::vector<uint8_t, ZeroizingAllocator<uint8_t>>;

inline SecureBytes MakeSecureBytes(std::span<const uint8_t> bytes) {
  return SecureBytes(bytes.begin(), bytes.end());
}

}  // namespace tessera
