#include "host/app_operations.h"

#include "core/tlv.h"
#include "format/identifiers.h"
#include "format/status_words.h"
#include "host/app_record.h"

namespace tessera::host {

namespace {

const std::vector<SwMeaning>& DeleteMeanings(bool gp) {
  static const std::vector<SwMeaning> kRecord = {
      {sw::kSecurityNotSatisfied,
       "not authenticated for this application (another administrator's)"},
      {sw::kRecordNotFound, "no such record (the list changed meanwhile?)"},
      {sw::kConditionsNotSatisfied, "conditions of use not satisfied"},
      {sw::kReferencedDataNotFound, "no such application (not registered, or erased)"}};
  static const std::vector<SwMeaning> kGp = {
      {sw::kSecurityNotSatisfied,
       "not authenticated for this application (another administrator's)"},
      {sw::kConditionsNotSatisfied,
       "not an application (a load file or the issuer security domain)"},
      {sw::kReferencedDataNotFound, "no such application (not registered, or erased)"}};
  return gp ? kGp : kRecord;
}

}  // namespace

const std::vector<SwMeaning>& InstallMeanings() {
  static const std::vector<SwMeaning> k = {
      {sw::kFileExists, "an application with this AID exists"},
      {sw::kReferencedDataNotFound, "unknown module, or the administrator is not registered"},
      {sw::kFunctionNotSupported, "the card cannot run this code format"},
      {sw::kSecurityNotSatisfied,
       "bad or missing signature: the record's or the file's (was the file changed after "
       "signing, or made --unsigned?), or no session with the issuer security domain"},
      {sw::kNotEnoughMemory,
       "out of memory: the NVM, the registry (16 applications) or the application list "
       "is full, or the upload is over 33,792 bytes"},
      {sw::kWrongData,
       "malformed installation file, an AID under the card's reserved prefixes, or applet code "
       "the card refuses (bytecode, does not compile: the card's --trace says)"},
      {sw::kWrongP1P2, "a STORE DATA block out of sequence (the upload was dropped)"},
      {sw::kNoPreciseDiagnosis, "the applet's install() failed (the card's --trace says why)"},
  };
  return k;
}

Status GpSetStatus(CardSession& s, ByteView aid, bool lock) {
  TESSERA_RETURN_IF_ERROR(s.OpenScp03({}));
  const Bytes a(aid.begin(), aid.end());
  TESSERA_ASSIGN_OR_RETURN(
      ResponseApdu r,
      s.Secure(CommandApdu{0x80, 0xF0, 0x40, lock ? uint8_t{0x80} : uint8_t{0x00}, a, 0, false}));
  if (r.sw == sw::kOk) return Status::Ok();
  return Refused(
      std::string("SET STATUS (") + (lock ? "lock" : "unlock") + ") of " + ToHex(aid), r.sw,
      {{sw::kConditionsNotSatisfied, "the application is terminated"},
       {sw::kReferencedDataNotFound, "no such application (not registered, or erased)"}});
}

Status UpdateRecord(CardSession& s, const Listed& found, const AppRecord& rewritten) {
  const AppRecord& rec = *found.record;
  TESSERA_RETURN_IF_ERROR(s.OpenScp03(ManagementAid()));
  TESSERA_ASSIGN_OR_RETURN(
      ResponseApdu r, s.Secure(CommandApdu{0x80, 0xDC, static_cast<uint8_t>(found.number), 0x0C,
                                           EncodeRecord(rewritten), 0, false}));
  if (r.sw == sw::kOk) return Status::Ok();
  const std::string from = StatusName(rec.status), to = StatusName(rewritten.status);
  std::string bad_sig =
      "not authenticated for this record (another administrator's), or a missing or bad "
      "signature";
  // The issuer's session needs no signature on the issuer's own records (administrator 00):
  // only other administrators' unsigned records need their key.
  if (rewritten.signature.empty() && rec.admin_id != 0) {
    bad_sig += "; the record is unsigned: give --sign-key PEM (the administrator's signing key)";
  }
  return Refused("UPDATE RECORD " + std::to_string(found.number) + " (" + ToHex(rec.aid) + ": " +
                     from + " -> " + to + ")",
                 r.sw,
                 {{sw::kSecurityNotSatisfied, bad_sig},
                  {sw::kConditionsNotSatisfied, "the card does not allow " + from + " -> " + to},
                  {sw::kWrongData, "malformed record, or a changed AID"},
                  {sw::kRecordNotFound, "no such record (the list changed meanwhile?)"}});
}

Status EraseRecord(CardSession& s, const Listed& found, const std::string& label) {
  TESSERA_RETURN_IF_ERROR(s.OpenScp03(ManagementAid()));
  TESSERA_ASSIGN_OR_RETURN(
      ResponseApdu r,
      s.Secure(CommandApdu{0x80, 0x0C, static_cast<uint8_t>(found.number), 0x0C, {}, 0, false}));
  if (r.sw == sw::kOk) return Status::Ok();
  return Refused("ERASE RECORD " + std::to_string(found.number) + " (" + label + ")", r.sw,
                 DeleteMeanings(false));
}

Status GpDelete(CardSession& s, ByteView aid, const std::string& label) {
  TESSERA_RETURN_IF_ERROR(s.OpenScp03({}));
  TESSERA_ASSIGN_OR_RETURN(ResponseApdu r, s.Secure(CommandApdu{0x80, 0xE4, 0x00, 0x00,
                                                                EncodeTlv(0x4F, aid), 0, false}));
  if (r.sw == sw::kOk) return Status::Ok();
  return Refused("DELETE of " + label, r.sw, DeleteMeanings(true));
}

Status SetCardDate(CardSession& s, ByteView bcd) {
  TESSERA_RETURN_IF_ERROR(s.OpenScp03({}));
  TESSERA_ASSIGN_OR_RETURN(CardSession::Upload up,
                           s.StoreData(EncodeTlv(format::tag::kTrustedDate, bcd)));
  if (up.sw == sw::kOk) return Status::Ok();
  return Refused("STORE DATA DF72 (date " + DateDisplay(bcd) + ")", up.sw,
                 {{sw::kConditionsNotSatisfied,
                   "the card's date never moves backwards (it holds a later one)"},
                  {sw::kWrongData, "the card does not take this date object"}});
}

Result<std::optional<Bytes>> ReadCardDate(CardSession& s) {
  TESSERA_ASSIGN_OR_RETURN(ResponseApdu sel, s.Select(IsdAid()));
  (void)sel;
  TESSERA_ASSIGN_OR_RETURN(ResponseApdu r,
                           s.Plain(CommandApdu{0x80, 0xCA, 0xDF, 0x72, {}, 256, false}));
  if (r.sw == sw::kReferencedDataNotFound) return std::optional<Bytes>();
  if (r.sw != sw::kOk) return Refused("GET DATA DF72 (the card's date)", r.sw);
  auto t = ParseTlv(r.data);
  if (!t.ok() || t->tag != format::tag::kTrustedDate || t->value.size() != 3) {
    return Malformed("GET DATA DF72: not a DF72 03 YYMMDD object: " + ToHex(r.data));
  }
  return std::optional<Bytes>(Bytes(t->value.begin(), t->value.end()));
}

}  // namespace tessera::host
