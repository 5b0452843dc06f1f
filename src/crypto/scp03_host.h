// The host side of SCP03 (`tessera --scp03`): selects the issuer security domain (or another
// security domain), runs
// INITIALIZE UPDATE and EXTERNAL AUTHENTICATE with the same crypto code the card uses, then
// wraps every command and unwraps every response. Key bytes never reach logs or errors.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/apdu.h"
#include "core/bytes.h"
#include "core/status.h"
#include "crypto/scp03.h"

namespace tessera::crypto::scp03 {

struct ChannelOptions {
  StaticKeys keys;
  uint8_t kvn = 0;  // 00: the card's first key set
  uint8_t level = kCMac | kCDec;
  bool s16 = false;       // 16-byte challenges, cryptograms and MACs
  Bytes host_challenge;   // empty: random
  Bytes security_domain;  // AID of the security domain to open the session with; empty: the ISD
};

// The well-known test key set 404142..4F.
StaticKeys TestKeys();
bool IsTestKeys(const StaticKeys& keys);
// Parses a key file's text: "enc=HEX", "mac=HEX", "dek=HEX" lines ('#' comments). `name` is
// how errors name the file ("NAME:LINE: ..."); key bytes never appear in them. The host tool
// reads the file with its one input-file reader (tools/file_io.h, tools::LoadKeyFile).
Result<StaticKeys> ParseKeyFile(ByteView text, const std::string& name);

using RawTransmit = std::function<Result<Bytes>(ByteView)>;

class SecureChannel {
 public:
  // Opens a session. Failures name the step: "INITIALIZE UPDATE answered 6A88 (...)",
  // "card cryptogram mismatch (wrong keys?)", "EXTERNAL AUTHENTICATE answered 6300".
  static Result<std::unique_ptr<SecureChannel>> Open(RawTransmit transmit, const ChannelOptions& o);

  // Wraps, sends, checks and unwraps. A response failing its R-MAC is an error.
  Result<Bytes> Transmit(ByteView plain_command);
  uint8_t level() const { return session_.level(); }
  uint8_t kvn() const { return kvn_; }

 private:
  SecureChannel(RawTransmit t, Session s, uint8_t kvn)
      : transmit_(std::move(t)), session_(std::move(s)), kvn_(kvn) {}
  RawTransmit transmit_;
  Session session_;
  uint8_t kvn_;
};

}  // namespace tessera::crypto::scp03
