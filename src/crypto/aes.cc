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

const EVP_CIPHER* Cipher(size_t key_size, bool cbc) {
  switch (key_size) {
    case 16:
      return cbc ? EVP_aes_128_cbc() : EVP_aes_128_ecb();
    case 24:
      return cbc ? EVP_aes_192_cbc() : EVP_aes_192_ecb();
    case 32:
      return cbc ? EVP_aes_256_cbc() : EVP_aes_256_ecb();
    default:
      return nullptr;
  }
}

Result<Bytes> Run(ByteView key, ByteView iv, ByteView data, bool cbc, bool encrypt) {
  const EVP_CIPHER* cipher = Cipher(key.size(), cbc);
  if (cipher == nullptr) return InvalidArgument("AES key must be 16, 24 or 32 bytes");
  if (data.size() % kAesBlockSize != 0) {
    return InvalidArgument("AES data must be a multiple of 16 bytes");
  }
  if (cbc && iv.size() != kAesBlockSize) return InvalidArgument("AES-CBC IV must be 16 bytes");
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return Status(ErrorCode::kCryptoError, "EVP_CIPHER_CTX_new failed");
  if (EVP_CipherInit_ex(ctx.get(), cipher, nullptr, key.data(), cbc ? iv.data() : nullptr,
                        encrypt ? 1 : 0) != 1) {
    return Status(ErrorCode::kCryptoError, "AES init failed");
  }
  EVP_CIPHER_CTX_set_padding(ctx.get(), 0);
  Bytes out(data.size() + kAesBlockSize);
  int n = 0, tail = 0;
  if (EVP_CipherUpdate(ctx.get(), out.data(), &n, data.data(), static_cast<int>(data.size())) !=
          1 ||
      EVP_CipherFinal_ex(ctx.get(), out.data() + n, &tail) != 1) {
    return Status(ErrorCode::kCryptoError, "AES operation failed");
  }
  out.resize(static_cast<size_t>(n + tail));
  return out;
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
  const char* cipher_name = nullptr;
  switch (key.size()) {
    case 16:
      cipher_name = "AES-128-CBC";
      break;
    case 24:
      cipher_name = "AES-192-CBC";
      break;
    case 32:
      cipher_name = "AES-256-CBC";
      break;
    default:
      return InvalidArgument("AES-CMAC key must be 16, 24 or 32 bytes");
  }
  // Fetching the algorithm is the expensive part of a CMAC: do it once per process.
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "CMAC", nullptr);
  if (mac == nullptr) return Status(ErrorCode::kCryptoError, "CMAC not available");
  std::unique_ptr<EVP_MAC_CTX, MacCtxFree> ctx(EVP_MAC_CTX_new(mac));
  if (!ctx) return Status(ErrorCode::kCryptoError, "EVP_MAC_CTX_new failed");
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, const_cast<char*>(cipher_name), 0),
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

}  // namespace tessera::crypto
