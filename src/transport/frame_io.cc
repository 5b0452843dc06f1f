#include "transport/frame_io.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>

namespace tessera::transport {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kPollTick{200};

std::string Seconds(milliseconds ms) {
  return std::to_string((ms.count() + 999) / 1000) + " s";
}

// One frame read in progress: the frame's own deadline starts with its first byte.
class FrameReader {
 public:
  FrameReader(int fd, const std::atomic<bool>* stop, const FrameLimits& limits)
      : fd_(fd),
        stop_(stop),
        limits_(limits),
        polled_(stop != nullptr || limits.frame_timeout.count() > 0 || limits.give_up_idle),
        began_(Clock::now()) {}

  Status ReadExactly(uint8_t* out, size_t n) {
    size_t done = 0;
    while (done < n) {
      // Try first; wait (polling every 200 ms at most) only when nothing is there yet, so that
      // a frame that has arrived costs no extra system call.
      ssize_t got = ::recv(fd_, out + done, n - done, polled_ ? MSG_DONTWAIT : 0);
      if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        // Without polling the socket is blocking: EAGAIN means its receive timeout expired.
        if (!polled_) return IOError("timed out waiting for an answer");
        TESSERA_RETURN_IF_ERROR(Wait());
        continue;
      }
      if (got == 0) return IOError("peer closed the connection");
      if (got < 0) {
        if (errno == EINTR) continue;
        return IOError(std::string("recv: ") + std::strerror(errno));
      }
      if (!first_byte_) first_byte_ = Clock::now();
      done += static_cast<size_t>(got);
      RearmQuickAck(fd_);
    }
    return Status::Ok();
  }

 private:
  Status Wait() {
    milliseconds tick = kPollTick;
    if (first_byte_ && limits_.frame_timeout.count() > 0) {
      const auto left = std::chrono::duration_cast<milliseconds>(
          *first_byte_ + limits_.frame_timeout - Clock::now());
      if (left.count() <= 0) {
        return IOError("timed out: frame not completed within " + Seconds(limits_.frame_timeout));
      }
      tick = std::min(tick, left);
    }
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(tick.count()));
    if (r < 0 && errno != EINTR) return IOError(std::string("poll: ") + std::strerror(errno));
    if (stop_ != nullptr && stop_->load()) return FailedPrecondition("stopping");
    if (!first_byte_ && limits_.give_up_idle &&
        limits_.give_up_idle(std::chrono::duration_cast<milliseconds>(Clock::now() - began_))) {
      return IOError("timed out waiting for a frame");
    }
    return Status::Ok();
  }

  int fd_;
  const std::atomic<bool>* stop_;
  const FrameLimits& limits_;
  bool polled_;
  Clock::time_point began_;
  std::optional<Clock::time_point> first_byte_;
};

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

Result<Bytes> ReadFrame(int fd, const std::atomic<bool>* stop, const FrameLimits& limits) {
  FrameReader reader(fd, stop, limits);
  uint8_t len[2];
  TESSERA_RETURN_IF_ERROR(reader.ReadExactly(len, 2));
  Bytes payload(GetU16(len));
  if (!payload.empty()) TESSERA_RETURN_IF_ERROR(reader.ReadExactly(payload.data(), payload.size()));
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
