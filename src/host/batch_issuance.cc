#include "host/batch_issuance.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "card/kernel/profile.h"
#include "crypto/sha256.h"
#include "format/status_words.h"
#include "host/card_keys.h"
#include "host/card_session.h"
#include "host/group_compiler.h"
#include "host/issuance_client.h"
#include "host/issuance_protocol.h"
#include "host/issuance_run.h"
#include "host/json_text.h"
#include "nvm/image_file.h"

namespace tessera::host {

std::string SerialHex(uint64_t serial) {
  char b[17];
  std::snprintf(b, sizeof b, "%016" PRIX64, serial);
  return b;
}

namespace {

// One card's JSON-lines log: appended, never holding key bytes.
class CardLog {
 public:
  CardLog(const std::string& path, uint64_t serial) : serial_(SerialHex(serial)) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  }
  ~CardLog() {
    if (fd_ >= 0) ::close(fd_);
  }
  CardLog(const CardLog&) = delete;
  CardLog& operator=(const CardLog&) = delete;
  bool ok() const { return fd_ >= 0; }
  void Step(const std::string& step, Json extra = Json::object()) {
    extra["t"] = IsoTimeNow();
    extra["serial"] = serial_;
    extra["step"] = step;
    const std::string line = DumpJson(extra) + "\n";
    if (::write(fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
      failed_ = true;
    }
  }
  // True when every line reached the file (and, with `sync`, the disk).
  bool Flush(bool sync) { return !failed_ && (!sync || ::fsync(fd_) == 0); }

 private:
  std::string serial_;
  int fd_ = -1;
  bool failed_ = false;
};

Json ReportJson(const RunReport& r) {
  return Json{{"state", RunStateName(r.state)},
              {"count", r.count},
              {"succeeded", r.succeeded},
              {"first_pending", r.first_pending == 0xFFFF ? Json() : Json(r.first_pending)},
              {"failed_sw", r.failed_sw == 0 ? Json() : Json(HexU16(r.failed_sw))}};
}

class CardIssuer {
 public:
  CardIssuer(const BatchPlan& plan, uint64_t serial)
      : plan_(plan), serial_(serial), log_(LogPath(), serial) {
    PutU64(run_id_.data(), serial);
  }

  CardReport Issue() {
    CardReport out;
    out.serial = serial_;
    auto outcome = Run();
    if (!outcome.ok()) {
      out.error = outcome.status().message();
      if (log_.ok()) {
        log_.Step("failed", {{"error", out.error}});
        log_.Flush(plan_.sync_logs);
      }
      return out;
    }
    out.outcome = *outcome;
    return out;
  }

 private:
  std::string LogPath() const {
    return plan_.images + "/logs/card-" + SerialHex(serial_) + ".jsonl";
  }

  Result<CardOutcome> Run() {
    if (!log_.ok()) return IOError("cannot write the card's log " + LogPath());
    TESSERA_ASSIGN_OR_RETURN(auto keys, DeriveCardKeys(plan_.master, serial_));
    const std::string path = ImagePath(plan_, serial_);
    bool fresh = false;
    nvm::ImageFile::RemoveStaleTemporaries(path);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      const uint64_t serial = serial_;
      const Status made = nvm::ImageFile::Create(
          path, plan_.geometry, false, [&keys, serial](nvm::NvmDevice& d, const nvm::Geometry& g) {
            return card::InstallDefaultProfile(d, g, &keys, card::kDefaultAdminLevel, serial);
          });
      if (made.code() == ErrorCode::kFailedPrecondition) {
        // Not there a moment ago: another process issuing the same card made it meanwhile.
        return FailedPrecondition(
            path +
            " appeared while this process was creating it (the same shard running twice?) and "
            "was left alone: run the batch again once the other process is done, and the card "
            "is finished or skipped; if no other process runs, remove it (this batch did not "
            "make it)");
      }
      TESSERA_RETURN_IF_ERROR(made);
      log_.Step("create", {{"image", path}});
      fresh = true;
    }
    LinkOptions lo;
    lo.image = path;
    lo.scp03 = "derived";
    lo.trace = plan_.trace;
    TESSERA_ASSIGN_OR_RETURN(session_, CardSession::Open(lo));
    session_->UseKeys(std::move(keys));

    TESSERA_ASSIGN_OR_RETURN(ResponseApdu sel, session_->Plain(SelectIssuance()));
    if (sel.sw == sw::kFileNotFound) {
      TESSERA_RETURN_IF_ERROR(session_->OpenScp03({}));
      TESSERA_ASSIGN_OR_RETURN(ResponseApdu r, session_->Secure(InstallIssuanceApplication()));
      if (r.sw != sw::kOk) return Refused("INSTALL of the issuance application", r.sw);
      log_.Step("install-app");
      TESSERA_ASSIGN_OR_RETURN(sel, session_->Plain(SelectIssuance()));
    }
    if (sel.sw != sw::kOk) return Refused("SELECT of the issuance application", sel.sw);

