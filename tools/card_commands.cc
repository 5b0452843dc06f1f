#include "card_commands.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "core/apdu.h"
#include "crypto/scp03.h"
#include "crypto/scp03_host.h"
#include "format/status_words.h"
#include "host/card_keys.h"
#include "host/card_link.h"
#include "host/card_session.h"
#include "host/file_io.h"
#include "host/trace.h"
#include "json_output.h"
#include "reporter.h"

namespace tessera::tools {

// The host library (src/host) is what this front-end calls.
using namespace host;  // NOLINT(google-build-using-namespace)
namespace {

// A link whose commands travel inside an SCP03 session opened on another link.
class Scp03Link : public host::CardLink {
 public:
  Scp03Link(std::unique_ptr<host::CardLink> inner,
            std::unique_ptr<crypto::scp03::SecureChannel> channel)
      : inner_(std::move(inner)), channel_(std::move(channel)) {}
  Result<Bytes> Transmit(ByteView command) override { return channel_->Transmit(command); }
  Result<Bytes> Reset() override { return inner_->Reset(); }
  Result<Bytes> Atr() override { return inner_->Atr(); }
  std::string Describe() const override { return inner_->Describe() + " (SCP03)"; }

 private:
  std::unique_ptr<host::CardLink> inner_;
  std::unique_ptr<crypto::scp03::SecureChannel> channel_;
};

Result<std::unique_ptr<host::CardLink>> OpenPlainLink(const LinkOptions& o) {
  const int given = !o.image.empty() + !o.connect.empty() + !o.reader.empty();
  if (given > 1) return InvalidArgument("give only one of --image, --connect and --reader");
  if (!o.connect.empty()) return host::OpenSocketLink(o.connect, o.timeout_s * 1000);
  if (!o.reader.empty()) return host::OpenPcscLink(o.reader);
  if (!o.image.empty()) {
    return host::OpenEmbeddedLink(o.image, o.power_cut_after, host::TraceDiagnostics(o.trace));
  }
  return InvalidArgument("no card: give --image PATH, --connect ENDPOINT or --reader NAME");
}

// The card, in an SCP03 session with --scp03. The failure says whom to blame (json_output.h's
// KindOf): a key file that cannot be used is an I/O error (the file's), a card refusing the
// secure channel carries its status word, anything else is the link's (kUnavailable).
Result<std::unique_ptr<host::CardLink>> OpenLink(const LinkOptions& o) {
  crypto::scp03::ChannelOptions so;
  if (!o.scp03.empty()) {
    auto loaded = LoadScp03Keys(o.scp03, true);
    if (!loaded.ok()) return IOError(loaded.status().message());
    so.keys = std::move(*loaded);
  }
  auto plain = OpenPlainLink(o);
  if (!plain.ok()) return Status(ErrorCode::kUnavailable, plain.status().message());
  auto link = std::move(*plain);
  if (o.scp03.empty()) return link;
  so.level = o.scp03_level;
  so.kvn = o.scp03_kvn;
  so.s16 = o.scp03_s16;
  host::CardLink* raw = link.get();
  const bool trace = o.trace;
  auto channel = crypto::scp03::SecureChannel::Open(
      [raw, trace](ByteView c) -> Result<Bytes> {
        if (trace) std::fprintf(stderr, ">> %s\n", host::DescribeCommand(c).c_str());
        auto r = raw->Transmit(c);
        if (trace && r.ok()) std::fprintf(stderr, "<< %s\n", host::DescribeResponse(*r).c_str());
        return r;
      },
      so);
  if (!channel.ok()) {
    const Status& why = channel.status();
    Status failed(why.has_card_sw() ? why.code() : ErrorCode::kUnavailable,
                  "SCP03: " + why.message());
    return why.has_card_sw() ? std::move(failed).WithCardSw(why.card_sw()) : failed;
  }
  return std::unique_ptr<host::CardLink>(
      std::make_unique<Scp03Link>(std::move(link), std::move(*channel)));
}

// PIN commands (VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER) carry reference data and
// PUT KEY carries key material: their bodies are never printed, as in --trace (host/trace.cc).
bool HidesBody(uint8_t ins) {
  return ins == 0x20 || ins == 0x24 || ins == 0x2C || ins == 0xD8;
}

// A command as hex for output, its secret body (if any) replaced by its length.
std::string ShowCommand(ByteView c) {
  if (c.size() <= 4 || !HidesBody(c[1])) return ToHex(c);
  auto parsed = CommandApdu::Parse(c);
  if (!parsed.ok()) return ToHex(c.first(4)) + " <body hidden>";
  if (parsed->data.empty()) return ToHex(c);
  const size_t at = parsed->extended ? 7 : 5, n = parsed->data.size();
  std::string s = ToHex(c.first(at)) + " <" + std::to_string(n) + " bytes hidden>";
  if (at + n < c.size()) s += " " + ToHex(c.subspan(at + n));
  return s;
}

// Text that should have been a command (a bad argument or script line), for an error message:
// what looks like the body of a command that hides it is not shown.
std::string ShowText(const std::string& text) {
  std::string compact;
  for (char ch : text) {
    if (ch != ' ' && ch != '\t' && ch != ':' && ch != '\r') compact += ch;
  }
  if (compact.size() > 8) {
    auto ins = FromHex(compact.substr(2, 2));
    if (ins.ok() && HidesBody((*ins)[0])) return compact.substr(0, 8) + " <rest hidden>";
  }
  return text;
}

std::string Hex2(uint8_t b) {
  char s[3];
  std::snprintf(s, sizeof s, "%02X", b);
  return s;
}

// What a status word of a PIN command means for the PIN, from the card's behaviour
// (src/card/iso/pin_handler.cc): a blocked PIN is unblocked only by RESET RETRY COUNTER with the
// PIN's PUK. Empty when there is nothing to add to the status word's meaning.
std::string Note(ByteView command, ByteView response) {
  if (command.size() < 4 || response.size() < 2 || (command[0] & 0x80)) return "";
  const uint8_t ins = command[1], ref = command[3];
  const uint16_t sw = static_cast<uint16_t>((response[response.size() - 2] << 8) | response.back());
  const std::string r = Hex2(ref);
  if ((ins == 0x20 || ins == 0x24) &&
      (sw == sw::kAuthenticationBlocked || sw == sw::kCounterBase)) {
    std::string s = sw == sw::kCounterBase ? "no tries left: PIN " + r + " is now blocked"
                                           : "PIN " + r + " is blocked";
    s += "; unblock it with RESET RETRY COUNTER (00 2C) and the PIN's PUK: 00 2C 00 " + r +
         " with the PUK followed by a new PIN, or 00 2C 01 " + r +
         " with the PUK alone to keep the PIN";
    if (ref == 0x81) s += " (the PUK of PIN 81 is reference 83 on the default profile)";
    if (ref == 0x82) s += " (on the default profile PIN 82 has no PUK: nothing unblocks it)";
    if (ref == 0x83) {
      s += " (on the default profile 83 is itself the PUK of PIN 81 and has no PUK: nothing "
           "unblocks it)";
    }
    return s;
  }
  if (ins == 0x2C && (sw == sw::kAuthenticationBlocked || sw == sw::kCounterBase)) {
    return std::string(sw == sw::kCounterBase ? "no tries left: " : "") + "the PUK of PIN " + r +
           " is blocked, so RESET RETRY COUNTER can no longer unblock PIN " + r +
           (ref == 0x81 ? " (on the default profile its PUK, 83, has no PUK of its own)" : "");
  }
  if (ins == 0x2C && sw == sw::kReferenceDataNotUsable) {
    return "PIN " + r + " has no PUK, so RESET RETRY COUNTER cannot unblock it" +
           std::string(" (on the default profile only PIN 81 has one: 83)");
  }
  return "";
}

Result<Bytes> Send(host::CardLink& link, const LinkOptions& o, const Bytes& command) {
  if (o.trace) std::fprintf(stderr, "> %s\n", host::DescribeCommand(command).c_str());
  auto r = o.raw ? link.Transmit(command) : host::TransmitFollowing(link, command);
  if (!r.ok()) return r.status();
  if (o.trace) std::fprintf(stderr, "< %s\n", host::DescribeResponse(*r).c_str());
  return r;
}

// Prints exchanges as they happen (plain text), or collects them for the one JSON object
// that Finish or Fail prints, so that a later failure never loses the responses already
// received (docs/cli-json.md §3.24).
class Output {
 public:
  Output(const LinkOptions& o, bool script)
      : o_(o), script_(script), rep_(script ? "script" : "apdu", o.json) {}
  void Add(ByteView command, ByteView response) {
    ++count_;
    const std::string note = Note(command, response);
    if (o_.json) {
      auto r = ResponseApdu::Parse(response);
      // The meaning of the status word alone (Describe's text after "XXXX ").
      Json e{{"command", ShowCommand(command)},
             {"data", r.ok() ? ToHex(r->data) : ""},
             {"sw", r.ok() ? HexU16(r->sw) : ""},
             {"meaning", r.ok() ? sw::Describe(r->sw).substr(5) : "malformed response"}};
      if (!note.empty()) e["note"] = note;
      responses_.push_back(std::move(e));
    } else if (script_) {
      std::printf("> %s\n< %s\n", ShowCommand(command).c_str(),
                  host::DescribeResponse(response).c_str());
      if (!note.empty()) std::printf("# note: %s\n", note.c_str());
    } else {
      std::printf("%s\n", ToHex(response).c_str());
      if (!note.empty()) std::fprintf(stderr, "tessera apdu: note: %s\n", note.c_str());
    }
    std::fflush(stdout);
  }
  void Reset(ByteView atr) {
    if (!o_.json) std::printf("> RESET\n< %s\n", ToHex(atr).c_str());
  }
  // Success: every exchange was made.
  int Finish() {
    if (o_.json) PrintJson(Json{{"ok", true}, {"responses", responses_}});
    std::fflush(stdout);
    return 0;
  }
  // A failure, after the responses received before it.
  int Fail(const Status& s, ErrorKind kind) {
    return rep_.Fail(s, kind, Json{{"responses", responses_}});
  }
  int Fail(const Status& s) { return Fail(s, KindOf(s)); }
  int count() const { return count_; }

