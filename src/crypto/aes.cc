#include "crypto/aes.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstring>

#include <memory>

namespace tessera::crypto {
namespace {

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
struct MacCtxFree {
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};

// Fetching an algorithm (a name lookup under the library's locks) costs more than encrypting a
// block: every algorithm is fetched once per process, on first use. The fetched objects are
// immutable and shared between threads; a function-local static initialises them exactly once.
struct Algorithms {
  EVP_CIPHER* ecb[3];  // AES-128, -192, -256
  EVP_CIPHER* cbc[3];
  EVP_MAC* cmac;
};

const Algorithms& Fetched() {
  static const Algorithms algorithms = [] {
    Algorithms a{};
    static constexpr const char* kEcb[3] = {"AES-128-ECB", "AES-192-ECB", "AES-256-ECB"};
    static constexpr const char* kCbc[3] = {"AES-128-CBC", "AES-192-CBC", "AES-256-CBC"};
    for (int i = 0; i < 3; ++i) {
      a.ecb[i] = EVP_CIPHER_fetch(nullptr, kEcb[i], nullptr);
      a.cbc[i] = EVP_CIPHER_fetch(nullptr, kCbc[i], nullptr);
    }
    a.cmac = EVP_MAC_fetch(nullptr, "CMAC", nullptr);
    return a;
  }();
  return algorithms;
}

// 0, 1, 2 for 16-, 24- and 32-byte keys; -1 otherwise.
int KeyIndex(size_t key_size) {
  switch (key_size) {
    case 16:
      return 0;
    case 24:
      return 1;
    case 32:
      return 2;
    default:
      return -1;
  }
}

const char* CmacCipherName(int key_index) {
  static constexpr const char* kNames[3] = {"AES-128-CBC", "AES-192-CBC", "AES-256-CBC"};
  return kNames[key_index];
}

const EVP_CIPHER* Cipher(size_t key_size, bool cbc) {
  const int i = KeyIndex(key_size);
  if (i < 0) return nullptr;
  return cbc ? Fetched().cbc[i] : Fetched().ecb[i];
}

Status CheckData(ByteView data) {
  if (data.size() % kAesBlockSize != 0) {
    return InvalidArgument("AES data must be a multiple of 16 bytes");
  }
  return Status::Ok();
}

// Runs an initialised, unpadded context over `data`.
Result<Bytes> Transform(EVP_CIPHER_CTX* ctx, ByteView data) {
  Bytes out(data.size() + kAesBlockSize);
  int n = 0, tail = 0;
  if (EVP_CipherUpdate(ctx, out.data(), &n, data.data(), static_cast<int>(data.size())) != 1 ||
      EVP_CipherFinal_ex(ctx, out.data() + n, &tail) != 1) {
    return Status(ErrorCode::kCryptoError, "AES operation failed");
  }
  out.resize(static_cast<size_t>(n + tail));
  return out;
}

Result<Bytes> Run(ByteView key, ByteView iv, ByteView data, bool cbc, bool encrypt) {
  const EVP_CIPHER* cipher = Cipher(key.size(), cbc);
  if (KeyIndex(key.size()) < 0) return InvalidArgument("AES key must be 16, 24 or 32 bytes");
  if (cipher == nullptr) return Status(ErrorCode::kCryptoError, "AES not available");
  TESSERA_RETURN_IF_ERROR(CheckData(data));
  if (cbc && iv.size() != kAesBlockSize) return InvalidArgument("AES-CBC IV must be 16 bytes");
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return Status(ErrorCode::kCryptoError, "EVP_CIPHER_CTX_new failed");
  if (EVP_CipherInit_ex(ctx.get(), cipher, nullptr, key.data(), cbc ? iv.data() : nullptr,
                        encrypt ? 1 : 0) != 1) {
    return Status(ErrorCode::kCryptoError, "AES init failed");
  }
  EVP_CIPHER_CTX_set_padding(ctx.get(), 0);
  return Transform(ctx.get(), data);
}

}  // namespace

Result<Bytes> AesEcbEncrypt(ByteView key, ByteView data) {
  return Run(key, {}, data, false, true);
}
Result<Bytes> AesEcbDecrypt(ByteView key, ByteView data) {
  return Run(key, {}, data, false, false);
}
Result<Bytes> AesCbcEncrypt(ByteView key, ByteView iv, ByteView data) {
  return Run(key, iv, data, true, true);
}
Result<Bytes> AesCbcDecrypt(ByteView key, ByteView iv, ByteView data) {
  return Run(key, iv, data, true, false);
}

Result<Bytes> AesCmac(ByteView key, ByteView message) {
  const int i = KeyIndex(key.size());
  if (i < 0) return InvalidArgument("AES-CMAC key must be 16, 24 or 32 bytes");
  EVP_MAC* mac = Fetched().cmac;
  if (mac == nullptr) return Status(ErrorCode::kCryptoError, "CMAC not available");
  std::unique_ptr<EVP_MAC_CTX, MacCtxFree> ctx(EVP_MAC_CTX_new(mac));
  if (!ctx) return Status(ErrorCode::kCryptoError, "EVP_MAC_CTX_new failed");
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER,
                                                          const_cast<char*>(CmacCipherName(i)), 0),
                         OSSL_PARAM_construct_end()};
  Bytes out(16);
  size_t out_len = 0;
  if (EVP_MAC_init(ctx.get(), key.data(), key.size(), params) != 1 ||
      EVP_MAC_update(ctx.get(), message.data(), message.size()) != 1 ||
      EVP_MAC_final(ctx.get(), out.data(), &out_len, out.size()) != 1 || out_len != 16) {
    return Status(ErrorCode::kCryptoError, "AES-CMAC failed");
  }
  return out;
}

