#include "host/issuance_run.h"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>
#include <tuple>

#include "format/status_words.h"
#include "host/card_session.h"
#include "host/file_io.h"
#include "host/json_text.h"

namespace tessera::host {
namespace {

constexpr const char* kStateHeader = "tessera-issue-state 1";

Status Errno(const std::string& what) {
  return IOError(what + ": " + std::strerror(errno));
}

Status WriteAll(int fd, const std::string& s, const std::string& path) {
  size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("cannot write " + path);
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

std::string DirOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string FunctionText(uint8_t f) {
  return HexByte(f);
}

}  // namespace

bool IsTransientSw(uint16_t sw) {
  return sw == sw::kMemoryFailure || sw == sw::kNoPreciseDiagnosis;
}

int RetryBackoffMs(int attempt) {
  if (attempt < 1) attempt = 1;
  return 50 << std::min(attempt - 1, 5);
}

int ReconnectBackoffMs(int attempt) {
  if (attempt < 1) attempt = 1;
  return std::min(100 << std::min(attempt - 1, 4), 1000);
}

std::optional<RunId> ParseRunId(const std::string& hex) {
  if (hex.size() != 2 * kRunIdSize) return std::nullopt;
  auto b = FromHex(hex);
  if (!b.ok() || b->size() != kRunIdSize) return std::nullopt;
  RunId id;
  std::copy(b->begin(), b->end(), id.begin());
  return id;
}

std::string RunIdText(const RunId& id) {
  return ToHex(ByteView(id.data(), id.size()));
}

RunId RandomRunId() {
  RunId id{};
  size_t got = 0;
  while (got < id.size()) {
    const ssize_t n = ::getrandom(id.data() + got, id.size() - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  if (got < id.size()) {  // no random source: time and pid still differ between runs
    const uint64_t t = static_cast<uint64_t>(
        std::chrono::system_clock::now().time_since_epoch().count() ^ (uint64_t{0} + getpid()));
    for (size_t i = 0; i < id.size(); ++i) id[i] = static_cast<uint8_t>(t >> (8 * i));
  }
  return id;
}

std::string DefaultStatePath(const std::string& card, uint8_t function) {
  return "tessera-issue-" + card + "-" + FunctionText(function) + ".state";
}

std::string DefaultLogPath(const std::string& state) {
  const std::string ext = ".state";
  if (state.size() > ext.size() && state.compare(state.size() - ext.size(), ext.size(), ext) == 0) {
    return state.substr(0, state.size() - ext.size()) + ".log";
  }
  return state + ".log";
}

Result<std::optional<IssueState>> ReadIssueState(const std::string& path) {
  auto text = ReadInputFile(path, {.what = "state file", .max_bytes = 64 * 1024});
  if (!text.ok()) {
    if (text.status().code() == ErrorCode::kNotFound) return std::optional<IssueState>();
    return text.status();
  }
  std::istringstream in(std::string(text->begin(), text->end()));
  std::string line;
  if (!std::getline(in, line) || line != kStateHeader) {
    return Malformed(path + " is not a tessera issue state file (its first line is '" +
                     std::string(kStateHeader) + "')");
  }
  IssueState s;
  bool have_function = false, have_run = false;
  int n = 1;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    const size_t eq = line.find('=');
    if (eq == std::string::npos) return Malformed(path + ":" + std::to_string(n) + ": no '='");
    const std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "card") {
      auto b = FromHex(value);
      if (!b.ok() || b->size() != 8) {
        return Malformed(path + ":" + std::to_string(n) + ": card is 16 hex digits");
      }
      s.card = ToHex(*b);
    } else if (key == "function") {
      auto b = FromHex(value);
      if (!b.ok() || b->size() != 1) {
        return Malformed(path + ":" + std::to_string(n) + ": function is one hex byte");
      }
      s.function = (*b)[0];
      have_function = true;
    } else if (key == "run_id") {
      auto id = ParseRunId(value);
      if (!id) return Malformed(path + ":" + std::to_string(n) + ": run_id is 16 hex digits");
      s.run_id = *id;
      have_run = true;
    } else if (key == "acked") {
      s.acked = value == "1";
    } else if (key == "result") {
      s.result = value;
    } else if (key == "updated") {
      s.updated = value;
    }  // other keys: from a newer tool, ignored
  }
  if (!have_function || !have_run) return Malformed(path + ": no function or no run_id");
  return std::optional<IssueState>(s);
}

Status WriteIssueState(const std::string& path, IssueState s) {
  s.updated = IsoTimeNow();
  std::ostringstream text;
  text << kStateHeader << "\n";
  if (!s.card.empty()) text << "card=" << s.card << "\n";
  text << "function=" << FunctionText(s.function) << "\n"
       << "run_id=" << RunIdText(s.run_id) << "\n"
       << "acked=" << (s.acked ? 1 : 0) << "\n"
       << "result=" << s.result << "\n"
       << "updated=" << s.updated << "\n";
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot write the state file " + tmp);
  Status st = WriteAll(fd, text.str(), tmp);
  if (st.ok() && ::fsync(fd) != 0) st = Errno("cannot sync " + tmp);
  if (::close(fd) != 0 && st.ok()) st = Errno("cannot write " + tmp);
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    st = Errno("cannot rename " + tmp + " to " + path);
    ::unlink(tmp.c_str());
    return st;
  }
  const std::string dir = DirOf(path);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return Errno("cannot open the directory " + dir);
  st = ::fsync(dfd) == 0 ? Status::Ok() : Errno("cannot sync the directory " + dir);
  ::close(dfd);
  return st;
}

std::string IsoTimeNow() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms));
  return out;
}

