#include "card/kernel/platform.h"

#include <cstdlib>
#include <ctime>

namespace tessera::card {

std::unique_ptr<DrbgPlatform> DrbgPlatform::FromSystem() {
  auto drbg = crypto::CtrDrbg::FromSystemEntropy();
  if (!drbg.ok()) std::abort();  // no entropy: the card must not run
  return std::unique_ptr<DrbgPlatform>(new DrbgPlatform(std::move(drbg).value(), 0));
}

std::unique_ptr<DrbgPlatform> DrbgPlatform::FromSeed(ByteView seed, uint64_t fixed_time) {
  auto drbg = crypto::CtrDrbg::Instantiate(seed);
  if (!drbg.ok()) std::abort();
  return std::unique_ptr<DrbgPlatform>(new DrbgPlatform(std::move(drbg).value(), fixed_time));
}

Status DrbgPlatform::Random(std::span<uint8_t> out) {
  while (!out.empty()) {
    const size_t n = std::min(out.size(), crypto::CtrDrbg::kMaxRequest);
    TESSERA_RETURN_IF_ERROR(drbg_.Generate(out.first(n)));
    out = out.subspan(n);
  }
  return Status::Ok();
}

uint64_t DrbgPlatform::Now() {
  return fixed_time_ != 0 ? fixed_time_ : static_cast<uint64_t>(std::time(nullptr));
}

}  // namespace tessera::card
