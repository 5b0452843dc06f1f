// ECDSA over NIST P-256 with SHA-256, signatures in the raw r||s form (64 bytes) that the
// application records carry (tag 9E). Public keys are uncompressed points (04 || X || Y, 65
// bytes); private keys are 32-byte big-endian scalars kept in SecureBuffer.
#pragma once

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/secure_buffer.h"

namespace tessera::crypto {

inline constexpr size_t kP256PublicKeySize = 65;
inline constexpr size_t kP256PrivateKeySize = 32;
inline constexpr size_t kP256SignatureSize = 64;

struct P256KeyPair {
  SecureBuffer private_key;  // 32 bytes
  Bytes public_key;          // 65 bytes, uncompressed
};

// OK when `public_key` is 04 || X || Y with (X, Y) a point of P-256 (coordinates below the
// field prime, on the curve); kInvalidArgument saying what is wrong otherwise.
Status CheckP256PublicKey(ByteView public_key);
// A fresh key pair from OpenSSL's RNG.
Result<P256KeyPair> GenerateP256KeyPair();
// The public point of a private scalar; kInvalidArgument if the scalar is 0 or >= n.
Result<Bytes> P256PublicKeyFromPrivate(ByteView private_key);
// Signs SHA-256(message); returns r||s.
Result<Bytes> EcdsaP256Sign(ByteView private_key, ByteView message);
// OK when the signature is valid; kInvalidArgument for malformed keys or signatures,
// kFailedPrecondition (with "signature mismatch") when well-formed but wrong. Callers that only
// need a yes/no use EcdsaP256Verify(...).ok().
Status EcdsaP256Verify(ByteView public_key, ByteView message, ByteView signature);

}  // namespace tessera::crypto
