#include "crypto/aes.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>

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

void AesKey::CtxFree::operator()(evp_cipher_ctx_st* c) const {
  EVP_CIPHER_CTX_free(c);
}

AesKey::AesKey(AesKey&&) noexcept = default;
AesKey& AesKey::operator=(AesKey&&) noexcept = default;
AesKey::~AesKey() = default;

Result<AesKey> AesKey::Create(ByteView key) {
  if (KeyIndex(key.size()) < 0) return InvalidArgument("AES key must be 16, 24 or 32 bytes");
  const EVP_CIPHER* ecb = Cipher(key.size(), false);
  const EVP_CIPHER* cbc = Cipher(key.size(), true);
  if (ecb == nullptr || cbc == nullptr) return Status(ErrorCode::kCryptoError, "AES not available");
  AesKey k;
  // Each context gets the key once; messages only reset the IV (CBC) and the buffered state.
  const uint8_t zero_iv[kAesBlockSize] = {};
  auto make = [&](const EVP_CIPHER* cipher, const uint8_t* iv, int enc, Ctx& out) -> Status {
    out.reset(EVP_CIPHER_CTX_new());
    if (!out) return Status(ErrorCode::kCryptoError, "EVP_CIPHER_CTX_new failed");
    if (EVP_CipherInit_ex(out.get(), cipher, nullptr, key.data(), iv, enc) != 1) {
      return Status(ErrorCode::kCryptoError, "AES init failed");
    }
    EVP_CIPHER_CTX_set_padding(out.get(), 0);
    return Status::Ok();
  };
  TESSERA_RETURN_IF_ERROR(make(ecb, nullptr, 1, k.ecb_enc_));
  TESSERA_RETURN_IF_ERROR(make(cbc, zero_iv, 1, k.cbc_enc_));
  TESSERA_RETURN_IF_ERROR(make(cbc, zero_iv, 0, k.cbc_dec_));
  return k;
}

Result<Bytes> AesKey::EcbEncrypt(ByteView data) {
  TESSERA_RETURN_IF_ERROR(CheckData(data));
  // Re-initialising with no cipher and no key keeps the key schedule and clears the state.
  if (EVP_CipherInit_ex(ecb_enc_.get(), nullptr, nullptr, nullptr, nullptr, 1) != 1) {
    return Status(ErrorCode::kCryptoError, "AES init failed");
  }
  return Transform(ecb_enc_.get(), data);
}

Result<Bytes> AesKey::CbcEncrypt(ByteView iv, ByteView data) {
  TESSERA_RETURN_IF_ERROR(CheckData(data));
  if (iv.size() != kAesBlockSize) return InvalidArgument("AES-CBC IV must be 16 bytes");
  if (EVP_CipherInit_ex(cbc_enc_.get(), nullptr, nullptr, nullptr, iv.data(), 1) != 1) {
    return Status(ErrorCode::kCryptoError, "AES init failed");
  }
  return Transform(cbc_enc_.get(), data);
}

Result<Bytes> AesKey::CbcDecrypt(ByteView iv, ByteView data) {
  TESSERA_RETURN_IF_ERROR(CheckData(data));
  if (iv.size() != kAesBlockSize) return InvalidArgument("AES-CBC IV must be 16 bytes");
  if (EVP_CipherInit_ex(cbc_dec_.get(), nullptr, nullptr, nullptr, iv.data(), 0) != 1) {
    return Status(ErrorCode::kCryptoError, "AES init failed");
  }
  return Transform(cbc_dec_.get(), data);
}

// --- AesCmacKey ---

void AesCmacKey::CtxFree::operator()(evp_mac_ctx_st* c) const {
  EVP_MAC_CTX_free(c);
}

AesCmacKey::AesCmacKey(AesCmacKey&&) noexcept = default;
AesCmacKey& AesCmacKey::operator=(AesCmacKey&&) noexcept = default;
AesCmacKey::~AesCmacKey() = default;

Result<AesCmacKey> AesCmacKey::Create(ByteView key) {
  const int i = KeyIndex(key.size());
  if (i < 0) return InvalidArgument("AES-CMAC key must be 16, 24 or 32 bytes");
  EVP_MAC* mac = Fetched().cmac;
  if (mac == nullptr) return Status(ErrorCode::kCryptoError, "CMAC not available");
  AesCmacKey k;
  k.ctx_.reset(EVP_MAC_CTX_new(mac));
  if (!k.ctx_) return Status(ErrorCode::kCryptoError, "EVP_MAC_CTX_new failed");
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER,
                                                          const_cast<char*>(CmacCipherName(i)), 0),
                         OSSL_PARAM_construct_end()};
  if (EVP_MAC_init(k.ctx_.get(), key.data(), key.size(), params) != 1) {
    return Status(ErrorCode::kCryptoError, "AES-CMAC init failed");
  }
  return k;
}

Result<Bytes> AesCmacKey::Mac(ByteView message) {
  // A null key restarts the CMAC with the key already scheduled (OpenSSL 3's CMAC provider).
  Bytes out(16);
  size_t out_len = 0;
  if (EVP_MAC_init(ctx_.get(), nullptr, 0, nullptr) != 1 ||
      EVP_MAC_update(ctx_.get(), message.data(), message.size()) != 1 ||
      EVP_MAC_final(ctx_.get(), out.data(), &out_len, out.size()) != 1 || out_len != 16) {
    return Status(ErrorCode::kCryptoError, "AES-CMAC failed");
  }
  return out;
}

}  // namespace tessera::crypto
