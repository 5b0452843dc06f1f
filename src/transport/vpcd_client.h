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

}  // namespace tessera::transport
