// EC P-256 keys from PEM files, read with OpenSSL 3: a private key as `openssl genpkey
// -algorithm EC -pkeyopt ec_paramgen_curve:P-256` writes it (PKCS#8 "PRIVATE KEY") or as
// "EC PRIVATE KEY", and a public key ("PUBLIC KEY", or the public half of a private key).
// Errors name the file and say what is wrong; they never contain key bytes.
#pragma once

#include <string>

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/ecdsa.h"

namespace tessera::host {

// The private scalar (32 bytes) and its uncompressed public point (65 bytes).
Result<crypto::P256KeyPair> LoadP256PrivateKeyPem(const std::string& path);
// The uncompressed public point (65 bytes) of a public or a private key PEM.
Result<Bytes> LoadP256PublicKeyPem(const std::string& path);

}  // namespace tessera::host
