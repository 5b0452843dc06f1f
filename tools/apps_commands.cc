#include "apps_commands.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <set>

#include "admin_commands.h"
#include "apps_help.h"
#include "cli_args.h"
#include "core/tlv.h"
#include "crypto/aes.h"
#include "crypto/ecdsa.h"
#include "crypto/scp03.h"
#include "format/status_words.h"
#include "host/app_client.h"
#include "host/app_record.h"
#include "host/card_keys.h"
#include "host/card_session.h"
#include "host/file_io.h"
#include "host/install_file_builder.h"
#include "host/issuance_targets.h"
#include "host/pem_key.h"
#include "json_output.h"
#include "reporter.h"

namespace tessera::tools {

// The host library (src/host) is what this front-end calls.
using namespace host;  // NOLINT(google-build-using-namespace)
namespace {
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
       "is full, or the upload is over 16 KiB"},
      {sw::kWrongData, "malformed installation file, or an AID under the card's reserved prefixes"},
      {sw::kWrongP1P2, "a STORE DATA block out of sequence (the upload was dropped)"},
  };
  return k;
}

// ---------------------------------------------------------------------------------------------
// apps make-install-file

Status WriteFile(const std::string& path, ByteView bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return IOError("cannot write " + path + ": " + std::strerror(errno));
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return IOError("cannot write " + path + ": " + std::strerror(errno));
  return Status::Ok();
}

