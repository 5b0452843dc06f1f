#include "package_commands.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "format/status_words.h"
#include "host/app_client.h"
#include "host/app_operations.h"
#include "host/applet_description.h"
#include "host/card_session.h"
#include "host/install_file_builder.h"
#include "host/package_operations.h"
#include "host/pem_key.h"
#include "json_output.h"
#include "reporter.h"

namespace tessera::tools {
namespace {

using namespace host;  // NOLINT(google-build-using-namespace)

const char* const kLoadHelp =
    "Loads an applet package (docs/applets.md) onto the card: DESC is a package description\n"
    "(.toml or .json: package = AID hex, version = \"MAJOR.MINOR\", and one [modules.NAME]\n"
    "table per module with aid and source, the Lua source's path relative to DESC). The\n"
    "package is checked as the card checks it (source only, sizes, AIDs), then sent with\n"
    "INSTALL [for load] (80 E6 02 00) and LOAD blocks (80 E8) of C4 { package } inside an\n"
    "SCP03 session with the issuer's keys (--scp03 KEYS). 'apps create' makes applications of\n"
    "its modules; 'apps packages' lists what is loaded.\n"
    "Exit codes: 0 loaded; 1 DESC is wrong, or the card refused (6A89: a package or module\n"
    "with one of its AIDs is loaded; 6A80: the card refused the package, --trace says why),\n"
    "or the link failed; 2 usage error.\n";

const char* const kCreateHelp =
    "Creates an application of a loaded package's module (GP INSTALL [for install and make\n"
    "selectable], 80 E6 0C 00, as 'gp --create' does): AID is the new application's,\n"
    "PACKAGE and MODULE the package and module AIDs. --params-hex gives install(params),\n"
    "--privileges the GP privileges (800000 makes it a security domain: SCP03 sessions with\n"
    "it), --heap, --persistent, --instructions its limits (docs/applets.md §2).\n"
    "Exit codes: 0 created; 1 refused (6A88: no such package or module; 6A89: the AID is\n"
    "taken) or failed; 2 usage error.\n";

const char* const kDeletePackageHelp =
    "Deletes a loaded package (GP DELETE 80 E4 of its AID) and wipes its code. The card\n"
    "refuses (6985) while applications of its modules exist; --with-instances deletes them\n"
    "too (P2 = 80), with their data. Asks first unless --yes.\n"
    "Exit codes: 0 deleted; 1 refused or failed; 2 usage error.\n";

const char* const kPackagesHelp =
    "Lists the load files the card holds (GP GET STATUS P1 10) and their modules: the\n"
    "built-in modules, and the packages 'apps load' brought. Needs --scp03.\n";

const char* const kTryHelp =
    "The developer's loop (docs/applets.md §7): builds and signs the installation file of\n"
    "DESC (as make-install-file does, with --key), deletes the application of its AID when the\n"
    "card has one (GP DELETE with the issuer's --scp03 keys), installs the new file, and runs\n"
    "--script FILE against it with --trace on: every command, its response, and the card's\n"
    "diagnostics (the applet's Lua errors with their lines, card.log lines).\n"
    "Exit codes: 0 installed (and the script ran); 1 DESC or the key is wrong, the card refused\n"
    "the file, or the link failed; 2 usage error (--json with --script: run 'script' after).\n";

Result<Bytes> AidOperand(const std::string& text) {
  return ParseAid(text);
}

int Try(const LinkOptions& o, const Args& a) {
  const Reporter rep("apps try", o.json);
  if (a.operands.size() != 1) return rep.Usage("give the applet's description (.toml or .json)");
  if (!a.has("--key")) return rep.Usage("give --key PEM: the administrator's signing key");
  if (o.json && a.has("--script")) {
    return rep.Usage("--json prints the installation only: run 'script FILE' after it");
  }
  if (auto e = CardUsageError(o); !e.empty()) return rep.Usage(e);
  if (o.scp03.empty()) return rep.Usage("reinstalling needs the issuer's secure channel: --scp03");
  auto d = LoadInstallDescription(a.operands[0]);
  if (!d.ok()) return rep.FailFile(d.status());
  auto key = LoadP256PrivateKeyPem(a.value("--key"));
  if (!key.ok()) return rep.FailFile(key.status());
  auto file = SignInstallFile(*d, *key);
  if (!file.ok()) return rep.Fail(file.status());
  const Bytes aid = d->record.aid;
  bool replaced = false;
  {
    auto session = CardSession::Open(o);
    if (!session.ok()) return rep.Fail(session.status());
    CardSession& s = **session;
    const Status gone = GpDelete(s, aid, ToHex(aid));
    if (gone.ok()) {
      replaced = true;
    } else if (!gone.has_card_sw() || gone.card_sw() != sw::kReferencedDataNotFound) {
      return rep.Fail(gone);
    }
    if (Status st = s.OpenScp03({}); !st.ok()) return rep.Fail(st);
    auto up = s.StoreData(*file);
    Wipe(file->data(), file->size());  // it may carry a PIN
    if (!up.ok()) return rep.Fail(up.status());
    if (up->sw != sw::kOk) {
      return rep.CardFail("installing " + ToHex(aid), up->sw, InstallMeanings());
    }
  }
  if (o.json) {
    PrintJson(Json{{"ok", true},
                   {"application", Json{{"aid", ToHex(aid)}, {"name", d->record.name}}},
                   {"replaced", replaced}});
    return 0;
  }
  std::printf("%s %s \"%s\"\n", replaced ? "reinstalled" : "installed", ToHex(aid).c_str(),
              Printable(d->record.name).c_str());
  std::fflush(stdout);
  if (!a.has("--script")) return 0;
  LinkOptions traced = o;
  traced.trace = true;
  traced.scp03.clear();  // the script's commands go as written, outside a session
  return RunScript(traced, {a.value("--script")});
}

int Load(const LinkOptions& o, const Args& a) {
  const Reporter rep("apps load", o.json);
  if (a.operands.size() != 1) return rep.Usage("give the package description (.toml or .json)");
  if (auto e = CardUsageError(o); !e.empty()) return rep.Usage(e);
  if (o.scp03.empty()) return rep.Usage("loading needs the issuer's secure channel: --scp03 KEYS");
  auto package = LoadPackageDescription(a.operands[0]);
  if (!package.ok()) return rep.FailFile(package.status());
  auto session = CardSession::Open(o);
  if (!session.ok()) return rep.Fail(session.status());
  const bool show = !o.json && ::isatty(STDERR_FILENO) == 1;
  const Status loaded = LoadPackage(**session, *package, [&](size_t done, size_t all) {
    if (show) std::fprintf(stderr, "\rLOAD %zu/%zu blocks", done, all);
  });
  if (show) std::fprintf(stderr, "\n");
  if (!loaded.ok()) return rep.Fail(loaded);
  if (o.json) {
    Json modules = Json::array();
    for (const auto& m : package->modules) {
      modules.push_back(Json{{"aid", ToHex(m.aid)}, {"name", m.name}});
    }
    PrintJson(Json{{"ok", true},
                   {"package", Json{{"aid", ToHex(package->aid)},
                                    {"version", std::to_string(package->major) + "." +
                                                    std::to_string(package->minor)},
                                    {"modules", modules}}}});
  } else {
    std::printf("loaded package %s (version %u.%u, %zu module%s)\n", ToHex(package->aid).c_str(),
                package->major, package->minor, package->modules.size(),
                package->modules.size() == 1 ? "" : "s");
  }
  return 0;
}

int Create(const LinkOptions& o, const Args& a) {
  const Reporter rep("apps create", o.json);
  if (a.operands.size() != 3) return rep.Usage("give AID PACKAGE MODULE");
  InstanceRequest r;
  for (size_t i = 0; i < 3; ++i) {
    auto aid = AidOperand(a.operands[i]);
    if (!aid.ok()) return rep.Usage(aid.status().message());
    (i == 0 ? r.aid : i == 1 ? r.package : r.module) = std::move(*aid);
  }
  r.privileges = Bytes(3, 0);
  if (a.has("--privileges")) {
    auto p = ParseHexArg(a.value("--privileges"), 3);
    if (!p.ok()) return rep.Usage("--privileges: " + p.status().message());
    r.privileges = std::move(*p);
  }
  if (a.has("--params-hex")) {
    auto p = ParseHexArg(a.value("--params-hex"));
    if (!p.ok()) return rep.Usage("--params-hex: " + p.status().message());
    if (p->size() > 200) return rep.Usage("--params-hex: at most 200 bytes");
    r.params = std::move(*p);
  }
  format::AppletLimits limits;
  bool any = false;
  for (const format::AppletLimitField& l : format::kAppletLimitFields) {
    const std::string option = std::string("--") + l.name;
    if (!a.has(option)) continue;
    auto v = ParseCount(a.value(option), l.min, l.max);
    if (!v) {
      return rep.Usage(option + ": give a count " + std::to_string(l.min) + ".." +
                       std::to_string(l.max));
    }
    limits.*l.field = static_cast<uint32_t>(*v);
    any = true;
  }
  if (any) r.system = format::EncodeAppletLimits(limits);
  if (auto e = CardUsageError(o); !e.empty()) return rep.Usage(e);
  if (o.scp03.empty()) return rep.Usage("creating needs the issuer's secure channel: --scp03");
  auto session = CardSession::Open(o);
  if (!session.ok()) return rep.Fail(session.status());
  if (Status s = CreateInstance(**session, r); !s.ok()) return rep.Fail(s);
  if (o.json) {
    PrintJson(Json{{"ok", true},
                   {"application", Json{{"aid", ToHex(r.aid)}}},
                   {"package", ToHex(r.package)},
                   {"module", ToHex(r.module)}});
  } else {
    std::printf("created %s from module %s of package %s\n", ToHex(r.aid).c_str(),
                ToHex(r.module).c_str(), ToHex(r.package).c_str());
  }
  return 0;
}

int Packages(const LinkOptions& o, const Args& a) {
  (void)a;
  const Reporter rep("apps packages", o.json);
  if (auto e = CardUsageError(o); !e.empty()) return rep.Usage(e);
  if (o.scp03.empty()) return rep.Usage("GET STATUS needs the issuer's secure channel: --scp03");
  auto session = CardSession::Open(o);
  if (!session.ok()) return rep.Fail(session.status());
  auto packages = ReadPackages(**session);
  if (!packages.ok()) return rep.Fail(packages.status());
  if (o.json) {
    Json list = Json::array();
    for (const auto& p : *packages) {
      Json modules = Json::array();
      for (const Bytes& m : p.modules) modules.push_back(ToHex(m));
      list.push_back(Json{{"aid", ToHex(p.aid)}, {"built_in", p.built_in}, {"modules", modules}});
    }
    PrintJson(Json{{"ok", true}, {"packages", list}});
    return 0;
  }
  for (const auto& p : *packages) {
    std::printf("PKG: %s%s\n", ToHex(p.aid).c_str(), p.built_in ? " (built-in)" : "");
    for (const Bytes& m : p.modules) std::printf("     %s\n", ToHex(m).c_str());
  }
  return 0;
}

int DeletePackageCommand(const LinkOptions& o, const Args& a) {
  const Reporter rep("apps delete-package", o.json);
  if (a.operands.size() != 1) return rep.Usage("give the AID of the package to delete");
  auto aid = ParseAid(a.operands[0]);
  if (!aid.ok()) return rep.Usage(aid.status().message());
  if (auto e = CardUsageError(o); !e.empty()) return rep.Usage(e);
  if (o.scp03.empty()) return rep.Usage("deleting needs the issuer's secure channel: --scp03");
  const bool yes = a.has("--yes"), with = a.has("--with-instances");
  if (!yes && ::isatty(STDIN_FILENO) != 1) {
    return rep.Usage("not deleting " + ToHex(*aid) +
                     " without confirmation: there is no terminal to ask on; give --yes");
  }
  if (!yes) {
    std::fprintf(stderr, "delete package %s%s? [y/N] ", ToHex(*aid).c_str(),
                 with ? " and every application of its modules (their data wiped)" : "");
    std::fflush(stderr);
    std::string answer;
    std::getline(std::cin, answer);
    if (answer != "y" && answer != "Y" && answer != "yes") return rep.Fail("not deleted");
  }
  auto session = CardSession::Open(o);
  if (!session.ok()) return rep.Fail(session.status());
  if (Status s = DeletePackage(**session, *aid, with); !s.ok()) return rep.Fail(s);
  if (o.json) {
    PrintJson(Json{{"ok", true}, {"package", ToHex(*aid)}, {"with_instances", with}});
  } else {
    std::printf("deleted package %s%s\n", ToHex(*aid).c_str(), with ? " and its applications" : "");
  }
  return 0;
}

}  // namespace

void AddPackageCommands(CommandTree& tree, Command& apps, const LinkOptions& link) {
  using Handler = int (*)(const LinkOptions&, const Args&);
  auto bind = [&link](Command& c, Handler h) {
    c.run = [&link, h](const Args& a) { return h(link, a); };
  };
  Command& load =
      tree.Add(apps.app, "load", "load an applet package (GP LOAD, --scp03)", kLoadHelp);
  load.Operand("DESC", "the package description: .toml or .json");
  bind(load, Load);
  Command& create = tree.Add(apps.app, "create",
                             "create an application of a loaded package's module", kCreateHelp);
  create.Operand("AID", "the new application's AID")
      .Operand("PACKAGE", "the package's AID")
      .Operand("MODULE", "the module's AID")
      .Value("--params-hex", "HEX", "install(params): the C9 content")
      .Value("--privileges", "XXXXXX", "GP privileges, 3 bytes (default 000000)")
      .Value("--heap", "BYTES", "the interpreter's heap limit")
      .Value("--persistent", "BYTES", "the persistent-byte quota")
      .Value("--instructions", "N", "VM instructions per command");
  bind(create, Create);
  Command& packages =
      tree.Add(apps.app, "packages", "the load files and their modules (--scp03)", kPackagesHelp);
  bind(packages, Packages);
  Command& t =
      tree.Add(apps.app, "try", "reinstall an applet from its description and run a script, traced",
               kTryHelp);
  t.Operand("DESC", "the applet's installation-file description")
      .Value("--key", "PEM", "the administrator's EC P-256 private key that signs")
      .Value("--script", "FILE", "a script to run against the card afterwards (scriptor style)");
  bind(t, Try);
  Command& del = tree.Add(apps.app, "delete-package", "delete a loaded package (asks first)",
                          kDeletePackageHelp);
  del.Operand("AID", "the package's AID")
      .Flag("--with-instances", "delete the applications of its modules too")
      .Flag("--yes,-y", "do not ask");
  bind(del, DeletePackageCommand);
}

}  // namespace tessera::tools
