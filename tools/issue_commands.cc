#include "issue_commands.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <thread>

#include "cli_args.h"
#include "crypto/sha256.h"
#include "format/status_words.h"
#include "host/app_record.h"
#include "host/card_session.h"
#include "host/group_compiler.h"
#include "host/issuance_channel.h"
#include "host/issuance_client.h"
#include "host/issuance_protocol.h"
#include "host/issuance_run.h"
#include "issue_common.h"
#include "issue_help.h"
#include "issue_run_commands.h"
#include "json_output.h"
#include "reporter.h"

namespace tessera::tools {

// The host library (src/host) is what this front-end calls.
using namespace host;  // NOLINT(google-build-using-namespace)
namespace {

// ---------------------------------------------------------------------------------------------
// issue compile

int Compile(const LinkOptions& o, const Args& a) {
  const Reporter rep("issue compile", o.json);
  if (a.operands.size() != 1) {
    return rep.Usage(a.operands.empty() ? "no GROUP file given" : "give one GROUP file");
  }
  const std::string& path = a.operands[0];
  auto g = CompileGroupFile(path);
  if (!g.ok()) return rep.FailFile(g.status());
  const Bytes encoded = g->Encode();
  const crypto::Sha256Digest digest = crypto::Sha256(encoded);
  const std::string sha = ToHex(ByteView(digest.data(), digest.size()));
  std::string out;
  if (a.has("-o")) {
    out = a.value("-o");
    std::ofstream f(out, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(encoded.data()),
            static_cast<std::streamsize>(encoded.size()));
    f.close();
    if (!f) return rep.FailFile(IOError("cannot write " + out + ": " + std::strerror(errno)));
  }
  if (o.json) {
    Json j{{"ok", true},
           {"file", path},
           {"count", g->commands.size()},
           {"bytes", encoded.size()},
           {"sha256", sha}};
    if (!out.empty()) j["output"] = out;
    PrintJson(j);
    return 0;
  }
  std::printf("%s: %zu commands, %zu bytes, SHA-256 %s\n", path.c_str(), g->commands.size(),
              encoded.size(), sha.c_str());
  if (!out.empty()) std::printf("wrote %s\n", out.c_str());
  return 0;
}

// ---------------------------------------------------------------------------------------------
// issue install-app

int InstallAppCommand(const LinkOptions& o, const Args& a) {
  const Reporter rep("issue install-app", o.json);
  if (!a.operands.empty()) return rep.Usage("unexpected argument '" + a.operands[0] + "'");
  if (auto e = CardUsageError(o); !e.empty()) return rep.Usage(e);
  if (o.scp03.empty()) {
    return rep.Usage("installing needs the issuer's secure channel: give --scp03 KEYS");
  }
  auto session = CardSession::Open(o);
  if (!session.ok()) return rep.Fail(session.status());
  auto installed = InstallIssuanceApp(**session);
  if (!installed.ok()) return rep.Fail(installed.status());
  if (o.json) {
    PrintJson(Json{
        {"ok", true}, {"application", {{"aid", ToHex(IssuanceAid())}}}, {"installed", *installed}});
  } else if (*installed) {
    std::printf("installed the issuance application %s\n", ToHex(IssuanceAid()).c_str());
  } else {
    std::printf("the issuance application %s is already installed (6A89)\n",
                ToHex(IssuanceAid()).c_str());
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// issue load-group, image write-group

// A text group compiled, or compiled bytes (47 01 ...) checked.
Result<Bytes> LoadGroupBytes(const std::string& path) {
  TESSERA_ASSIGN_OR_RETURN(CommandGroup g, LoadGroupFile(path));
  return g.Encode();
}

int LoadGroup(const LinkOptions& o, const Args& a, const std::string& command) {
  const Reporter rep(command, o.json);
  if (a.operands.size() != 1) {
    return rep.Usage(a.operands.empty() ? "no GROUP file given" : "give one GROUP file");
  }
  uint8_t function = 0;
  if (auto e = GetFunction(a, &function); !e.empty()) return rep.Usage(e);
  uint8_t version = 1, policy = format::kDefaultPolicy;
  Bytes target;
  if (a.has("--version")) {
    char* end = nullptr;
    const std::string v = a.value("--version");
    const long n = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || n < 0 || n > 255) {
      return rep.Usage("--version '" + v + "': give 0..255");
    }
    version = static_cast<uint8_t>(n);
  }
  if (a.has("--policy")) {
    auto p = ParseHexArg(a.value("--policy"));
    if (!p.ok() || p->size() != 1) {
      return rep.Usage("--policy '" + a.value("--policy") + "': give one hex byte, e.g. 05");
    }
    policy = (*p)[0];
  }
  if (a.has("--target")) {
    auto t = ParseHexArg(a.value("--target"));
    if (!t.ok() || t->size() < 5 || t->size() > 16) {
      return rep.Usage("--target '" + a.value("--target") + "': give an AID of 5..16 bytes hex");
    }
    target = *t;
  }
  if (auto e = CardUsageError(o); !e.empty()) return rep.Usage(e);
  if (o.scp03.empty()) {
    return rep.Usage(
        "loading a group needs the issuer's secure channel with the issuance application: give "
        "--scp03 KEYS");
  }
  auto group = LoadGroupBytes(a.operands[0]);
  if (!group.ok()) return rep.FailFile(group.status());
  if (target.empty()) {
    // The application the group installs: unusable from outside while half issued.
    if (auto decoded = DecodeGroup(*group); decoded.ok()) target = TargetAid(*decoded);
  }
  const size_t commands = GetU16(&(*group)[2]);
  const crypto::Sha256Digest digest = crypto::Sha256(*group);
  auto session = CardSession::Open(o);
  if (!session.ok()) {
    // image write-group names the image as an operand: a file that cannot be a card.
    return command == "image write-group" ? rep.FailFile(session.status())
                                          : rep.Fail(session.status());
  }
  CardSession& s = **session;
  bool installed = false;
  auto sel = s.Plain(SelectIssuance());
  if (!sel.ok()) return rep.Fail(sel.status());
  if (sel->sw == sw::kFileNotFound && a.has("--install-app")) {
    auto i = InstallIssuanceApp(s);
    if (!i.ok()) return rep.Fail(i.status());
    installed = *i;
  } else if (sel->sw != sw::kOk) {
    return rep.CardFail("SELECT of the issuance application F054455353455241 02", sel->sw,
                        SelectMeanings());
  }
  if (auto st = s.OpenScp03(IssuanceAid()); !st.ok()) return rep.Fail(st);
  auto up = s.StoreData(GroupUpload(function, version, target, policy, *group));
  if (!up.ok()) return rep.Fail(up.status());
  if (up->sw != sw::kOk) {
    return rep.CardFail(
        "loading function " + FunctionText(function) + ", STORE DATA block " +
            std::to_string(up->block + 1) + " of " + std::to_string(up->blocks),
        up->sw,
        {{sw::kConditionsNotSatisfied,
          "the function's last run is not acknowledged (running, partial or done without "
          "ack): finish or acknowledge it first"},
         {sw::kWrongData, "the card refused the group or the upload as malformed"},
         {sw::kNotEnoughMemory, "no room: 16 functions exist, or the NVM is full"},
         {sw::kSecurityNotSatisfied, "no session with the issuer's keys"},
         {sw::kWrongP1P2, "a STORE DATA block out of sequence"}});
  }
  const std::string sha = ToHex(ByteView(digest.data(), digest.size()));
  if (o.json) {
    PrintJson(Json{{"ok", true},
                   {"function", FunctionText(function)},
                   {"version", version},
                   {"policy", HexByte(static_cast<uint8_t>(policy | 0x01))},
                   {"target", target.empty() ? Json() : Json(ToHex(target))},
                   {"count", commands},
                   {"bytes", group->size()},
                   {"sha256", sha},
                   {"store_data_blocks", up->blocks},
                   {"installed_app", installed}});
    return 0;
  }
  if (installed)
    std::printf("installed the issuance application %s\n", ToHex(IssuanceAid()).c_str());
  std::printf("loaded function %s: %zu commands, %zu bytes, SHA-256 %s (%zu STORE DATA blocks)\n",
              FunctionText(function).c_str(), commands, group->size(), sha.c_str(), up->blocks);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// issue run

// ---------------------------------------------------------------------------------------------
// issue status, resume, retry-failed, ack

int StatusCommand(const LinkOptions& o, const Args& a) {
  const Reporter rep("issue status", o.json);
  if (!a.operands.empty()) return rep.Usage("unexpected argument '" + a.operands[0] + "'");
  uint8_t function = 0;
  if (auto e = GetFunction(a, &function); !e.empty()) return rep.Usage(e);
  if (auto e = CardUsageError(o); !e.empty()) return rep.Usage(e);
  CardChannel ch(o, WarnOf(rep), function, /*plain=*/true);  // status needs no session
  auto t = ch.Prepare();
  if (!t.ok()) return rep.Fail(t.status());
  auto r = ch.Execute(ExecuteIssuance(IssueOp::kStatus, function, nullptr));
  if (!r.ok()) return rep.Fail(r.status());
  if (r->sw != sw::kOk) return rep.CardFail("EXECUTE ISSUANCE status", r->sw, ExecuteMeanings());
  auto rep_ = ParseRunReport(r->data);
  if (!rep_.ok()) return rep.Fail(rep_.status());
  const bool acked = rep_->acknowledged;
  if (o.json) {
    Json j{{"ok", true}};
    AddRunJson(j, *rep_);
    j["target"] = rep_->target.empty() ? Json() : Json(ToHex(rep_->target));
    if (t->known) {
      j["version"] = t->version;
      j["policy"] = HexByte(t->policy);
      j["group_fid"] = HexU16(t->fid);
      j["sha256"] = ToHex(t->digest);
    }
    PrintJson(j);
    return 0;
  }
  PrintReport(*rep_, t->known ? &*t : nullptr, acked);
  return 0;
}

}  // namespace

namespace {

void FunctionOption(Command& c) {
  c.Value("--function", "N", "the card function: 1..254 (or 0x01..0xFE)");
}

void RunOptions(Command& c) {
  c.Value("--run-id", "HEX16", "the run id (8 bytes hex); default: the state file's")
      .Value("--state", "FILE",
             "the state file (default tessera-issue-SERIAL-NN.state in the current directory)")
      .Value("--log", "FILE", "the JSON-lines log (default: the state file's name with .log)");
}

void GroupOptions(Command& c) {
  FunctionOption(c);
  c.Value("--version", "V", "the group's version, 0..255 (default 1)")
      .Value("--target", "AID",
             "the application the function issues (5..16 bytes hex): it does not select while "
             "a run of the function is unfinished. Default: the AID the group installs (its "
             "INSTALL [for install] or installation file)")
      .Value("--policy", "XX",
             "hex: b1 stop on the first error (always set), b2 partial retry allowed, b3 (04) "
             "secure channel required for EXECUTE ISSUANCE (default 01)")
      .Flag("--install-app", "install the issuance application first when the card has none");
}

}  // namespace

void AddIssueCommands(CommandTree& tree, const LinkOptions& link) {
  Command& issue =
      tree.Add(nullptr, "issue",
               "self-issuance: compile, load and run card functions' command groups", kIssueHelp);
  issue.app->require_subcommand(1);

  Command& compile =
      tree.Add(issue.app, "compile",
               "compile a group's text form (profiles/*.group) to the card's form", kCompileHelp);
  compile.Operand("GROUP", "the group's text ('-': standard input)")
      .Value("-o,--output", "OUT", "write the compiled bytes to OUT");
  compile.run = [&link](const Args& a) { return Compile(link, a); };

  Command& install =
      tree.Add(issue.app, "install-app",
               "install the issuance application (GP INSTALL, with the ISD)", kInstallAppHelp);
  install.run = [&link](const Args& a) { return InstallAppCommand(link, a); };

  Command& load =
      tree.Add(issue.app, "load-group",
               "compile and upload a group as card function N (STORE DATA BF73)", kLoadGroupHelp);
  load.Operand("GROUP", "the group: text, or compiled bytes from 'issue compile -o'");
  GroupOptions(load);
  load.run = [&link](const Args& a) { return LoadGroup(link, a, "issue load-group"); };

  Command& run =
      tree.Add(issue.app, "run", "issue: start, retries, reconnection and resume, log, acknowledge",
               kRunHelp);
  FunctionOption(run);
  RunOptions(run);
  run.Flag("--no-ack", "stop before the acknowledgement")
      .Value("--retries", "K",
             "retries of a command that failed with a transient status word, 0..10 (default 3)")
      .Flag("--again",
            "start a new run of a function the card holds done and acknowledged by another run");
  run.run = [&link](const Args& a) { return RunCommand(link, a); };

  Command& status =
      tree.Add(issue.app, "status",
               "the function's journal: state, commands succeeded, first failure", kStatusHelp);
  FunctionOption(status);
  status.run = [&link](const Args& a) { return StatusCommand(link, a); };

  struct StepSpec {
    const char* name;
    const char* summary;
    IssueOp op;
  };
  for (const StepSpec& step :
       {StepSpec{"resume", "continue an interrupted or partial run (P1 01)", IssueOp::kResume},
        StepSpec{"retry-failed", "run again the commands that did not succeed (P1 02)",
                 IssueOp::kRetryFailed},
        StepSpec{"ack", "acknowledge the run (P1 04)", IssueOp::kAck}}) {
    Command& c = tree.Add(issue.app, step.name, step.summary, kStepHelp);
    FunctionOption(c);
    RunOptions(c);
    const std::string name = step.name;
    const IssueOp op = step.op;
    c.run = [&link, op, name](const Args& a) { return StepCommand(link, a, op, name); };
  }
}

void AddImageWriteGroup(CommandTree& tree, CLI::App* image, const LinkOptions& link) {
  Command& c =
      tree.Add(image, "write-group", "write a card function's group into an image, offline",
               kImageWriteGroupHelp);
  c.Operand("IMAGE", "the card image").Operand("GROUP", "the group: text or compiled");
  GroupOptions(c);
  c.run = [&link](const Args& in) {
    const std::string command = "image write-group";
    if (!link.image.empty() || !link.connect.empty() || !link.reader.empty() ||
        link.power_cut_after || link.raw) {
      return Reporter(command, link.json)
          .Usage(
              "the image is an operand: --image, --connect, --reader, --power-cut-after and "
              "--raw do not apply");
    }
    LinkOptions o = link;
    Args a = in;
    o.image = a.operands[0];
    a.operands.erase(a.operands.begin());
    if (o.scp03.empty()) o.scp03 = "test";
    return LoadGroup(o, a, command);
  };
}

}  // namespace tessera::tools
