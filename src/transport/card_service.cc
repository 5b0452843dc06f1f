#include "transport/card_service.h"

#include <cstdio>

#include "transport/frame_io.h"

namespace tessera::transport {

std::optional<Bytes> CardService::Handle(const std::string& source, ByteView payload) {
  // Privileged mode: the card is running stored commands for one source and takes nothing
  // from outside. Commands get 6985 at once rather than queueing behind the running command.
  if (payload.size() > 1 && card_.external_closed()) {
    const Bytes refused{0x69, 0x85};
    if (trace_) trace_(source, payload, refused);
    return refused;
  }
  std::lock_guard<std::mutex> lock(mu_);
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
  if (trace_) trace_(source, payload, response);
  return response;
}

}  // namespace tessera::transport