int MakeInstallFile(const LinkOptions& o, const Args& a) {
  const Reporter rep("apps make-install-file", o.json);
  if (a.operands.size() != 1) {
    return rep.Usage(a.operands.empty() ? "no description given (DESC.toml or DESC.json)"
                                        : "give one description file");
  }
  const std::string& desc = a.operands[0];
  auto ends = [&](const char* ext) {
    const std::string e = ext;
    return desc.size() > e.size() && desc.compare(desc.size() - e.size(), e.size(), e) == 0;
  };
  if (!ends(".toml") && !ends(".json")) {
    return rep.Usage("'" + desc + "': the description's name ends in .toml or .json (its format)");
  }
  if (!a.has("-o")) return rep.Usage("-o OUT is required (where the installation file goes)");
  if (a.has("--key") == a.has("--unsigned")) {
    return rep.Usage(a.has("--key") ? "give --key PEM or --unsigned, not both"
                                    : "give --key PEM (the administrator's signing key) or "
                                      "--unsigned");
  }
  auto d = LoadInstallDescription(desc);
  if (!d.ok()) return rep.FailFile(d.status());
  for (const auto& w : d->warnings) rep.Warn(w);
  // Two signatures by the administrator's key (§5.2): the record's (over its fields) and the
  // file's (over everything before it: record, code, privileges, parameters).
  Bytes file;
  if (a.has("--key")) {
    auto key = LoadP256PrivateKeyPem(a.value("--key"));
    if (!key.ok()) return rep.FailFile(key.status());
    auto signed_file = SignInstallFile(*d, *key);
    if (!signed_file.ok()) {
      return rep.FailFile(InvalidArgument("signing with " + a.value("--key") + ": " +
                                          signed_file.status().message()));
    }
    file = std::move(*signed_file);
  } else {
    file = BuildInstallFile(*d, {}, {});
  }
  const std::string out = a.value("-o");
  if (auto st = WriteFile(out, file); !st.ok()) return rep.FailFile(st);
  const AppRecord& r = d->record;
  auto parsed = CheckInstallFile(file);
  if (!parsed.ok()) return rep.Fail(parsed.status());
  const AppRecord& signed_record = *parsed;
  const Bytes& signature = signed_record.signature;
  Bytes file_signature;
  if (auto f = UnwrapObject(file, 0xBF70); f.ok()) {
    if (auto items = ParseTlvSequence(*f); items.ok() && items->back().tag == 0x9E) {
      file_signature.assign(items->back().value.begin(), items->back().value.end());
    }
  }
  const std::string module = ModuleNameByAid(d->module_aid);
  if (o.json) {
    Json app{{"aid", ToHex(r.aid)},
             {"name", r.name},
             {"status", StatusName(r.status)},
             {"admin_id", r.admin_id},
             {"admin_name", r.admin_name},
             {"use_start", YymmddText(r.use_start)},
             {"expiration", YymmddText(r.expiration)}};
    Json j{{"ok", true},
           {"output", out},
           {"bytes", file.size()},
           {"application", app},
           {"module", ToHex(d->module_aid)}};
    if (!module.empty()) j["module_name"] = module;
    if (d->privileges) j["privileges"] = ToHex(*d->privileges);
    j["signed"] = !signature.empty();
    j["signed_data"] = ToHex(SignedPart(r));
    j["signature"] = signature.empty() ? Json() : Json(ToHex(signature));
    j["file_signature"] = file_signature.empty() ? Json() : Json(ToHex(file_signature));
    j["record_hex"] = ToHex(EncodeRecord(signed_record));
    j["holds_pin"] = d->params_hold_pin;
    // The file's bytes carry the PIN when there is one: PINs are never printed.
    if (!d->params_hold_pin) j["hex"] = ToHex(file);
    PrintJson(j);
  } else {
    std::printf("wrote %s: installation file of %zu bytes for %s \"%s\" (module %s), %s\n",
                out.c_str(), file.size(), ToHex(r.aid).c_str(), Printable(r.name).c_str(),
                module.empty() ? ToHex(d->module_aid).c_str() : module.c_str(),
                signature.empty() ? "unsigned"
                                  : ("signed for administrator " + HexByte(r.admin_id) + " (" +
                                     Printable(r.admin_name) + ")")
                                        .c_str());
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// apps list

int List(const LinkOptions& o, const Args& a) {
  const Reporter rep("apps list", o.json);
  if (!a.operands.empty()) return rep.Usage("unexpected argument '" + a.operands[0] + "'");
  if (auto e = CardUsageError(o); !e.empty()) return rep.Usage(e);
  auto session = CardSession::Open(o);
  if (!session.ok()) return rep.Fail(session.status());
  CardSession& s = **session;
  auto list = ReadApplicationList(s);
  if (!list.ok()) return rep.Fail(list.status());
  std::vector<Administrator> admins;
  if (auto got = ReadAdministrators(s); got.ok()) {
    admins = std::move(*got);
  } else {
    rep.Warn("the administrators' keys could not be read (" + got.status().message() +
             "): signatures are not checked");
  }
  std::vector<GpEntry> gp;
  const bool with_gp = !o.scp03.empty();
  if (with_gp) {
    auto got = ReadGpApplications(s);
    if (!got.ok()) return rep.Fail(got.status());
    gp = std::move(*got);
  }
  auto gp_of = [&](ByteView aid) -> const GpEntry* {
    for (const auto& g : gp) {
      if (ToHex(g.aid) == ToHex(aid)) return &g;
    }
    return nullptr;
  };
  auto gp_cell = [&](const GpEntry* g) {
    if (!g) return std::string("not listed");
    if (!g->lcs) return std::string("?");
    return HexByte(*g->lcs) + " " + GpState(*g->lcs);
  };
  // Half-issued applications (a card function's run under way or partial): SELECT refuses them.
  std::map<std::string, std::string> half_issued;
  if (auto got = HalfIssuedTargets(s); got.ok()) {
    half_issued = std::move(*got);
  } else {
    rep.Warn("the issuance journal could not be read (" + got.status().message() + ")");
  }
  auto half_of = [&](ByteView aid) -> const std::string* {
    auto it = half_issued.find(ToHex(aid));
    return it == half_issued.end() ? nullptr : &it->second;
  };
  std::set<std::string> with_record;
  if (o.json) {
    Json apps = Json::array();
    for (const auto& l : *list) {
      Json e{{"record", l.number}};
      if (!l.record.ok()) {
        e["raw"] = ToHex(l.raw);
        e["decode_error"] = l.record.status().message();
        apps.push_back(e);
        continue;
      }
      const AppRecord& r = *l.record;
      with_record.insert(ToHex(r.aid));
      e["aid"] = ToHex(r.aid);
      e["name"] = r.name;
      e["admin_id"] = r.admin_id;
      e["admin_name"] = r.admin_name;
      e["use_start"] = YymmddText(r.use_start);
      e["expiration"] = YymmddText(r.expiration);
      e["status"] = StatusName(r.status);
      e["signature"] = SignatureState(r, admins);
      if (const std::string* h = half_of(r.aid)) {
        e["half_issued"] = *h;
        e["selectable"] = false;
      }
      if (with_gp) {
        const GpEntry* g = gp_of(r.aid);
        if (g && g->lcs) {
          e["gp_lcs"] = HexByte(*g->lcs);
          e["gp_lcs_name"] = GpState(*g->lcs);
        }
        if (!g) e["gp_lcs_name"] = "not listed";
      }
      apps.push_back(e);
    }
    for (const auto& g : gp) {
      if (with_record.count(ToHex(g.aid))) continue;
      Json e{{"record", 0}, {"aid", ToHex(g.aid)}};
      const std::string module = ModuleNameByAid(g.module);
      if (!module.empty()) e["module_name"] = module;
      if (g.lcs) {
        e["gp_lcs"] = HexByte(*g.lcs);
        e["gp_lcs_name"] = GpState(*g.lcs);
      }
      apps.push_back(e);
    }
    PrintJson(Json{{"ok", true}, {"applications", apps}});
    return 0;
  }
  std::vector<std::string> header = {"AID",    "NAME",   "ADMINISTRATOR", "START",
                                     "EXPIRY", "STATUS", "SIGNATURE"};
  if (with_gp) header.push_back("GP");
  std::vector<std::vector<std::string>> rows;
  for (const auto& l : *list) {
    if (!l.record.ok()) {
      std::vector<std::string> row = {"record " + std::to_string(l.number),
                                      "(malformed: " + l.record.status().message() + ")",
                                      "",
                                      "",
                                      "",
                                      "",
                                      ""};
      if (with_gp) row.push_back("");
      rows.push_back(row);
      continue;
    }
    const AppRecord& r = *l.record;
    with_record.insert(ToHex(r.aid));
    std::vector<std::string> row = {
        AidText(r.aid),
        Printable(r.name),
        HexByte(r.admin_id) + " " + Printable(r.admin_name),
        DateDisplay(r.use_start, "-"),
        DateDisplay(r.expiration, "-"),
        StatusName(r.status) + (half_of(r.aid)
                                    ? ", half-issued (" + *half_of(r.aid) + "): not selectable"
                                    : std::string()),
        SignatureState(r, admins)};
    if (with_gp) row.push_back(gp_cell(gp_of(r.aid)));
    rows.push_back(row);
  }
  for (const auto& g : gp) {
    if (with_record.count(ToHex(g.aid))) continue;
    const std::string module = ModuleNameByAid(g.module);
    rows.push_back({AidText(g.aid), "(no record" + (module.empty() ? "" : ": " + module) + ")", "",
                    "", "", "", "", gp_cell(&g)});
  }
  if (rows.empty()) {
    std::printf("no applications in the application list\n");
    return 0;
  }
  PrintTable(header, rows);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// apps install

int Install(const LinkOptions& o, const Args& a) {
  const Reporter rep("apps install", o.json);
  if (a.operands.size() != 1) {
    return rep.Usage(a.operands.empty() ? "no installation FILE given" : "give one FILE");
  }
  if (auto e = CardUsageError(o); !e.empty()) return rep.Usage(e);
  if (o.scp03.empty()) {
    return rep.Usage(
        "installing needs the issuer's secure channel: give --scp03 KEYS (the issuer security "
        "domain's keys)");
  }
  const std::string& path = a.operands[0];
  // An installation file has at most 16 KiB (CheckInstallFile); its hex text twice that and
  // line breaks.
  auto read = ReadInputFile(path, {.what = "installation file", .max_bytes = 64 * 1024});
  if (!read.ok()) return rep.FailFile(read.status());
  Bytes file(read->begin(), read->end());
  if (!file.empty() && file[0] != 0xBF) {
    // Hex text, as 'make-install-file --json' prints it.
    auto hex = FromHex(std::string_view(reinterpret_cast<const char*>(file.data()), file.size()));
    if (!hex.ok()) {
      return rep.FailFile(InvalidArgument(
          DisplayName(path) + " is neither an installation file (BF70 ...) nor its hex"));
    }
    Wipe(file.data(), file.size());
    file = std::move(*hex);
  }
  auto record = CheckInstallFile(file);
  if (!record.ok())
    return rep.FailFile(InvalidArgument(
        DisplayName(path) + ": not an installation file: " + record.status().message()));
  auto session = CardSession::Open(o);
  if (!session.ok()) return rep.Fail(session.status());
  CardSession& s = **session;
  if (auto st = s.OpenScp03({}); !st.ok()) return rep.Fail(st);
  auto up = s.StoreData(file);
  Wipe(file.data(), file.size());  // it may carry a PIN
  if (!up.ok()) return rep.Fail(up.status());
  const std::string what =
      "installing " + ToHex(record->aid) + " (" + Printable(record->name) + ")";
  if (up->sw != sw::kOk) {
    return rep.CardFail(what + ", STORE DATA block " + std::to_string(up->block + 1) + " of " +
                            std::to_string(up->blocks),
                        up->sw, InstallMeanings());
  }
  if (o.json) {
    PrintJson(Json{{"ok", true},
                   {"application",
                    {{"aid", ToHex(record->aid)},
                     {"name", record->name},
                     {"status", StatusName(record->status)}}},
                   {"signed", !record->signature.empty()},
                   {"store_data_blocks", up->blocks}});
  } else {
    std::printf("installed %s \"%s\" (%s, %zu STORE DATA block%s)\n", ToHex(record->aid).c_str(),
                Printable(record->name).c_str(), StatusName(record->status).c_str(), up->blocks,
                up->blocks == 1 ? "" : "s");
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// apps set-status

int SetStatus(const LinkOptions& o, const Args& a) {
  const Reporter rep("apps set-status", o.json);
  if (a.operands.size() != 2) {
    return rep.Usage("give AID and ACTION (lock, unlock, terminate, erase or restore)");
  }
  auto aid = ParseAid(a.operands[0]);
  if (!aid.ok()) return rep.Usage(aid.status().message());
  const std::string& action = a.operands[1];
  static const std::map<std::string, AppState> kActions = {{"lock", AppState::kLocked},
                                                           {"unlock", AppState::kActive},
                                                           {"terminate", AppState::kTerminated},
                                                           {"erase", AppState::kErased},
                                                           {"restore", AppState::kActive}};
  auto it = kActions.find(action);
  if (it == kActions.end()) {
    return rep.Usage("ACTION '" + action + "': give lock, unlock, terminate, erase or restore");
  }
  AppState target = it->second;
  if (a.has("--restore-to")) {
    if (action != "restore") return rep.Usage("--restore-to goes with restore only");
    const std::string to = a.value("--restore-to");
    if (to != "active" && to != "locked") return rep.Usage("--restore-to: give active or locked");
    target = to == "locked" ? AppState::kLocked : AppState::kActive;
  }
  const bool gp = a.has("--gp");
  if (gp && action != "lock" && action != "unlock") {
    return rep.Usage("--gp does lock and unlock only (GlobalPlatform SET STATUS)");
  }
  if (gp && a.has("--sign-key")) return rep.Usage("--sign-key does not go with --gp");
  if (auto e = CardUsageError(o); !e.empty()) return rep.Usage(e);
  if (o.scp03.empty()) {
    return rep.Usage(gp ? "--gp needs the issuer's secure channel: give --scp03 KEYS"
                        : "changing a status needs a secure channel with the management "
                          "application: give --scp03 KEYS (the administrator's or the issuer's "
                          "key set, chosen with --kvn)");
  }
  std::optional<crypto::P256KeyPair> sign_key;
  if (a.has("--sign-key")) {
    auto k = LoadP256PrivateKeyPem(a.value("--sign-key"));
    if (!k.ok()) return rep.Fail(k.status());
    sign_key = std::move(*k);
  }
  auto session = CardSession::Open(o);
  if (!session.ok()) return rep.Fail(session.status());
  CardSession& s = **session;

  if (gp) {
    if (auto st = s.OpenScp03({}); !st.ok()) return rep.Fail(st);
    const uint8_t p2 = action == "lock" ? 0x80 : 0x00;
    auto r = s.Secure(CommandApdu{0x80, 0xF0, 0x40, p2, *aid, 0, false});
    if (!r.ok()) return rep.Fail(r.status());
    if (r->sw != sw::kOk) {
      return rep.CardFail(
          "SET STATUS (" + action + ") of " + ToHex(*aid), r->sw,
          {{sw::kConditionsNotSatisfied, "the application is terminated"},
           {sw::kReferencedDataNotFound, "no such application (not registered, or erased)"}});
    }
    if (o.json) {
      PrintJson(Json{{"ok", true},
                     {"application", {{"aid", ToHex(*aid)}}},
                     {"action", action},
                     {"via", "gp"}});
    } else {
      std::printf("%s: %s (GlobalPlatform SET STATUS)\n", ToHex(*aid).c_str(),
                  action == "lock" ? "locked" : "unlocked");
    }
    return 0;
  }

  auto found = FindRecord(s, *aid);
  if (!found.ok()) return rep.Fail(found.status());
  const AppRecord& rec = *found->record;
  const std::string from = StatusName(rec.status), to = StatusName(target);
  auto done = [&](bool changed) {
    if (o.json) {
      PrintJson(Json{
          {"ok", true},
          {"application", {{"aid", ToHex(rec.aid)}, {"name", rec.name}, {"record", found->number}}},
          {"action", action},
          {"via", "management"},
          {"from", from},
          {"to", to},
          {"changed", changed},
          {"signed_now", sign_key.has_value()}});
    } else if (changed) {
      std::printf("%s \"%s\": %s -> %s%s\n", ToHex(rec.aid).c_str(), Printable(rec.name).c_str(),
                  from.c_str(), to.c_str(), sign_key ? " (record signed anew)" : "");
    } else {
      std::printf("%s \"%s\" is already %s; nothing sent\n", ToHex(rec.aid).c_str(),
                  Printable(rec.name).c_str(), to.c_str());
    }
    return 0;
  };
  // An erased application comes back only by restore: a lock or unlock would send the status
  // a restore sends, and the card could not tell them apart.
  if ((action == "lock" || action == "unlock") && rec.status == AppState::kErased) {
    return rep.Fail(FailedPrecondition(ToHex(rec.aid) + " is erased: restore it (restore, or "
                                                        "restore --restore-to locked)"));
  }
  // Only an erased application can be restored: the record of any other already says what a
  // restore would write, so the card could not tell the two apart.
  if (action == "restore" && rec.status != AppState::kErased) {
    return rep.Fail(FailedPrecondition(ToHex(rec.aid) + " is " + StatusName(rec.status) +
                                       ", not erased: only an erased application is restored"));
  }
  // Already so: nothing to send.
  if (rec.status == target && !sign_key) return done(false);

  std::optional<Bytes> signature;
  if (sign_key) {
    // The key should be the one the card holds for the record's administrator.
    if (auto admins = ReadAdministrators(s); admins.ok()) {
      bool known = false;
      for (const auto& ad : *admins) {
        if (ad.id != rec.admin_id) continue;
        known = true;
        if (ad.public_key.empty()) {
          rep.Warn("administrator " + HexByte(rec.admin_id) +
                   " has no signing key on the card: it will refuse the signature (6982)");
        } else if (ad.public_key != sign_key->public_key) {
          rep.Warn(a.value("--sign-key") + " is not administrator " + HexByte(rec.admin_id) +
                   "'s signing key on the card: it will refuse the signature (6982)");
        }
      }
      if (!known) {
        rep.Warn("administrator " + HexByte(rec.admin_id) + " is not registered on the card");
      }
    }
    auto sig = crypto::EcdsaP256Sign(sign_key->private_key, SignedPart(rec));
    if (!sig.ok()) return rep.Fail(sig.status());
    signature = std::move(*sig);
  }
  AppRecord rewritten = rec;
  rewritten.status = target;
  if (signature) rewritten.signature = *signature;
  const Bytes updated = EncodeRecord(rewritten);
  if (auto st = s.OpenScp03(ManagementAid()); !st.ok()) return rep.Fail(st);
  auto r = s.Secure(
      CommandApdu{0x80, 0xDC, static_cast<uint8_t>(found->number), 0x0C, updated, 0, false});
  if (!r.ok()) return rep.Fail(r.status());
  if (r->sw != sw::kOk) {
    std::string bad_sig =
        "not authenticated for this record (another administrator's), or a "
        "missing or bad signature";
    // The issuer's session needs no signature on the issuer's own records (administrator 00):
    // only other administrators' unsigned records need their key.
    if (rec.signature.empty() && !sign_key && rec.admin_id != 0) {
      bad_sig +=
          "; the record is unsigned: give --sign-key PEM (the administrator's signing "
          "key)";
    }
    return rep.CardFail(
        "UPDATE RECORD " + std::to_string(found->number) + " (" + ToHex(rec.aid) + ": " + from +
            " -> " + to + ")",
        r->sw,
        {{sw::kSecurityNotSatisfied, bad_sig},
         {sw::kConditionsNotSatisfied, "the card does not allow " + from + " -> " + to},
         {sw::kWrongData, "malformed record, or a changed AID"},
         {sw::kRecordNotFound, "no such record (the list changed meanwhile?)"}});
  }
  return done(true);
}

// ---------------------------------------------------------------------------------------------
// apps delete

int Delete(const LinkOptions& o, const Args& a) {
  const Reporter rep("apps delete", o.json);
  if (a.operands.size() != 1) return rep.Usage("give the AID of the application to delete");
  auto aid = ParseAid(a.operands[0]);
  if (!aid.ok()) return rep.Usage(aid.status().message());
  if (auto e = CardUsageError(o); !e.empty()) return rep.Usage(e);
  const bool gp = a.has("--gp"), yes = a.has("--yes");
  if (o.scp03.empty()) {
    return rep.Usage(gp ? "--gp needs the issuer's secure channel: give --scp03 KEYS"
                        : "deleting needs a secure channel with the management application: "
                          "give --scp03 KEYS (the administrator's or the issuer's key set)");
  }
  const bool terminal = ::isatty(STDIN_FILENO) == 1;
  if (!yes && !terminal) {
    return rep.Usage("not deleting " + ToHex(*aid) +
                     " without confirmation: there is no terminal to ask on; give --yes");
  }
  auto session = CardSession::Open(o);
  if (!session.ok()) return rep.Fail(session.status());
  CardSession& s = **session;
  auto found = FindRecord(s, *aid);
  if (!found.ok() && !gp) return rep.Fail(found.status());
  const std::string name = found.ok() ? found->record->name : "";
  const std::string label = ToHex(*aid) + (found.ok() ? " (" + Printable(name) + ")" : "");
  if (!yes) {
    std::fprintf(stderr, "delete application %s? this wipes its data [y/N] ", label.c_str());
    std::fflush(stderr);
    std::string answer;
    std::getline(std::cin, answer);
    if (answer != "y" && answer != "Y" && answer != "yes" && answer != "YES") {
      return rep.Fail("not deleted: " + label);
    }
  }
  Result<ResponseApdu> r = Malformed("not sent");
  std::string what;
  if (gp) {
    if (auto st = s.OpenScp03({}); !st.ok()) return rep.Fail(st);
    r = s.Secure(CommandApdu{0x80, 0xE4, 0x00, 0x00, EncodeTlv(0x4F, *aid), 0, false});
    what = "DELETE of " + label;
  } else {
    if (auto st = s.OpenScp03(ManagementAid()); !st.ok()) return rep.Fail(st);
    r = s.Secure(CommandApdu{0x80, 0x0C, static_cast<uint8_t>(found->number), 0x0C, {}, 0, false});
    what = "ERASE RECORD " + std::to_string(found->number) + " (" + label + ")";
  }
  if (!r.ok()) return rep.Fail(r.status());
  if (r->sw != sw::kOk) {
    return rep.CardFail(
        what, r->sw,
        {{sw::kSecurityNotSatisfied,
          "not authenticated for this application (another administrator's)"},
         {sw::kRecordNotFound, "no such record (the list changed meanwhile?)"},
         {sw::kConditionsNotSatisfied,
          gp ? "not an application (a load file or the issuer security domain)"
             : "conditions of use not satisfied"},
         {sw::kReferencedDataNotFound, "no such application (not registered, or erased)"}});
  }
  if (o.json) {
    Json app{{"aid", ToHex(*aid)}};
    if (found.ok()) app["name"] = name;
    PrintJson(Json{{"ok", true}, {"application", app}, {"via", gp ? "gp" : "management"}});
  } else {
    std::printf("deleted %s\n", label.c_str());
  }
  return 0;
}

}  // namespace

void AddManagementCommands(CommandTree& tree, const LinkOptions& link) {
  using Handler = int (*)(const LinkOptions&, const Args&);
  auto bind = [&link](Command& c, Handler h) {
    c.run = [&link, h](const Args& a) { return h(link, a); };
  };

  Command& apps = tree.Add(
      nullptr, "apps", "application management: install files, list, status, delete", kAppsHelp);
  apps.app->require_subcommand(1);

  Command& make =
      tree.Add(apps.app, "make-install-file",
               "build a signed installation file from a TOML or JSON description", kMakeHelp);
  make.Operand("DESC", "the description: .toml or .json")
      .Value("--key", "PEM", "the administrator's EC P-256 private key that signs")
      .Value("-o,--output", "OUT", "the installation file to write")
      .Flag("--unsigned", "build a file without signatures (a card refuses it with 6982)");
  bind(make, MakeInstallFile);

  Command& list = tree.Add(apps.app, "list",
                           "the application list: records, administrators, dates, status, "
                           "signatures checked, and the GP life cycle with --scp03",
                           kListHelp);
  bind(list, List);

  Command& install =
      tree.Add(apps.app, "install", "install an application from an installation file (--scp03)",
               kInstallHelp);
  install.Operand("FILE", "the installation file (or its hex as text)");
  bind(install, Install);

  Command& set_status =
      tree.Add(apps.app, "set-status", "lock, unlock, terminate, erase or restore an application",
               kSetStatusHelp);
  set_status.Operand("AID", "the application (5..16 bytes hex)")
      .Operand("ACTION", "lock, unlock, terminate, erase or restore")
      .Value("--restore-to", "STATUS", "(restore) active (default) or locked")
      .Value("--sign-key", "PEM", "sign the changed record anew with this private key")
      .Flag("--gp", "lock or unlock with GlobalPlatform SET STATUS instead");
  bind(set_status, SetStatus);

  Command& del = tree.Add(apps.app, "delete",
                          "delete an application and wipe its data (asks first)", kDeleteHelp);
  del.Operand("AID", "the application (5..16 bytes hex)")
      .Flag("--yes,-y", "do not ask")
      .Flag("--gp", "delete with GlobalPlatform DELETE instead");
  bind(del, Delete);

  Command& apps_date = tree.Add(apps.app, "set-date",
                                "set the card's trusted date (as 'card set-date')", kSetDateHelp);
  apps_date.Operand("YYMMDD", "the date");
  apps_date.run = [&link](const Args& a) { return SetDate(link, a, "apps set-date"); };

  Command& admin =
      tree.Add(nullptr, "admin", "register an administrator, or list them", kAdminHelp);
  admin.app->require_subcommand(1);
  Command& add = tree.Add(admin.app, "add", "register an administrator (--scp03)", kAdminHelp);
  add.Value("--id", "N", "the administrator's id, 1..127 (0: the card issuer)")
      .Value("--name", "NAME", "the administrator's name, 1..32 bytes")
      .Value("--public-key", "PEM", "the signing public key (or the private key)")
      .Value("--keys", "KEYFILE", "a key set for the administrator: enc=, mac=, dek= lines")
      .Value("--key-kvn", "XX", "(--keys) the key set's version, 01..7F");
  bind(add, AdminAdd);
  Command& admins = tree.Add(admin.app, "list", "the administrators", kAdminHelp);
  bind(admins, AdminList);

  Command& card =
      tree.Add(nullptr, "card", "the card's trusted date: set it, or show it", kSetDateHelp);
  card.app->require_subcommand(1);
  Command& set_date =
      tree.Add(card.app, "set-date", "set the card's trusted date (--scp03)", kSetDateHelp);
  set_date.Operand("YYMMDD", "the date");
  set_date.run = [&link](const Args& a) { return SetDate(link, a, "card set-date"); };
  Command& date = tree.Add(card.app, "date", "the date the card holds", kSetDateHelp);
  bind(date, ShowDate);
}

}  // namespace tessera::tools
