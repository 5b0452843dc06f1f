#include "transport/endpoint.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "transport/frame_io.h"

namespace tessera::transport {
namespace {

Result<uint16_t> ParsePort(const std::string& s) {
  if (s.empty() || s.size() > 5) return InvalidArgument("bad port '" + s + "'");
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return InvalidArgument("bad port '" + s + "'");
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v == 0 || v > 65535) return InvalidArgument("port out of range: " + s);
  return static_cast<uint16_t>(v);
}

Result<sockaddr_in> Resolve(const Endpoint& e) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(e.port);
  if (::inet_pton(AF_INET, e.host.c_str(), &a.sin_addr) == 1) return a;
  addrinfo hints{};
  hints.ai_family = AF_INET;
  addrinfo* res = nullptr;
  if (::getaddrinfo(e.host.c_str(), nullptr, &hints, &res) != 0 || res == nullptr) {
    return InvalidArgument("cannot resolve host '" + e.host + "'");
  }
  a.sin_addr = reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr;
  ::freeaddrinfo(res);
  return a;
}

std::string Err(const std::string& what, const Endpoint& e) {
  return what + " " + e.ToString() + ": " + std::strerror(errno);
}

}  // namespace

std::string Endpoint::ToString() const {
  return unix_socket ? "unix:" + path : "tcp:" + host + ":" + std::to_string(port);
}

Result<Endpoint> ParseEndpoint(const std::string& text) {
  Endpoint e;
  if (text.rfind("unix:", 0) == 0) {
    e.unix_socket = true;
    e.path = text.substr(5);
    if (e.path.empty() || e.path.size() >= sizeof(sockaddr_un{}.sun_path)) {
      return InvalidArgument("bad unix socket path in '" + text + "'");
    }
    return e;
  }
  if (text.rfind("tcp:", 0) == 0) {
    const std::string rest = text.substr(4);
    const size_t colon = rest.rfind(':');
    if (colon == std::string::npos)
      return InvalidArgument("expected tcp:HOST:PORT, got '" + text + "'");
    e.host = rest.substr(0, colon);
    TESSERA_ASSIGN_OR_RETURN(e.port, ParsePort(rest.substr(colon + 1)));
    return e;
  }
  return InvalidArgument("expected unix:PATH or tcp:HOST:PORT, got '" + text + "'");
}

Result<Endpoint> ParseVpcdEndpoint(const std::string& text) {
  Endpoint e;
  const size_t colon = text.rfind(':');
  if (colon != std::string::npos) {
    e.host = text.substr(0, colon);
    TESSERA_ASSIGN_OR_RETURN(e.port, ParsePort(text.substr(colon + 1)));
  } else {
    TESSERA_ASSIGN_OR_RETURN(e.port, ParsePort(text));
  }
  return e;
}

Result<int> Connect(const Endpoint& e) {
  if (e.unix_socket) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return IOError(Err("socket for", e));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, e.path.c_str(), sizeof a.sun_path - 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      Status s = IOError(Err("cannot connect to", e));
      ::close(fd);
      return s;
    }
    return fd;
  }
  TESSERA_ASSIGN_OR_RETURN(sockaddr_in a, Resolve(e));
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return IOError(Err("socket for", e));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    Status s = IOError(Err("cannot connect to", e));
    ::close(fd);
    return s;
  }
  SetNoDelay(fd);
  return fd;
}

Result<int> Listen(const Endpoint& e) {
  int fd;
  if (e.unix_socket) {
    fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return IOError(Err("socket for", e));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, e.path.c_str(), sizeof a.sun_path - 1);
    ::unlink(e.path.c_str());
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      Status s = IOError(Err("cannot bind", e));
      ::close(fd);
      return s;
    }
  } else {
    TESSERA_ASSIGN_OR_RETURN(sockaddr_in a, Resolve(e));
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return IOError(Err("socket for", e));
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      Status s = IOError(Err("cannot bind", e));
      ::close(fd);
      return s;
    }
  }
  if (::listen(fd, 8) != 0) {
    Status s = IOError(Err("cannot listen on", e));
    ::close(fd);
    return s;
  }
  return fd;
}

}  // namespace tessera::transport
