// Socket endpoints as users write them: "unix:/run/card.sock", "tcp:127.0.0.1:35963",
// and for --vpcd "[HOST:]PORT".
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace tessera::transport {

struct Endpoint {
  bool unix_socket = false;
  std::string path;  // unix
  std::string host = "127.0.0.1";
  uint16_t port = 0;

  std::string ToString() const;
};

Result<Endpoint> ParseEndpoint(const std::string& text);      // unix:PATH | tcp:HOST:PORT
Result<Endpoint> ParseVpcdEndpoint(const std::string& text);  // [HOST:]PORT

// A connected client socket, or an error naming the endpoint. `timeout_ms` bounds the
// connection attempt (0: the system's own) and becomes the socket's send and receive timeout.
Result<int> Connect(const Endpoint& e, int timeout_ms = 0);
// A listening socket. A unix socket path that another process serves is refused (kBusy); a
// stale socket file (nobody accepts on it) is replaced; a path that is not a socket is refused.
// tcp port 0 picks a free port: `e.port` is updated to the one bound.
Result<int> Listen(Endpoint& e);

}  // namespace tessera::transport
