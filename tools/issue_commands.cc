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
#include "host/issuance_client.h"
#include "host/issuance_protocol.h"
#include "host/issuance_run.h"
#include "issue_help.h"
#include "json_output.h"
#include "reporter.h"

namespace tessera::tools {

// The host library (src/host) is what this front-end calls.
using namespace host;  // NOLINT(google-build-using-namespace)
namespace {

// --function N: decimal 1..254 or 0x01..0xFE.
std::optional<uint8_t> ParseFunction(const std::string& v) {
  if (v.empty()) return std::nullopt;
  char* end = nullptr;
  const bool hex = v.size() > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X');
  errno = 0;
  const unsigned long n = std::strtoul(v.c_str() + (hex ? 2 : 0), &end, hex ? 16 : 10);
  if (errno != 0 || *end != '\0' || !std::isdigit(static_cast<unsigned char>(v[0])) || n < 1 ||
      n > 254) {
    return std::nullopt;
  }
  return static_cast<uint8_t>(n);
}

// The function, or a usage message.
std::string GetFunction(const Args& a, uint8_t* out) {
  if (!a.has("--function")) return "--function N is required (the card function, 1..254)";
  auto f = ParseFunction(a.value("--function"));
  if (!f) return "--function '" + a.value("--function") + "': give 1..254 (or 0x01..0xFE)";
  *out = *f;
  return "";
}

std::string FunctionText(uint8_t f) {
  return HexByte(f);
}

// ---------------------------------------------------------------------------------------------
// The issuance application's files, read with READ RECORD (their access is "read: always")

constexpr uint8_t kPolicySecure = format::kPolicySecureChannel;

// ---------------------------------------------------------------------------------------------
// Showing a template

// A line per command (ranges of equal ones for groups of more than 64 commands).
std::vector<std::string> CommandLines(const RunReport& r) {
  auto state = [&](size_t i) -> std::string {
    if (r.done(i)) return "ok";
    if (i == r.first_pending && r.failed_sw != 0) {
      return "failed " + HexU16(r.failed_sw) + " (" + Meaning(r.failed_sw) + ")";
    }
    return "not run";
  };
  std::vector<std::string> out;
  if (r.count <= 64) {
    for (size_t i = 0; i < r.count; ++i) {
      out.push_back("  command " + std::to_string(i) + ": " + state(i));
    }
    return out;
  }
  for (size_t i = 0; i < r.count;) {
    const std::string s = state(i);
    size_t j = i + 1;
    while (j < r.count && state(j) == s) ++j;
    out.push_back(j == i + 1 ? "  command " + std::to_string(i) + ": " + s
                             : "  commands " + std::to_string(i) + "-" + std::to_string(j - 1) +
                                   ": " + s + " (" + std::to_string(j - i) + ")");
    i = j;
  }
  return out;
}

std::string PendingText(const RunReport& r) {
  if (r.first_pending == 0xFFFF) return "";
  if (r.failed_sw != 0) {
    return "first failed: command " + std::to_string(r.first_pending) + " with " +
           HexU16(r.failed_sw) + ": " + Meaning(r.failed_sw);
  }
  return "first unanswered: command " + std::to_string(r.first_pending);
}

// The run's fields (docs/cli-json.md §2.13), added to `j`.
void AddRunJson(Json& j, const RunReport& r) {
  j["function"] = FunctionText(r.function);
  j["state"] = RunStateName(r.state);
  j["run_id"] = RunIdText(r.run_id);
  j["count"] = r.count;
  j["succeeded"] = r.succeeded;
  Json commands = Json::array();
  for (size_t i = 0; i < r.count; ++i) {
    commands.push_back(r.done(i)                                    ? "ok"
                       : (i == r.first_pending && r.failed_sw != 0) ? "failed"
                                                                    : "not run");
  }
  j["commands"] = commands;
  if (r.first_pending != 0xFFFF) {
    j["first_pending"] = r.first_pending;
    if (r.failed_sw != 0) {
      j["failed_sw"] = HexU16(r.failed_sw);
      j["failed_meaning"] = Meaning(r.failed_sw);
    }
  }
  j["acked"] = r.acknowledged;
}

// Progress on stderr: a bar redrawn in place on a terminal, plain lines otherwise.
class Progress {
 public:
  explicit Progress(const std::string& command) : command_(command), tty_(isatty(2) == 1) {}
  void Request(const std::string& phase) {
    phase_ = phase;
    if (tty_) {
      std::fprintf(stderr, "\r\033[K%-7s %s waiting for the card (EXECUTE ISSUANCE %s)",
                   phase.c_str(), Bar(done_, count_).c_str(), phase.c_str());
    } else {
      std::fprintf(stderr, "tessera %s: %s: EXECUTE ISSUANCE sent\n", command_.c_str(),
                   phase.c_str());
    }
    std::fflush(stderr);
  }
  void Response(const std::string& phase, uint16_t sw, const RunReport& r) {
    done_ = r.succeeded, count_ = r.count;
    const std::string summary = HexU16(sw) + " " + RunStateName(r.state) + ", " +
                                std::to_string(r.succeeded) + " of " + std::to_string(r.count) +
                                " commands succeeded";
    if (tty_) {
      std::fprintf(stderr, "\r\033[K%-7s %s %s\n", phase.c_str(), Bar(r.succeeded, r.count).c_str(),
                   summary.c_str());
    } else {
      std::fprintf(stderr, "tessera %s: %s: %s\n", command_.c_str(), phase.c_str(),
                   summary.c_str());
    }
    for (const std::string& l : CommandLines(r)) std::fprintf(stderr, "%s\n", l.c_str());
    std::fflush(stderr);
  }
  void Note(const std::string& n) {
    std::fprintf(stderr, "%stessera %s: %s\n", tty_ ? "\r\033[K" : "", command_.c_str(), n.c_str());
    std::fflush(stderr);
  }