 private:
  const LinkOptions& o_;
  const bool script_;
  const Reporter rep_;
  Json responses_ = Json::array();
  int count_ = 0;
};

constexpr const char* kApduHelp =
    "Sends each command APDU (hex; spaces allowed inside one argument) in order and prints\n"
    "each response as hex, data and SW1 SW2, one line each (--json: {\"ok\", \"responses\"},\n"
    "each with command, data, sw, meaning and, for a blocked PIN, note; a failure keeps the\n"
    "responses received before it beside its error). 61xx is followed with GET\n"
    "RESPONSE and 6Cxx with the corrected Le unless --raw is given. Every argument is checked\n"
    "before anything is sent: an argument that is not hex sends nothing. The bodies of\n"
    "VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER and PUT KEY are never printed.\n"
    "\n"
    "Exit codes: 0 every command was exchanged, whatever its status word (the status word is\n"
    "the card's answer, not a failure); 1 the card could not be reached or an exchange failed\n"
    "(the responses received before are printed), or an argument is not hex; 2 usage error.\n";

constexpr const char* kScriptHelp =
    "Runs a scriptor-style script: one command APDU per line in hex (spaces allowed), '#'\n"
    "starts a comment, 'reset' resets the card, 'exit' or 'quit' ends the script. FILE '-'\n"
    "reads the script from standard input. Prints '> command' and '< response : meaning' for\n"
    "each command, as scriptor does, and '# note: ...' where a PIN is blocked (--json: one\n"
    "object as 'tessera apdu --json' prints). The bodies of VERIFY, CHANGE REFERENCE DATA,\n"
    "RESET RETRY COUNTER and PUT KEY are shown as '<N bytes hidden>'.\n"
    "Lines run in order as they are read; a line that is not a command stops the script with\n"
    "its file and line number named, after printing the responses of the lines before it.\n"
    "\n"
    "Exit codes: 0 the script ran to its end (whatever the status words); 1 the card could not\n"
    "be reached, an exchange failed, FILE cannot be read (or is a directory) or a line is not\n"
    "a command; 2 usage error.\n";

int RunApdu(const LinkOptions& o, const std::vector<std::string>& args) {
  const Reporter rep("apdu", o.json);
  if (args.empty()) return rep.Usage("no command APDU given");
  if (auto e = CardUsageError(o); !e.empty()) return rep.Usage(e);
  Output out(o, false);
  std::vector<Bytes> commands;
  for (size_t i = 0; i < args.size(); ++i) {
    auto b = FromHex(args[i]);
    if (!b.ok()) {
      return out.Fail(InvalidArgument("APDU " + std::to_string(i + 1) + " '" + ShowText(args[i]) +
                                      "': " + b.status().message() + "; nothing was sent"));
    }
    if (!CommandApdu::Parse(*b).ok()) {
      std::fprintf(stderr,
                   "tessera apdu: warning: APDU %zu '%s' is not a well-formed APDU; sending it "
                   "anyway\n",
                   i + 1, ShowCommand(*b).c_str());
    }
    commands.push_back(*b);
  }
  auto link = OpenLink(o);
  if (!link.ok()) return out.Fail(link.status());
  for (size_t i = 0; i < commands.size(); ++i) {
    auto r = Send(**link, o, commands[i]);
    if (!r.ok()) {
      return out.Fail(
          Status(r.status().code(), "APDU " + std::to_string(i + 1) + ": " + r.status().message()),
          // Inside SCP03 an argument that is no APDU cannot be wrapped: the argument's fault.
          r.status().code() == ErrorCode::kInvalidArgument ||
                  r.status().code() == ErrorCode::kMalformed
              ? ErrorKind::kFailed
              : ErrorKind::kLink);
    }
    out.Add(commands[i], *r);
  }
  return out.Finish();
}

}  // namespace

int RunScript(const LinkOptions& o, const std::vector<std::string>& args) {
  const Reporter rep("script", o.json);
  if (args.size() != 1) {
    return rep.Usage(args.empty() ? "no script FILE given" : "give one script FILE");
  }
  if (auto e = CardUsageError(o); !e.empty()) return rep.Usage(e);
  Output out(o, true);
  const bool from_stdin = args[0] == "-";
  const std::string name = from_stdin ? "standard input" : DisplayName(args[0]);
  struct stat st {};
  if (from_stdin && ::fstat(STDIN_FILENO, &st) == 0 && S_ISDIR(st.st_mode)) {
    return out.Fail(
        InvalidArgument(
            name + " is a directory, not a script file (give a file, or '-' for standard input)"),
        ErrorKind::kFile);
  }
  // A file is read whole, with the same errors as every input file; standard input is read
  // line by line as it comes (a script may be typed or piped from a program).
  std::istringstream file;
  std::istream* in = &std::cin;
  if (!from_stdin) {
    auto text = ReadInputFile(args[0], {.what = "script", .max_bytes = 64 << 20});
    if (!text.ok()) return out.Fail(text.status(), ErrorKind::kFile);
    file.str(std::string(text->begin(), text->end()));
    in = &file;
  }
  auto link = OpenLink(o);
  if (!link.ok()) return out.Fail(link.status());
  // Stops the script at a line: what ran is printed, then the line is named. A line that is
  // not a command is the file's fault; a failed exchange the link's.
  auto stop = [&](int line_no, const std::string& why, ErrorKind kind = ErrorKind::kLink) {
    return out.Fail(InvalidArgument(name + ":" + std::to_string(line_no) + ": " + why +
                                    "; the script stopped there, after " +
                                    std::to_string(out.count()) + " command(s)"),
                    kind);
  };
  std::string line;
  int line_no = 0;
  while (std::getline(*in, line)) {
    ++line_no;
    const std::string text = line;
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream ws(line);
    std::string word, compact;
    std::vector<std::string> words;
    while (ws >> word) words.push_back(word);
    if (words.empty()) continue;
    if (words[0] == "reset") {
      auto atr = (*link)->Reset();
      if (!atr.ok()) return stop(line_no, "reset: " + atr.status().ToString());
      out.Reset(*atr);
      continue;
    }
    if (words[0] == "exit" || words[0] == "quit") break;
    for (const auto& w : words) compact += w;
    auto cmd = FromHex(compact);
    if (!cmd.ok() || cmd->size() < 4) {
      return stop(line_no, "not a command APDU: '" + ShowText(text) + "'", ErrorKind::kFile);
    }
    if (!CommandApdu::Parse(*cmd).ok()) {
      std::fprintf(stderr,
                   "tessera script: %s:%d: warning: '%s' is not a well-formed APDU; sending it "
                   "anyway\n",
                   name.c_str(), line_no, ShowCommand(*cmd).c_str());
    }
    auto r = Send(**link, o, *cmd);
    if (!r.ok()) return stop(line_no, r.status().ToString());
    out.Add(*cmd, *r);
  }
  if (in->bad()) return stop(line_no, "error reading the script", ErrorKind::kFile);
  return out.Finish();
}

namespace {

int RunReaders(const LinkOptions& o) {
  auto readers = host::ListPcscReaders();
  if (!readers.ok()) {
    return Reporter("readers", o.json).Fail(readers.status(), ErrorKind::kLink, Json::object());
  }
  if (o.json) {
    PrintJson(Json{{"ok", true}, {"readers", *readers}});
  } else {
    if (readers->empty()) std::printf("no PC/SC readers\n");
    for (const auto& r : *readers) std::printf("%s\n", r.c_str());
  }
  return 0;
}

}  // namespace

void AddCardCommands(CommandTree& tree, const LinkOptions& link) {
  Command& apdu = tree.Add(nullptr, "apdu", "send command APDUs, print responses", kApduHelp);
  apdu.Operand("HEX", "a command APDU in hex (spaces allowed inside one argument)", true, true);
  apdu.run = [&link](const Args& a) { return RunApdu(link, a.operands); };

  Command& script = tree.Add(nullptr, "script",
                             "run a scriptor-style APDU script ('-': standard input)", kScriptHelp);
  script.Operand("FILE", "the script ('-': standard input)");
  script.run = [&link](const Args& a) { return RunScript(link, a.operands); };

  Command& readers =
      tree.Add(nullptr, "readers", "list PC/SC readers",
               "Lists the PC/SC readers pcscd knows (--json: {\"ok\", \"readers\": [names]}).",
               "Exit codes: 0 listed (maybe none), 1 pcscd cannot be asked, 2 usage error.");
  readers.run = [&link](const Args&) { return RunReaders(link); };
}

}  // namespace tessera::tools
