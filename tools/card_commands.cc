#include "card_commands.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "core/apdu.h"
#include "host/card_link.h"
#include "host/secure_channel.h"
#include "host/trace.h"
#include "json_writer.h"

namespace tessera::tools {
namespace {

// A link whose commands travel inside an SCP03 session opened on another link.
class Scp03Link : public host::CardLink {
 public:
  Scp03Link(std::unique_ptr<host::CardLink> inner, std::unique_ptr<host::SecureChannel> channel)
      : inner_(std::move(inner)), channel_(std::move(channel)) {}
  Result<Bytes> Transmit(ByteView command) override { return channel_->Transmit(command); }
  Result<Bytes> Reset() override { return inner_->Reset(); }
  Result<Bytes> Atr() override { return inner_->Atr(); }
  std::string Describe() const override { return inner_->Describe() + " (SCP03)"; }

 private:
  std::unique_ptr<host::CardLink> inner_;
  std::unique_ptr<host::SecureChannel> channel_;
};

Result<std::unique_ptr<host::CardLink>> OpenPlainLink(const LinkOptions& o) {
  const int given = !o.image.empty() + !o.connect.empty() + !o.reader.empty();
  if (given > 1) return InvalidArgument("give only one of --image, --connect and --reader");
  if (!o.connect.empty()) return host::OpenSocketLink(o.connect);
  if (!o.reader.empty()) return host::OpenPcscLink(o.reader);
  if (!o.image.empty()) return host::OpenEmbeddedLink(o.image);
  return InvalidArgument("no card: give --image PATH, --connect ENDPOINT or --reader NAME");
}

Result<std::unique_ptr<host::CardLink>> OpenLink(const LinkOptions& o) {
  TESSERA_ASSIGN_OR_RETURN(auto link, OpenPlainLink(o));
  if (o.scp03.empty()) return link;
  host::Scp03Options so;
  if (o.scp03 == "test") {
    so.keys = host::TestKeys();
  } else {
    TESSERA_ASSIGN_OR_RETURN(so.keys, host::LoadKeyFile(o.scp03));
  }
  if (host::IsTestKeys(so.keys)) {
    std::fprintf(stderr,
                 "tessera: warning: using the well-known test keys 404142..4F; anyone can open "
                 "a secure channel to this card\n");
  }
  so.level = o.scp03_level;
  so.kvn = o.scp03_kvn;
  so.s16 = o.scp03_s16;
  host::CardLink* raw = link.get();
  const bool trace = o.trace;
  auto channel = host::SecureChannel::Open(
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

struct Exchange {
  Bytes command;
  Bytes response;
};

Result<Exchange> Send(host::CardLink& link, const LinkOptions& o, const Bytes& command) {
  if (o.trace) std::fprintf(stderr, "> %s\n", host::DescribeCommand(command).c_str());
  auto r = o.raw ? link.Transmit(command) : host::TransmitFollowing(link, command);
  if (!r.ok()) return r.status();
  if (o.trace) std::fprintf(stderr, "< %s\n", host::DescribeResponse(*r).c_str());
  return Exchange{command, *r};
}

void PrintExchanges(const LinkOptions& o, const std::vector<Exchange>& all) {
  if (o.json) {
    JsonWriter w;
    w.BeginArray();
    for (const auto& e : all) {
      auto r = ResponseApdu::Parse(e.response);
      char sw[5] = "";
      if (r.ok()) std::snprintf(sw, sizeof sw, "%04X", r->sw);
      w.BeginObject()
          .String("command", ToHex(e.command))
          .String("data", r.ok() ? ToHex(r->data) : "")
          .String("sw", sw)
          .String("meaning", r.ok() ? host::DescribeResponse(e.response) : "malformed")
          .EndObject();
    }
    w.EndArray();
    std::printf("%s\n", w.Take().c_str());
    return;
  }
  for (const auto& e : all) std::printf("%s\n", ToHex(e.response).c_str());
}

int Fail(const char* what, const Status& s) {
  std::fprintf(stderr, "tessera %s: %s\n", what, s.ToString().c_str());
  return 1;
}

}  // namespace

int RunApdu(const LinkOptions& o, const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help") {
    std::fputs(
        "usage: tessera [--image PATH|--connect EP|--reader NAME] [--trace] [--json] [--raw]\n"
        "               apdu HEX [HEX...]\n"
        "Sends each command APDU (hex, spaces allowed inside one argument) and prints each\n"
        "response as hex (data and SW1 SW2). 61xx is followed with GET RESPONSE and 6Cxx\n"
        "with the corrected Le unless --raw is given.\n",
        args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  std::vector<Bytes> commands;
  for (const auto& a : args) {
    auto b = FromHex(a);
    if (!b.ok()) return Fail("apdu", InvalidArgument("'" + a + "': " + b.status().message()));
    if (!CommandApdu::Parse(*b).ok()) {
      std::fprintf(stderr,
                   "tessera apdu: warning: '%s' is not a well-formed APDU; sending it anyway\n",
                   a.c_str());
    }
    commands.push_back(*b);
  }
  auto link = OpenLink(o);
  if (!link.ok()) return Fail("apdu", link.status());
  std::vector<Exchange> all;
  for (const auto& c : commands) {
    auto e = Send(**link, o, c);
    if (!e.ok()) return Fail("apdu", e.status());
    all.push_back(*e);
  }
  PrintExchanges(o, all);
  return 0;
}

int RunScript(const LinkOptions& o, const std::vector<std::string>& args) {
  if (args.size() != 1 || args[0] == "--help") {
    std::fputs(
        "usage: tessera [--image PATH|--connect EP|--reader NAME] [--trace] [--json]\n"
        "               script FILE\n"
        "Runs a scriptor-style script: one command APDU per line in hex (spaces allowed),\n"
        "'#' starts a comment, 'reset' resets the card, 'exit' or 'quit' ends the script.\n"
        "Prints '> command' and '< response : meaning' for each command, as scriptor does.\n"
        "'-' reads the script from standard input.\n",
        args.size() == 1 ? stdout : stderr);
    return args.size() == 1 ? 0 : 2;
  }
  std::ifstream file;
  std::istream* in = &std::cin;
  if (args[0] != "-") {
    file.open(args[0]);
    if (!file) return Fail("script", IOError("cannot open " + args[0]));
    in = &file;
  }
  auto link = OpenLink(o);
  if (!link.ok()) return Fail("script", link.status());
  std::vector<Exchange> all;
  std::string line;
  int line_no = 0;
  while (std::getline(*in, line)) {
    ++line_no;
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::string trimmed;
    std::istringstream ws(line);
    std::string word;
    std::vector<std::string> words;
    while (ws >> word) words.push_back(word);
    if (words.empty()) continue;
    if (words[0] == "reset") {
      auto atr = (*link)->Reset();
      if (!atr.ok()) return Fail("script", atr.status());
      if (!o.json) std::printf("> RESET\n< %s\n", ToHex(*atr).c_str());
      continue;
    }
    if (words[0] == "exit" || words[0] == "quit") break;
    for (const auto& w : words) trimmed += w;
    auto cmd = FromHex(trimmed);
    if (!cmd.ok() || cmd->size() < 4) {
      std::fprintf(stderr, "tessera script: %s:%d: not a command APDU: %s\n", args[0].c_str(),
                   line_no, line.c_str());
      return 1;
    }
    auto e = Send(**link, o, *cmd);
    if (!e.ok()) return Fail("script", e.status());
    if (!o.json) {
      std::printf("> %s\n< %s\n", ToHex(*cmd).c_str(), host::DescribeResponse(e->response).c_str());
    }
    all.push_back(*e);
  }
  if (o.json) PrintExchanges(o, all);
  return 0;
}

int RunReaders(const LinkOptions& o, const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::fputs("usage: tessera readers [--json]\nLists the PC/SC readers pcscd knows.\n",
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
