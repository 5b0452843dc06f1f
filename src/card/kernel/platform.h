// Every side effect of the card that is not NVM goes through Platform: randomness and the
// clock. Tests inject a deterministic one (LevelDB's Env idea); NVM faults come in through
// nvm::NvmDevice.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "core/status.h"
#include "crypto/drbg.h"

namespace tessera::card {

class Platform {
 public:
  virtual ~Platform() = default;
  virtual Status Random(std::span<uint8_t> out) = 0;
  // Seconds since the Unix epoch.
  virtual uint64_t Now() = 0;
};

// Randomness from a CTR_DRBG seeded from the system RNG (or from `seed`, for reproducible runs).
class DrbgPlatform : public Platform {
 public:
  static std::unique_ptr<DrbgPlatform> FromSystem();
  // REQUIRES: seed is 48 bytes.
  static std::unique_ptr<DrbgPlatform> FromSeed(ByteView seed, uint64_t fixed_time = 0);
  Status Random(std::span<uint8_t> out) override;
  uint64_t Now() override;

 private:
  DrbgPlatform(crypto::CtrDrbg drbg, uint64_t fixed_time)
      : drbg_(std::move(drbg)), fixed_time_(fixed_time) {}
  crypto::CtrDrbg drbg_;
  uint64_t fixed_time_;
};

}  // namespace tessera::card
