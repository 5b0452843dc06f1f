#include "transport/vpcd_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <list>
#include <memory>
#include <thread>
#include <vector>

#include "transport/frame_io.h"

namespace tessera::transport {
namespace {

// Serves one connection until it closes or `stop`. Returns the reason it ended.
std::string Serve(int fd, const std::string& source, CardService& service,
                  const std::atomic<bool>& stop, uint64_t session = 0) {
  while (!stop.load()) {
    auto frame = ReadFrame(fd, &stop);
    if (!frame.ok()) return frame.status().message();
    std::optional<Bytes> reply = service.Handle(source, *frame, session);
    if (reply) {
      Status s = WriteFrame(fd, *reply);
      if (!s.ok()) return s.message();
    }
  }
  return "stopping";
}

// One socket client: a card session from accept to close.
// The session starts with the client's first frame (a connection that sends nothing, such as
// a probe, never touches the card).
void ServeClient(int fd, const std::string& name, CardService& service,
                 const std::atomic<bool>& stop) {
  auto first = ReadFrame(fd, &stop);
  if (!first.ok()) return;
  std::optional<uint64_t> session = service.BeginSession(name);
  if (!session) {
    // Another client kept the card for longer than the session wait: say so, then close.
    const uint8_t busy = kCtrlBusy;
    (void)WriteFrame(fd, ByteView(&busy, 1));
    return;
  }
  std::optional<Bytes> reply = service.Handle(name, *first, *session);
  if (!reply || WriteFrame(fd, *reply).ok()) Serve(fd, name, service, stop, *session);
  service.EndSession(*session);
}

void SleepUnlessStopped(const std::atomic<bool>& stop, int ms) {
  for (int waited = 0; waited < ms && !stop.load(); waited += 50) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace

void RunVpcdClient(const Endpoint& vpcd, CardService& service, const std::atomic<bool>& stop,
                   const std::function<void(const std::string&)>& log) {
  bool reported_wait = false;
  while (!stop.load()) {
    auto fd = Connect(vpcd);
    if (!fd.ok()) {
      if (!reported_wait) {
        log("waiting for pcscd's vpcd driver at " + vpcd.ToString() + " (" + fd.status().message() +
            ")");
        reported_wait = true;
      }
      SleepUnlessStopped(stop, 500);
      continue;
    }
    reported_wait = false;
    SetNoDelay(*fd);
    RearmQuickAck(*fd);
    log("connected to vpcd at " + vpcd.ToString() + ": card inserted");
    std::string why = Serve(*fd, "vpcd " + vpcd.ToString(), service, stop);
    ::close(*fd);
    if (!stop.load()) {
      log("vpcd connection ended (" + why + "); reconnecting");
      SleepUnlessStopped(stop, 300);
    }
  }
}

void RunSocketServer(int listener, const std::string& name, CardService& service,
                     const std::atomic<bool>& stop,
                     const std::function<void(const std::string&)>& log) {
  // A bounded set of connection threads, each joined when its client is gone: no resource
  // grows with the number of connections served. Connections beyond the bound wait in the
  // listen backlog until a thread is free.
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::list<Worker> workers;
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
  log("listening on " + name);
  while (!stop.load()) {
    reap();
    if (workers.size() >= kMaxSocketClients) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    pollfd p{listener, POLLIN, 0};
    int r = ::poll(&p, 1, 200);
    if (r <= 0) continue;
    int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    SetNoDelay(fd);
    auto done = std::make_shared<std::atomic<bool>>(false);
    workers.push_back(Worker{std::thread([fd, name, &service, &stop, done] {
                               ServeClient(fd, name, service, stop);
                               ::close(fd);
                               done->store(true);
                             }),
                             done});
  }
  for (auto& w : workers) w.thread.join();
  ::close(listener);
}

}  // namespace tessera::transport
