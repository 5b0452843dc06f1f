// A deterministic random bit generator: CTR_DRBG with AES-256 and no derivation function
// (NIST SP 800-90A Rev. 1 §10.2). The card's randomness (challenges, key generation) comes from
// one of these, seeded through the Platform: from OpenSSL's system RNG in production, from a
// fixed seed in tests so that runs are reproducible.
#pragma once

#include <cstdint>
#include <span>

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/secure_buffer.h"

namespace tessera::crypto {

class CtrDrbg {
 public:
  static constexpr size_t kSeedSize = 48;         // seedlen = keylen (32) + blocklen (16)
  static constexpr size_t kMaxRequest = 1 << 16;  // bytes per Generate call (SP 800-90A: 2^19 bits)

  // REQUIRES: entropy is kSeedSize bytes; personalization is at most kSeedSize bytes.
  static Result<CtrDrbg> Instantiate(ByteView entropy, ByteView personalization = {});
  // Seeds from OpenSSL's RAND_bytes.
  static Result<CtrDrbg> FromSystemEntropy();

  // REQUIRES: additional_input is empty or at most kSeedSize bytes; out.size() <= kMaxRequest.
  Status Generate(std::span<uint8_t> out, ByteView additional_input = {});
  Status Reseed(ByteView entropy, ByteView additional_input = {});
  uint64_t reseed_counter() const { return reseed_counter_; }

 private:
  CtrDrbg() = default;
  Status Update(ByteView provided);  // provided: empty (all zeros) or kSeedSize bytes
  Status NextBlock(uint8_t* out);

  SecureBuffer key_ = SecureBuffer(32, 0);
  SecureBuffer v_ = SecureBuffer(16, 0);
  uint64_t reseed_counter_ = 0;
};

}  // namespace tessera::crypto
