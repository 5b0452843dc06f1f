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
#include "host/file_io.h"
#include "host/trace.h"
#include "json_writer.h"

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
  if (!o.image.empty()) return host::OpenEmbeddedLink(o.image, o.power_cut_after);
  return InvalidArgument("no card: give --image PATH, --connect ENDPOINT or --reader NAME");
}

Result<std::unique_ptr<host::CardLink>> OpenLink(const LinkOptions& o) {
  TESSERA_ASSIGN_OR_RETURN(auto link, OpenPlainLink(o));
  if (o.scp03.empty()) return link;
  crypto::scp03::ChannelOptions so;
  if (o.scp03 == "test") {
    so.keys = crypto::scp03::TestKeys();
  } else {
    TESSERA_ASSIGN_OR_RETURN(so.keys, LoadKeyFile(o.scp03));
  }
  if (crypto::scp03::IsTestKeys(so.keys)) {
    std::fprintf(stderr,
                 "tessera: warning: using the well-known test keys 404142..4F; anyone can open "
                 "a secure channel to this card\n");
  }
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
  if (!channel.ok()) return Status(channel.status().code(), "SCP03: " + channel.status().message());
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

// Prints exchanges as they happen (plain text), or collects them for the one JSON array that
// Finish prints, failure or not, so that a later failure never loses the responses already
// received and --json output is always one array (empty when nothing was exchanged).
class Output {
 public:
  Output(const LinkOptions& o, bool script) : o_(o), script_(script) {
    if (o_.json) w_.BeginArray();
  }
  void Add(ByteView command, ByteView response) {
    ++count_;
    const std::string note = Note(command, response);
    if (o_.json) {
      auto r = ResponseApdu::Parse(response);
      char sw[5] = "";
      if (r.ok()) std::snprintf(sw, sizeof sw, "%04X", r->sw);
      w_.BeginObject()
          .String("command", ShowCommand(command))
          .String("data", r.ok() ? ToHex(r->data) : "")
          .String("sw", sw)
          .String("meaning", r.ok() ? host::DescribeResponse(response) : "malformed");
      if (!note.empty()) w_.String("note", note);
      w_.EndObject();
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
  void Finish() {
    if (!o_.json || finished_) return;
    finished_ = true;
    w_.EndArray();
    std::printf("%s\n", w_.Take().c_str());
    std::fflush(stdout);
  }
  int count() const { return count_; }

 private:
  const LinkOptions& o_;
  const bool script_;
  JsonWriter w_;
  int count_ = 0;
  bool finished_ = false;
};

int Fail(const char* what, const Status& s) {
  std::fprintf(stderr, "tessera %s: %s\n", what, s.ToString().c_str());
  return 1;
}

int Usage(const char* what, const std::string& message) {
  std::fprintf(stderr, "tessera %s: %s\nRun 'tessera %s --help' for its usage.\n", what,
               message.c_str(), what);
  return 2;
}

bool WantsHelp(const std::vector<std::string>& args) {
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") return true;
  }
  return false;
}

constexpr const char* kApduHelp =
    "usage: tessera CARD [--trace] [--json] [--raw] [--scp03 KEYS ...] apdu HEX [HEX...]\n"
    "\n"
    "Sends each command APDU (hex; spaces allowed inside one argument) in order and prints\n"
    "each response as hex, data and SW1 SW2, one line each (--json: one array of objects with\n"
    "command, data, sw, meaning and, for a blocked PIN, note). 61xx is followed with GET\n"
    "RESPONSE and 6Cxx with the corrected Le unless --raw is given. Every argument is checked\n"
    "before anything is sent: an argument that is not hex sends nothing. The bodies of\n"
    "VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER and PUT KEY are never printed.\n"
    "CARD is --image PATH, --connect EP or --reader NAME; 'tessera --help' explains them.\n"
    "\n"
    "Exit codes: 0 every command was exchanged, whatever its status word (the status word is\n"
    "the card's answer, not a failure); 1 the card could not be reached or an exchange failed\n"
    "(the responses received before are printed), or an argument is not hex; 2 usage error.\n";

constexpr const char* kScriptHelp =
    "usage: tessera CARD [--trace] [--json] [--raw] [--scp03 KEYS ...] script FILE\n"
    "\n"
    "Runs a scriptor-style script: one command APDU per line in hex (spaces allowed), '#'\n"
    "starts a comment, 'reset' resets the card, 'exit' or 'quit' ends the script. FILE '-'\n"
    "reads the script from standard input. Prints '> command' and '< response : meaning' for\n"
    "each command, as scriptor does, and '# note: ...' where a PIN is blocked (--json: one\n"
    "array as 'tessera apdu --json' prints). The bodies of VERIFY, CHANGE REFERENCE DATA,\n"
    "RESET RETRY COUNTER and PUT KEY are shown as '<N bytes hidden>'.\n"
    "Lines run in order as they are read; a line that is not a command stops the script with\n"
    "its file and line number named, after printing the responses of the lines before it.\n"
    "CARD is --image PATH, --connect EP or --reader NAME; 'tessera --help' explains them.\n"
    "\n"
    "Exit codes: 0 the script ran to its end (whatever the status words); 1 the card could not\n"
    "be reached, an exchange failed, FILE cannot be read (or is a directory) or a line is not\n"
    "a command; 2 usage error.\n";

}  // namespace

int RunApdu(const LinkOptions& o, const std::vector<std::string>& args) {
  if (WantsHelp(args)) {
    std::fputs(kApduHelp, stdout);
    return 0;
  }
  if (args.empty()) return Usage("apdu", "no command APDU given");
  if (auto e = CardUsageError(o); !e.empty()) return Usage("apdu", e);
  Output out(o, false);
  auto fail = [&](const Status& s) {
    out.Finish();
    return Fail("apdu", s);
  };
  std::vector<Bytes> commands;
  for (size_t i = 0; i < args.size(); ++i) {
    auto b = FromHex(args[i]);
    if (!b.ok()) {
      return fail(InvalidArgument("APDU " + std::to_string(i + 1) + " '" + ShowText(args[i]) +
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
  if (!link.ok()) return fail(link.status());
  for (size_t i = 0; i < commands.size(); ++i) {
    auto r = Send(**link, o, commands[i]);
    if (!r.ok()) {
      return fail(
          Status(r.status().code(), "APDU " + std::to_string(i + 1) + ": " + r.status().message()));
    }
    out.Add(commands[i], *r);
  }
  out.Finish();
  return 0;
}

int RunScript(const LinkOptions& o, const std::vector<std::string>& args) {
  if (WantsHelp(args)) {
    std::fputs(kScriptHelp, stdout);
    return 0;
  }
  if (args.size() != 1) {
    return Usage("script", args.empty() ? "no script FILE given" : "give one script FILE");
  }
  if (auto e = CardUsageError(o); !e.empty()) return Usage("script", e);
  Output out(o, true);
  auto fail = [&](const Status& s) {
    out.Finish();
    return Fail("script", s);
  };
  const bool from_stdin = args[0] == "-";
  const std::string name = from_stdin ? "standard input" : DisplayName(args[0]);
  struct stat st {};
  if (from_stdin && ::fstat(STDIN_FILENO, &st) == 0 && S_ISDIR(st.st_mode)) {
    return fail(InvalidArgument(
        name + " is a directory, not a script file (give a file, or '-' for standard input)"));
  }
  // A file is read whole, with the same errors as every input file; standard input is read
  // line by line as it comes (a script may be typed or piped from a program).
  std::istringstream file;
  std::istream* in = &std::cin;
  if (!from_stdin) {
    auto text = ReadInputFile(args[0], {.what = "script", .max_bytes = 64 << 20});
    if (!text.ok()) return fail(text.status());
    file.str(std::string(text->begin(), text->end()));
    in = &file;
  }
  auto link = OpenLink(o);
  if (!link.ok()) return fail(link.status());
  // Stops the script at a line: what ran is printed, then the line is named.
  auto stop = [&](int line_no, const std::string& why) {
    out.Finish();
    std::fprintf(stderr,
                 "tessera script: %s:%d: %s; the script stopped there, after %d command(s)\n",
                 name.c_str(), line_no, why.c_str(), out.count());
    return 1;
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
      return stop(line_no, "not a command APDU: '" + ShowText(text) + "'");
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
  if (in->bad()) return stop(line_no, "error reading the script");
  out.Finish();
  return 0;
}

int RunReaders(const LinkOptions& o, const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::fputs(
        "usage: tessera readers [--json]\n"
        "Lists the PC/SC readers pcscd knows (--json: an array of names).\n"
        "Exit codes: 0 listed (maybe none), 1 pcscd cannot be asked, 2 usage error.\n",
        args[0] == "--help" ? stdout : stderr);
    return args[0] == "--help" ? 0 : 2;
  }
  auto readers = host::ListPcscReaders();
  if (!readers.ok()) return Fail("readers", readers.status());
  if (o.json) {
    JsonWriter w;
    w.BeginArray();
    for (const auto& r : *readers) w.String(r);
    w.EndArray();
    std::printf("%s\n", w.Take().c_str());
  } else {
    if (readers->empty()) std::printf("no PC/SC readers\n");
    for (const auto& r : *readers) std::printf("%s\n", r.c_str());
  }
  return 0;
}

}  // namespace tessera::tools
