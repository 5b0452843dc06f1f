#include "transport/socket_server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <list>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "transport/frame_io.h"

namespace tessera::transport {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kPollTick{200};
constexpr int kAcceptsPerRound = 64;

std::string Seconds(milliseconds ms) {
  return std::to_string((ms.count() + 999) / 1000) + " s";
}

// A connection that has no session yet: its first frame is read here, without a thread.
struct Unclaimed {
  int fd = -1;
  uint64_t id = 0;
  Bytes frame;                                     // the first frame so far, length included
  Clock::time_point last;                          // accepted, or its last byte
  std::optional<Clock::time_point> frame_started;  // its first byte
  std::optional<Clock::time_point> complete;       // the whole first frame: wants a worker

  // Bytes still missing from the first frame (never more: later frames are the session's).
  size_t Missing() const {
    if (frame.size() < 2) return 2 - frame.size();
    return 2 + GetU16(frame.data()) - frame.size();
  }
};

void SendBusyAndClose(int fd) {
  const uint8_t busy = kCtrlBusy;
  (void)WriteFrame(fd, ByteView(&busy, 1));
  ::close(fd);
}

// One session, from its first frame to the connection's end. Owns `fd`.
void ServeSession(int fd, const std::string& who, const std::string& name, Bytes first,
                  CardService& service, const std::atomic<bool>& stop,
                  const std::function<void(const std::string&)>& log,
                  const SocketServerOptions& options) {
  // APDUs that come while the card runs stored commands (privileged mode) are refused at once:
  // waiting for the card, they would run after the request (docs/self-issuance.md §5).
  std::optional<Bytes> early;
  while (service.AnswerBeforeSession(name, first, &early)) {
    FrameLimits wait;
    wait.frame_timeout = options.frame_timeout;
    // Without a session the connection holds a worker: one that goes silent lets it go.
    wait.give_up_idle = [&](milliseconds waited) { return waited >= options.idle_timeout; };
    const bool sent = !early || WriteFrame(fd, *early).ok();
    auto next = sent ? ReadFrame(fd, &stop, wait) : Result<Bytes>(IOError("client gone"));
    if (!next.ok()) {
      ::close(fd);
      return;
    }
    first = std::move(*next);
  }
  std::optional<uint64_t> session = service.BeginSession(name);
  if (!session) {
    // Another client kept the card for longer than the session wait: say so, then close.
    SendBusyAndClose(fd);
    return;
  }
  FrameLimits limits;
  limits.frame_timeout = options.frame_timeout;
  limits.give_up_idle = [&](milliseconds waited) {
    return waited >= options.idle_timeout && service.contended();
  };
  std::optional<Bytes> reply = service.Handle(name, first, *session);
  if (!reply || WriteFrame(fd, *reply).ok()) {
    while (!stop.load()) {
      auto frame = ReadFrame(fd, &stop, limits);
      if (!frame.ok()) {
        const std::string why = frame.status().message();
        if (why.rfind("timed out waiting", 0) == 0) {
          log(who + ": idle for " + Seconds(options.idle_timeout) +
              " while another client waited for the card; session ended");
        } else if (why.rfind("timed out", 0) == 0) {
          log(who + ": frame not completed within " + Seconds(options.frame_timeout) +
              "; session ended");
        }
        break;
      }
      reply = service.Handle(name, *frame, *session);
      // A client that does not read its answers is bounded by the send timeout.
      if (reply && !WriteFrame(fd, *reply).ok()) break;
    }
  }
  service.EndSession(*session);
  ::close(fd);
}

}  // namespace

