// The run engine of `tessera issue run` against a scripted card: which status words are
// retried and after how long, what stops a run, how a lost link is resumed, and the state file.
#include "host/issuance_run.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <deque>
#include <fstream>

#include "core/tlv.h"

namespace tessera::host {
namespace {

// A card function of `count` commands whose journal behaves as docs/self-issuance.md says;
// `fail` holds, per command index, the status words its next executions give (then 9000).
class FakeCard : public IssueChannel {
 public:
  explicit FakeCard(uint16_t count) : count_(count) {}

  std::map<uint16_t, std::deque<uint16_t>> fail;
  int lose_link_after = -1;  // commands executed before the link drops mid-request (once)
  int connects = 0, connect_failures = 0;
  std::vector<uint8_t> ops;
  bool acked = false;
  uint8_t state = 0;
  RunId run_id{};
  std::array<uint8_t, 32> bitmap{};
  uint16_t succeeded = 0, failed = 0xFFFF, failed_sw = 0;
  int executions = 0;   // commands run, all runs
  bool wedged = false;  // start and resume answer "interrupted" and run nothing (a stuck card)

  Status Connect() override {
    ++connects;
    if (connect_failures > 0) {
      --connect_failures;
      return IOError("no card");
    }
    linked_ = true;
    return Status::Ok();
  }

  Result<ResponseApdu> Execute(const CommandApdu& c) override {
    if (!linked_) return IOError("not connected");
    ops.push_back(c.p1);
    auto items = ParseTlvSequence(c.data);
    RunId id{};
    bool have_id = false;
    for (const TlvView& t : *items) {
      if (t.tag == 0xC8) {
        std::copy(t.value.begin(), t.value.end(), id.begin());
        have_id = true;
      }
    }
    const bool same = have_id && id == run_id && state != 0;
    switch (c.p1) {
      case 3:
        return Template(0x9000);
      case 4:
        if (!same) return Sw(0x6985);
        acked = true;
        return Template(0x9000);
      case 0:
        if (!same) {
          if (state != 0 && !acked) return Sw(0x6985);
          Reset(id);
        } else if (acked) {
          return Sw(0x6985);
        }
        break;
      default:
        if (!same || acked) return Sw(0x6985);
    }
    if (state == 3) return Template(0x9000);
    if (wedged) return Template(0x6400);
    return RunCommands();
  }

 private:
  void Reset(const RunId& id) {
    run_id = id;
    state = 1;
    acked = false;
    bitmap = {};
    succeeded = 0;
    failed = 0xFFFF;
    failed_sw = 0;
  }
  static ResponseApdu Sw(uint16_t sw) {
    ResponseApdu r;
    r.sw = sw;
    return r;
  }
  ResponseApdu Template(uint16_t sw) {
    Bytes body;
    AppendTlv(body, 0xC1, Bytes{1});
    AppendTlv(body, 0x80, Bytes{state == 1 ? uint8_t{2} : state});
    Bytes u(2);
    auto u16 = [&](uint8_t tag, uint16_t v) {
      PutU16(u.data(), v);
      AppendTlv(body, tag, u);
    };
    u16(0x81, count_);
    u16(0x82, succeeded);
    AppendTlv(body, 0x83, ByteView(bitmap.data(), bitmap.size()));
    uint16_t first = failed;
    if (first == 0xFFFF) {
      for (uint16_t i = 0; i < count_; ++i) {
        if (!((bitmap[i / 8] >> (i % 8)) & 1)) {
          first = i;
          break;
        }
      }
    }
    u16(0x84, first);
    u16(0x85, failed == 0xFFFF ? 0 : failed_sw);
    AppendTlv(body, 0xC8, ByteView(run_id.data(), run_id.size()));
    AppendTlv(body, 0x86, Bytes{acked ? uint8_t{1} : uint8_t{0}});
    ResponseApdu r;
    r.data = EncodeTlv(0xE5, body);
    r.sw = sw;
    return r;
  }
  Result<ResponseApdu> RunCommands() {
    state = 1;
    failed = 0xFFFF;
    failed_sw = 0;
    bool changed = false;
    for (uint16_t i = 0; i < count_; ++i) {
      if ((bitmap[i / 8] >> (i % 8)) & 1) continue;
      if (lose_link_after == 0) {
        lose_link_after = -1;
        linked_ = false;
        return IOError("peer closed the connection");  // the journal says running
      }
      if (lose_link_after > 0) --lose_link_after;
      ++executions;
      uint16_t sw = 0x9000;
      if (auto it = fail.find(i); it != fail.end() && !it->second.empty()) {
        sw = it->second.front();
        it->second.pop_front();
      }
      if (sw != 0x9000) {
        failed = i;
        failed_sw = sw;
        state = 4;
        return Template(changed ? 0x6300 : 0x6400);
      }
      bitmap[i / 8] = static_cast<uint8_t>(bitmap[i / 8] | (1u << (i % 8)));
      ++succeeded;
      changed = true;
    }
    state = 3;
    return Template(0x9000);
  }

