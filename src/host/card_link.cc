#include "host/card_link.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "card/kernel/card.h"
#include "core/apdu.h"
#include "device/virtual_card.h"
#include "nvm/image_file.h"
#include "transport/endpoint.h"
#include "transport/frame_io.h"

namespace tessera::host {
namespace {

class EmbeddedLink : public CardLink {
 public:
  EmbeddedLink(std::unique_ptr<device::VirtualCard> vcard, std::string path)
      : vcard_(std::move(vcard)), card_(vcard_->card()), path_(std::move(path)) {}
  Status PowerOn() { return card_.PowerOn().status(); }
  void ScheduleCut(uint64_t programs) {
    vcard_->image().device().ScheduleCut(programs, nvm::TearMode::kNormal, programs);
    cut_scheduled_ = true;
  }
  Result<Bytes> Transmit(ByteView command) override {
    if (!card_.powered()) return PowerLost("the card has no power (the power cut given)");
    Bytes r = card_.Transmit(command);
    if (!card_.powered()) {
      return PowerLost(cut_scheduled_ ? "power cut during this command (--power-cut-after): "
                                        "the image holds what a card torn here holds; the next "
                                        "power-on recovers it"
                                      : "the card lost power during this command");
    }
    return r;
  }
  Result<Bytes> Reset() override { return card_.Reset(); }
  Result<Bytes> Atr() override { return card::Card::Atr(); }
  std::string Describe() const override { return "image " + path_ + " (in-process)"; }

 private:
  std::unique_ptr<device::VirtualCard> vcard_;
  card::Card& card_;
  std::string path_;
  bool cut_scheduled_ = false;
};

class SocketLink : public CardLink {
 public:
  SocketLink(int fd, std::string name, int timeout_ms)
      : fd_(fd), name_(std::move(name)), timeout_ms_(timeout_ms) {}
  ~SocketLink() override { ::close(fd_); }
  Result<Bytes> Transmit(ByteView command) override {
    if (command.size() < 4) return InvalidArgument("a command APDU has at least 4 bytes");
    TESSERA_RETURN_IF_ERROR(Explain(transport::WriteFrame(fd_, command)));
    return Receive();
  }
  Result<Bytes> Reset() override {
    const uint8_t reset = transport::kCtrlReset;
    TESSERA_RETURN_IF_ERROR(transport::WriteFrame(fd_, ByteView(&reset, 1)));
    return Atr();
  }
  Result<Bytes> Atr() override {
    const uint8_t get = transport::kCtrlGetAtr;
    TESSERA_RETURN_IF_ERROR(Explain(transport::WriteFrame(fd_, ByteView(&get, 1))));
    return Receive();
  }
  std::string Describe() const override { return "socket " + name_; }

 private:
  // The whole answer within the timeout: a card that sends part of a frame and stalls is given
  // up on like a mute one, never waited for byte by byte.
  Result<Bytes> Receive() {
    transport::FrameLimits limits;
    if (timeout_ms_ > 0) {
      limits.frame_timeout = std::chrono::milliseconds(timeout_ms_);
      limits.give_up_idle = [t = timeout_ms_](std::chrono::milliseconds waited) {
        return waited.count() >= t;
      };
    }
    auto frame = transport::ReadFrame(fd_, nullptr, limits);
    if (!frame.ok()) return Explain(frame.status());
    if (frame->size() == 1 && (*frame)[0] == transport::kCtrlBusy) {
      return Status(ErrorCode::kBusy, "the card at " + name_ +
                                          " is busy: another client has held it for longer "
                                          "than the card's session wait; try again later");
    }
    return frame;
  }
  Status Explain(const Status& s) const {
    if (s.ok()) return s;
    if (s.message().find("timed out") != std::string::npos) {
      return IOError("no answer from the card at " + name_ + " within " +
                     std::to_string(timeout_ms_ / 1000) + " s (--timeout)");
    }
    return IOError("connection to the card at " + name_ + " failed: " + s.message());
  }

  int fd_;
  std::string name_;
  int timeout_ms_;
};

}  // namespace

Diagnostics TraceDiagnostics(bool trace) {
  if (!trace) return nullptr;
  return [](std::string_view m) {
    std::fprintf(stderr, "card: %.*s\n", static_cast<int>(m.size()), m.data());
  };
}

Result<std::unique_ptr<CardLink>> OpenEmbeddedLink(const std::string& image_path,
                                                   std::optional<uint64_t> cut_after,
                                                   Diagnostics diagnostics) {
  TESSERA_ASSIGN_OR_RETURN(auto vcard, device::VirtualCard::OpenImage(image_path));
  if (diagnostics) vcard->card().set_diagnostics(std::move(diagnostics));
  auto link = std::make_unique<EmbeddedLink>(std::move(vcard), image_path);
  TESSERA_RETURN_IF_ERROR(link->PowerOn());
  if (cut_after) link->ScheduleCut(*cut_after);
  return std::unique_ptr<CardLink>(std::move(link));
}

Result<std::unique_ptr<CardLink>> OpenSocketLink(const std::string& endpoint, int timeout_ms) {
  TESSERA_ASSIGN_OR_RETURN(auto e, transport::ParseEndpoint(endpoint));
  if (e.port == 0 && !e.unix_socket) return InvalidArgument("port 0 names no card: " + endpoint);
  TESSERA_ASSIGN_OR_RETURN(int fd, transport::Connect(e, timeout_ms));
  return std::unique_ptr<CardLink>(std::make_unique<SocketLink>(fd, e.ToString(), timeout_ms));
}

Result<Bytes> TransmitFollowing(CardLink& link, ByteView command) {
  TESSERA_ASSIGN_OR_RETURN(Bytes r, link.Transmit(command));
  Bytes data;
  for (int rounds = 0; rounds < 300; ++rounds) {
    if (r.size() < 2) return Malformed("response shorter than a status word");
    const uint8_t sw1 = r[r.size() - 2], sw2 = r[r.size() - 1];
    if (sw1 == 0x6C && command.size() >= 4) {
      auto c = CommandApdu::Parse(command);
      if (!c.ok()) return r;
      c->ne = sw2 == 0 ? 256 : sw2;
      c->extended = false;
      if (c->data.size() > 255) return r;
      TESSERA_ASSIGN_OR_RETURN(r, link.Transmit(c->Serialize()));
      continue;
    }
    if (sw1 != 0x61) {
      data.insert(data.end(), r.begin(), r.end());
      return data;
    }
    data.insert(data.end(), r.begin(), r.end() - 2);
    TESSERA_ASSIGN_OR_RETURN(r, link.Transmit(GetResponseCommand(command[0], sw2)));
  }
  return Malformed("too many GET RESPONSE rounds");
}

}  // namespace tessera::host
