// The socket server of `tessera-card --listen`: the vpcd framing on a listening socket, each
// connection a card session of its own (CardService::BeginSession).
//
// What a connection costs, and for how long it can keep the card from others:
//  - A connection that has not completed its first frame has no session and holds no thread:
//    one poll loop keeps up to `max_unclaimed` of them. When a new connection would exceed
//    that, the one idle the longest is closed to make room, so idle connections never keep a
//    client out.
//  - A frame whose first byte has arrived must be complete within `frame_timeout`; otherwise
//    the connection is closed (and its session, if it has one, ended).
//  - The first complete frame makes the connection a session: a worker thread (at most
//    kMaxSessionWorkers at a time) waits for the card (CardService's session wait; then the
//    one-byte frame kCtrlBusy and the connection closes) and serves it.
//  - A session that sends nothing while another client has been waiting for the card loses the
//    card once it has been idle for `idle_timeout`: its connection is closed. Alone, a session
//    keeps the card as long as it likes.
// So a client waiting for the card gets it at most max(frame_timeout, idle_timeout) (plus a
// 200 ms poll tick) after an idle or stalled owner's last byte; keep the session wait above that.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

#include "transport/card_service.h"

namespace tessera::transport {

// Sessions served (one owning the card, the others waiting for it) at a time; a connection with
// a complete first frame beyond these waits, at most the session wait, for a free worker.
inline constexpr size_t kMaxSessionWorkers = 16;

struct SocketServerOptions {
  std::chrono::milliseconds frame_timeout{5000};
  std::chrono::milliseconds idle_timeout{5000};
  // Connections without a session kept at once (they cost a file descriptor and a buffer).
  size_t max_unclaimed = 256;
};

// Accepts clients on `listener` (from Listen()) and serves them as above until `stop`. `log`
// receives one line per notable connection event (a timeout, an eviction).
void RunSocketServer(int listener, const std::string& name, CardService& service,
                     const std::atomic<bool>& stop,
                     const std::function<void(const std::string&)>& log,
                     const SocketServerOptions& options = {});

}  // namespace tessera::transport
