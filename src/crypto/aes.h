// AES block-cipher modes over OpenSSL 3, without padding: callers (SCP03, the DRBG) add their
// own padding, so every input must be a whole number of 16-byte blocks. Keys are 16, 24 or 32
// bytes. Errors are values: a wrong key or data length is kInvalidArgument.
#pragma once

#include "core/bytes.h"
#include "core/status.h"

namespace tessera::crypto {

inline constexpr size_t kAesBlockSize = 16;

Result<Bytes> AesEcbEncrypt(ByteView key, ByteView data);
Result<Bytes> AesEcbDecrypt(ByteView key, ByteView data);
// REQUIRES: iv is 16 bytes.
Result<Bytes> AesCbcEncrypt(ByteView key, ByteView iv, ByteView data);
Result<Bytes> AesCbcDecrypt(ByteView key, ByteView iv, ByteView data);

// AES-CMAC (NIST SP 800-38B, RFC 4493); returns the full 16-byte tag.
Result<Bytes> AesCmac(ByteView key, ByteView message);

}  // namespace tessera::crypto
