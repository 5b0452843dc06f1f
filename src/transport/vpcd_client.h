// The virtual card's side of pcscd's vpcd driver (vsmartcard's vpcd protocol): connects to the
// driver as a TCP client, answers power and ATR control messages at any time and APDUs in turn, and
// reconnects (after a short pause) whenever pcscd goes away or restarts. Runs until `stop`.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "transport/card_service.h"
#include "transport/endpoint.h"

namespace tessera::transport {

// `log` receives one line per connection event.
void RunVpcdClient(const Endpoint& vpcd, CardService& service, const std::atomic<bool>& stop,
                   const std::function<void(const std::string&)>& log);

// At most this many socket clients are served (one owning the card, the others waiting for
// it) at a time; more wait in the listen backlog.
inline constexpr size_t kMaxSocketClients = 16;

// Accepts clients on `listener` (from Listen()) and serves each with the vpcd framing, as a
// card session of its own (CardService::BeginSession): a client that cannot get the card in
// time gets the one-byte frame kCtrlBusy and is disconnected. Runs until `stop`.
void RunSocketServer(int listener, const std::string& name, CardService& service,
                     const std::atomic<bool>& stop,
                     const std::function<void(const std::string&)>& log);

}  // namespace tessera::transport
