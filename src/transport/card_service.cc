#include "transport/card_service.h"

#include <cstdio>

#include "transport/frame_io.h"

namespace tessera::transport {
namespace {

const Bytes kRefused{0x69, 0x85};  // conditions of use not satisfied: privileged mode or busy

}  // namespace

bool CardService::WaitForCard(std::unique_lock<std::mutex>& lock, uint64_t session) {
  auto free = [&] { return !exchanging_ && (owner_ == 0 || (session != 0 && owner_ == session)); };
  if (free()) return true;
  ++waiting_;
  const bool got = free_.wait_for(lock, options_.session_wait, free);
  --waiting_;
  return got;
}

std::optional<uint64_t> CardService::BeginSession(const std::string& source) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!WaitForCard(lock, 0)) return std::nullopt;
  const uint64_t id = next_session_++;
  owner_ = id;
  // A fresh card for every session: power-on runs recovery and clears everything volatile.
  auto atr = card_.Reset();
  if (!atr.ok()) {
    std::fprintf(stderr, "tessera-card: reset for %s failed: %s\n", source.c_str(),
                 atr.status().ToString().c_str());
  }
  return id;
}

void CardService::EndSession(uint64_t session) {
  std::unique_lock<std::mutex> lock(mu_);
  if (owner_ != session) return;
  // Nothing volatile outlives the session. The card is powered again for the next client.
  card_.PowerOff();
  owner_ = 0;
  lock.unlock();
  free_.notify_all();
}

std::optional<Bytes> CardService::RefuseIfPrivileged(const std::string& source, ByteView payload) {
  if (payload.size() <= 1 || !card_.external_closed()) return std::nullopt;
  if (trace_) trace_(source, payload, kRefused);
  return kRefused;
}

bool CardService::AnswerBeforeSession(const std::string& source, ByteView payload,
                                      std::optional<Bytes>* reply) {
  if (!card_.external_closed()) return false;
  if (payload.size() == 1) {
    switch (payload[0]) {
      case kCtrlPowerOff:
      case kCtrlPowerOn:
      case kCtrlReset:
        *reply = std::nullopt;
        break;
      case kCtrlGetAtr:
        *reply = card::Card::Atr();
        break;
      default:
        *reply = Bytes{0x6D, 0x00};  // as in a session: not a control message we know
    }
    return true;
  }
  *reply = RefuseIfPrivileged(source, payload);
  // The run may have ended between the two reads: then the frame waits for the card.
  return reply->has_value();
}

std::optional<Bytes> CardService::Handle(const std::string& source, ByteView payload,
                                         uint64_t session) {
  // Privileged mode: the card is running stored commands and takes nothing from outside; the
  // answer comes at once rather than after the run.
  if (auto refused = RefuseIfPrivileged(source, payload)) return refused;
  std::unique_lock<std::mutex> lock(mu_);
  if (session != 0) {
    if (owner_ != session) return kRefused;  // not (or no longer) this session's card
    return HandleLocked(source, payload);
  }
  // A sessionless source takes the card for this exchange only.
  if (!WaitForCard(lock, 0)) {
    if (payload.size() == 1)
      return payload[0] == kCtrlGetAtr ? std::optional<Bytes>(card::Card::Atr()) : std::nullopt;
    if (trace_) trace_(source, payload, kRefused);
    return kRefused;
  }
  exchanging_ = true;
  std::optional<Bytes> reply = HandleLocked(source, payload);
  exchanging_ = false;
  lock.unlock();
  free_.notify_all();
  return reply;
}

std::optional<Bytes> CardService::HandleLocked(const std::string& source, ByteView payload) {
  if (payload.size() == 1) {
    switch (payload[0]) {
      case kCtrlPowerOff:
        card_.PowerOff();
        return std::nullopt;
      case kCtrlPowerOn:
        if (!card_.powered()) {
          auto atr = card_.PowerOn();
          if (!atr.ok())
            std::fprintf(stderr, "tessera-card: power-on failed: %s\n",
                         atr.status().ToString().c_str());
        }
        return std::nullopt;
      case kCtrlReset: {
        auto atr = card_.Reset();
        if (!atr.ok())
          std::fprintf(stderr, "tessera-card: reset failed: %s\n", atr.status().ToString().c_str());
        return std::nullopt;
      }
      case kCtrlGetAtr:
        return card::Card::Atr();
      default:
        return Bytes{0x6D, 0x00};  // not a control message we know; never silence
    }
  }
  if (!card_.powered()) {
    auto atr = card_.PowerOn();
    if (!atr.ok()) return Bytes{0x6F, 0x00};
  }
  Bytes response = card_.Transmit(payload);
  if (response.size() > kMaxFramePayload) {
    // The card OS keeps responses within a frame (Card::Finish); never drop a connection.
    response = {0x6F, 0x00};
  }
  if (trace_) trace_(source, payload, response);
  return response;
}

}  // namespace tessera::transport