// --- AesKey ---

namespace {

// One ECB pass over whole blocks of an initialised, unpadded context (no final: nothing is
// buffered between whole blocks).
bool EcbBlocks(EVP_CIPHER_CTX* ctx, const uint8_t* in, uint8_t* out, size_t n) {
  int len = 0;
  return EVP_CipherUpdate(ctx, out, &len, in, static_cast<int>(n)) == 1 &&
         static_cast<size_t>(len) == n;
}

void Xor16(uint8_t* a, const uint8_t* b) {
  for (size_t i = 0; i < kAesBlockSize; ++i) a[i] ^= b[i];
}

// CMAC subkey doubling in GF(2^128) (NIST SP 800-38B §6.1).
void Double(const uint8_t* in, uint8_t* out) {
  const uint8_t carry = in[0] >> 7;
  for (size_t i = 0; i < kAesBlockSize - 1; ++i) {
    out[i] = static_cast<uint8_t>((in[i] << 1) | (in[i + 1] >> 7));
  }
  out[kAesBlockSize - 1] = static_cast<uint8_t>((in[kAesBlockSize - 1] << 1) ^ (carry ? 0x87 : 0));
}

}  // namespace

void AesKey::CtxFree::operator()(evp_cipher_ctx_st* c) const {
  EVP_CIPHER_CTX_free(c);
}

AesKey::AesKey(AesKey&&) noexcept = default;
AesKey& AesKey::operator=(AesKey&&) noexcept = default;
AesKey::~AesKey() = default;

Result<AesKey> AesKey::Create(ByteView key) {
  if (KeyIndex(key.size()) < 0) return InvalidArgument("AES key must be 16, 24 or 32 bytes");
  const EVP_CIPHER* ecb = Cipher(key.size(), false);
  if (ecb == nullptr) return Status(ErrorCode::kCryptoError, "AES not available");
  AesKey k;
  auto make = [&](int enc, Ctx& out) -> Status {
    out.reset(EVP_CIPHER_CTX_new());
    if (!out) return Status(ErrorCode::kCryptoError, "EVP_CIPHER_CTX_new failed");
    if (EVP_CipherInit_ex(out.get(), ecb, nullptr, key.data(), nullptr, enc) != 1) {
      return Status(ErrorCode::kCryptoError, "AES init failed");
    }
    EVP_CIPHER_CTX_set_padding(out.get(), 0);
    return Status::Ok();
  };
  TESSERA_RETURN_IF_ERROR(make(1, k.ecb_enc_));
  TESSERA_RETURN_IF_ERROR(make(0, k.ecb_dec_));
  return k;
}

Result<Bytes> AesKey::EcbEncrypt(ByteView data) {
  TESSERA_RETURN_IF_ERROR(CheckData(data));
  Bytes out(data.size());
  if (!data.empty() && !EcbBlocks(ecb_enc_.get(), data.data(), out.data(), data.size())) {
    return Status(ErrorCode::kCryptoError, "AES operation failed");
  }
  return out;
}

Result<Bytes> AesKey::CbcEncrypt(ByteView iv, ByteView data) {
  TESSERA_RETURN_IF_ERROR(CheckData(data));
  if (iv.size() != kAesBlockSize) return InvalidArgument("AES-CBC IV must be 16 bytes");
  Bytes out(data.size());
  uint8_t block[kAesBlockSize];
  const uint8_t* chain = iv.data();
  for (size_t at = 0; at < data.size(); at += kAesBlockSize) {
    std::memcpy(block, data.data() + at, kAesBlockSize);
    Xor16(block, chain);
    if (!EcbBlocks(ecb_enc_.get(), block, out.data() + at, kAesBlockSize)) {
      return Status(ErrorCode::kCryptoError, "AES operation failed");
    }
    chain = out.data() + at;
  }
  OPENSSL_cleanse(block, sizeof block);
  return out;
}