std::string LogLine(const LogStep& s, const std::string& time) {
  Json j{{"t", time}, {"step", s.step}, {"function", FunctionText(s.function)}};
  if (s.run_id) j["run_id"] = RunIdText(*s.run_id);
  if (s.sw) j["sw"] = HexU16(*s.sw);
  if (s.report) {
    const RunReport& r = *s.report;
    j["state"] = RunStateName(r.state);
    j["count"] = r.count;
    j["succeeded"] = r.succeeded;
    if (r.first_pending != 0xFFFF) {
      j[r.failed_sw != 0 ? "failed_index" : "unanswered_index"] = r.first_pending;
      if (r.failed_sw != 0) j["failed_sw"] = HexU16(r.failed_sw);
    }
  }
  if (s.attempt > 0) j["attempt"] = s.attempt;
  if (!s.message.empty()) j["message"] = s.message;
  return DumpJson(j);
}

LogStep MakeStep(std::string step, std::optional<uint16_t> sw, std::optional<RunReport> report,
                 std::string message, int attempt) {
  LogStep s;
  s.step = std::move(step);
  s.sw = sw;
  s.report = std::move(report);
  s.message = std::move(message);
  s.attempt = attempt;
  return s;
}

LogStep WithRun(LogStep s, uint8_t function, const RunId& run_id) {
  s.function = function;
  s.run_id = run_id;
  return s;
}

IssueLog::~IssueLog() {
  if (fd_ >= 0) ::close(fd_);
}

Status IssueLog::Open(const std::string& path) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) return Errno("cannot open the log " + path);
  path_ = path;
  return Status::Ok();
}

