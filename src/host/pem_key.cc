#include "host/pem_key.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "host/file_io.h"

namespace tessera::host {
namespace {

constexpr const char* kHowToMake =
    " (make one with 'openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "
    "KEY.pem')";

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct BnFree {
  void operator()(BIGNUM* b) const { BN_clear_free(b); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;

// The file's text in a buffer that is wiped when it goes (it may hold a private key).
Result<crypto::SecureBuffer> ReadPem(const std::string& path) {
  return ReadInputFile(path, {.what = "key file", .max_bytes = kMaxKeyFileBytes});
}

bool Contains(const crypto::SecureBuffer& text, std::string_view what) {
  return std::search(text.begin(), text.end(), what.begin(), what.end()) != text.end();
}

// Refuses a passphrase prompt: encrypted keys are reported, not asked for.
int NoPassphrase(char*, int, int, void*) {
  return -1;
}

// Checks that the key is EC on P-256 and returns 04 || X || Y.
Result<Bytes> P256Point(EVP_PKEY* key, const std::string& path) {
  if (!EVP_PKEY_is_a(key, "EC")) {
    const char* type = EVP_PKEY_get0_type_name(key);
    return InvalidArgument(DisplayName(path) + ": the key is " +
                           std::string(type ? type : "of another type") + ", not EC P-256" +
                           kHowToMake);
  }
  char group[80] = "";
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) !=
          1 ||
      (std::strcmp(group, "prime256v1") != 0 && std::strcmp(group, "P-256") != 0)) {
    return InvalidArgument(DisplayName(path) + ": an EC key on " +
                           std::string(group[0] ? group : "an unnamed curve") +
                           ", not on P-256 (prime256v1)" + kHowToMake);
  }
  BIGNUM* x = nullptr;
  BIGNUM* y = nullptr;
  const bool got = EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x) == 1 &&
                   EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y) == 1;
  BnPtr px(x), py(y);
  if (!got) return InvalidArgument(DisplayName(path) + ": the key has no public point");
  Bytes point(65);
  point[0] = 0x04;
  if (BN_bn2binpad(px.get(), &point[1], 32) != 32 || BN_bn2binpad(py.get(), &point[33], 32) != 32) {
    return InvalidArgument(DisplayName(path) + ": the public point is not on P-256");
  }
  return point;
}

std::string NotPem(const std::string& path, const char* what) {
  return DisplayName(path) + ": no " + what + " in PEM form found" + kHowToMake;
}

Result<std::unique_ptr<EVP_PKEY, PkeyFree>> ReadPrivate(const crypto::SecureBuffer& text,
                                                        const std::string& path) {
  if (Contains(text, "ENCRYPTED")) {
    return InvalidArgument(DisplayName(path) +
                           ": the private key is encrypted; give an unencrypted one (openssl "
                           "pkey -in KEY.pem -out PLAIN.pem asks for the passphrase)");
  }
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (!bio) return Status(ErrorCode::kCryptoError, "out of memory reading " + DisplayName(path));
  std::unique_ptr<EVP_PKEY, PkeyFree> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  ERR_clear_error();
  if (!key) return InvalidArgument(NotPem(path, "private key (PRIVATE KEY or EC PRIVATE KEY)"));
  return key;
}

}  // namespace

Result<crypto::P256KeyPair> LoadP256PrivateKeyPem(const std::string& path) {
  TESSERA_ASSIGN_OR_RETURN(auto text, ReadPem(path));
  if (!Contains(text, "PRIVATE KEY") && Contains(text, "PUBLIC KEY")) {
    return InvalidArgument(DisplayName(path) + ": a public key; signing needs the private key");
  }
  TESSERA_ASSIGN_OR_RETURN(auto key, ReadPrivate(text, path));
  TESSERA_ASSIGN_OR_RETURN(Bytes point, P256Point(key.get(), path));
  BIGNUM* d = nullptr;
  if (EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_PRIV_KEY, &d) != 1) {
    ERR_clear_error();
    return InvalidArgument(DisplayName(path) + ": the key has no private part");
  }
  BnPtr pd(d);
  crypto::P256KeyPair pair;
  pair.private_key.resize(32);
  if (BN_bn2binpad(pd.get(), pair.private_key.data(), 32) != 32) {
    return InvalidArgument(DisplayName(path) + ": the private scalar does not fit P-256");
  }
  // The point the file carries must be the scalar's (a damaged file would sign with one key and
  // name another).
  auto derived = crypto::P256PublicKeyFromPrivate(pair.private_key);
  if (!derived.ok() || *derived != point) {
    return InvalidArgument(DisplayName(path) +
                           ": the public point does not belong to the private key");
  }
  pair.public_key = std::move(point);
  return pair;
}

Result<Bytes> LoadP256PublicKeyPem(const std::string& path) {
  TESSERA_ASSIGN_OR_RETURN(auto text, ReadPem(path));
  if (Contains(text, "PRIVATE KEY")) {
    TESSERA_ASSIGN_OR_RETURN(auto pair, LoadP256PrivateKeyPem(path));
    return pair.public_key;
  }
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (!bio) return Status(ErrorCode::kCryptoError, "out of memory reading " + DisplayName(path));
  std::unique_ptr<EVP_PKEY, PkeyFree> key(
      PEM_read_bio_PUBKEY(bio.get(), nullptr, NoPassphrase, nullptr));
  ERR_clear_error();
  if (!key) return InvalidArgument(NotPem(path, "public key (PUBLIC KEY) or private key"));
  return P256Point(key.get(), path);
}

}  // namespace tessera::host
