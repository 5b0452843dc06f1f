// `tessera-card`: runs one virtual card from an image file and serves it to PC/SC (through
// pcscd's vpcd driver) and/or to socket clients. Several transports make a dual-interface card;
// their commands are serialised. Exits cleanly on SIGTERM or SIGINT.
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "card/kernel/card.h"
#include "device/virtual_card.h"
#include "host/trace.h"
#include "transport/card_service.h"
#include "transport/endpoint.h"
#include "transport/socket_server.h"
#include "transport/vpcd_client.h"

namespace {

constexpr const char* kUsage =
    "usage: tessera-card --image PATH [--vpcd [HOST:]PORT]... [--listen "
    "unix:PATH|tcp:HOST:PORT]...\n"
    "                    [--session-wait SECONDS] [--frame-timeout SECONDS]\n"
    "                    [--idle-timeout SECONDS] [--ready-fd FD] [--trace] [--version]\n"
    "\n"
    "Runs the card stored in the image file PATH (create one with 'tessera image init').\n"
    "  --vpcd [HOST:]PORT   connect to pcscd's vpcd driver (default 127.0.0.1:35963, reader\n"
    "                       'Virtual PCD 00 00'); reconnects whenever pcscd restarts\n"
    "  --listen ENDPOINT    serve the same framing on a socket, for 'tessera --connect';\n"
    "                       tcp:127.0.0.1:0 picks a free port (printed). Each connection is a\n"
    "                       card session: it starts on a reset card, owns the card until it\n"
    "                       closes, and leaves nothing volatile behind\n"
    "  --session-wait S     how long a connection waits while another one owns the card\n"
    "                       before it is refused (default 10)\n"
    "  --frame-timeout S    a frame begun on a --listen connection must be complete within S\n"
    "                       seconds, or the connection is closed (default 5)\n"
    "  --idle-timeout S     a session that sends nothing for S seconds while another client\n"
    "                       waits for the card loses it: its connection is closed (default 5).\n"
    "                       Connections that have sent no complete frame hold no session; the\n"
    "                       card keeps 256 of them and closes the longest idle to make room\n"
    "  --ready-fd FD        once every endpoint is reachable, write 'ready ENDPOINT...' and a\n"
    "                       newline to file descriptor FD and close it (also logged on stderr)\n"
    "  --trace              print every command and response, decoded, on stderr\n"
    "  --version            print the version and exit\n"
    "  -h, --help           print this help\n"
    "With no transport, --vpcd 127.0.0.1:35963 is used. SIGTERM or SIGINT stops the card.\n";

std::mutex log_mu;
void Log(const std::string& line) {
  std::lock_guard<std::mutex> lock(log_mu);
  std::fprintf(stderr, "tessera-card: %s\n", line.c_str());
  std::fflush(stderr);
}

}  // namespace

