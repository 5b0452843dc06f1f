#include "transport/vpcd_client.h"

#include <unistd.h>

#include <chrono>
#include <thread>

#include "transport/frame_io.h"

namespace tessera::transport {
namespace {

// Serves the vpcd connection until it closes or `stop`. Returns the reason it ended.
std::string Serve(int fd, const std::string& source, CardService& service,
                  const std::atomic<bool>& stop) {
  while (!stop.load()) {
    auto frame = ReadFrame(fd, &stop);
    if (!frame.ok()) return frame.status().message();
    std::optional<Bytes> reply = service.Handle(source, *frame);
    if (reply) {
      Status s = WriteFrame(fd, *reply);
      if (!s.ok()) return s.message();
    }
  }
  return "stopping";
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

}  // namespace tessera::transport