Status IssueLog::Write(const LogStep& s) {
  if (fd_ < 0) return Status::Ok();
  TESSERA_RETURN_IF_ERROR(WriteAll(fd_, LogLine(s, IsoTimeNow()) + "\n", path_));
  if (::fsync(fd_) != 0) return Errno("cannot sync the log " + path_);
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// The run

namespace {

class Runner {
 public:
  Runner(IssueChannel& ch, const RunOptions& o) : ch_(ch), o_(o) {}

  RunOutcome Run();

 private:
  enum class Next { kStart, kResume, kRetry, kDone, kPartial, kRefused };

  void Log(LogStep s) {
    s.function = o_.function;
    if (!s.run_id) s.run_id = o_.run_id;
    if (o_.log) {
      if (Status st = o_.log->Write(s); !st.ok() && log_error_.empty()) log_error_ = st.message();
    }
  }
  void Note(const std::string& n) {
    if (o_.observer.note) o_.observer.note(n);
  }
  void Sleep(int ms) {
    if (o_.sleep) {
      o_.sleep(ms);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    }
  }
  // One request; on a lost link, reconnects and returns the status the card reports then
  // (`reconnected` set). A failed Result: the card could not be reached again.
  Result<ResponseApdu> Exchange(IssueOp op, const std::string& phase, bool* reconnected);
  Result<ResponseApdu> Reconnect(const Status& why);
  // What to do given the card's template for our run id.
  Next Decide(const RunReport& r, uint16_t sw);
  RunOutcome Fail(const std::string& message, RunFailure kind = RunFailure::kFailed,
                  uint16_t sw = 0) {
    out_.exit_code = kind == RunFailure::kPartial ? kExitPartial : kExitFailed;
    out_.failure = kind;
    out_.failure_sw = sw;
    out_.message = message;
    return out_;
  }
  static bool IsTemplateSw(uint16_t sw) {
    return sw == sw::kOk || sw == sw::kWarningNvmChanged || sw == sw::kExecutionError;
  }
  static std::string Phase(IssueOp op) {
    switch (op) {
      case IssueOp::kStart:
        return "start";
      case IssueOp::kResume:
        return "resume";
      case IssueOp::kRetryFailed:
        return "retry";
      case IssueOp::kStatus:
        return "status";
      case IssueOp::kAck:
        return "ack";
    }
    return "?";
  }

  IssueChannel& ch_;
  const RunOptions& o_;
  RunOutcome out_;
  std::string log_error_;
};

Result<ResponseApdu> Runner::Reconnect(const Status& why) {
  Note("the link to the card was lost (" + why.message() + "); reconnecting");
  Log(MakeStep("reconnect", std::nullopt, std::nullopt, why.message()));
  int spent = 0;
  Status last = why;
  for (int attempt = 1; spent <= o_.reconnect_budget_ms; ++attempt) {
    const int wait = ReconnectBackoffMs(attempt);
    Sleep(wait);
    spent += wait;
    Status c = ch_.Connect();
    if (c.ok()) {
      auto r = ch_.Execute(ExecuteIssuance(IssueOp::kStatus, o_.function, nullptr));
      if (r.ok()) {
        ++out_.reconnects;
        Note("reconnected (attempt " + std::to_string(attempt) + ")");
        std::optional<RunReport> rep;
        if (r->sw == sw::kOk) {
          if (auto p = ParseRunReport(r->data); p.ok()) rep = *p;
        }
        Log(MakeStep("status", r->sw, rep, "", attempt));
        return r;
      }
      last = r.status();
    } else {
      last = c;
    }
  }
  return Status(last.code(), "cannot reach the card again within " +
                                 std::to_string(o_.reconnect_budget_ms / 1000) +
                                 " s: " + last.message());
}

Result<ResponseApdu> Runner::Exchange(IssueOp op, const std::string& phase, bool* reconnected) {
  *reconnected = false;
  if (o_.observer.request) o_.observer.request(phase);
  auto r =
      ch_.Execute(ExecuteIssuance(op, o_.function, op == IssueOp::kStatus ? nullptr : &o_.run_id));
  if (r.ok()) return r;
  *reconnected = true;
  return Reconnect(r.status());
}

Runner::Next Runner::Decide(const RunReport& r, uint16_t sw) {
  (void)sw;
  if (r.run_id != o_.run_id || r.state == static_cast<uint8_t>(RunState::kIdle)) {
    return Next::kStart;
  }
  switch (static_cast<RunState>(r.state)) {
    case RunState::kDone:
      return Next::kDone;
    case RunState::kPartial:
      return Next::kPartial;
    default:
      return Next::kResume;  // running (a request in progress was cut) or interrupted
  }
}

RunOutcome Runner::Run() {
  const std::string id = RunIdText(o_.run_id);
  if (Status c = ch_.Connect(); !c.ok()) return Fail(c.message(), RunFailure::kLink);
  bool reconnected = false;
  auto first = Exchange(IssueOp::kStatus, "status", &reconnected);
  if (!first.ok()) return Fail(first.status().message(), RunFailure::kLink);
  if (first->sw != sw::kOk) {
    out_.sw = first->sw;
    return Fail("EXECUTE ISSUANCE status: the card answered " + HexU16(first->sw) + ": " +
                    Meaning(first->sw, {{sw::kReferencedDataNotFound,
                                         "no such function on the card (load-group first)"}}),
                RunFailure::kCard, first->sw);
  }
  auto parsed = ParseRunReport(first->data);
  if (!parsed.ok()) return Fail(parsed.status().message());
  out_.report = *parsed;
  if (!reconnected) Log(MakeStep("status", first->sw, *parsed));
  Next next = Decide(*parsed, first->sw);
  if (next == Next::kStart && parsed->state == static_cast<uint8_t>(RunState::kDone) &&
      parsed->acknowledged && !o_.again) {
    return Fail("function " + FunctionText(o_.function) + " is issued already (run " +
                RunIdText(parsed->run_id) +
                ", done and acknowledged): nothing was sent. --again issues it once more, "
                "running every command of its group again");
  }
  if (next == Next::kDone) {
    out_.replay = true;
    Note("run " + id + " is already done on the card: nothing executed");
  } else if (next == Next::kResume) {
    Note("the card holds run " + id + " " + RunStateName(parsed->state) + " after " +
         std::to_string(parsed->succeeded) + " of " + std::to_string(parsed->count) +
         " commands: resuming it");
  }
  int retries_used = 0;
  // A resume that leaves the run where it was makes no progress; twice in a row, and the run
  // stops rather than ask forever (a command the card will not run keeps it there).
  int stalled = 0;
  // Running and interrupted are one position: the card reports a cut request's record as
  // interrupted, the request's own answer as running.
  auto position = [](const RunReport& r) {
    const uint8_t state = r.state == static_cast<uint8_t>(RunState::kRunning)
                              ? static_cast<uint8_t>(RunState::kInterrupted)
                              : r.state;
    return std::make_tuple(state, r.succeeded, r.first_pending, r.failed_sw);
  };
  // A card that loses the link on every request (it crashes at one command) is given up too.
  constexpr int kMaxReconnects = 20;
  while (next != Next::kDone) {
    if (next == Next::kResume && out_.report && stalled >= 2) {
      const std::string which = "command " + std::to_string(out_.report->first_pending) + " (of " +
                                std::to_string(out_.report->count) + ", from 0)";
      Log(MakeStep("stopped", std::nullopt, *out_.report, "no progress on two resumes"));
      return Fail("the issuance makes no progress: two resumes left run " + id + " " +
                      RunStateName(out_.report->state) + " at " + which +
                      "; it stays unacknowledged ('tessera issue status' shows it)",
                  RunFailure::kPartial, out_.report->failed_sw);
    }
    if (next == Next::kPartial) {
      const RunReport& r = *out_.report;
      const uint16_t failed_sw = r.failed_sw;
      const std::string which = "command " + std::to_string(r.first_pending) + " (of " +
                                std::to_string(r.count) + ", from 0) failed with " +
                                HexU16(failed_sw) + ": " + Meaning(failed_sw);
      if (!IsTransientSw(failed_sw) || retries_used >= o_.retries) {
        out_.retries = retries_used;
        const std::string why =
            IsTransientSw(failed_sw)
                ? " (transient; " + std::to_string(o_.retries) + " retries did not help)"
                : "";
        Log(MakeStep("stopped", std::nullopt, r, which + why));
        return Fail("the issuance stopped: " + which + why + "; run " + id +
                        " is left unacknowledged ('tessera issue retry-failed' runs it again)",
                    RunFailure::kPartial, failed_sw);
      }
      ++retries_used;
      const int wait = RetryBackoffMs(retries_used);
      Note(which + ": transient, retry " + std::to_string(retries_used) + " of " +
           std::to_string(o_.retries) + " in " + std::to_string(wait) + " ms");
      Log(MakeStep("retry", std::nullopt, r, "", retries_used));
      Sleep(wait);
      next = Next::kRetry;
    }
    const IssueOp op = next == Next::kStart    ? IssueOp::kStart
                       : next == Next::kResume ? IssueOp::kResume
                                               : IssueOp::kRetryFailed;
    if (op == IssueOp::kStart || op == IssueOp::kResume) Log(MakeStep(Phase(op)));
    out_.run_id_sent = true;
    auto r = Exchange(op, Phase(op), &reconnected);
    if (!r.ok()) return Fail(r.status().message(), RunFailure::kLink);
    out_.sw = r->sw;
    if (reconnected) {  // r is the status the card gives after the loss
      if (out_.reconnects > kMaxReconnects) {
        return Fail("the link to the card was lost " + std::to_string(out_.reconnects) +
                        " times during run " + id + "; it stays unacknowledged",
                    RunFailure::kLink);
      }
      if (r->sw != sw::kOk) {
        return Fail("EXECUTE ISSUANCE status after reconnecting: the card answered " +
                        HexU16(r->sw) + ": " + Meaning(r->sw),
                    RunFailure::kCard, r->sw);
      }
      auto rep = ParseRunReport(r->data);
      if (!rep.ok()) return Fail(rep.status().message());
      const bool moved_here = !out_.report || position(*out_.report) != position(*rep);
      stalled = op == IssueOp::kResume && !moved_here ? stalled + 1 : 0;
      out_.report = *rep;
      if (o_.observer.response) o_.observer.response("status", r->sw, *rep);
      next = Decide(*rep, r->sw);
      continue;
    }
    if (!IsTemplateSw(r->sw)) {
      // Refused: the card recorded nothing of a start.
      if (op == IssueOp::kStart) out_.run_id_sent = false;
      Log(MakeStep("refused", r->sw));
      std::string hint;
      if (r->sw == sw::kConditionsNotSatisfied && op == IssueOp::kStart) {
        hint = " (the card's previous run " + RunIdText(out_.report->run_id) + ", " +
               RunStateName(out_.report->state) +
               ", is not acknowledged: 'tessera issue ack --run-id " +
               RunIdText(out_.report->run_id) + "' or finish it first)";
      } else if (r->sw == sw::kSecurityNotSatisfied) {
        hint = " (the function's policy needs the issuer's secure channel: give --scp03 KEYS)";
      } else if (r->sw == sw::kWrongData) {
        hint = " (the group file does not match its digest in the table)";
      }
      return Fail("EXECUTE ISSUANCE " + Phase(op) + ": the card answered " + HexU16(r->sw) + ": " +
                      Meaning(r->sw) + hint,
                  RunFailure::kCard, r->sw);
    }
    auto rep = ParseRunReport(r->data);
    if (!rep.ok()) return Fail(rep.status().message());
    const bool moved = !out_.report || position(*out_.report) != position(*rep);
    stalled = op == IssueOp::kResume && !moved ? stalled + 1 : 0;
    out_.report = *rep;
    Log(MakeStep("response", r->sw, *rep));
    if (o_.observer.response) o_.observer.response(Phase(op), r->sw, *rep);
    next = Decide(*rep, r->sw);
    if (next == Next::kStart) return Fail("the card's answer names another run or no run");
  }
  out_.retries = retries_used;
  // Done: the log first, then the acknowledgement.
  if (!log_error_.empty()) {
    return Fail(
        "the run is done but the log could not be written (" + log_error_ + "); not acknowledged",
        RunFailure::kFile);
  }
  if (!o_.ack) {
    out_.exit_code = kExitIssued;
    out_.message = "issued; not acknowledged (--no-ack)";
    return out_;
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto r = Exchange(IssueOp::kAck, "ack", &reconnected);
    if (!r.ok()) return Fail(r.status().message(), RunFailure::kLink);
    if (reconnected) continue;  // acknowledge again on the new link
    out_.sw = r->sw;
    if (r->sw != sw::kOk) {
      Log(MakeStep("refused", r->sw, std::nullopt, "ack"));
      return Fail("EXECUTE ISSUANCE acknowledge: the card answered " + HexU16(r->sw) + ": " +
                      Meaning(r->sw),
                  RunFailure::kCard, r->sw);
    }
    if (auto rep = ParseRunReport(r->data); rep.ok()) out_.report = *rep;
    Log(MakeStep("ack", r->sw, out_.report));
    out_.acked = true;
    if (o_.acked) {
      if (Status st = o_.acked(); !st.ok()) return Fail("acknowledged, but " + st.message());
    }
    out_.exit_code = kExitIssued;
    out_.message = out_.replay ? "already issued" : "issued";
    return out_;
  }
  return Fail("the link was lost twice while acknowledging", RunFailure::kLink);
}

}  // namespace

RunOutcome RunIssuance(IssueChannel& channel, const RunOptions& o) {
  Runner r(channel, o);
  return r.Run();
}

}  // namespace tessera::host
