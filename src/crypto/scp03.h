// GlobalPlatform Secure Channel Protocol 03 (GPC Amendment D): key derivation, cryptograms and
// the secure-messaging transform of commands and responses. One implementation serves both
// sides: the card unwraps commands and wraps responses, the host does the opposite.
// GlobalPlatform Card Specification Amendment D (SCP03) v1.1; published test vectors (pySim,
// kaoh/globalplatform, GlobalPlatformPro) are reproduced byte for byte in scp03_test.cc.
#pragma once

#include <cstdint>
#include <memory>

#include "core/apdu.h"
#include "core/bytes.h"
#include "core/status.h"
#include "crypto/secure_buffer.h"

namespace tessera::crypto::scp03 {

// KDF derivation constants (GP Amendment D, SCP03).
inline constexpr uint8_t kDeriveCardCryptogram = 0x00;
inline constexpr uint8_t kDeriveHostCryptogram = 0x01;
inline constexpr uint8_t kDeriveCardChallenge = 0x02;
inline constexpr uint8_t kDeriveSEnc = 0x04;
inline constexpr uint8_t kDeriveSMac = 0x06;
inline constexpr uint8_t kDeriveSRmac = 0x07;

// Security level bits (EXTERNAL AUTHENTICATE P1).
inline constexpr uint8_t kCMac = 0x01;
inline constexpr uint8_t kCDec = 0x02;
inline constexpr uint8_t kRMac = 0x10;
inline constexpr uint8_t kREnc = 0x20;
bool ValidSecurityLevel(uint8_t level);  // 00, 01, 03, 11, 13, 33

// i parameter bits (INITIALIZE UPDATE response).
inline constexpr uint8_t kIS16 = 0x01;
inline constexpr uint8_t kIPseudoRandom = 0x10;
inline constexpr uint8_t kIRMac = 0x20;
inline constexpr uint8_t kIREnc = 0x40;

// NIST SP 800-108 counter-mode KDF with AES-CMAC (GP Amendment D, SCP03).
Result<SecureBuffer> Kdf(ByteView key, uint8_t constant, uint16_t bits, ByteView context);

struct StaticKeys {
  SecureBuffer enc, mac, dek;
};
struct SessionKeys {
  SecureBuffer enc, mac, rmac;
};

// context = host challenge || card challenge.
Result<SessionKeys> DeriveSessionKeys(const StaticKeys& keys, ByteView context);
// Card or host cryptogram of `length` (8 or 16) bytes.
Result<Bytes> Cryptogram(const SessionKeys& keys, uint8_t constant, ByteView context,
                         size_t length);
// Pseudo-random card challenge: KDF(K-ENC, 02, context = sequence counter (3) || SD AID).
Result<Bytes> CardChallenge(ByteView static_enc, uint32_t sequence, ByteView sd_aid, size_t length);
// Key check value of an AES key: the first 3 bytes of AES-ECB(key, 01 x 16).
Result<Bytes> KeyCheckValue(ByteView key);

// The secure-messaging state of one session (one logical channel). The session keys are
// scheduled into OpenSSL contexts on first use and those are reused for every message; a copy
// carries the keys and the chaining state and schedules its own contexts. One thread at a time.
class Session {
 public:
  // REQUIRES: mac_length is 8 (S8) or 16 (S16).
  Session(SessionKeys keys, size_t mac_length);
  Session(const Session& other);
  Session& operator=(const Session& other);
  Session(Session&& other) noexcept;
  Session& operator=(Session&& other) noexcept;
  ~Session();

  uint8_t level() const { return level_; }
  size_t mac_length() const { return mac_length_; }
  // Switches on the level EXTERNAL AUTHENTICATE requested.
  void set_level(uint8_t level) { level_ = level; }

  // --- Host side ---
  // EXTERNAL AUTHENTICATE: C-MAC only, chaining from zero, no encryption counter step.
  Result<CommandApdu> WrapExternalAuthenticate(const CommandApdu& plain);
  // Encrypts (C-DEC) and MACs (C-MAC) a command; sets CLA b3 (0x04).
  Result<CommandApdu> WrapCommand(const CommandApdu& plain);
  // Checks R-MAC and decrypts R-ENC; kCryptoError on a bad R-MAC.
  Result<ResponseApdu> UnwrapResponse(const ResponseApdu& wrapped);

  // --- Card side ---
  // Checks the C-MAC (kFailedPrecondition "mac") and decrypts (kMalformed "padding").
  Result<CommandApdu> UnwrapExternalAuthenticate(const CommandApdu& wrapped);
  Result<CommandApdu> UnwrapCommand(const CommandApdu& wrapped);
  // Adds R-ENC and R-MAC for 9000, 62xx and 63xx (errors go back plain).
  Result<ResponseApdu> WrapResponse(const ResponseApdu& plain);

 private:
  struct Prepared;  // the session keys in keyed OpenSSL contexts
  Result<Prepared*> Contexts() const;
  Result<Bytes> Mac(const CommandApdu& header_and_data, size_t data_len) const;
  Result<Bytes> CommandIcv() const;
  Result<Bytes> ResponseIcv() const;

  SessionKeys keys_;
  size_t mac_length_;
  uint8_t level_ = kCMac;
  Bytes chaining_ = Bytes(16, 0);
  uint64_t counter_ = 0;  // encryption counter: +1 per command after EXTERNAL AUTHENTICATE
  mutable std::unique_ptr<Prepared> prepared_;  // made from keys_ on first use
};

}  // namespace tessera::crypto::scp03
