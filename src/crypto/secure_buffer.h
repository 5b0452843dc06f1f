// Key material lives in SecureBuffer: core's SecureBytes (zeroised before its storage returns
// to the heap, on destruction and on every reallocation), so keys do not linger in freed memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/secure_bytes.h"

namespace tessera::crypto {

// Overwrites memory in a way the optimiser may not remove.
void SecureZero(void* p, size_t n);

using ::tessera::ZeroizingAllocator;
using SecureBuffer = ::tessera::SecureBytes;

inline SecureBuffer MakeSecure(std::span<const uint8_t> bytes) {
  return SecureBuffer(bytes.begin(), bytes.end());
}

}  // namespace tessera::crypto
