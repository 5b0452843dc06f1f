#include "issue_run_commands.h"

#include <optional>
#include <string>

#include "format/status_words.h"
#include "host/card_session.h"
#include "host/issuance_channel.h"
#include "host/issuance_client.h"
#include "host/issuance_protocol.h"
#include "host/issuance_run.h"
#include "issue_common.h"
#include "json_output.h"
#include "reporter.h"

namespace tessera::tools {

// The host library (src/host) is what this front-end calls.
using namespace host;  // NOLINT(google-build-using-namespace)

namespace {

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

}  // namespace

int RunCommand(const LinkOptions& o, const Args& a) {
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
  CardChannel channel(o, WarnOf(rep), function);
  auto table = channel.Prepare();
  if (!table.ok()) return rep.Fail(table.status());
  if ((table->policy & format::kPolicySecureChannel) && !channel.has_keys()) {
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

int StepCommand(const LinkOptions& o, const Args& a, IssueOp op, const std::string& name) {
  const Reporter rep("issue " + name, o.json);
  if (!a.operands.empty()) return rep.Usage("unexpected argument '" + a.operands[0] + "'");
  uint8_t function = 0;
  if (auto e = GetFunction(a, &function); !e.empty()) return rep.Usage(e);
  if (a.has("--run-id") && a.has("--state")) return rep.Usage("give --run-id or --state, not both");
  if (auto e = CardUsageError(o); !e.empty()) return rep.Usage(e);
  // The card takes an ack without a session, whatever the policy.
  CardChannel ch(o, WarnOf(rep), function, /*plain=*/op == IssueOp::kAck);
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

}  // namespace tessera::tools
