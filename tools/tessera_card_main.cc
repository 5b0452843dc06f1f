// `tessera-card`: runs one virtual card from an image file and serves it to PC/SC (through
// pcscd's vpcd driver) and/or to socket clients. Several transports make a dual-interface card;
// their commands are serialised. Exits cleanly on SIGTERM or SIGINT.
#include <csignal>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "card/card.h"
#include "host/trace.h"
#include "nvm/image_file.h"
#include "transport/card_service.h"
#include "transport/endpoint.h"
#include "transport/vpcd_client.h"

namespace {

constexpr const char* kUsage =
    "usage: tessera-card --image PATH [--vpcd [HOST:]PORT]... [--listen "
    "unix:PATH|tcp:HOST:PORT]...\n"
    "                    [--trace]\n"
    "\n"
    "Runs the card stored in the image file PATH (create one with 'tessera image init').\n"
    "  --vpcd [HOST:]PORT   connect to pcscd's vpcd driver (default 127.0.0.1:35963, reader\n"
    "                       'Virtual PCD 00 00'); reconnects whenever pcscd restarts\n"
    "  --listen ENDPOINT    serve the same framing on a socket, for 'tessera --connect'\n"
    "  --trace              print every command and response, decoded, on stderr\n"
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
    } else if (a == "--image") {
      image_path = next();
    } else if (a == "--vpcd") {
      vpcd.push_back(next());
    } else if (a == "--listen") {
      listen.push_back(next());
    } else if (a == "--trace") {
      trace = true;
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
  std::vector<std::pair<int, std::string>> listeners;
  for (const auto& l : listen) {
    auto e = tessera::transport::ParseEndpoint(l);
    if (!e.ok()) {
      std::fprintf(stderr, "tessera-card: --listen %s: %s\n", l.c_str(),
                   e.status().message().c_str());
      return 2;
    }
    auto fd = tessera::transport::Listen(*e);
    if (!fd.ok()) {
      std::fprintf(stderr, "tessera-card: %s\n", fd.status().message().c_str());
      return 1;
    }
    listeners.emplace_back(*fd, e->ToString());
  }

  // Block the stop signals in every thread; the main thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto image = tessera::nvm::ImageFile::Open(image_path);
  if (!image.ok()) {
    std::fprintf(stderr, "tessera-card: %s\n", image.status().ToString().c_str());
    return 1;
  }
  auto platform = tessera::card::DrbgPlatform::FromSystem();
  tessera::card::Card card((*image)->device(), (*image)->geometry(), *platform);
  auto atr = card.PowerOn();
  if (!atr.ok()) {
    std::fprintf(stderr, "tessera-card: %s\n", atr.status().ToString().c_str());
    return 1;
  }
  Log("card " + image_path + " powered on, ATR " + tessera::ToHex(*atr));

  tessera::transport::CardService service(
      card, trace ? [](const std::string& source, tessera::ByteView c, tessera::ByteView r) {
        Log("[" + source + "] > " + tessera::host::DescribeCommand(c));
        Log("[" + source + "] < " + tessera::host::DescribeResponse(r));
      } : std::function<void(const std::string&, tessera::ByteView, tessera::ByteView)>());

  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (const auto& e : vpcd_endpoints) {
    threads.emplace_back([&, e] { tessera::transport::RunVpcdClient(e, service, stop, Log); });
  }
  for (const auto& [fd, name] : listeners) {
    threads.emplace_back([&, fd = fd, name = name] {
      tessera::transport::RunSocketServer(fd, name, service, stop, Log);
    });
  }
  int sig = 0;
  sigwait(&stop_signals, &sig);
  Log(std::string("stopping on ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT"));
  stop = true;
  for (auto& t : threads) t.join();
  card.PowerOff();
  for (const auto& l : listen) {
    if (l.rfind("unix:", 0) == 0) ::unlink(l.substr(5).c_str());
  }
  return 0;
}
