// A session with a card, as every host operation uses it: one link to the card (--image,
// --connect, --reader), plain commands, SCP03 sessions with the issuer security domain or
// another security domain (the management application), STORE DATA uploads, and refusals as
// Status values that carry the card's status word. Nothing secret is traced: STORE DATA bodies
// (which may carry a PIN or wrapped keys) are shown as their length.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/apdu.h"
#include "core/bytes.h"
#include "core/status.h"
#include "crypto/scp03.h"
#include "crypto/scp03_host.h"
#include "format/status_words.h"
#include "host/card_link.h"
#include "host/link_options.h"

namespace tessera::host {

// What a status word means for one command (docs/applications.md), before the generic meaning.
struct SwMeaning {
  uint16_t sw;
  std::string meaning;
};
std::string Meaning(uint16_t sw, const std::vector<SwMeaning>& known = {});

// A refusal as a Status: "WHAT: the card answered 6A89: an application with this AID exists",
// carrying the status word (Status::card_sw) for the front-end to show apart.
Status Refused(const std::string& what, uint16_t sw, const std::vector<SwMeaning>& known = {});

// "test" (with a warning) or a key file of enc=, mac=, dek= lines.
Result<crypto::scp03::StaticKeys> LoadScp03Keys(const std::string& spec, bool warn);

class CardSession {
 public:
  // REQUIRES: CardUsageError(o) is empty.
  static Result<std::unique_ptr<CardSession>> Open(const LinkOptions& o);
  // A session over a link the caller opened (a scripted card in tests); `o` gives the SCP03
  // parameters and the trace.
  static std::unique_ptr<CardSession> Over(std::unique_ptr<host::CardLink> link,
                                           const LinkOptions& o) {
    return std::unique_ptr<CardSession>(new CardSession(o, std::move(link)));
  }

  // A command outside any secure channel, following 61xx / 6Cxx.
  Result<ResponseApdu> Plain(const CommandApdu& c);
  // SELECT by AID (00 A4 04 00), plain.
  Result<ResponseApdu> Select(ByteView aid);
  // Opens an SCP03 session with the security domain `sd_aid` (empty: the ISD) with the
  // --scp03 keys, --kvn, --level and --s16; a session already open ends. REQUIRES: --scp03.
  Status OpenScp03(ByteView sd_aid);
  // A command inside the open session (CLA 80 goes out as 84).
  Result<ResponseApdu> Secure(const CommandApdu& c);
  // Sessions opened from now on use `keys` instead of the --scp03 ones (batch issuance: keys
  // derived per card).
  void UseKeys(crypto::scp03::StaticKeys keys) {
    keys_ = std::move(keys);
    keys_loaded_ = true;
  }
  // The static keys of the open session (the DEK wraps keys sent to the card).
  const crypto::scp03::StaticKeys& keys() const { return keys_; }

  // STORE DATA (80 E2, P1 10 / 90 last, P2 = block number from 00) of `data` in blocks of at
  // most 200 bytes, inside the open session. Stops at the first block the card refuses.
  struct Upload {
    uint16_t sw = tessera::sw::kOk;  // the last block's, or the refused block's
    size_t block = 0;                // the refused block (0-based)
    size_t blocks = 0;
  };
  Result<Upload> StoreData(ByteView data);

 private:
  CardSession(const LinkOptions& o, std::unique_ptr<host::CardLink> link)
      : o_(o), link_(std::move(link)) {}
  void TraceOut(const char* arrow, ByteView command) const;
  void TraceIn(const char* arrow, ByteView response) const;

  const LinkOptions o_;
  std::unique_ptr<host::CardLink> link_;
  std::unique_ptr<crypto::scp03::SecureChannel> channel_;
  crypto::scp03::StaticKeys keys_;
  bool keys_loaded_ = false;
};

inline constexpr size_t kStoreDataBlock = 200;

}  // namespace tessera::host
