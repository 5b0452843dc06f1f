#include "transport/endpoint.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
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
  if (v > 65535) return InvalidArgument("port out of range: " + s);
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
  auto nonzero = [&](uint16_t port) -> Result<uint16_t> {
    if (port == 0) return InvalidArgument("port out of range: 0");
    return port;
  };
  const size_t colon = text.rfind(':');
  if (colon != std::string::npos) {
    e.host = text.substr(0, colon);
    TESSERA_ASSIGN_OR_RETURN(e.port, ParsePort(text.substr(colon + 1)));
  } else {
    TESSERA_ASSIGN_OR_RETURN(e.port, ParsePort(text));
  }
  TESSERA_ASSIGN_OR_RETURN(e.port, nonzero(e.port));
  return e;
}

namespace {

void SetTimeouts(int fd, int timeout_ms) {
  if (timeout_ms <= 0) return;
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// connect() bounded by `timeout_ms` (0: blocking, the system's own timeout).
Status ConnectWithin(int fd, const sockaddr* a, socklen_t len, int timeout_ms, const Endpoint& e) {
  if (timeout_ms <= 0) {
    if (::connect(fd, a, len) != 0) return IOError(Err("cannot connect to", e));
    return Status::Ok();
  }
  const int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  if (::connect(fd, a, len) != 0) {
    if (errno != EINPROGRESS && errno != EAGAIN) return IOError(Err("cannot connect to", e));
    pollfd p{fd, POLLOUT, 0};
    const int r = ::poll(&p, 1, timeout_ms);
    if (r == 0) {
      return IOError("cannot connect to " + e.ToString() + ": no answer within " +
                     std::to_string(timeout_ms / 1000) + " s");
    }
    int err = 0;
    socklen_t err_len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len);
    if (r < 0 || err != 0) {
      errno = err != 0 ? err : errno;
      return IOError(Err("cannot connect to", e));
    }
  }
  ::fcntl(fd, F_SETFL, flags);
  return Status::Ok();
}

}  // namespace

Result<int> Connect(const Endpoint& e, int timeout_ms) {
  if (e.unix_socket) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return IOError(Err("socket for", e));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, e.path.c_str(), sizeof a.sun_path - 1);
    if (Status s = ConnectWithin(fd, reinterpret_cast<sockaddr*>(&a), sizeof a, timeout_ms, e);
        !s.ok()) {
      ::close(fd);
      return s;
    }
    SetTimeouts(fd, timeout_ms);
    return fd;
  }
  TESSERA_ASSIGN_OR_RETURN(sockaddr_in a, Resolve(e));
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return IOError(Err("socket for", e));
  if (Status s = ConnectWithin(fd, reinterpret_cast<sockaddr*>(&a), sizeof a, timeout_ms, e);
      !s.ok()) {
    ::close(fd);
    return s;
  }
  SetTimeouts(fd, timeout_ms);
  SetNoDelay(fd);
  return fd;
}

Result<int> Listen(Endpoint& e) {
  int fd;
  if (e.unix_socket) {
    struct stat st {};
    if (::lstat(e.path.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode)) {
        return Status(ErrorCode::kBusy, e.path + " exists and is not a socket; not replacing it");
      }
      // Someone accepting on it: another card serves this path. Refuse, never take it over.
      auto probe = Connect(e, 1000);
      if (probe.ok()) {
        ::close(*probe);
        return Status(ErrorCode::kBusy, e.ToString() +
                                            " is already served by another process (another "
                                            "tessera-card?); stop it or choose another path");
      }
      ::unlink(e.path.c_str());  // a stale socket file: nobody listens on it
    }
    fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return IOError(Err("socket for", e));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, e.path.c_str(), sizeof a.sun_path - 1);
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
    sockaddr_in bound{};
    socklen_t len = sizeof bound;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len) == 0) {
      e.port = ntohs(bound.sin_port);
    }
  }
  if (::listen(fd, 64) != 0) {
    Status s = IOError(Err("cannot listen on", e));
    ::close(fd);
    if (e.unix_socket) ::unlink(e.path.c_str());
    return s;
  }
  return fd;
}

}  // namespace tessera::transport
