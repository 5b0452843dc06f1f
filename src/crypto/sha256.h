// SHA-256 (FIPS 180-4) over OpenSSL 3.
#pragma once

#include <array>

#include "core/bytes.h"

namespace tessera::crypto {

using Sha256Digest = std::array<uint8_t, 32>;

Sha256Digest Sha256(ByteView data);
// HMAC-SHA-256 (RFC 2104) of `data` under `key` (any length).
Sha256Digest HmacSha256(ByteView key, ByteView data);

}  // namespace tessera::crypto
