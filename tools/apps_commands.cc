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
#include "apps_make_list.h"
#include "cli_args.h"
#include "core/tlv.h"
#include "crypto/aes.h"
#include "crypto/ecdsa.h"
#include "crypto/scp03.h"
#include "format/status_words.h"
#include "host/app_client.h"
#include "host/app_operations.h"
#include "host/app_record.h"
#include "host/card_keys.h"
#include "host/card_session.h"
#include "host/file_io.h"
#include "host/install_file_builder.h"
#include "host/issuance_targets.h"
#include "host/pem_key.h"
#include "json_output.h"
#include "package_commands.h"
#include "reporter.h"

namespace tessera::tools {

// The host library (src/host) is what this front-end calls.
using namespace host;  // NOLINT(google-build-using-namespace)
namespace {
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
  // An installation file has at most kMaxInstallFile bytes (CheckInstallFile); its hex text
  // twice that and line breaks.
  auto read = ReadInputFile(path, {.what = "installation file", .max_bytes = 3 * kMaxInstallFile});
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
    if (auto st = GpSetStatus(s, *aid, action == "lock"); !st.ok()) return rep.Fail(st);
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
  if (auto st = UpdateRecord(s, *found, rewritten); !st.ok()) return rep.Fail(st);
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
  const Status deleted = gp ? GpDelete(s, *aid, label) : EraseRecord(s, *found, label);
  if (!deleted.ok()) return rep.Fail(deleted);
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

  AddPackageCommands(tree, apps, link);

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
