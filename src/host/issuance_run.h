// The external device of self-issuance (US 7,428,992 claims 10-12; docs/self-issuance.md §6):
// it starts a card function's run with a run id it has stored durably first, reads the E5
// template of every answer, retries commands that failed transiently, reconnects and resumes
// the same run after a lost link, logs every step and acknowledges the result once the log is
// on disk. The card is reached through IssueChannel, so the decisions can be tested without
// one (tools/issue_run_test.cc).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/apdu.h"
#include "core/status.h"
#include "host/issuance_protocol.h"

namespace tessera::host {

// Exit codes of `tessera issue` (documented in its --help and docs/self-issuance.md §6.6).
inline constexpr int kExitIssued = 0;
inline constexpr int kExitFailed = 1;  // tool, link or card failure; the card refused a step
inline constexpr int kExitUsage = 2;
inline constexpr int kExitPartial = 3;  // stopped on a command's non-transient failure

// A stored command's status word that may succeed when the command runs again: 6581 (memory
// failure: the NVM write failed) and 6F00 (no precise diagnosis: an internal error). Nothing
// else is: 6985, 6982 and 6A8x say what the card will say again.
bool IsTransientSw(uint16_t sw);
// The wait before retry `attempt` (1-based): 50 ms, 100 ms, 200 ms, ... at most 1600 ms.
int RetryBackoffMs(int attempt);
// The wait before reconnection attempt `attempt` (1-based): 100 ms, 200 ms, ... at most 1 s.
int ReconnectBackoffMs(int attempt);

// "0123456789ABCDEF" <-> run id; nullopt unless exactly 16 hex digits.
std::optional<RunId> ParseRunId(const std::string& hex);
std::string RunIdText(const RunId& id);
RunId RandomRunId();  // from the OS's random source

// The state file (docs/self-issuance.md §6.3): which run of which function the host started
// and whether it acknowledged it. Text, one "key=value" a line after a "tessera-issue-state 1"
// header.
struct IssueState {
  std::string card;  // the card's serial, 16 hex digits (GET DATA CF): whose run this is
  uint8_t function = 0;
  RunId run_id{};
  bool acked = false;
  std::string result;   // "", "done", "partial", "started"
  std::string updated;  // ISO 8601 UTC time of the last write
};
// tessera-issue-SERIAL-NN.state: one state file per card and function.
std::string DefaultStatePath(const std::string& card, uint8_t function);
std::string DefaultLogPath(const std::string& state);  // the same name with .log
// nullopt when the file does not exist; kMalformed when it is not a state file.
Result<std::optional<IssueState>> ReadIssueState(const std::string& path);
// Durably: a temporary file beside it, fsync, rename over it, fsync of the directory.
Status WriteIssueState(const std::string& path, IssueState state);

std::string IsoTimeNow();  // 2026-01-31T12:00:00.123Z

// The JSON-lines log (§6.4): one object a step, appended, fsync'ed after every line.
struct LogStep {
  std::string step;  // start, response, retry, reconnect, status, resume, ack, refused, ...
  uint8_t function = 0;
  std::optional<RunId> run_id;
  std::optional<uint16_t> sw;
  std::optional<RunReport> report;
  std::string message;
  int attempt = 0;
};
LogStep MakeStep(std::string step, std::optional<uint16_t> sw = std::nullopt,
                 std::optional<RunReport> report = std::nullopt, std::string message = "",
                 int attempt = 0);
LogStep WithRun(LogStep s, uint8_t function, const RunId& run_id);
class IssueLog {
 public:
  IssueLog() = default;
  ~IssueLog();
  IssueLog(const IssueLog&) = delete;
  IssueLog& operator=(const IssueLog&) = delete;
  Status Open(const std::string& path);
  // Appends and fsyncs; a log that cannot be written fails the step that needs it (ack).
  Status Write(const LogStep& s);
  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
};
std::string LogLine(const LogStep& s, const std::string& time);

// What the runner needs from the card.
class IssueChannel {
 public:
  virtual ~IssueChannel() = default;
  // Opens (or opens again) the link, SELECTs the issuance application and, when the run needs
  // it, opens the secure session with it.
  virtual Status Connect() = 0;
  // One EXECUTE ISSUANCE. A failed Result: the link is lost (Connect again).
  virtual Result<ResponseApdu> Execute(const CommandApdu& c) = 0;
};

// Progress, for the terminal (tools/issue_commands.cc draws it).
struct RunObserver {
  std::function<void(const std::string& phase)> request;  // before a request
  std::function<void(const std::string& phase, uint16_t sw, const RunReport&)> response;
  std::function<void(const std::string& note)> note;  // a plain line
};

struct RunOptions {
  uint8_t function = 0;
  RunId run_id{};
  bool ack = true;
  int retries = 3;                  // retry-failed requests after a transient failure
  int reconnect_budget_ms = 10000;  // how long to try to reach the card again after a loss
  // Start a function the card holds done and acknowledged (by another run) once more.
  bool again = false;
  IssueLog* log = nullptr;
  RunObserver observer;
  std::function<void(int ms)> sleep;  // default: really sleep
  // Called once the card has acknowledged (the state file records it); its failure fails the
  // run (exit 1) although the card acknowledged.
  std::function<Status()> acked;
};

// What kind of failure ended a run, for a front-end to report: the card refused a request
// (`failure_sw`), the card could not be reached, a stored command stopped the run (partial,
// exit 3), a file (the log) failed, or anything else.
enum class RunFailure { kNone, kCard, kLink, kPartial, kFile, kFailed };

struct RunOutcome {
  int exit_code = kExitFailed;
  RunFailure failure = RunFailure::kNone;
  uint16_t failure_sw = 0;  // kCard: the refusal; kPartial: the failed command's status word
  std::optional<RunReport> report;  // the last template
  uint16_t sw = 0;                  // the last EXECUTE ISSUANCE status word
  std::string message;              // why it failed or what it did, one line
  bool acked = false;
  bool replay = false;  // the card had already done this run: nothing was executed
  // This run id may be on the card: a start was sent and not answered with a refusal.
  bool run_id_sent = false;
  int retries = 0;
  int reconnects = 0;
};

// `tessera issue run`: status first, then start (or resume the same run id), retries,
// reconnects, ack. The run id must already be in the state file.
RunOutcome RunIssuance(IssueChannel& channel, const RunOptions& o);

}  // namespace tessera::host
