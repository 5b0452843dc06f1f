// `tessera`: the host tool. Routes subcommands and turns failures into a message and an exit
// code (0 success, 1 failure, 2 usage; kUsage below says exactly what each means).
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "apps_commands.h"
#include "card_commands.h"
#include "core/bytes.h"
#include "image_command.h"
#include "issue_batch.h"
#include "issue_commands.h"

#ifndef TESSERA_VERSION
#error "TESSERA_VERSION comes from CMakeLists.txt's project(VERSION)"
#endif

namespace {

constexpr const char* kUsage =
    "usage: tessera [OPTIONS] <command> [arguments]\n"
    "\n"
    "Tessera is a software secure element: a smart-card OS running as a virtual card on an\n"
    "image file, and the host tools that drive it.\n"
    "\n"
    "commands:\n"
    "  image init PATH    create a card image with the default profile\n"
    "  image show PATH    show geometry, usage, journal state, wear and the minimum SCP03\n"
    "                     security level (read-only: works on a served or read-only image)\n"
    "  image check PATH   verify the NVM invariants (header, journal, allocator) and the\n"
    "                     card's (file tree, block ownership, sizes, PINs, key sets)\n"
    "  image ls PATH      the file tree: FIDs, names, types, sizes, life cycle, access\n"
    "  image help         every image option ('tessera image init --help')\n"
    "  image ls PATH      list the card's file tree ('tessera image --help': the options)\n"
    "  apps make-install-file DESC --key PEM -o OUT\n"
    "                     build a signed installation file from a TOML or JSON description\n"
    "  apps list          the application list: records, administrators, dates, status, the\n"
    "                     signatures checked, and the GP life cycle with --scp03\n"
    "  apps install FILE  install an application from an installation file (--scp03)\n"
    "  apps set-status AID lock|unlock|terminate|erase|restore\n"
    "                     change an application's status (--scp03)\n"
    "  apps delete AID    delete an application and wipe its data (asks; --scp03)\n"
    "  admin add|list     register an administrator (--scp03), or list them\n"
    "  card set-date YYMMDD  set the card's trusted date (--scp03); 'card date' shows it\n"
    "  issue compile|install-app|load-group|run|status|resume|retry-failed|ack\n"
    "                     self-issuance: compile and load card functions' command groups,\n"
    "                     run them with resume and acknowledgement ('tessera issue --help')\n"
    "  image write-group IMAGE GROUP --function N\n"
    "                     write a card function's group into an image, offline\n"
    "  apdu HEX...        send command APDUs, print responses\n"
    "  script FILE        run a scriptor-style APDU script ('-': standard input)\n"
    "  readers            list PC/SC readers\n"
    "  help [COMMAND]     this text, or a command's own help\n"
    "\n"
    "CARD, for apdu, script, apps, admin, card and issue (exactly one):\n"
    "  --image PATH       run the card in this process on an image (the embedded default)\n"
    "  --connect EP       a 'tessera-card --listen' socket: unix:PATH or tcp:HOST:PORT; the\n"
    "                     connection is a card session of its own (it starts on a reset card)\n"
    "  --timeout SECONDS  (--connect) give up connecting, or waiting for an answer, after this\n"
    "                     long with a clear error (default 30; a busy card says so at once)\n"
    "  --reader NAME      a PC/SC reader, e.g. 'Virtual PCD 00 00' (pcscd + vpcd)\n"
    "  --power-cut-after N  (--image) cut the card's power during its page program N (0 the\n"
    "                     first after power-on), as a card pulled from the reader mid-write:\n"
    "                     that command and the rest fail ('power lost'); the next power-on\n"
    "                     recovers the image to before or after the torn command. Once:\n"
    "                     'issue run' reconnects to a card powered again and resumes\n"
    "\n"
    "OPTIONS, before or after the command (after 'image', only the image command's own\n"
    "options and --json are accepted):\n"
    "  --json             machine-readable output on stdout for every command: JSON, always\n"
    "                     valid UTF-8 (bytes that are not UTF-8, e.g. in a path, become U+FFFD)\n"
    "  --trace            (apdu, script, apps, admin, card, issue) decode every command and\n"
    "                     response on stderr\n"
    "  --raw              (apdu, script) do not follow 61xx/6Cxx automatically\n"
    "  --scp03 KEYS       (apdu, script) open a GlobalPlatform SCP03 session with the issuer\n"
    "                     security domain first and send every command inside it. KEYS is\n"
    "                     'test' (the well-known 404142..4F, with a warning) or a file of\n"
    "                     enc=, mac=, dek= lines in hex. (apps, admin, card, issue) the keys of\n"
    "                     the sessions they open, with the ISD or the management application\n"
    "  --level XX         SCP03 security level: 01 C-MAC, 03 +C-DEC (default), 11/13 +R-MAC,\n"
    "                     33 +R-ENC (00: authentication only)\n"
    "  --kvn XX           SCP03 key version number (default 00: the card's first key set)\n"
    "  --s16              SCP03 with 16-byte challenges and MACs\n"
    "  -h, --help         print this help; after a command, that command's help\n"
    "  --version          print the version and exit\n"
    "\n"
    "PIN and key bytes are never printed, in any output mode (plain, --json, --trace, script):\n"
    "the data of VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER and PUT KEY is shown as\n"
    "its length. A blocked PIN (6983) comes with a note on how to unblock it.\n"
    "\n"
    "exit codes:\n"
    "  0  success. For apdu and script: every command was exchanged with the card, whatever\n"
    "     its status word; a status word other than 9000 is the card's answer, printed, not\n"
    "     a failure of the tool\n"
    "  1  failure: the card or image cannot be opened, an exchange or the SCP03 session\n"
    "     fails, an APDU argument or a script line is not a command APDU, a script cannot be\n"
    "     read (or is a directory), 'image check' finds damage. Responses already received\n"
    "     are printed first; for apps, admin, card and issue also: the card refused (its\n"
    "     status word and what it means are printed)\n"
    "  2  usage error: unknown command or option, a missing or malformed option value (e.g.\n"
    "     --level xyz), conflicting card options (more than one of --image, --connect and\n"
    "     --reader, or one given twice), no card for a command that needs one, --level,\n"
    "     --kvn or --s16 without --scp03, apps/admin/card commands that need --scp03 without\n"
    "     it, 'apps delete' without --yes and no terminal to ask on\n"
    "  3  (issue run, resume, retry-failed) the issuance stopped on a command's\n"
    "     non-transient failure: the run is partial and stays unacknowledged\n"
    "\n"
    "Run 'tessera COMMAND --help' for a command's options.\n";

// Application management: `apps`, `admin` and `card` (tools/apps_commands.h).
bool IsManagement(const std::string& cmd) {
  return cmd == "apps" || cmd == "admin" || cmd == "card";
}

int UsageError(const std::string& message) {
  std::fprintf(stderr, "tessera: %s\n\nRun 'tessera --help' for the options.\n", message.c_str());
  return 2;
}

int CommandHelp(const std::string& cmd) {
  const std::vector<std::string> help{"--help"};
  if (cmd == "image") return tessera::tools::RunImageCommand(help);
  if (cmd == "apdu") return tessera::tools::RunApdu({}, help);
  if (cmd == "script") return tessera::tools::RunScript({}, help);
  if (cmd == "readers") return tessera::tools::RunReaders({}, help);
  return UsageError("unknown command '" + cmd + "'");
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  tessera::tools::LinkOptions link;
  std::string cmd;
  std::vector<std::string> cmd_args;  // the command's operands, or all of image's arguments
  bool help = false;
  std::set<std::string> seen;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    // Batch issuance parses its own options (tools/issue_batch.cc).
    const bool batch = cmd == "issue" && !cmd_args.empty() &&
                       (cmd_args[0] == "batch" || cmd_args[0] == "card-keys");
    if (cmd == "image" || batch) {  // image parses its own options (tools/image_command.cc)
      cmd_args.push_back(a);
      continue;
    }
    // The application-management commands' own options go to them (tools/apps_commands.cc);
    // the global ones (card, SCP03, --json, --trace) stay here.
    if (IsManagement(cmd) || cmd == "issue") {
      const int arity = cmd == "issue" ? tessera::tools::IssueOptionArity(a)
                                       : tessera::tools::ManagementOptionArity(a);
      if (arity >= 0) {
        cmd_args.push_back(a);
        if (arity == 1) {
          if (i + 1 >= args.size()) return UsageError(a + " needs a value");
          cmd_args.push_back(args[++i]);
        }
        continue;
      }
    }
    const bool takes_value = a == "--image" || a == "--connect" || a == "--reader" ||
                             a == "--scp03" || a == "--level" || a == "--kvn" || a == "--timeout" ||
                             a == "--power-cut-after";
    std::string v;
    if (takes_value) {
      if (i + 1 >= args.size()) return UsageError(a + " needs a value");
      v = args[++i];
      if (!seen.insert(a).second) return UsageError(a + " given twice");
    }
    if (a == "--image") {
      link.image = v;
    } else if (a == "--connect") {
      link.connect = v;
    } else if (a == "--reader") {
      link.reader = v;
    } else if (a == "--timeout") {
      char* end = nullptr;
      const long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 1 || n > 3600) {
        return UsageError("--timeout '" + v + "': give whole seconds from 1 to 3600");
      }
      link.timeout_s = static_cast<int>(n);
    } else if (a == "--power-cut-after") {
      char* end = nullptr;
      const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
      if (v.empty() || v[0] == '-' || *end != '\0') {
        return UsageError("--power-cut-after '" + v + "': give a number of page programs");
      }
      link.power_cut_after = n;
    } else if (a == "--scp03") {
      link.scp03 = v;
    } else if (a == "--level" || a == "--kvn") {
      auto parsed = tessera::FromHex(v);
      if (!parsed.ok() || parsed->size() != 1) {
        return UsageError(a + " '" + v + "': give one hex byte (e.g. 03)");
      }
      (a == "--level" ? link.scp03_level : link.scp03_kvn) = (*parsed)[0];
      link.scp03_tuned = true;
    } else if (a == "--s16") {
      link.scp03_s16 = true;
      link.scp03_tuned = true;
    } else if (a == "--trace") {
      link.trace = true;
    } else if (a == "--json") {
      link.json = true;
    } else if (a == "--raw") {
      link.raw = true;
    } else if (a == "--help" || a == "-h") {
      help = true;
    } else if (a == "--version") {
      std::puts("tessera " TESSERA_VERSION);
      return 0;
    } else if (a.size() > 1 && a[0] == '-') {
      return UsageError((cmd.empty() ? "" : cmd + ": ") + "unknown option '" + a + "'");
    } else if (cmd.empty() && a == "help") {
      help = true;
    } else if (cmd.empty()) {
      cmd = a;
    } else {
      cmd_args.push_back(a);
    }
  }
  if (help) {
    if (cmd.empty()) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (IsManagement(cmd)) {
      cmd_args.push_back("--help");
      return tessera::tools::RunManagement(cmd, link, cmd_args);
    }
    if (cmd == "issue") {
      cmd_args.push_back("--help");
      return tessera::tools::RunIssue(link, cmd_args);
    }
    return CommandHelp(cmd);
  }
  if (cmd.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  if (cmd == "image") {
    // The global --json reaches the image commands as their own --json, right after the verb
    // (where no option can take it for its value).
    if (link.json && !cmd_args.empty()) cmd_args.insert(cmd_args.begin() + 1, "--json");
    return tessera::tools::RunImageCommand(cmd_args);
  }
  if (cmd == "issue" && !cmd_args.empty() &&
      (cmd_args[0] == "batch" || cmd_args[0] == "card-keys")) {
    // They make (or compute for) their own cards: a card option given before them would be
    // silently ignored.
    if (!link.image.empty() || !link.connect.empty() || !link.reader.empty() ||
        !link.scp03.empty() || link.power_cut_after) {
      return UsageError("issue " + cmd_args[0] +
                        " works on its own cards (--images DIR, --serial): --image, --connect, "
                        "--reader, --scp03 and --power-cut-after do not apply");
    }
    if (link.trace && cmd_args[0] == "card-keys") {
      return UsageError(
          "issue card-keys computes a key file and talks to no card: --trace does "
          "not apply");
    }
    std::vector<std::string> rest(cmd_args.begin() + 1, cmd_args.end());
    if (link.trace) rest.push_back("--trace");  // batch traces the commands of every card
    return cmd_args[0] == "batch" ? tessera::tools::RunIssueBatch(rest, link.json)
                                  : tessera::tools::RunCardKeys(rest, link.json);
  }
  if (cmd == "apdu") return tessera::tools::RunApdu(link, cmd_args);
  if (cmd == "script") return tessera::tools::RunScript(link, cmd_args);
  if (cmd == "readers") return tessera::tools::RunReaders(link, cmd_args);
  if (IsManagement(cmd)) return tessera::tools::RunManagement(cmd, link, cmd_args);
  if (cmd == "issue") return tessera::tools::RunIssue(link, cmd_args);
  return UsageError("unknown command '" + cmd + "'");
}
