#include "crypto/ecdsa.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#include <memory>

namespace tessera::crypto {
namespace {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
  void operator()(BIGNUM* p) const { BN_clear_free(p); }
  void operator()(EC_GROUP* p) const { EC_GROUP_free(p); }
  void operator()(EC_POINT* p) const { EC_POINT_free(p); }
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
template <typename T>
using Ptr = std::unique_ptr<T, Free>;

Status CryptoFail(const char* what) {
  return Status(ErrorCode::kCryptoError, what);
}

Ptr<EC_GROUP> P256() {
  return Ptr<EC_GROUP>(EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1));
}

// Builds an EVP_PKEY from a public point and, optionally, a private scalar.
Result<Ptr<EVP_PKEY>> MakeKey(ByteView public_key, const BIGNUM* priv) {
  Ptr<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (!bld) return CryptoFail("OSSL_PARAM_BLD_new failed");
  if (OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, public_key.data(),
                                       public_key.size()) != 1 ||
      (priv != nullptr && OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv) != 1)) {
    return CryptoFail("building EC key parameters failed");
  }
  Ptr<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(bld.get()));
  Ptr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) {
    return CryptoFail("EC key context failed");
  }
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, priv != nullptr ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                        params.get()) != 1) {
    return InvalidArgument("EC key rejected");
  }
  return Ptr<EVP_PKEY>(raw);
}

}  // namespace

Status CheckP256PublicKey(ByteView public_key) {
  if (public_key.size() != kP256PublicKeySize || public_key[0] != 0x04) {
    return InvalidArgument("P-256 public key must be 65 bytes, uncompressed (04 || X || Y)");
  }
  Ptr<EC_GROUP> group = P256();
  Ptr<EC_POINT> point(EC_POINT_new(group.get()));
  if (!group || !point) return CryptoFail("EC allocation failed");
  if (EC_POINT_oct2point(group.get(), point.get(), public_key.data(), public_key.size(), nullptr) !=
          1 ||
      EC_POINT_is_on_curve(group.get(), point.get(), nullptr) != 1) {
    return InvalidArgument("P-256 public key is not a point on the curve");
  }
  return Status::Ok();
}

Result<Bytes> P256PublicKeyFromPrivate(ByteView private_key) {
  if (private_key.size() != kP256PrivateKeySize) {
    return InvalidArgument("P-256 private key must be 32 bytes");
  }
  Ptr<EC_GROUP> group = P256();
  Ptr<BIGNUM> d(BN_bin2bn(private_key.data(), static_cast<int>(private_key.size()), nullptr));
  if (!group || !d) return CryptoFail("EC allocation failed");
  const BIGNUM* order = EC_GROUP_get0_order(group.get());
  if (BN_is_zero(d.get()) || BN_cmp(d.get(), order) >= 0) {
    return InvalidArgument("P-256 private key out of range");
  }
  Ptr<EC_POINT> q(EC_POINT_new(group.get()));
  if (!q || EC_POINT_mul(group.get(), q.get(), d.get(), nullptr, nullptr, nullptr) != 1) {
    return CryptoFail("EC point multiplication failed");
  }
  Bytes out(kP256PublicKeySize);
  if (EC_POINT_point2oct(group.get(), q.get(), POINT_CONVERSION_UNCOMPRESSED, out.data(),
                         out.size(), nullptr) != out.size()) {
    return CryptoFail("EC point encoding failed");
  }
  return out;
}

Result<P256KeyPair> GenerateP256KeyPair() {
  Ptr<EVP_PKEY> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return CryptoFail("P-256 key generation failed");
  BIGNUM* d_raw = nullptr;
  if (EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_PRIV_KEY, &d_raw) != 1) {
    return CryptoFail("reading generated private key failed");
  }
  Ptr<BIGNUM> d(d_raw);
  P256KeyPair pair;
  pair.private_key.resize(kP256PrivateKeySize);
  if (BN_bn2binpad(d.get(), pair.private_key.data(), kP256PrivateKeySize) != kP256PrivateKeySize) {
    return CryptoFail("encoding private key failed");
  }
  TESSERA_ASSIGN_OR_RETURN(pair.public_key, P256PublicKeyFromPrivate(pair.private_key));
  return pair;
}

Result<Bytes> EcdsaP256Sign(ByteView private_key, ByteView message) {
  TESSERA_ASSIGN_OR_RETURN(Bytes pub, P256PublicKeyFromPrivate(private_key));
  Ptr<BIGNUM> d(BN_bin2bn(private_key.data(), static_cast<int>(private_key.size()), nullptr));
  TESSERA_ASSIGN_OR_RETURN(Ptr<EVP_PKEY> key, MakeKey(pub, d.get()));
  Ptr<EVP_MD_CTX> md(EVP_MD_CTX_new());
  size_t der_len = 0;
  if (!md || EVP_DigestSignInit(md.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(md.get(), nullptr, &der_len, message.data(), message.size()) != 1) {
    return CryptoFail("ECDSA sign init failed");
  }
  Bytes der(der_len);
  if (EVP_DigestSign(md.get(), der.data(), &der_len, message.data(), message.size()) != 1) {
    return CryptoFail("ECDSA sign failed");
  }
  const uint8_t* p = der.data();
  Ptr<ECDSA_SIG> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len)));
  if (!sig) return CryptoFail("ECDSA signature decoding failed");
  Bytes raw(kP256SignatureSize);
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), raw.data(), 32) != 32 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), raw.data() + 32, 32) != 32) {
    return CryptoFail("ECDSA signature encoding failed");
  }
  return raw;
}

Status EcdsaP256Verify(ByteView public_key, ByteView message, ByteView signature) {
  TESSERA_RETURN_IF_ERROR(CheckP256PublicKey(public_key));
  if (signature.size() != kP256SignatureSize) {
    return InvalidArgument("ECDSA P-256 signature must be 64 bytes (r||s)");
  }
  Ptr<ECDSA_SIG> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(signature.data(), 32, nullptr);
  BIGNUM* s = BN_bin2bn(signature.data() + 32, 32, nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return CryptoFail("ECDSA signature allocation failed");
  }
  int der_len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (der_len <= 0) return CryptoFail("ECDSA signature encoding failed");
  Bytes der(static_cast<size_t>(der_len));
  uint8_t* out = der.data();
  i2d_ECDSA_SIG(sig.get(), &out);
  TESSERA_ASSIGN_OR_RETURN(Ptr<EVP_PKEY> key, MakeKey(public_key, nullptr));
  Ptr<EVP_MD_CTX> md(EVP_MD_CTX_new());
  if (!md || EVP_DigestVerifyInit(md.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1) {
    return CryptoFail("ECDSA verify init failed");
  }
  int rc = EVP_DigestVerify(md.get(), der.data(), der.size(), message.data(), message.size());
  if (rc == 1) return Status::Ok();
  return FailedPrecondition("signature mismatch");
}

}  // namespace tessera::crypto
