// `tessera`: the host tool. Routes subcommands and turns failures into a message and an exit
// code (0 success, 1 failure, 2 usage).
#include <cstdio>
#include <string>
#include <vector>

#include "card_commands.h"
#include "core/bytes.h"
#include "image_command.h"

namespace {

constexpr const char* kUsage =
    "usage: tessera [CARD] [--trace] [--json] <command> [arguments]\n"
    "\n"
    "Tessera is a software secure element: a smart-card OS running as a virtual card on an\n"
    "image file, and the host tools that drive it.\n"
    "\n"
    "CARD, for the commands that talk to a card:\n"
    "  --image PATH       run the card in this process on an image (the embedded default)\n"
    "  --connect EP       a 'tessera-card --listen' socket: unix:PATH or tcp:HOST:PORT\n"
    "  --reader NAME      a PC/SC reader, e.g. 'Virtual PCD 00 00' (pcscd + vpcd)\n"
    "\n"
    "commands:\n"
    "  image init PATH    create a card image with the default profile\n"
    "  image show PATH    show geometry, usage, journal state and wear\n"
    "  image check PATH   verify header, journal and allocator invariants\n"
    "  apdu HEX...        send command APDUs, print responses\n"
    "  script FILE        run a scriptor-style APDU script\n"
    "  readers            list PC/SC readers\n"
    "\n"
    "  --trace            decode every command and response on stderr\n"
    "  --json             machine-readable output\n"
    "  --raw              (apdu) do not follow 61xx/6Cxx automatically\n"
    "  --scp03 KEYS       open a GlobalPlatform SCP03 session with the issuer security domain\n"
    "                     first and send every command inside it. KEYS is 'test' (the\n"
    "                     well-known 404142..4F, with a warning) or a file of enc=, mac=, dek=\n"
    "                     lines in hex\n"
    "  --level XX         SCP03 security level: 01 C-MAC, 03 +C-DEC (default), 11/13 +R-MAC,\n"
    "                     33 +R-ENC\n"
    "  --kvn XX           key version number (default 00: the card's first key set)\n"
    "  --s16              SCP03 with 16-byte challenges and MACs\n"
    "\n"
    "Run 'tessera COMMAND --help' for a command's options.\n";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  tessera::tools::LinkOptions link;
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string& out) -> bool {
      if (i + 1 >= args.size()) return false;
      out = args[++i];
      return true;
    };
    if (!rest.empty()) {
      rest.push_back(a);
    } else if (a == "--image") {
      if (!value(link.image)) {
        std::fprintf(stderr, "tessera: --image needs a PATH\n");
        return 2;
      }
    } else if (a == "--connect") {
      if (!value(link.connect)) {
        std::fprintf(stderr, "tessera: --connect needs an endpoint\n");
        return 2;
      }
    } else if (a == "--reader") {
      if (!value(link.reader)) {
        std::fprintf(stderr, "tessera: --reader needs a NAME\n");
        return 2;
      }
    } else if (a == "--trace") {
      link.trace = true;
    } else if (a == "--json") {
      link.json = true;
    } else if (a == "--raw") {
      link.raw = true;
    } else if (a == "--scp03") {
      if (!value(link.scp03)) {
        std::fprintf(stderr, "tessera: --scp03 needs 'test' or a key file\n");
        return 2;
      }
    } else if (a == "--level" || a == "--kvn") {
      std::string v;
      auto parsed = value(v) ? tessera::FromHex(v)
                             : tessera::Result<tessera::Bytes>(tessera::InvalidArgument(""));
      if (!parsed.ok() || parsed->size() != 1) {
        std::fprintf(stderr, "tessera: %s needs one hex byte (e.g. 03)\n", a.c_str());
        return 2;
      }
      (a == "--level" ? link.scp03_level : link.scp03_kvn) = (*parsed)[0];
    } else if (a == "--s16") {
      link.scp03_s16 = true;
    } else if (a == "--help" || a == "-h" || a == "help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--version") {
      std::puts("tessera 0.2.0");
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "tessera: unknown option '%s'\n\n%s", a.c_str(), kUsage);
      return 2;
    } else {
      rest.push_back(a);
    }
  }
  if (rest.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string cmd = rest[0];
  std::vector<std::string> cmd_args(rest.begin() + 1, rest.end());
  // Options after the command name are the command's own (--json, --trace are accepted there too).
  std::vector<std::string> filtered;
  for (const auto& a : cmd_args) {
    if (a == "--json" && cmd != "image")
      link.json = true;
    else if (a == "--trace")
      link.trace = true;
    else if (a == "--raw")
      link.raw = true;
    else
      filtered.push_back(a);
  }
  if (cmd == "image") return tessera::tools::RunImageCommand(cmd_args);
  if (cmd == "apdu") return tessera::tools::RunApdu(link, filtered);
  if (cmd == "script") return tessera::tools::RunScript(link, filtered);
  if (cmd == "readers") return tessera::tools::RunReaders(link, filtered);
  std::fprintf(stderr, "tessera: unknown command '%s'\n\n%s", cmd.c_str(), kUsage);
  return 2;
}
