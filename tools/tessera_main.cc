// `tessera`: the host tool. Its command tree is CLI11's (tools/cli_args.h): the global options
// here, each command family's commands registered by its front-end. Failures become a message
// and an exit code (0 success, 1 failure, 2 usage, 3 a stopped issuance), and with --json one
// error object on stdout (tools/json_output.h).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "apps_commands.h"
#include "card_commands.h"
#include "cli_args.h"
#include "image_command.h"
#include "issue_batch.h"
#include "issue_commands.h"
#include "json_output.h"

#ifndef TESSERA_VERSION
#error "TESSERA_VERSION comes from CMakeLists.txt's project(VERSION)"
#endif

namespace tessera::tools {
namespace {

constexpr const char* kDescription =
    "Tessera is a software secure element: a smart-card OS running as a virtual card on an\n"
    "image file, and the host tools that drive it. 'tessera COMMAND --help' (or 'tessera help\n"
    "COMMAND ...') explains a command and its options.\n"
    "\n"
    "The commands that talk to a card (apdu, script, apps, admin, card, issue) take exactly one\n"
    "of --image, --connect and --reader. The global options may stand before or after the\n"
    "command.";

constexpr const char* kFooter =
    "PIN and key bytes are never printed, in any output mode (plain, --json, --trace, script):\n"
    "the data of VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER and PUT KEY is shown as its\n"
    "length. A blocked PIN (6983) comes with a note on how to unblock it.\n"
    "\n"
    "Hex values (AIDs, KVN, levels, status words, P1/P2) are written with or without 0x; counts\n"
    "and sizes in decimal (sizes also with K or M).\n"
    "\n"
    "exit codes:\n"
    "  0  success. For apdu and script: every command was exchanged with the card, whatever its\n"
    "     status word; a status word other than 9000 is the card's answer, printed, not a\n"
    "     failure of the tool\n"
    "  1  failure: the card or image cannot be opened, an exchange or the SCP03 session fails,\n"
    "     a file cannot be read, 'image check' finds damage; for apps, admin, card and issue\n"
    "     also: the card refused (its status word and what it means are printed). Responses\n"
    "     already received are printed first\n"
    "  2  usage error: an unknown command or option, a missing or malformed value, conflicting\n"
    "     card options, no card for a command that needs one, an option of another command\n"
    "  3  (issue run, resume, retry-failed) the issuance stopped on a command's non-transient\n"
    "     failure: the run is partial and stays unacknowledged\n"
    "\n"
    "With --json every failure, usage errors included, is one object on stdout:\n"
    "{\"ok\": false, \"error\": {\"message\", \"code\", [\"sw\"]}} (docs/cli-json.md).";

// The global options as written; Apply() checks and converts them.
struct Globals {
  std::string image, connect, reader, timeout, power_cut_after, scp03, level, kvn;
  bool s16 = false, trace = false, json = false, raw = false, version = false;
};

void AddGlobals(CLI::App& app, Globals& g) {
  auto value = [&](const char* name, std::string& out, const char* type, const char* help,
                   const char* group) {
    app.add_option(name, out, help)
        ->type_name(type)
        ->group(group)
        ->multi_option_policy(CLI::MultiOptionPolicy::Throw);
  };
  const char* card = "CARD (apdu, script, apps, admin, card, issue; exactly one)";
  value("--image", g.image, "PATH",
        "run the card in this process on an image (the embedded default)", card);
  value("--connect", g.connect, "EP",
        "a 'tessera-card --listen' socket: unix:PATH or tcp:HOST:PORT; the connection is a card "
        "session of its own (it starts on a reset card)",
        card);
  value("--reader", g.reader, "NAME", "a PC/SC reader, e.g. 'Virtual PCD 00 00' (pcscd + vpcd)",
        card);
  value("--timeout", g.timeout, "SECONDS",
        "(--connect) give up connecting, or waiting for an answer, after this long with a clear "
        "error (default 30; a busy card says so at once)",
        card);
  value("--power-cut-after", g.power_cut_after, "N",
        "(--image) cut the card's power during its page program N (0 the first after power-on), "
        "as a card pulled from the reader mid-write: that command and the rest fail ('power "
        "lost'); the next power-on recovers the image to before or after the torn command. "
        "Once: 'issue run' reconnects to a card powered again and resumes",
        card);
  const char* sc = "SECURE CHANNEL";
  value("--scp03", g.scp03, "KEYS",
        "open a GlobalPlatform SCP03 session first: 'test' (the well-known 404142..4F, with a "
        "warning) or a file of enc=, mac=, dek= lines in hex. apdu and script send every "
        "command inside it; apps, admin, card and issue open their sessions with these keys",
        sc);
  value("--level", g.level, "XX",
        "SCP03 security level: 01 C-MAC, 03 +C-DEC (default), 11/13 +R-MAC, 33 +R-ENC (00: "
        "authentication only)",
        sc);
  value("--kvn", g.kvn, "XX", "SCP03 key version number (default 00: the card's first key set)",
        sc);
  app.add_flag("--s16", g.s16, "SCP03 with 16-byte challenges and MACs")->group(sc);
  const char* out = "OUTPUT";
  app.add_flag("--json", g.json,
               "machine-readable output on stdout for every command: one JSON document, always "
               "valid UTF-8 (docs/cli-json.md)")
      ->group(out);
  app.add_flag("--trace", g.trace,
               "(apdu, script, apps, admin, card, issue) decode every command and response on "
               "stderr")
      ->group(out);
  app.add_flag("--raw", g.raw, "(apdu, script) do not follow 61xx/6Cxx automatically")->group(out);
  app.add_flag("--version", g.version, "print the version and exit")->group(out);
}

// "" or the usage error.
std::string Apply(const Globals& g, LinkOptions* link) {
  link->image = g.image;
  link->connect = g.connect;
  link->reader = g.reader;
  link->scp03 = g.scp03;
  link->trace = g.trace;
  link->json = g.json;
  link->raw = g.raw;
  link->scp03_s16 = g.s16;
  link->scp03_tuned = g.s16 || !g.level.empty() || !g.kvn.empty();
  if (!g.timeout.empty()) {
    auto n = ParseCount(g.timeout, 1, 3600);
    if (!n || g.timeout.rfind("0x", 0) == 0) {
      return "--timeout '" + g.timeout + "': give whole seconds from 1 to 3600";
    }
    link->timeout_s = static_cast<int>(*n);
  }
  if (!g.power_cut_after.empty()) {
    auto n = ParseCount(g.power_cut_after, 0, UINT64_MAX);
    if (!n) return "--power-cut-after '" + g.power_cut_after + "': give a number of page programs";
    link->power_cut_after = *n;
  }
  for (auto [name, text, out] : {std::tuple{"--level", &g.level, &link->scp03_level},
                                 std::tuple{"--kvn", &g.kvn, &link->scp03_kvn}}) {
    if (text->empty()) continue;
    auto b = ParseHexArg(*text, 1);
    if (!b.ok()) return std::string(name) + " '" + *text + "': give one hex byte (e.g. 03)";
    *out = (*b)[0];
  }
  return "";
}

int UsageError(bool json, const std::string& message) {
  if (json) PrintJson(ErrorJson(message, ErrorKind::kUsage));
  std::fprintf(stderr, "tessera: %s\n\nRun 'tessera --help' for the options.\n", message.c_str());
  return ExitCode(ErrorKind::kUsage);
}

// `tessera help [COMMAND ...]`: listed among the commands; Main() reads it as
// `tessera COMMAND ... --help` before parsing.
void AddHelpCommand(CommandTree& tree) {
  Command& c = tree.Add(nullptr, "help", "this text, or a command's own help ('help apps list')",
                        "Prints the help of the command named (the same as COMMAND --help).");
  c.Operand("COMMAND", "the command, with its subcommands", false, true);
  c.run = [&tree](const Args&) {
    std::fputs(tree.root().help().c_str(), stdout);
    return 0;
  };
}

int Main(int argc, char** argv) {
  CLI::App app(kDescription, "tessera");
  CommandTree tree(app);
  Globals g;
  AddGlobals(app, g);
  app.footer(kFooter);
  // Global options are accepted after the command too: a command passes what it does not know
  // to its parent. Inherited by every command added below.
  app.fallthrough();
  LinkOptions link;
  AddImageCommands(tree, link);
  AddCardCommands(tree, link);
  AddManagementCommands(tree, link);
  AddIssueCommands(tree, link);
  AddIssueBatchCommands(tree, link);
  AddHelpCommand(tree);
  bool json = false;  // before parsing: a usage error with --json is a JSON object too
  for (int i = 1; i < argc; ++i) json = json || std::strcmp(argv[i], "--json") == 0;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "help" && args.size() > 1) {
    args.erase(args.begin());
    args.push_back("--help");
  }
  std::reverse(args.begin(), args.end());  // CLI11 takes them last first
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::ParseError& e) {
    return UsageError(json, e.what());
  }
  if (g.version) {
    if (g.json) {
      PrintJson(Json{{"ok", true}, {"version", TESSERA_VERSION}});
    } else {
      std::puts("tessera " TESSERA_VERSION);
    }
    return 0;
  }
  if (auto e = Apply(g, &link); !e.empty()) return UsageError(json, e);
  Command* chosen = tree.Chosen();
  if (chosen == nullptr || !chosen->run) {
    // No command, or a family without its subcommand: its help, as a usage error.
    std::fputs(app.help().c_str(), stderr);
    if (json) PrintJson(ErrorJson("no command given", ErrorKind::kUsage));
    return ExitCode(ErrorKind::kUsage);
  }
  chosen->Collect();
  return chosen->run(chosen->args);
}

}  // namespace
}  // namespace tessera::tools

int main(int argc, char** argv) {
  return tessera::tools::Main(argc, argv);
}
