// The card as the issuance run engine talks to it (host/issuance_run.h's IssueChannel) over a
// CardSession: the link opened (and opened again after a loss, to the same card: its serial is
// checked), the issuance application selected, EXECUTE ISSUANCE sent plain or inside an SCP03
// session with the issuance application as the function's policy and the keys say. A card
// busy in privileged mode for another connection is waited for, up to --timeout.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "format/issuance_format.h"
#include "host/card_session.h"
#include "host/issuance_client.h"
#include "host/issuance_protocol.h"
#include "host/issuance_run.h"
#include "host/link_options.h"

namespace tessera::host {

class CardChannel final : public IssueChannel {
 public:
  // `plain`: never a secure session (status and ack need none, whatever the policy).
  CardChannel(const LinkOptions& o, std::function<void(const std::string&)> warn, uint8_t function,
              bool plain = false)
      : o_(o), warn_(std::move(warn)), function_(function), plain_(plain) {}

  // The first connection: opens the link, reads the function's table record, and decides
  // whether EXECUTE ISSUANCE goes inside a secure session.
  // With keys the table is read in the session (the only place it is readable); without,
  // an unreadable table leaves the policy to the card (6982 when it needs the session).
  Result<TableRecord> Prepare() {
    TESSERA_RETURN_IF_ERROR(OpenLink());
    if (has_keys()) {
      TESSERA_RETURN_IF_ERROR(s_->OpenScp03(IssuanceAid()));
      in_session_ = true;
    }
    TESSERA_ASSIGN_OR_RETURN(TableRecord t, FindFunction(*s_, function_, in_session_));
    secure_ = !plain_ && ((t.policy & format::kPolicySecureChannel) != 0 || has_keys());
    return t;
  }
  bool secure() const { return secure_; }
  bool has_keys() const { return !o_.scp03.empty(); }
  // The card's serial (16 hex digits), known once Prepare() succeeded.
  const std::string& card_serial() const { return serial_; }

  Status Connect() override {
    if (fresh_) {  // Prepare() just opened it
      fresh_ = false;
      if (secure_ && !in_session_) return s_->OpenScp03(IssuanceAid());
      return Status::Ok();
    }
    TESSERA_RETURN_IF_ERROR(OpenLink());
    fresh_ = false;
    if (secure_) {
      TESSERA_RETURN_IF_ERROR(s_->OpenScp03(IssuanceAid()));
      in_session_ = true;
    }
    return Status::Ok();
  }

  Result<ResponseApdu> Execute(const CommandApdu& c) override {
    if (!s_) return IOError("no link to the card");
    return secure_ ? s_->Secure(c) : s_->Plain(c);
  }

  CardSession& session() { return *s_; }

 private:
  // Opens a link and reads the card's identity. A card in privileged mode (a request another
  // connection started, e.g. by a host that was killed, or this host before its link was lost,
  // runs to its end alone) refuses every command: the link is opened again until the mode
  // ends. The wait is bounded by --timeout seconds for the channel's whole life, so that
  // reconnection attempts do not each wait that long; it starts again once a link succeeds.
  Status OpenLink() {
    using Clock = std::chrono::steady_clock;
    Result<std::string> read = NotFound("no link");
    for (;;) {
      s_.reset();
      in_session_ = false;
      TESSERA_ASSIGN_OR_RETURN(s_, CardSession::Open(o_));
      bool privileged = false;
      read = ReadCardSerial(*s_, &privileged);
      if (!privileged) break;
      const auto now = Clock::now();
      if (!privileged_until_) {
        privileged_until_ = now + std::chrono::seconds(o_.timeout_s);
        warn_(
            "the card is running stored commands for another connection (privileged "
            "mode); waiting up to " +
            std::to_string(o_.timeout_s) + " s for that request to end");
      }
      if (now >= *privileged_until_) {
        s_.reset();
        return FailedPrecondition(read.status().message() + "; still so after " +
                                  std::to_string(o_.timeout_s) + " s (--timeout)");
      }
      s_.reset();  // a closed connection leaves the card to the request
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!read.ok()) return read.status();
    privileged_until_.reset();
    std::string serial = std::move(*read);
    // The card's identity, on every link: a reconnection must reach the same card.
    if (!serial_.empty() && serial != serial_ && serial_ != kNoSerial) {
      return FailedPrecondition("after reconnecting, another card answered (serial " + serial +
                                ", not " + serial_ + ")");
    }
    serial_ = serial;
    TESSERA_RETURN_IF_ERROR(SelectIssuanceApp(*s_));
    fresh_ = true;
    return Status::Ok();
  }

  LinkOptions o_;
  std::function<void(const std::string&)> warn_;
  uint8_t function_;
  bool plain_;
  std::unique_ptr<CardSession> s_;
  bool secure_ = false;
  bool fresh_ = false;
  bool in_session_ = false;
  // While the card is in privileged mode for another connection: until when it is waited for.
  std::optional<std::chrono::steady_clock::time_point> privileged_until_;
  std::string serial_;
};

}  // namespace tessera::host
