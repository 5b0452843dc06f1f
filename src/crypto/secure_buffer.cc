#include "crypto/secure_buffer.h"

#include <openssl/crypto.h>

namespace tessera::crypto {

void SecureZero(void* p, size_t n) {
  OPENSSL_cleanse(p, n);
}

}  // namespace tessera::crypto
