#include "host/issuance_targets.h"

#include "core/tlv.h"
#include "format/status_words.h"
#include "host/issuance_protocol.h"

namespace tessera::host {

Result<std::map<std::string, std::string>> HalfIssuedTargets(CardSession& s) {
  std::map<std::string, std::string> out;
  TESSERA_ASSIGN_OR_RETURN(ResponseApdu sel, s.Plain(SelectIssuance()));
  if (sel.sw != sw::kOk) return out;  // no issuance application: nothing is half-issued
  for (int n = 1; n <= 16; ++n) {
    TESSERA_ASSIGN_OR_RETURN(ResponseApdu j, s.Plain(ReadRecordCommand(kJournalSfi, n)));
    if (j.sw != sw::kOk) break;
    const auto journal = format::DecodeJournal(j.data);
    if (!journal || journal->function == 0) continue;
    if (journal->state != static_cast<uint8_t>(RunState::kRunning) &&
        journal->state != static_cast<uint8_t>(RunState::kPartial)) {
      continue;
    }
    TESSERA_ASSIGN_OR_RETURN(
        ResponseApdu t, s.Plain(ExecuteIssuance(IssueOp::kStatus, journal->function, nullptr)));
    if (t.sw != sw::kOk) continue;
    auto report = ParseRunReport(t.data);
    if (!report.ok() || report->target.empty()) continue;
    out[ToHex(report->target)] =
        "function " + HexByte(journal->function) + " " + RunStateName(report->state);
  }
  return out;
}

}  // namespace tessera::host
