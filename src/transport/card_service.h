// Serves one card to several transports at once (a dual-interface card): one command at a
// time, in arrival order. Each transport calls Handle() with a frame payload and sends back
// what it returns. While the card is in privileged mode (Card::external_closed), APDUs get
// 6985 at once, without waiting for the card; control frames (power, reset) still wait.
#pragma once

#include <functional>
#include <mutex>
#include <string>

#include "card/card.h"

namespace tessera::transport {

class CardService {
 public:
  // `trace`, if set, receives every command and response (for --trace).
  CardService(card::Card& card,
              std::function<void(const std::string& source, ByteView command, ByteView response)>
                  trace = nullptr)
      : card_(card), trace_(std::move(trace)) {}

  // A frame from `source`: a 1-byte control message or an APDU. Returns the reply payload;
  // nullopt-style empty optional for control messages that take no reply (power off/on/reset).
  std::optional<Bytes> Handle(const std::string& source, ByteView payload);

 private:
  std::mutex mu_;
  card::Card& card_;
  std::function<void(const std::string&, ByteView, ByteView)> trace_;
};

}  // namespace tessera::transport