 private:
  static std::string Bar(size_t done, size_t count) {
    constexpr size_t kWidth = 30;
    const size_t fill = count == 0 ? 0 : done * kWidth / count;
    return "[" + std::string(fill, '#') + std::string(kWidth - fill, '.') + "] " +
           std::to_string(done) + "/" + (count ? std::to_string(count) : std::string("?"));
  }
  std::string command_;
  bool tty_;
  std::string phase_;
  size_t done_ = 0, count_ = 0;
};

// ---------------------------------------------------------------------------------------------
// The card, for runs and steps

class CardChannel final : public IssueChannel {
 public:
  // `plain`: never a secure session (status and ack need none, whatever the policy).
  CardChannel(const LinkOptions& o, const Reporter& rep, uint8_t function, bool plain = false)
      : o_(o), rep_(rep), function_(function), plain_(plain) {}

  // The first connection: opens the link, reads the function's table record, and decides
  // whether EXECUTE ISSUANCE goes inside a secure session.
  // With keys the table is read in the session (the only place it is readable); without,
  // an unreadable table leaves the policy to the card (6982 when it needs the session).
  Result<TableRecord> Prepare() {
    TESSERA_RETURN_IF_ERROR(OpenLink());
    if (has_keys()) {
      TESSERA_RETURN_IF_ERROR(s_->OpenScp03(IssuanceAid()));
      in_session_ = true;
    }
    TESSERA_ASSIGN_OR_RETURN(TableRecord t, FindFunction(*s_, function_, in_session_));
    secure_ = !plain_ && ((t.policy & kPolicySecure) != 0 || has_keys());
    return t;
  }
  bool secure() const { return secure_; }
  bool has_keys() const { return !o_.scp03.empty(); }
  // The card's serial (16 hex digits), known once Prepare() succeeded.
  const std::string& card_serial() const { return serial_; }

  Status Connect() override {
    if (fresh_) {  // Prepare() just opened it
      fresh_ = false;
      if (secure_ && !in_session_) return s_->OpenScp03(IssuanceAid());
      return Status::Ok();
    }
    TESSERA_RETURN_IF_ERROR(OpenLink());
    fresh_ = false;
    if (secure_) {
      TESSERA_RETURN_IF_ERROR(s_->OpenScp03(IssuanceAid()));
      in_session_ = true;
    }
    return Status::Ok();
  }

  Result<ResponseApdu> Execute(const CommandApdu& c) override {
    if (!s_) return IOError("no link to the card");
    return secure_ ? s_->Secure(c) : s_->Plain(c);
  }

  CardSession& session() { return *s_; }

