#include "crypto/drbg.h"

#include <openssl/rand.h>

#include <cstring>

#include "crypto/aes.h"

namespace tessera::crypto {
namespace {

void Increment(SecureBuffer& v) {
  for (size_t i = v.size(); i > 0; --i) {
    if (++v[i - 1] != 0) break;
  }
}

}  // namespace

Status CtrDrbg::NextBlock(uint8_t* out) {
  Increment(v_);
  TESSERA_ASSIGN_OR_RETURN(Bytes block, AesEcbEncrypt(key_, v_));
  std::memcpy(out, block.data(), kAesBlockSize);
  SecureZero(block.data(), block.size());
  return Status::Ok();
}

Status CtrDrbg::Update(ByteView provided) {
  SecureBuffer temp(kSeedSize);
  for (size_t off = 0; off < kSeedSize; off += kAesBlockSize) {
    TESSERA_RETURN_IF_ERROR(NextBlock(temp.data() + off));
  }
  for (size_t i = 0; i < provided.size(); ++i) temp[i] ^= provided[i];
  std::memcpy(key_.data(), temp.data(), 32);
  std::memcpy(v_.data(), temp.data() + 32, 16);
  return Status::Ok();
}

Result<CtrDrbg> CtrDrbg::Instantiate(ByteView entropy, ByteView personalization) {
  if (entropy.size() != kSeedSize) return InvalidArgument("CTR_DRBG entropy must be 48 bytes");
  if (personalization.size() > kSeedSize) {
    return InvalidArgument("CTR_DRBG personalization longer than 48 bytes");
  }
  SecureBuffer seed(entropy.begin(), entropy.end());
  for (size_t i = 0; i < personalization.size(); ++i) seed[i] ^= personalization[i];
  CtrDrbg d;
  TESSERA_RETURN_IF_ERROR(d.Update(seed));
  d.reseed_counter_ = 1;
  return d;
}

Result<CtrDrbg> CtrDrbg::FromSystemEntropy() {
  SecureBuffer entropy(kSeedSize);
  if (RAND_bytes(entropy.data(), static_cast<int>(entropy.size())) != 1) {
    return Status(ErrorCode::kCryptoError, "system RNG failed");
  }
  return Instantiate(entropy);
}

Status CtrDrbg::Reseed(ByteView entropy, ByteView additional_input) {
  if (entropy.size() != kSeedSize) return InvalidArgument("CTR_DRBG entropy must be 48 bytes");
  if (additional_input.size() > kSeedSize) return InvalidArgument("additional input too long");
  SecureBuffer seed(entropy.begin(), entropy.end());
  for (size_t i = 0; i < additional_input.size(); ++i) seed[i] ^= additional_input[i];
  TESSERA_RETURN_IF_ERROR(Update(seed));
  reseed_counter_ = 1;
  return Status::Ok();
}

Status CtrDrbg::Generate(std::span<uint8_t> out, ByteView additional_input) {
  if (out.size() > kMaxRequest) return InvalidArgument("CTR_DRBG request too large");
  if (additional_input.size() > kSeedSize) return InvalidArgument("additional input too long");
  SecureBuffer additional(kSeedSize, 0);
  std::copy(additional_input.begin(), additional_input.end(), additional.begin());
  if (!additional_input.empty()) TESSERA_RETURN_IF_ERROR(Update(additional));
  uint8_t block[kAesBlockSize];
  for (size_t off = 0; off < out.size(); off += kAesBlockSize) {
    TESSERA_RETURN_IF_ERROR(NextBlock(block));
    std::memcpy(out.data() + off, block, std::min(kAesBlockSize, out.size() - off));
  }
  SecureZero(block, sizeof block);
  TESSERA_RETURN_IF_ERROR(Update(additional));
  ++reseed_counter_;
  return Status::Ok();
}

}  // namespace tessera::crypto
