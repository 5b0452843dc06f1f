#include "apps_make_list.h"

#include "format/applet_package.h"

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
#include "format/applet_package.h"
#include "format/status_words.h"
#include "host/app_client.h"
#include "host/app_operations.h"
#include "host/app_record.h"
#include "host/card_keys.h"
#include "host/card_session.h"
#include "host/file_io.h"
#include "host/install_file_builder.h"
#include "host/issuance_targets.h"
#include "host/package_operations.h"
#include "host/pem_key.h"
#include "json_output.h"
#include "reporter.h"

namespace tessera::tools {

// The host library (src/host) is what this front-end calls.
using namespace host;  // NOLINT(google-build-using-namespace)

namespace {
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

}  // namespace

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
  Bytes module_aid = d->module_aid;
  std::string module = ModuleNameByAid(module_aid);
  std::optional<format::AppletPackage> applet;
  if (d->code) {  // checked when the description was read
    if (auto p = format::ParseAppletPackage(ByteView(*d->code).subspan(1)); p.ok()) {
      applet = std::move(*p);
      module_aid = applet->modules[0].aid;
      module = "applet " + ToHex(applet->aid) + " module " + applet->modules[0].name;
    }
  }
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
           {"module", ToHex(module_aid)}};
    if (!module.empty() && !applet) j["module_name"] = module;
    if (applet) {
      j["applet"] =
          Json{{"package", ToHex(applet->aid)},
               {"version", std::to_string(applet->major) + "." + std::to_string(applet->minor)},
               {"code_bytes", d->code->size()}};
    }
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
                module.empty() ? ToHex(module_aid).c_str() : module.c_str(),
                signature.empty() ? "unsigned"
                                  : ("signed for administrator " + HexByte(r.admin_id) + " (" +
                                     Printable(r.admin_name) + ")")
                                        .c_str());
  }
  return 0;
}

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
  // With --scp03 also the packages GP LOAD brought, as `gp --list` shows PKG lines.
  std::vector<PackageEntry> packages;
  if (with_gp) {
    auto got = ReadPackages(s);
    if (!got.ok()) return rep.Fail(got.status());
    for (auto& p : *got) {
      if (!p.built_in) packages.push_back(std::move(p));
    }
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
    Json j{{"ok", true}, {"applications", apps}};
    if (with_gp) {
      Json loaded = Json::array();
      for (const auto& p : packages) {
        Json modules = Json::array();
        for (const Bytes& m : p.modules) modules.push_back(ToHex(m));
        loaded.push_back(Json{{"aid", ToHex(p.aid)}, {"modules", modules}});
      }
      j["packages"] = loaded;
    }
    PrintJson(j);
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
  } else {
    PrintTable(header, rows);
  }
  for (const auto& p : packages) {
    std::string modules;
    for (const Bytes& m : p.modules) modules += (modules.empty() ? "" : ", ") + ToHex(m);
    std::printf("PKG: %s (modules %s)\n", ToHex(p.aid).c_str(), modules.c_str());
  }
  return 0;
}

}  // namespace tessera::tools