 private:
  // Opens a link and reads the card's identity. A card in privileged mode (a request another
  // connection started, e.g. by a host that was killed, or this host before its link was lost,
  // runs to its end alone) refuses every command: the link is opened again until the mode
  // ends. The wait is bounded by --timeout seconds for the channel's whole life, so that
  // reconnection attempts do not each wait that long; it starts again once a link succeeds.
  Status OpenLink() {
    using Clock = std::chrono::steady_clock;
    Result<std::string> read = NotFound("no link");
    for (;;) {
      s_.reset();
      in_session_ = false;
      TESSERA_ASSIGN_OR_RETURN(s_, CardSession::Open(o_));
      bool privileged = false;
      read = ReadCardSerial(*s_, &privileged);
      if (!privileged) break;
      const auto now = Clock::now();
      if (!privileged_until_) {
        privileged_until_ = now + std::chrono::seconds(o_.timeout_s);
        rep_.Warn(
            "the card is running stored commands for another connection (privileged "
            "mode); waiting up to " +
            std::to_string(o_.timeout_s) + " s for that request to end");
      }
      if (now >= *privileged_until_) {
        s_.reset();
        return FailedPrecondition(read.status().message() + "; still so after " +
                                  std::to_string(o_.timeout_s) + " s (--timeout)");
      }
      s_.reset();  // a closed connection leaves the card to the request
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!read.ok()) return read.status();
    privileged_until_.reset();
    std::string serial = std::move(*read);
    // The card's identity, on every link: a reconnection must reach the same card.
    if (!serial_.empty() && serial != serial_ && serial_ != kNoSerial) {
      return FailedPrecondition("after reconnecting, another card answered (serial " + serial +
                                ", not " + serial_ + ")");
    }
    serial_ = serial;
    TESSERA_RETURN_IF_ERROR(SelectIssuanceApp(*s_));
    fresh_ = true;
    return Status::Ok();
  }

  LinkOptions o_;
  const Reporter& rep_;
  uint8_t function_;
  bool plain_;
  std::unique_ptr<CardSession> s_;
  bool secure_ = false;
  bool fresh_ = false;
  bool in_session_ = false;
  // While the card is in privileged mode for another connection: until when it is waited for.
  std::optional<std::chrono::steady_clock::time_point> privileged_until_;
  std::string serial_;
};

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

ErrorKind RunErrorKind(RunFailure f) {
  switch (f) {
    case RunFailure::kCard:
      return ErrorKind::kCard;
    case RunFailure::kLink:
      return ErrorKind::kLink;
    case RunFailure::kPartial:
      return ErrorKind::kPartial;
    case RunFailure::kFile:
      return ErrorKind::kFile;
    case RunFailure::kNone:
    case RunFailure::kFailed:
      break;
  }
  return ErrorKind::kFailed;
}

std::string StatePathOf(const Args& a, const std::string& card, uint8_t function) {
  return a.has("--state") ? a.value("--state") : DefaultStatePath(card, function);
}

int PrintOutcome(const LinkOptions& o, const Reporter& rep, const RunOutcome& out, uint8_t function,
                 const RunId& run_id, const std::string& state, const std::string& log) {
  if (o.json) {
    Json j = out.exit_code == 0
                 ? Json{{"ok", true}}
                 : ErrorJson(out.message, RunErrorKind(out.failure),
                             out.failure_sw != 0 ? std::optional(out.failure_sw) : std::nullopt);
    if (out.report) {
      AddRunJson(j, *out.report);
      // The host's acknowledgement, or the card's flag (a run issued already).
      j["acked"] = out.acked || out.report->acknowledged;
    } else {
      j["function"] = FunctionText(function);
      j["run_id"] = RunIdText(run_id);
    }
    if (out.sw != 0) j["sw"] = HexU16(out.sw);
    j["replay"] = out.replay;
    j["retries"] = out.retries;
    j["reconnects"] = out.reconnects;
    j["state_file"] = state;
    j["log"] = log;
    PrintJson(j);
  }
  if (out.exit_code != 0) {
    std::fprintf(stderr, "tessera %s: %s\n", rep.command().c_str(), out.message.c_str());
    return out.exit_code;
  }
  if (!o.json) {
    const RunReport& r = *out.report;
    std::printf(
        "function %s: run %s %s, %u of %u commands succeeded%s%s\n", FunctionText(function).c_str(),
        RunIdText(run_id).c_str(), out.replay ? "was already done (nothing executed)" : "done",
        r.succeeded, r.count, out.acked ? ", acknowledged" : ", not acknowledged (--no-ack)",
        out.reconnects ? (" (" + std::to_string(out.reconnects) + " reconnections)").c_str() : "");
  }
  return 0;
}

int Run(const LinkOptions& o, const Args& a) {
  const Reporter rep("issue run", o.json);
  if (!a.operands.empty()) return rep.Usage("unexpected argument '" + a.operands[0] + "'");
  uint8_t function = 0;
  if (auto e = GetFunction(a, &function); !e.empty()) return rep.Usage(e);
  std::optional<RunId> given;
  if (a.has("--run-id")) {
    given = ParseRunId(a.value("--run-id"));
    if (!given) return rep.Usage("--run-id '" + a.value("--run-id") + "': give 16 hex digits");
  }
  int retries = 3;
  if (a.has("--retries")) {
    char* end = nullptr;
    const std::string v = a.value("--retries");
    const long n = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || n < 0 || n > 10) return rep.Usage("--retries: give 0..10");
    retries = static_cast<int>(n);
  }
  if (auto e = CardUsageError(o); !e.empty()) return rep.Usage(e);
  // The card first (reads only): its serial names the state file, and a state file of
  // another card is refused before anything is sent.
  CardChannel channel(o, rep, function);
  auto table = channel.Prepare();
  if (!table.ok()) return rep.Fail(table.status());
  if ((table->policy & kPolicySecure) && !channel.has_keys()) {
    return rep.Usage("function " + FunctionText(function) +
                     "'s policy needs the secure channel (b3): give --scp03 KEYS");
  }
  const std::string card = channel.card_serial();
  if (card == kNoSerial && !a.has("--state")) {
    return rep.Usage("this card has no serial (serial 0): give --state FILE, one per card");
  }
  const std::string state_path = StatePathOf(a, card, function);
  const std::string log_path = a.has("--log") ? a.value("--log") : DefaultLogPath(state_path);
  Progress progress(rep.command());

