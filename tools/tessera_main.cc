// `tessera`: the host tool. Subcommands grow with the project; this is the entry point that
// routes them and turns uncaught failures into a message and exit code.
#include <cstdio>
#include <string>
#include <vector>

#include "image_command.h"

namespace {

constexpr const char* kUsage =
    "usage: tessera <command> [options]\n"
    "\n"
    "Tessera is a software secure element: a smart-card OS running as a virtual card on an\n"
    "image file, and the host tools that drive it.\n"
    "\n"
    "commands:\n"
    "  image init PATH    create a card image (NVM) file\n"
    "  image show PATH    show geometry, usage, journal state and wear\n"
    "  image check PATH   verify header, journal and allocator invariants\n"
    "\n"
    "Run 'tessera image --help' for the options of each command.\n";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::puts("tessera 0.1.0");
    return 0;
  }
  if (args[0] == "image") {
    return tessera::tools::RunImageCommand(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  std::fprintf(stderr, "tessera: unknown command '%s'\n\n%s", args[0].c_str(), kUsage);
  return 2;
}
