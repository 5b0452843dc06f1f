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

#include "cli_args.h"

namespace {

constexpr const char* kDescription =
    "Runs the card stored in the image file PATH (create one with 'tessera image init'), for\n"
    "pcscd through its vpcd driver and for 'tessera --connect' on sockets. With no transport,\n"
    "--vpcd 127.0.0.1:35963 is used. SIGTERM or SIGINT stops the card.";

// A whole number of seconds (or a file descriptor) from `lo` to `hi`, for CLI11's check().
CLI::Validator Within(int lo, int hi) {
  return CLI::Validator(
      [lo, hi](std::string& v) -> std::string {
        auto n =
            tessera::tools::ParseCount(v, static_cast<uint64_t>(lo), static_cast<uint64_t>(hi));
        if (!n || v.rfind("0x", 0) == 0) {
          return "needs a number from " + std::to_string(lo) + " to " + std::to_string(hi) +
                 ", got '" + v + "'";
        }
        return "";
      },
      "", "");
}

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
  bool version = false;
  CLI::App app(kDescription, "tessera-card");
  tessera::tools::CommandTree tree(app);  // the help layout both programs share
  app.add_option("--image", image_path, "the card image to run")->type_name("PATH")->required();
  app.add_option("--vpcd", vpcd,
                 "connect to pcscd's vpcd driver (default 127.0.0.1:35963, reader 'Virtual PCD "
                 "00 00'); reconnects whenever pcscd restarts. May be given more than once")
      ->type_name("[HOST:]PORT")
      ->allow_extra_args(false);  // one value each time it is given
  app.add_option("--listen", listen,
                 "serve the same framing on a socket, for 'tessera --connect': unix:PATH or "
                 "tcp:HOST:PORT (tcp:127.0.0.1:0 picks a free port, printed). Each connection is "
                 "a card session: it starts on a reset card, owns the card until it closes, and "
                 "leaves nothing volatile behind. May be given more than once")
      ->type_name("ENDPOINT")
      ->allow_extra_args(false);
  app.add_option("--session-wait", session_wait_s,
                 "how long a connection waits while another one owns the card before it is "
                 "refused (default 10)")
      ->type_name("SECONDS")
      ->check(Within(0, 3600));
  app.add_option("--frame-timeout", frame_timeout_s,
                 "a frame begun on a --listen connection must be complete within this many "
                 "seconds, or the connection is closed (default 5)")
      ->type_name("SECONDS")
      ->check(Within(1, 3600));
  app.add_option("--idle-timeout", idle_timeout_s,
                 "a session that sends nothing for this long while another client waits for the "
                 "card loses it: its connection is closed (default 5). Connections that have "
                 "sent no complete frame hold no session; the card keeps 256 of them and closes "
                 "the longest idle to make room")
      ->type_name("SECONDS")
      ->check(Within(1, 3600));
  app.add_option("--ready-fd", ready_fd,
                 "once every endpoint is reachable, write 'ready ENDPOINT...' and a newline to "
                 "this file descriptor and close it (also logged on stderr)")
      ->type_name("FD")
      ->check(Within(0, 1 << 20));
  app.add_flag("--trace", trace, "print every command and response, decoded, on stderr");
  app.add_flag("--version", version, "print the version and exit");
  for (CLI::Option* o : app.get_options()) {
    if (o->get_name() != "--vpcd" && o->get_name() != "--listen" && o->get_name() != "--help") {
      o->multi_option_policy(CLI::MultiOptionPolicy::Throw);
    }
  }
  // --version needs no --image: it is looked for before the required options are checked.
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--version") {
      std::puts("tessera-card " TESSERA_VERSION);
      return 0;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "tessera-card: %s\n\nRun 'tessera-card --help' for the options.\n",
                 e.what());
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

  // What the card tells its operator (an applet's Lua errors, docs/applets.md §6).
  if (trace) card.set_diagnostics([](std::string_view m) { Log("card: " + std::string(m)); });
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