  // The run id: an unacknowledged one in the state file is resumed; otherwise a new one,
  // stored durably before anything is sent.
  auto stored = ReadIssueState(state_path);
  if (!stored.ok()) return rep.Fail(stored.status());
  IssueState state;
  state.function = function;
  if (stored->has_value() && !(*stored)->card.empty() && (*stored)->card != card) {
    return rep.Fail("the state file " + state_path + " belongs to card " + (*stored)->card +
                    "; this card is " + card + " (give --state FILE for this card)");
  }
  if (stored->has_value() && (*stored)->function != function) {
    return rep.Usage("the state file " + state_path + " is function " +
                     FunctionText((*stored)->function) + "'s; give --state FILE for function " +
                     FunctionText(function));
  }
  if (stored->has_value() && !(*stored)->acked) {
    state = **stored;
    state.card = card;
    if (given && *given != state.run_id) {
      return rep.Fail("the state file " + state_path + " holds run " + RunIdText(state.run_id) +
                      " of function " + FunctionText(function) +
                      ", not acknowledged: run 'tessera issue run' without --run-id to finish "
                      "it, or 'tessera issue ack' it, before a new run");
    }
    progress.Note(
        "the state file " + state_path + " holds run " + RunIdText(state.run_id) +
        ", not acknowledged: an earlier 'issue run' was interrupted (or stopped); resuming it");
  } else {
    state.card = card;
    state.run_id = given ? *given : RandomRunId();
    state.acked = false;
    state.result = "started";
    if (auto st = WriteIssueState(state_path, state); !st.ok()) return rep.Fail(st);
  }
  // What the state file said before this run, put back when the card turns out to hold
  // another run (the start never reached its journal: nothing of this run id exists).
  const std::optional<IssueState> previous =
      stored->has_value() && (*stored)->acked ? std::optional<IssueState>(**stored) : std::nullopt;
  IssueLog log;
  if (auto st = log.Open(log_path); !st.ok()) return rep.Fail(st);

