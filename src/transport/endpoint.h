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

// A connected client socket, or an error naming the endpoint.
Result<int> Connect(const Endpoint& e);
// A listening socket (unix sockets replace a stale socket file).
Result<int> Listen(const Endpoint& e);

}  // namespace tessera::transport
