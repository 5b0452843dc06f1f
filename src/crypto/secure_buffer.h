// Key material lives in SecureBuffer: a byte vector whose storage is zeroised before it is
// returned to the heap (on destruction and on every reallocation), so keys do not linger in
// freed memory. Copying a SecureBuffer copies into another zeroising buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace tessera::crypto {

// Overwrites memory in a way the optimiser may not remove.
void SecureZero(void* p, size_t n);

template <typename T>
struct ZeroizingAllocator {
  using value_type = T;
  ZeroizingAllocator() = default;
  template <typename U>
  ZeroizingAllocator(const ZeroizingAllocator<U>&) {}  // NOLINT
  T* allocate(size_t n) { return std::allocator<T>().allocate(n); }
  void deallocate(T* p, size_t n) {
    SecureZero(p, n * sizeof(T));
    std::allocator<T>().deallocate(p, n);
  }
  template <typename U>
  bool operator==(const ZeroizingAllocator<U>&) const {
    return true;
  }
};

using SecureBuffer = std::vector<uint8_t, ZeroizingAllocator<uint8_t>>;

inline SecureBuffer MakeSecure(std::span<const uint8_t> bytes) {
  return SecureBuffer(bytes.begin(), bytes.end());
}

}  // namespace tessera::crypto
