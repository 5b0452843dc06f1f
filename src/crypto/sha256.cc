#include "crypto/sha256.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdlib>

namespace tessera::crypto {

Sha256Digest Sha256(ByteView data) {
  Sha256Digest out{};
  unsigned int n = 0;
  // EVP_Digest with SHA-256 only fails on allocation failure; there is no sensible value to
  // return then, so treat it as fatal rather than hand back a digest of zeros.
  if (EVP_Digest(data.data(), data.size(), out.data(), &n, EVP_sha256(), nullptr) != 1 || n != 32) {
    std::abort();
  }
  return out;
}

Sha256Digest HmacSha256(ByteView key, ByteView data) {
  Sha256Digest out{};
  unsigned int n = 0;
  static const uint8_t kEmpty = 0;
  // As for the digest: only an allocation failure makes HMAC fail.
  if (HMAC(EVP_sha256(), key.empty() ? &kEmpty : key.data(), static_cast<int>(key.size()),
           data.data(), data.size(), out.data(), &n) == nullptr ||
      n != 32) {
    std::abort();
  }
  return out;
}

}  // namespace tessera::crypto