  uint16_t count_;
  bool linked_ = false;
};

RunOptions Options(std::vector<int>* sleeps) {
  RunOptions o;
  o.function = 1;
  o.run_id = *ParseRunId("0102030405060708");
  o.sleep = [sleeps](int ms) { sleeps->push_back(ms); };
  return o;
}

TEST(IssueRunTest, TransientStatusWords) {
  EXPECT_TRUE(IsTransientSw(0x6581));
  EXPECT_TRUE(IsTransientSw(0x6F00));
  for (int sw : {0x6985, 0x6982, 0x6A80, 0x6A82, 0x6A84, 0x6A88, 0x6300, 0x9000}) {
    EXPECT_FALSE(IsTransientSw(static_cast<uint16_t>(sw))) << std::hex << sw;
  }
  EXPECT_EQ(RetryBackoffMs(1), 50);
  EXPECT_EQ(RetryBackoffMs(2), 100);
  EXPECT_EQ(RetryBackoffMs(3), 200);
  EXPECT_EQ(RetryBackoffMs(20), 1600);
  EXPECT_EQ(ReconnectBackoffMs(1), 100);
  EXPECT_EQ(ReconnectBackoffMs(4), 800);
  EXPECT_EQ(ReconnectBackoffMs(9), 1000);
}

TEST(IssueRunTest, IssuesAndAcknowledges) {
  FakeCard card(5);
  std::vector<int> sleeps;
  RunOptions o = Options(&sleeps);
  bool recorded = false;
  o.acked = [&] {
    recorded = true;
    return Status::Ok();
  };
  const RunOutcome out = RunIssuance(card, o);
  EXPECT_EQ(out.exit_code, kExitIssued) << out.message;
  EXPECT_TRUE(out.acked);
  EXPECT_TRUE(recorded);
  EXPECT_TRUE(card.acked);
  EXPECT_EQ(card.ops, (std::vector<uint8_t>{3, 0, 4}));  // status, start, ack
  EXPECT_EQ(card.executions, 5);
  EXPECT_TRUE(sleeps.empty());
}

TEST(IssueRunTest, RetriesTransientFailuresWithBackoff) {
  FakeCard card(4);
  card.fail[2] = {0x6581, 0x6F00};  // twice transient, then it works
  std::vector<int> sleeps;
  const RunOutcome out = RunIssuance(card, Options(&sleeps));
  EXPECT_EQ(out.exit_code, kExitIssued) << out.message;
  EXPECT_EQ(out.retries, 2);
  EXPECT_EQ(sleeps, (std::vector<int>{50, 100}));
  EXPECT_EQ(card.ops, (std::vector<uint8_t>{3, 0, 2, 2, 4}));
  EXPECT_EQ(card.executions, 4 + 2);  // commands 0, 1 once; 2 three times; 3 once
}

TEST(IssueRunTest, GivesUpAfterTheRetriesAndLeavesTheRunUnacknowledged) {
  FakeCard card(4);
  card.fail[1] = {0x6581, 0x6581, 0x6581};
  std::vector<int> sleeps;
  RunOptions o = Options(&sleeps);
  o.retries = 2;
  const RunOutcome out = RunIssuance(card, o);
  EXPECT_EQ(out.exit_code, kExitPartial);
  EXPECT_FALSE(card.acked);
  EXPECT_EQ(sleeps, (std::vector<int>{50, 100}));
  EXPECT_NE(out.message.find("command 1"), std::string::npos) << out.message;
  EXPECT_NE(out.message.find("6581"), std::string::npos) << out.message;
}

TEST(IssueRunTest, StopsOnANonTransientFailure) {
  for (uint16_t sw : std::vector<uint16_t>{0x6985, 0x6982, 0x6A82, 0x6A80}) {
    FakeCard card(4);
    card.fail[2] = {sw};
    std::vector<int> sleeps;
    const RunOutcome out = RunIssuance(card, Options(&sleeps));
    EXPECT_EQ(out.exit_code, kExitPartial);
    EXPECT_TRUE(sleeps.empty());
    EXPECT_EQ(card.ops, (std::vector<uint8_t>{3, 0}));  // no retry, no ack
    ASSERT_TRUE(out.report);
    EXPECT_EQ(out.report->first_pending, 2);
    EXPECT_EQ(out.report->failed_sw, sw);
  }
}

TEST(IssueRunTest, ReconnectsAndResumesTheSameRun) {
  FakeCard card(10);
  card.lose_link_after = 4;
  std::vector<int> sleeps;
  const RunOutcome out = RunIssuance(card, Options(&sleeps));
  EXPECT_EQ(out.exit_code, kExitIssued) << out.message;
  EXPECT_EQ(out.reconnects, 1);
  EXPECT_EQ(card.executions, 10);  // every command exactly once
  EXPECT_EQ(card.ops, (std::vector<uint8_t>{3, 0, 3, 1, 4}));
}

TEST(IssueRunTest, KeepsTryingToReconnectWithinTheBudget) {
  // No card at the first connection: a failure at once (nothing was sent).
  FakeCard card(6);
  card.connect_failures = 1;
  std::vector<int> sleeps;
  RunOptions o = Options(&sleeps);
  RunOutcome out = RunIssuance(card, o);
  EXPECT_EQ(out.exit_code, kExitFailed);
  EXPECT_TRUE(card.ops.empty());
  // The card comes back after three failed attempts.
  FakeCard again(6);
  again.lose_link_after = 2;
  struct Delayed : IssueChannel {
    FakeCard& c;
    int fail_after_first;
    int calls = 0;
    explicit Delayed(FakeCard& inner) : c(inner), fail_after_first(3) {}
    Status Connect() override {
      if (calls++ > 0 && fail_after_first-- > 0) return IOError("no card yet");
      return c.Connect();
    }
    Result<ResponseApdu> Execute(const CommandApdu& x) override { return c.Execute(x); }
  } delayed(again);
  sleeps.clear();
  out = RunIssuance(delayed, o);
  EXPECT_EQ(out.exit_code, kExitIssued) << out.message;
  EXPECT_EQ(sleeps, (std::vector<int>{100, 200, 400, 800}));
  EXPECT_EQ(again.executions, 6);
  // A card that never comes back: the budget ends the run.
  FakeCard gone(6);
  gone.lose_link_after = 1;
  struct Gone : IssueChannel {
    FakeCard& c;
    int calls = 0;
    explicit Gone(FakeCard& inner) : c(inner) {}
    Status Connect() override {
      if (calls++ > 0) return IOError("no card");
      return c.Connect();
    }
    Result<ResponseApdu> Execute(const CommandApdu& x) override { return c.Execute(x); }
  } never(gone);
  sleeps.clear();
  out = RunIssuance(never, o);
  EXPECT_EQ(out.exit_code, kExitFailed);
  int total = 0;
  for (int s : sleeps) total += s;
  EXPECT_GE(total, 10000);
  EXPECT_LE(total, 11000);
  EXPECT_NE(out.message.find("cannot reach the card again"), std::string::npos) << out.message;
}

TEST(IssueRunTest, AReplayExecutesNothingAndANewRunWaitsForTheAck) {
  FakeCard card(3);
  std::vector<int> sleeps;
  RunOptions o = Options(&sleeps);
  o.ack = false;
  RunOutcome out = RunIssuance(card, o);
  EXPECT_EQ(out.exit_code, kExitIssued);
  EXPECT_FALSE(card.acked);
  // The same run id again: done, nothing executed.
  out = RunIssuance(card, o);
  EXPECT_EQ(out.exit_code, kExitIssued);
  EXPECT_TRUE(out.replay);
  EXPECT_EQ(card.executions, 3);
  // Another run id before the ack: the card refuses the start.
  RunOptions other = o;
  other.run_id = *ParseRunId("1111111111111111");
  out = RunIssuance(card, other);
  EXPECT_EQ(out.exit_code, kExitFailed);
  EXPECT_EQ(out.sw, 0x6985);
  EXPECT_NE(out.message.find("not acknowledged"), std::string::npos) << out.message;
  // Acknowledged (a replay with ack), a new run is one the operator asks for (--again).
  o.ack = true;
  out = RunIssuance(card, o);
  EXPECT_TRUE(out.acked);
  other.again = true;
  out = RunIssuance(card, other);
  EXPECT_EQ(out.exit_code, kExitIssued) << out.message;
  EXPECT_EQ(card.executions, 6);
}

// A card that answers every resume with the run where it was (a command it refuses before its
// bookkeeping): the host stops after two resumes without progress, exit 3, instead of asking
// forever.
TEST(IssueRunTest, ARunThatMakesNoProgressStops) {
  FakeCard card(3);
  std::vector<int> sleeps;
  RunOptions o = Options(&sleeps);
  card.run_id = o.run_id;
  card.state = 1;  // running: reported interrupted
  card.wedged = true;
  const RunOutcome out = RunIssuance(card, o);
  EXPECT_EQ(out.exit_code, kExitPartial) << out.message;
  EXPECT_NE(out.message.find("no progress"), std::string::npos) << out.message;
  EXPECT_EQ(card.ops.size(), 3u);  // status and two resumes
  EXPECT_FALSE(card.acked);
}

// A function issued and acknowledged by an earlier run is not started again by accident; with
// --again it is.
TEST(IssueRunTest, AnIssuedFunctionIsStartedAgainOnlyWhenAsked) {
  FakeCard card(2);
  std::vector<int> sleeps;
  RunOptions o = Options(&sleeps);
  card.run_id = *ParseRunId("AAAAAAAAAAAAAAAA");
  card.state = 3;
  card.acked = true;
  RunOutcome out = RunIssuance(card, o);
  EXPECT_EQ(out.exit_code, kExitFailed);
  EXPECT_NE(out.message.find("--again"), std::string::npos) << out.message;
  EXPECT_EQ(card.ops, (std::vector<uint8_t>{3}));  // only the status
  EXPECT_EQ(card.executions, 0);
  o.again = true;
  out = RunIssuance(card, o);
  EXPECT_EQ(out.exit_code, kExitIssued) << out.message;
  EXPECT_EQ(card.executions, 2);
}

TEST(IssueRunTest, StateFileRoundTripsDurably) {
  char tmpl[] = "/tmp/issue_run_testXXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  const std::string path = dir + "/f.state";
  auto none = ReadIssueState(path);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  IssueState s;
  s.function = 0x2A;
  s.run_id = *ParseRunId("A1B2C3D4E5F60718");
  s.result = "started";
  ASSERT_TRUE(WriteIssueState(path, s).ok());
  auto back = ReadIssueState(path);
  ASSERT_TRUE(back.ok() && back->has_value());
  EXPECT_EQ((*back)->function, 0x2A);
  EXPECT_EQ(RunIdText((*back)->run_id), "A1B2C3D4E5F60718");
  EXPECT_FALSE((*back)->acked);
  EXPECT_EQ((*back)->result, "started");
  EXPECT_FALSE((*back)->updated.empty());
  EXPECT_NE(access((path + ".tmp").c_str(), F_OK), 0);  // renamed away
  std::ofstream(path) << "something else\n";
  EXPECT_FALSE(ReadIssueState(path).ok());
  EXPECT_EQ(DefaultStatePath("00000000000000C1", 0x0A), "tessera-issue-00000000000000C1-0A.state");
  // The card the state belongs to survives the round trip.
  s.card = "00000000000000C1";
  ASSERT_TRUE(WriteIssueState(path, s).ok());
  auto keyed = ReadIssueState(path);
  ASSERT_TRUE(keyed.ok() && keyed->has_value());
  EXPECT_EQ((*keyed)->card, "00000000000000C1");
  EXPECT_EQ(DefaultLogPath("x/tessera-issue-0A.state"), "x/tessera-issue-0A.log");
  EXPECT_EQ(DefaultLogPath("run.st"), "run.st.log");
  std::remove(path.c_str());
  rmdir(dir.c_str());
  EXPECT_FALSE(ParseRunId("0102"));
  EXPECT_FALSE(ParseRunId("010203040506070G"));
  EXPECT_NE(RandomRunId(), RandomRunId());
}

TEST(IssueRunTest, LogLinesAreJsonWithoutSurprises) {
  RunReport r;
  r.function = 1;
  r.state = 4;
  r.count = 5;
  r.succeeded = 2;
  r.first_pending = 2;
  r.failed_sw = 0x6A82;
  LogStep s = WithRun(MakeStep("response", 0x6300, r), 1, *ParseRunId("0102030405060708"));
  EXPECT_EQ(LogLine(s, "T"),
            "{\"t\":\"T\",\"step\":\"response\",\"function\":\"01\",\"run_id\":"
            "\"0102030405060708\",\"sw\":\"6300\",\"state\":\"partial\",\"count\":5,"
            "\"succeeded\":2,\"failed_index\":2,\"failed_sw\":\"6A82\"}");
}

}  // namespace
}  // namespace tessera::host