int main(int argc, char** argv) {
  std::string image_path;
  std::vector<std::string> vpcd, listen;
  bool trace = false;
  int ready_fd = -1;
  int session_wait_s = 10;
  int frame_timeout_s = 5;
  int idle_timeout_s = 5;
  auto number = [&](const std::string& opt, const std::string& v, int lo, int hi) {
    char* end = nullptr;
    const long n = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || n < lo || n > hi) {
      std::fprintf(stderr, "tessera-card: %s needs a number from %d to %d, got '%s'\n", opt.c_str(),
                   lo, hi, v.c_str());
      std::exit(2);
    }
    return static_cast<int>(n);
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "tessera-card: %s needs a value\n\n%s", a.c_str(), kUsage);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--version") {
      std::puts("tessera-card " TESSERA_VERSION);
      return 0;
    } else if (a == "--image") {
      image_path = next();
    } else if (a == "--vpcd") {
      vpcd.push_back(next());
    } else if (a == "--listen") {
      listen.push_back(next());
    } else if (a == "--trace") {
      trace = true;
    } else if (a == "--ready-fd") {
      ready_fd = number(a, next(), 0, 1 << 20);
    } else if (a == "--session-wait") {
      session_wait_s = number(a, next(), 0, 3600);
    } else if (a == "--frame-timeout") {
      frame_timeout_s = number(a, next(), 1, 3600);
    } else if (a == "--idle-timeout") {
      idle_timeout_s = number(a, next(), 1, 3600);
    } else {
      std::fprintf(stderr, "tessera-card: unknown argument '%s'\n\n%s", a.c_str(), kUsage);
      return 2;
    }
  }
  if (image_path.empty()) {
    std::fprintf(stderr, "tessera-card: --image PATH is required\n\n%s", kUsage);
    return 2;
  }
  if (vpcd.empty() && listen.empty()) vpcd.push_back("127.0.0.1:35963");

  std::vector<tessera::transport::Endpoint> vpcd_endpoints;
  for (const auto& v : vpcd) {
    auto e = tessera::transport::ParseVpcdEndpoint(v);
    if (!e.ok()) {
      std::fprintf(stderr, "tessera-card: --vpcd %s: %s\n", v.c_str(),
                   e.status().message().c_str());
      return 2;
    }
    vpcd_endpoints.push_back(*e);
  }
  std::vector<tessera::transport::Endpoint> listen_endpoints;
  for (const auto& l : listen) {
    auto e = tessera::transport::ParseEndpoint(l);
    if (!e.ok()) {
      std::fprintf(stderr, "tessera-card: --listen %s: %s\n", l.c_str(),
                   e.status().message().c_str());
      return 2;
    }
    listen_endpoints.push_back(*e);
  }

  // Block the stop signals in every thread; the main thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto vcard = tessera::device::VirtualCard::OpenImage(image_path);
  if (!vcard.ok()) {
    std::fprintf(stderr, "tessera-card: %s\n", vcard.status().ToString().c_str());
    return 1;
  }
  tessera::card::Card& card = (*vcard)->card();
  auto atr = card.PowerOn();
  if (!atr.ok()) {
    std::fprintf(stderr, "tessera-card: %s\n", atr.status().ToString().c_str());
    return 1;
  }
  Log("card " + image_path + " powered on, ATR " + tessera::ToHex(*atr));

  // Bind only now: the image is open and locked, so a failed start never leaves a socket
  // behind, and a second card on the same image never touches the first one's sockets.
  std::vector<std::pair<int, std::string>> listeners;
  std::vector<std::string> bound_paths;
  auto unbind = [&] {
    for (const auto& path : bound_paths) ::unlink(path.c_str());
    for (const auto& [fd, name] : listeners) ::close(fd);
  };
  for (auto& e : listen_endpoints) {
    auto fd = tessera::transport::Listen(e);
    if (!fd.ok()) {
      std::fprintf(stderr, "tessera-card: %s\n", fd.status().message().c_str());
      unbind();
      return 1;
    }
    if (e.unix_socket) bound_paths.push_back(e.path);
    listeners.emplace_back(*fd, e.ToString());
  }

  tessera::transport::CardService::Options service_options;
  service_options.session_wait = std::chrono::seconds(session_wait_s);
  tessera::transport::CardService service(
      card,
      trace ? [](const std::string& source, tessera::ByteView c, tessera::ByteView r) {
        Log("[" + source + "] > " + tessera::host::DescribeCommand(c));
        Log("[" + source + "] < " + tessera::host::DescribeResponse(r));
      } : tessera::transport::CardService::Trace(),
      service_options);

  tessera::transport::SocketServerOptions server_options;
  server_options.frame_timeout = std::chrono::seconds(frame_timeout_s);
  server_options.idle_timeout = std::chrono::seconds(idle_timeout_s);

  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (const auto& e : vpcd_endpoints) {
    threads.emplace_back([&, e] { tessera::transport::RunVpcdClient(e, service, stop, Log); });
  }
  for (const auto& [fd, name] : listeners) {
    threads.emplace_back([&, fd = fd, name = name] {
      tessera::transport::RunSocketServer(fd, name, service, stop, Log, server_options);
    });
  }
  {
    std::string ready = "ready";
    for (const auto& [fd, name] : listeners) ready += " " + name;
    for (const auto& e : vpcd_endpoints) ready += " vpcd:" + e.ToString().substr(4);
    Log(ready);
    if (ready_fd >= 0) {
      ready += "\n";
      if (::write(ready_fd, ready.data(), ready.size()) < 0) Log("cannot write to --ready-fd");
      ::close(ready_fd);
    }
  }
  int sig = 0;
  sigwait(&stop_signals, &sig);
  Log(std::string("stopping on ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT"));
  stop = true;
  for (auto& t : threads) t.join();
  card.PowerOff();
  for (const auto& path : bound_paths) ::unlink(path.c_str());
  return 0;
}