Result<Bytes> AesKey::CbcDecrypt(ByteView iv, ByteView data) {
  TESSERA_RETURN_IF_ERROR(CheckData(data));
  if (iv.size() != kAesBlockSize) return InvalidArgument("AES-CBC IV must be 16 bytes");
  Bytes out(data.size());
  if (!data.empty() && !EcbBlocks(ecb_dec_.get(), data.data(), out.data(), data.size())) {
    return Status(ErrorCode::kCryptoError, "AES operation failed");
  }
  for (size_t at = 0; at < data.size(); at += kAesBlockSize) {
    Xor16(out.data() + at, at == 0 ? iv.data() : data.data() + at - kAesBlockSize);
  }
  return out;
}

// --- AesCmacKey ---

AesCmacKey::AesCmacKey(AesCmacKey&& o) noexcept : aes_(std::move(o.aes_)) {
  std::memcpy(k1_, o.k1_, sizeof k1_);
  std::memcpy(k2_, o.k2_, sizeof k2_);
  OPENSSL_cleanse(o.k1_, sizeof o.k1_);
  OPENSSL_cleanse(o.k2_, sizeof o.k2_);
}
AesCmacKey& AesCmacKey::operator=(AesCmacKey&& o) noexcept {
  if (this != &o) {
    aes_ = std::move(o.aes_);
    std::memcpy(k1_, o.k1_, sizeof k1_);
    std::memcpy(k2_, o.k2_, sizeof k2_);
    OPENSSL_cleanse(o.k1_, sizeof o.k1_);
    OPENSSL_cleanse(o.k2_, sizeof o.k2_);
  }
  return *this;
}
AesCmacKey::~AesCmacKey() {
  OPENSSL_cleanse(k1_, sizeof k1_);
  OPENSSL_cleanse(k2_, sizeof k2_);
}

Result<AesCmacKey> AesCmacKey::Create(ByteView key) {
  if (KeyIndex(key.size()) < 0) return InvalidArgument("AES-CMAC key must be 16, 24 or 32 bytes");
  TESSERA_ASSIGN_OR_RETURN(AesKey aes, AesKey::Create(key));
  AesCmacKey k(std::move(aes));
  uint8_t l[kAesBlockSize] = {};
  if (!EcbBlocks(k.aes_.ecb_enc_.get(), l, l, kAesBlockSize)) {
    return Status(ErrorCode::kCryptoError, "AES-CMAC init failed");
  }
  Double(l, k.k1_);
  Double(k.k1_, k.k2_);
  OPENSSL_cleanse(l, sizeof l);
  return k;
}

Result<Bytes> AesCmacKey::Mac(ByteView message) {
  // RFC 4493 §2.4: CBC-MAC over the blocks, the last one XORed with K1 (complete) or padded
  // 80 00.. and XORed with K2.
  const size_t n = message.empty() ? 1 : (message.size() + kAesBlockSize - 1) / kAesBlockSize;
  const bool complete = !message.empty() && message.size() % kAesBlockSize == 0;
  uint8_t x[kAesBlockSize] = {};
  EVP_CIPHER_CTX* ctx = aes_.ecb_enc_.get();
  for (size_t i = 0; i + 1 < n; ++i) {
    Xor16(x, message.data() + i * kAesBlockSize);
    if (!EcbBlocks(ctx, x, x, kAesBlockSize))
      return Status(ErrorCode::kCryptoError, "AES-CMAC failed");
  }
  uint8_t last[kAesBlockSize] = {};
  const size_t at = (n - 1) * kAesBlockSize;
  const size_t rest = message.size() - at;
  if (rest != 0) std::memcpy(last, message.data() + at, rest);
  if (complete) {
    Xor16(last, k1_);
  } else {
    last[rest] = 0x80;
    Xor16(last, k2_);
  }
  Xor16(x, last);
  Bytes out(kAesBlockSize);
  const bool ok = EcbBlocks(ctx, x, out.data(), kAesBlockSize);
  OPENSSL_cleanse(x, sizeof x);
  OPENSSL_cleanse(last, sizeof last);
  if (!ok) return Status(ErrorCode::kCryptoError, "AES-CMAC failed");
  return out;
}

}  // namespace tessera::crypto