void RunSocketServer(int listener, const std::string& name, CardService& service,
                     const std::atomic<bool>& stop,
                     const std::function<void(const std::string&)>& log,
                     const SocketServerOptions& options) {
  // Workers are joined when their session is over: no resource grows with the number of
  // connections served. A worker that ends wakes the loop through `wake`.
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::list<Worker> workers;
  const int wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  auto reap = [&] {
    for (auto it = workers.begin(); it != workers.end();) {
      if (it->done->load()) {
        it->thread.join();
        it = workers.erase(it);
      } else {
        ++it;
      }
    }
  };
  ::fcntl(listener, F_SETFL, ::fcntl(listener, F_GETFL) | O_NONBLOCK);
  std::vector<Unclaimed> unclaimed;  // in arrival order
  uint64_t next_id = 1;
  const milliseconds session_wait = service.options().session_wait;
  const timeval send_timeout{
      static_cast<time_t>(options.frame_timeout.count() / 1000),
      static_cast<suseconds_t>((options.frame_timeout.count() % 1000) * 1000)};
  log("listening on " + name);

  while (!stop.load()) {
    reap();
    const auto now = Clock::now();
    milliseconds tick = kPollTick;
    // Hand complete first frames to workers in arrival order; expire what waited too long.
    for (auto it = unclaimed.begin(); it != unclaimed.end();) {
      auto who = [&] { return name + " connection " + std::to_string(it->id); };
      if (it->complete) {
        if (workers.size() < kMaxSessionWorkers) {
          Bytes payload(it->frame.begin() + 2, it->frame.end());
          auto done = std::make_shared<std::atomic<bool>>(false);
          workers.push_back(
              Worker{std::thread([fd = it->fd, who = who(), name, payload = std::move(payload),
                                  &service, &stop, &log, &options, done, wake] {
                       ServeSession(fd, who, name, payload, service, stop, log, options);
                       done->store(true);
                       const uint64_t one = 1;
                       (void)!::write(wake, &one, sizeof one);
                     }),
                     done});
          it = unclaimed.erase(it);
          continue;
        }
        if (now - *it->complete >= session_wait) {
          SendBusyAndClose(it->fd);
          it = unclaimed.erase(it);
          continue;
        }
      } else if (it->frame_started) {
        const auto left = std::chrono::duration_cast<milliseconds>(*it->frame_started +
                                                                   options.frame_timeout - now);
        if (left.count() <= 0) {
          log(who() + ": frame not completed within " + Seconds(options.frame_timeout) +
              "; connection closed");
          ::close(it->fd);
          it = unclaimed.erase(it);
          continue;
        }
        tick = std::min(tick, left);
      }
      ++it;
    }

    std::vector<pollfd> fds;
    fds.reserve(unclaimed.size() + 2);
    fds.push_back(pollfd{listener, POLLIN, 0});
    fds.push_back(pollfd{wake, POLLIN, 0});
    for (const auto& u : unclaimed) fds.push_back(pollfd{u.complete ? -1 : u.fd, POLLIN, 0});
    const int r = ::poll(fds.data(), fds.size(), static_cast<int>(tick.count()));
    if (r <= 0) continue;
    if (fds[1].revents != 0) {
      uint64_t n;
      (void)!::read(wake, &n, sizeof n);
    }

    // Read what the unclaimed connections sent (before accepting: `fds` indexes `unclaimed`).
    const auto read_at = Clock::now();
    std::vector<bool> gone(unclaimed.size(), false);
    for (size_t i = 0; i < unclaimed.size(); ++i) {
      if (fds[i + 2].fd < 0 || fds[i + 2].revents == 0) continue;
      Unclaimed& u = unclaimed[i];
      uint8_t buf[4096];
      const ssize_t got = ::recv(u.fd, buf, std::min(sizeof buf, u.Missing()), MSG_DONTWAIT);
      if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
      if (got <= 0) {  // closed (a probe, or a client that gave up) or failed
        gone[i] = true;
        continue;
      }
      if (!u.frame_started) u.frame_started = read_at;
      u.last = read_at;
      u.frame.insert(u.frame.end(), buf, buf + got);
      if (u.Missing() == 0) u.complete = read_at;
    }
    for (size_t i = unclaimed.size(); i-- > 0;) {
      if (gone[i]) {
        ::close(unclaimed[i].fd);
        unclaimed.erase(unclaimed.begin() + static_cast<std::ptrdiff_t>(i));
      }
    }

    if ((fds[0].revents & POLLIN) == 0) continue;
    size_t evicted = 0;
    for (int n = 0; n < kAcceptsPerRound; ++n) {
      const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) break;
      SetNoDelay(fd);
      // Answers to a client that does not read them are bounded like its frames.
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
      if (unclaimed.size() >= options.max_unclaimed) {
        // Make room: close the connection without a session that has been idle the longest.
        auto oldest = unclaimed.end();
        for (auto it = unclaimed.begin(); it != unclaimed.end(); ++it) {
          if (!it->complete && (oldest == unclaimed.end() || it->last < oldest->last)) oldest = it;
        }
        if (oldest == unclaimed.end()) {  // every one waits for a worker: no room
          SendBusyAndClose(fd);
          continue;
        }
        ::close(oldest->fd);
        unclaimed.erase(oldest);
        ++evicted;
      }
      Unclaimed u;
      u.fd = fd;
      u.id = next_id++;
      u.last = Clock::now();
      unclaimed.push_back(std::move(u));
    }
    if (evicted > 0) {
      log(name + ": " + std::to_string(options.max_unclaimed) +
          " connections without a session; closed " + std::to_string(evicted) +
          " idle the longest to make room");
    }
  }
  for (auto& u : unclaimed) ::close(u.fd);
  for (auto& w : workers) w.thread.join();
  ::close(wake);
  ::close(listener);
}

}  // namespace tessera::transport
