// AES block-cipher modes over OpenSSL 3, without padding: callers (SCP03, the DRBG) add their
// own padding, so every input must be a whole number of 16-byte blocks. Keys are 16, 24 or 32
// bytes. Errors are values: a wrong key or data length is kInvalidArgument.
#pragma once

#include <memory>

#include "core/bytes.h"
#include "core/status.h"

struct evp_cipher_ctx_st;

namespace tessera::crypto {

inline constexpr size_t kAesBlockSize = 16;

Result<Bytes> AesEcbEncrypt(ByteView key, ByteView data);
Result<Bytes> AesEcbDecrypt(ByteView key, ByteView data);
// REQUIRES: iv is 16 bytes.
Result<Bytes> AesCbcEncrypt(ByteView key, ByteView iv, ByteView data);
Result<Bytes> AesCbcDecrypt(ByteView key, ByteView iv, ByteView data);

// AES-CMAC (NIST SP 800-38B, RFC 4493); returns the full 16-byte tag.
Result<Bytes> AesCmac(ByteView key, ByteView message);

// The same operations with the key scheduled once, for a key used many times (an SCP03
// session): one OpenSSL AES-ECB context per direction, keyed at Create and never
// re-initialised (ECB over whole blocks keeps no state between calls); CBC chaining and CMAC
// (subkeys K1, K2 derived at Create) are done here over it. Re-initialising an OpenSSL context
// per message cost more than the AES itself. Results are those of the one-shot functions
// above, byte for byte (tested). Move-only; one thread at a time. The contexts hold the key
// schedule and are cleansed when freed (on destruction).
class AesKey {
 public:
  static Result<AesKey> Create(ByteView key);
  AesKey(AesKey&&) noexcept;
  AesKey& operator=(AesKey&&) noexcept;
  ~AesKey();

  Result<Bytes> EcbEncrypt(ByteView data);
  // REQUIRES: iv is 16 bytes.
  Result<Bytes> CbcEncrypt(ByteView iv, ByteView data);
  Result<Bytes> CbcDecrypt(ByteView iv, ByteView data);

 private:
  struct CtxFree {
    void operator()(evp_cipher_ctx_st* c) const;
  };
  using Ctx = std::unique_ptr<evp_cipher_ctx_st, CtxFree>;
  AesKey() = default;
  Ctx ecb_enc_, ecb_dec_;
  friend class AesCmacKey;
};

class AesCmacKey {
 public:
  static Result<AesCmacKey> Create(ByteView key);
  AesCmacKey(AesCmacKey&&) noexcept;
  AesCmacKey& operator=(AesCmacKey&&) noexcept;
  ~AesCmacKey();

  // The full 16-byte tag of `message`.
  Result<Bytes> Mac(ByteView message);

 private:
  explicit AesCmacKey(AesKey aes) : aes_(std::move(aes)) {}
  AesKey aes_;
  uint8_t k1_[kAesBlockSize] = {}, k2_[kAesBlockSize] = {};
};

}  // namespace tessera::crypto
