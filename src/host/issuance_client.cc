#include "host/issuance_client.h"

#include "format/identifiers.h"
#include "format/status_words.h"
#include "host/app_record.h"

namespace tessera::host {

const std::vector<SwMeaning>& SelectMeanings() {
  static const std::vector<SwMeaning> k = {
      {sw::kFileNotFound,
       "the card has no issuance application (install it: 'tessera --scp03 KEYS issue "
       "install-app')"},
      {sw::kConditionsNotSatisfied,
       "the card is running an issuance (privileged mode) or the application is locked"},
  };
  return k;
}

const std::vector<SwMeaning>& ExecuteMeanings() {
  static const std::vector<SwMeaning> k = {
      {sw::kReferencedDataNotFound,
       "no such function on the card (load it with 'issue load-group')"},
      {sw::kConditionsNotSatisfied,
       "not now: the function's previous run is not acknowledged (start), there is no "
       "unacknowledged run with this run id (resume, retry-failed, ack), or a run is in progress"},
      {sw::kSecurityNotSatisfied,
       "the function's policy needs the issuer's secure channel (give --scp03 KEYS)"},
      {sw::kWrongData, "the group file does not match its digest, or a malformed request"},
      {sw::kWrongP1P2, "bad P1"},
  };
  return k;
}

Status SelectIssuanceApp(CardSession& s) {
  TESSERA_ASSIGN_OR_RETURN(ResponseApdu r, s.Plain(SelectIssuance()));
  if (r.sw != sw::kOk) {
    return Refused("SELECT of the issuance application F054455353455241 02", r.sw,
                   SelectMeanings());
  }
  return Status::Ok();
}

Result<std::string> ReadCardSerial(CardSession& s, bool* privileged) {
  CommandApdu select;
  select.ins = 0xA4;
  select.p1 = 0x04;
  select.data = IsdAid();
  select.ne = 256;
  TESSERA_ASSIGN_OR_RETURN(ResponseApdu sel, s.Plain(select));
  if (sel.sw == sw::kConditionsNotSatisfied) {
    // Selecting the ISD is refused only in privileged mode (docs/self-issuance.md §5).
    if (privileged != nullptr) *privileged = true;
    return FailedPrecondition(
        "SELECT of the ISD: 6985: the card is running stored commands for another connection "
        "(privileged mode)");
  }
  if (sel.sw != sw::kOk) return FailedPrecondition("SELECT of the ISD: " + HexU16(sel.sw));
  CommandApdu get_data;
  get_data.cla = 0x80;
  get_data.ins = 0xCA;
  get_data.p2 = 0xCF;
  get_data.ne = 256;
  TESSERA_ASSIGN_OR_RETURN(ResponseApdu r, s.Plain(get_data));
  if (r.sw != sw::kOk || r.data.size() != 12 || r.data[0] != 0xCF || r.data[1] != 0x0A) {
    return FailedPrecondition("GET DATA CF (the card serial): " + HexU16(r.sw));
  }
  return ToHex(ByteView(r.data).subspan(4, 8));
}

Result<TableRecord> FindFunction(CardSession& s, uint8_t f, bool in_session) {
  for (int n = 1; n <= 16; ++n) {
    const CommandApdu read = ReadRecordCommand(kTableSfi, n);
    TESSERA_ASSIGN_OR_RETURN(ResponseApdu r, in_session ? s.Secure(read) : s.Plain(read));
    if (r.sw == sw::kSecurityNotSatisfied && !in_session) {
      TableRecord unknown;
      unknown.function = f;
      unknown.slot = -1;
      unknown.known = false;
      return unknown;
    }
    if (r.sw != sw::kOk) {
      return Refused("READ RECORD " + std::to_string(n) + " of the table (SFI 1)", r.sw);
    }
    if (auto t = ParseTableRecord(r.data, f, n - 1)) return *t;
  }
  return FailedPrecondition("the card has no function " + HexByte(f) +
                            " (load it with 'tessera issue load-group')");
}

Result<bool> InstallIssuanceApp(CardSession& s) {
  TESSERA_RETURN_IF_ERROR(s.OpenScp03({}));
  TESSERA_ASSIGN_OR_RETURN(ResponseApdu r, s.Secure(InstallIssuanceApplication()));
  if (r.sw == sw::kFileExists) return false;
  if (r.sw != sw::kOk) {
    return Refused("INSTALL of the issuance application", r.sw,
                   {{sw::kReferencedDataNotFound, "the card has no module ISSUANCE"},
                    {sw::kNotEnoughMemory, "out of memory, or the registry is full"}});
  }
  return true;
}

}  // namespace tessera::host