    RunReport report;
    bool loaded = false;
    if (!fresh) {
      TESSERA_ASSIGN_OR_RETURN(ResponseApdu st_r, session_->Plain(ExecuteIssuance(
                                                      IssueOp::kStatus, plan_.function, nullptr)));
      if (st_r.sw == sw::kOk) {
        TESSERA_ASSIGN_OR_RETURN(report, ParseRunReport(st_r.data));
        loaded = true;
        // The card holds this function: is it this profile's group? An idle one that is not
        // is replaced; one that ran (or runs) is a card this batch cannot finish.
        TESSERA_RETURN_IF_ERROR(session_->OpenScp03(IssuanceAid()));
        // The table is readable only in the issuer's session with the issuance application; the
        // function's record's digest says which group the card holds.
        TESSERA_ASSIGN_OR_RETURN(on_card_, FindFunction(*session_, plan_.function, true));
        const crypto::Sha256Digest want = crypto::Sha256(plan_.group);
        const Bytes& held = on_card_.digest;
        if (!std::equal(want.begin(), want.end(), held.begin(), held.end())) {
          const std::string fn = "function " + std::to_string(plan_.function);
          if (report.state == static_cast<uint8_t>(RunState::kDone)) {
            return FailedPrecondition(fn +
                                      " on the card was issued from another group (a "
                                      "different profile or version); use another "
                                      "--function");
          }
          if (report.state != static_cast<uint8_t>(RunState::kIdle)) {
            return FailedPrecondition(fn +
                                      " on the card is another group (a different profile "
                                      "or version) with an unfinished run; finish it with "
                                      "'tessera issue'");
          }
          loaded = false;  // idle: load this profile's group over it
        }
      } else if (st_r.sw != sw::kReferencedDataNotFound) {
        return Refused("EXECUTE ISSUANCE status", st_r.sw);
      }
    }
    if (!loaded) {
      TESSERA_RETURN_IF_ERROR(session_->OpenScp03(IssuanceAid()));
      const Bytes upload =
          GroupUpload(plan_.function, 1, plan_.target, format::kDefaultPolicy, plan_.group);
      TESSERA_ASSIGN_OR_RETURN(CardSession::Upload u, session_->StoreData(upload));
      if (u.sw != sw::kOk) return Refused("STORE DATA of the command group", u.sw);
      log_.Step("load-group", {{"function", plan_.function}, {"bytes", plan_.group.size()}});
      TESSERA_ASSIGN_OR_RETURN(sel, session_->Plain(SelectIssuance()));
      report.state = static_cast<uint8_t>(RunState::kIdle);
    }
    if (report.state != static_cast<uint8_t>(RunState::kIdle) && report.run_id != run_id_) {
      return FailedPrecondition("function " + std::to_string(plan_.function) +
                                " was run by another host (run id " +
                                ToHex(ByteView(report.run_id.data(), report.run_id.size())) +
                                "); finish it with 'tessera issue'");
    }
    CardOutcome outcome = CardOutcome::kCompleted;
    IssueOp op;
    switch (static_cast<RunState>(report.state)) {
      case RunState::kIdle:
        op = IssueOp::kStart;
        outcome = CardOutcome::kIssued;
        break;
      case RunState::kRunning:
      case RunState::kInterrupted:
        op = IssueOp::kResume;
        break;
      case RunState::kPartial:
        op = IssueOp::kRetryFailed;
        break;
      case RunState::kDone: {
        if (report.acknowledged) {
          log_.Step("skip", {{"reason", "issued and acknowledged"}});
          if (!log_.Flush(false)) return IOError("cannot write the card's log " + LogPath());
          return CardOutcome::kAlreadyIssued;
        }
        return Acknowledge(report);
      }
      default:
        return Malformed("the card reports an unknown journal state");
    }
    static const char* kStep[] = {"start", "resume", "retry-failed"};
    log_.Step(kStep[static_cast<int>(op)],
              {{"function", plan_.function}, {"run_id", ToHex(ByteView(run_id_.data(), 8))}});
    TESSERA_ASSIGN_OR_RETURN(ResponseApdu r,
                             session_->Plain(ExecuteIssuance(op, plan_.function, &run_id_)));
    if (r.sw != sw::kOk && r.sw != sw::kWarningNvmChanged && r.sw != sw::kExecutionError) {
      return Refused(std::string("EXECUTE ISSUANCE ") + kStep[static_cast<int>(op)], r.sw);
    }
    TESSERA_ASSIGN_OR_RETURN(report, ParseRunReport(r.data));
    Json j = ReportJson(report);
    j["sw"] = HexU16(r.sw);
    log_.Step("response", j);
    if (r.sw != sw::kOk) {
      (void)log_.Flush(plan_.sync_logs);
      return FailedPrecondition(
          "command " + std::to_string(report.first_pending) + " of the group answered " +
          HexU16(report.failed_sw) + " (" + std::to_string(report.succeeded) + " of " +
          std::to_string(report.count) + " succeeded); a re-run retries it once more");
    }
    TESSERA_RETURN_IF_ERROR(Acknowledge(report).status());
    return outcome;
  }

  // The log first, then the acknowledgement (claim 12: the card forgets the result only once
  // the host has it).
  Result<CardOutcome> Acknowledge(const RunReport&) {
    if (!log_.Flush(plan_.sync_logs)) return IOError("cannot write the card's log " + LogPath());
    TESSERA_ASSIGN_OR_RETURN(
        ResponseApdu a, session_->Plain(ExecuteIssuance(IssueOp::kAck, plan_.function, &run_id_)));
    if (a.sw != sw::kOk) return Refused("EXECUTE ISSUANCE acknowledge", a.sw);
    log_.Step("ack");
    if (!log_.Flush(false)) return IOError("cannot write the card's log " + LogPath());
    return CardOutcome::kCompleted;
  }

  const BatchPlan& plan_;
  const uint64_t serial_;
  RunId run_id_{};
  CardLog log_;
  std::unique_ptr<CardSession> session_;
  TableRecord on_card_;  // read when the card already held the function
};

}  // namespace

std::string ImagePath(const BatchPlan& plan, uint64_t serial) {
  return plan.images + "/card-" + SerialHex(serial) + ".img";
}

CardReport IssueCard(const BatchPlan& plan, uint64_t serial) {
  return CardIssuer(plan, serial).Issue();
}

}  // namespace tessera::host