  RunOptions ro;
  ro.function = function;
  ro.run_id = state.run_id;
  ro.ack = !a.has("--no-ack");
  ro.again = a.has("--again");
  ro.retries = retries;
  ro.log = &log;
  ro.observer.request = [&](const std::string& p) { progress.Request(p); };
  ro.observer.response = [&](const std::string& p, uint16_t sw, const RunReport& r) {
    progress.Response(p, sw, r);
  };
  ro.observer.note = [&](const std::string& n) { progress.Note(n); };
  ro.acked = [&]() {
    IssueState s = state;
    s.acked = true;
    s.result = "done";
    return WriteIssueState(state_path, s);
  };
  const RunOutcome out = RunIssuance(channel, ro);
  if (!out.acked && out.report && out.report->run_id == state.run_id) {
    IssueState s = state;
    s.result = out.exit_code == kExitIssued ? "done" : RunStateName(out.report->state);
    (void)WriteIssueState(state_path, s);
  } else if (!out.acked && out.exit_code != kExitIssued && !out.run_id_sent) {
    // The card never recorded this run id: a state file that held an acknowledged run goes
    // back to it (a new file stays, its run id unused: the next run starts with it).
    if (previous) (void)WriteIssueState(state_path, *previous);
  }
  return PrintOutcome(o, rep, out, function, state.run_id, state_path, log_path);
}

// ---------------------------------------------------------------------------------------------
// issue status, resume, retry-failed, ack

void PrintReport(const RunReport& r, const TableRecord* t, std::optional<bool> acked) {
  if (t) {
    std::printf("function %s: group file %s, version %u, %u commands, policy %s%s%s\n",
                FunctionText(r.function).c_str(), HexU16(t->fid).c_str(), t->version, t->count,
                HexByte(t->policy).c_str(), (t->policy & kPolicySecure) ? " (secure channel)" : "",
                t->target.empty() ? "" : (", target " + ToHex(t->target)).c_str());
  } else {
    std::printf("function %s%s (its table record is readable only with --scp03 KEYS)\n",
                FunctionText(r.function).c_str(),
                r.target.empty() ? "" : (", target " + ToHex(r.target)).c_str());
  }
  std::printf("state: %s\n", RunStateName(r.state).c_str());
  if (r.state == static_cast<uint8_t>(RunState::kIdle) && r.run_id == RunId{}) {
    std::printf("run id: none (no run since the group was loaded)\n");
  } else {
    std::printf("run id: %s%s\n", RunIdText(r.run_id).c_str(),
                !acked   ? ""
                : *acked ? " (acknowledged)"
                         : " (not acknowledged)");
  }
  std::printf("succeeded: %u of %u\n", r.succeeded, r.count);
  if (const std::string p = PendingText(r); !p.empty()) std::printf("%s\n", p.c_str());
  for (const std::string& l : CommandLines(r)) std::printf("%s\n", l.c_str());
}

int StatusCommand(const LinkOptions& o, const Args& a) {
  const Reporter rep("issue status", o.json);
  if (!a.operands.empty()) return rep.Usage("unexpected argument '" + a.operands[0] + "'");
  uint8_t function = 0;
  if (auto e = GetFunction(a, &function); !e.empty()) return rep.Usage(e);
  if (auto e = CardUsageError(o); !e.empty()) return rep.Usage(e);
  CardChannel ch(o, rep, function, /*plain=*/true);  // status needs no session
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

int Step(const LinkOptions& o, const Args& a, IssueOp op, const std::string& name) {
  const Reporter rep("issue " + name, o.json);
  if (!a.operands.empty()) return rep.Usage("unexpected argument '" + a.operands[0] + "'");
  uint8_t function = 0;
  if (auto e = GetFunction(a, &function); !e.empty()) return rep.Usage(e);
  if (a.has("--run-id") && a.has("--state")) return rep.Usage("give --run-id or --state, not both");
  if (auto e = CardUsageError(o); !e.empty()) return rep.Usage(e);
  // The card takes an ack without a session, whatever the policy.
  CardChannel ch(o, rep, function, /*plain=*/op == IssueOp::kAck);
  auto t = ch.Prepare();
  if (!t.ok()) return rep.Fail(t.status());
  if (ch.secure() && !ch.has_keys()) {
    return rep.Usage("function " + FunctionText(function) +
                     "'s policy needs the secure channel (b3): give --scp03 KEYS");
  }
  const std::string card = ch.card_serial();
  if (card == kNoSerial && !a.has("--state") && !a.has("--run-id")) {
    return rep.Usage("this card has no serial (serial 0): give --state FILE or --run-id HEX16");
  }
  const std::string state_path = StatePathOf(a, card, function);
  RunId run_id{};
  std::optional<IssueState> state;
  auto of_this_card = [&](const IssueState& st) { return st.card.empty() || st.card == card; };
  if (a.has("--run-id")) {
    auto id = ParseRunId(a.value("--run-id"));
    if (!id) return rep.Usage("--run-id '" + a.value("--run-id") + "': give 16 hex digits");
    run_id = *id;
    auto s = ReadIssueState(state_path);  // to record an ack in it when it holds this run
    if (s.ok() && s->has_value() && (*s)->function == function && (*s)->run_id == run_id &&
        of_this_card(**s))
      state = **s;
  } else {
    auto s = ReadIssueState(state_path);
    if (!s.ok()) return rep.Fail(s.status());
    if (!s->has_value()) {
      return rep.Usage("no run id: give --run-id HEX16, or --state FILE (" + state_path +
                       " does not exist)");
    }
    if ((*s)->function != function) {
      return rep.Usage("the state file " + state_path + " is function " +
                       FunctionText((*s)->function) + "'s");
    }
    if (!of_this_card(**s)) {
      return rep.Fail("the state file " + state_path + " belongs to card " + (*s)->card +
                      "; this card is " + card);
    }
    state = **s;
    run_id = state->run_id;
  }
  IssueLog log;
  if (a.has("--log") || state) {
    const std::string lp = a.has("--log") ? a.value("--log") : DefaultLogPath(state_path);
    if (auto st = log.Open(lp); !st.ok()) return rep.Fail(st);
  }
  if (auto st = ch.Connect(); !st.ok()) return rep.Fail(st);
  (void)log.Write(WithRun(
      MakeStep(name == "retry-failed" ? "retry" : name, std::nullopt, std::nullopt, "single step"),
      function, run_id));
  auto r = ch.Execute(ExecuteIssuance(op, function, &run_id));
  if (!r.ok()) return rep.Fail(r.status());
  if (r->sw != sw::kOk && r->sw != sw::kWarningNvmChanged && r->sw != sw::kExecutionError) {
    (void)log.Write(WithRun(MakeStep("refused", r->sw), function, run_id));
    return rep.CardFail("EXECUTE ISSUANCE " + name + " of run " + RunIdText(run_id), r->sw,
                        ExecuteMeanings());
  }
  auto report = ParseRunReport(r->data);
  if (!report.ok()) return rep.Fail(report.status());
  (void)log.Write(WithRun(MakeStep(op == IssueOp::kAck ? "ack" : "response", r->sw, *report),
                          function, run_id));
  if (op == IssueOp::kAck && state) {
    state->acked = true;
    state->result = RunStateName(report->state);
    if (auto st = WriteIssueState(state_path, *state); !st.ok()) {
      return rep.Fail("acknowledged, but " + st.message());
    }
  }
  const bool done = report->state == static_cast<uint8_t>(RunState::kDone);
  const int code = op == IssueOp::kAck ? 0 : done ? 0 : kExitPartial;
  if (o.json) {
    Json j = code == 0 ? Json{{"ok", true}}
                       : ErrorJson("the run stopped: " + PendingText(*report), ErrorKind::kPartial,
                                   report->failed_sw != 0 ? std::optional(report->failed_sw)
                                                          : std::nullopt);
    AddRunJson(j, *report);
    j["sw"] = HexU16(r->sw);
    if (op == IssueOp::kAck) j["acked"] = true;
    PrintJson(j);
  } else {
    std::printf("EXECUTE ISSUANCE %s: %s\n", name.c_str(), HexU16(r->sw).c_str());
    PrintReport(*report, t->known ? &*t : nullptr, report->acknowledged);
  }
  if (code == kExitPartial) {
    std::fprintf(stderr, "tessera %s: the run stopped: %s\n", rep.command().c_str(),
                 PendingText(*report).c_str());
  }
  return code;
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
  run.run = [&link](const Args& a) { return Run(link, a); };

  Command& status =
      tree.Add(issue.app, "status",
               "the function's journal: state, commands succeeded, first failure", kStatusHelp);
  FunctionOption(status);
  status.run = [&link](const Args& a) { return StatusCommand(link, a); };

  struct StepCommand {
    const char* name;
    const char* summary;
    IssueOp op;
  };
  for (const StepCommand& step :
       {StepCommand{"resume", "continue an interrupted or partial run (P1 01)", IssueOp::kResume},
        StepCommand{"retry-failed", "run again the commands that did not succeed (P1 02)",
                    IssueOp::kRetryFailed},
        StepCommand{"ack", "acknowledge the run (P1 04)", IssueOp::kAck}}) {
    Command& c = tree.Add(issue.app, step.name, step.summary, kStepHelp);
    FunctionOption(c);
    RunOptions(c);
    const std::string name = step.name;
    const IssueOp op = step.op;
    c.run = [&link, op, name](const Args& a) { return Step(link, a, op, name); };
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
