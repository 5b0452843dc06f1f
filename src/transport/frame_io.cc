#include "transport/frame_io.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tessera::transport {
namespace {

Status ReadExactly(int fd, uint8_t* out, size_t n, const std::atomic<bool>* stop) {
  size_t done = 0;
  while (done < n) {
    // Try first; wait (polling `stop` every 200 ms) only when nothing is there yet, so that a
    // frame that has arrived costs no extra system call.
    ssize_t got = ::recv(fd, out + done, n - done, stop != nullptr ? MSG_DONTWAIT : 0);
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // Without `stop` the socket is blocking: EAGAIN means its receive timeout expired.
      if (stop == nullptr) return IOError("timed out waiting for an answer");
      pollfd p{fd, POLLIN, 0};
      int r = ::poll(&p, 1, 200);
      if (r < 0 && errno != EINTR) return IOError(std::string("poll: ") + std::strerror(errno));
      if (stop->load()) return FailedPrecondition("stopping");
      continue;
    }
    if (got == 0) return IOError("peer closed the connection");
    if (got < 0) {
      if (errno == EINTR) continue;
      return IOError(std::string("recv: ") + std::strerror(errno));
    }
    done += static_cast<size_t>(got);
    RearmQuickAck(fd);
  }
  return Status::Ok();
}

}  // namespace

void RearmQuickAck(int fd) {
#ifdef TCP_QUICKACK
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one,
               sizeof one);  // fails harmlessly on Unix sockets
#else
  (void)fd;
#endif
}

void SetNoDelay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

Result<Bytes> ReadFrame(int fd, const std::atomic<bool>* stop) {
  uint8_t len[2];
  TESSERA_RETURN_IF_ERROR(ReadExactly(fd, len, 2, stop));
  Bytes payload(GetU16(len));
  if (!payload.empty())
    TESSERA_RETURN_IF_ERROR(ReadExactly(fd, payload.data(), payload.size(), stop));
  return payload;
}

Status WriteFrame(int fd, ByteView payload) {
  if (payload.size() > 0xFFFF) return InvalidArgument("frame longer than 65535 bytes");
  Bytes frame;
  frame.reserve(payload.size() + 2);
  AppendU16(frame, static_cast<uint16_t>(payload.size()));
  Append(frame, payload);
  size_t done = 0;
  while (done < frame.size()) {
    ssize_t n = ::send(fd, frame.data() + done, frame.size() - done, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IOError(std::string("send: ") + std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace tessera::transport
