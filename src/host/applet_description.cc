#include "host/applet_description.h"

#include <algorithm>
#include <cstdio>

#include "host/file_io.h"

namespace tessera::host {
namespace {

using desc::Fields;
using desc::Value;

// The Lua source `key` names, a path relative to the description's folder.
Result<std::string> SourceOf(const Fields& f, const char* key, const std::string& base_dir) {
  TESSERA_ASSIGN_OR_RETURN(auto given, f.String(key, true, "the Lua source's path"));
  const std::string source = given.value_or("");
  const std::string path =
      base_dir.empty() || (!source.empty() && source[0] == '/') ? source : base_dir + "/" + source;
  auto text = ReadInputFile(path, {.what = "Lua source", .max_bytes = format::kMaxPackageSize});
  if (!text.ok()) return f.Error(key, f.Find(key), text.status().message());
  return std::string(text->begin(), text->end());
}

Status VersionOf(const Fields& f, format::AppletPackage& p) {
  TESSERA_ASSIGN_OR_RETURN(auto version, f.String("version", false, "\"MAJOR.MINOR\""));
  if (!version) return Status::Ok();
  unsigned major = 0, minor = 0;
  char extra = 0;
  if (std::sscanf(version->c_str(), "%u.%u%c", &major, &minor, &extra) != 2 || major > 255 ||
      minor > 255) {
    return f.Error("version", f.Find("version"), "\"" + *version + "\": give \"MAJOR.MINOR\"");
  }
  p.major = static_cast<uint8_t>(major);
  p.minor = static_cast<uint8_t>(minor);
  return Status::Ok();
}

// The card's own check of a package, before anything is signed or sent: bytecode, sizes, AIDs.
Result<Bytes> EncodeChecked(const Fields& f, const char* key, const format::AppletPackage& p) {
  Bytes encoded = format::EncodeAppletPackage(p);
  if (auto check = format::ParseAppletPackage(encoded); !check.ok()) {
    return f.Error(key, f.Find(key), check.status().message());
  }
  return encoded;
}

// The installation file's code: C7 { 02, package }.
Bytes CodeObject(const Bytes& package) {
  Bytes code(1 + package.size());
  code[0] = format::kCodeFormatLuaPackage;
  std::copy(package.begin(), package.end(), code.begin() + 1);
  return code;
}

}  // namespace

Result<AppletCode> AppletTableCode(const Fields& a, const std::string& app_name,
                                   const std::string& base_dir) {
  AppletCode out;
  TESSERA_RETURN_IF_ERROR(a.OnlyKnown({"package", "module", "source", "module_name", "version",
                                       "heap", "persistent", "instructions"},
                                      ""));
  format::AppletPackage p;
  TESSERA_ASSIGN_OR_RETURN(auto package, a.Hex("package", true, "the package AID in hex", 5, 16));
  p.aid = package.value_or(Bytes{});
  format::AppletModule m;
  TESSERA_ASSIGN_OR_RETURN(auto module, a.Hex("module", true, "the module AID in hex", 5, 16));
  m.aid = module.value_or(Bytes{});
  TESSERA_ASSIGN_OR_RETURN(auto module_name, a.String("module_name", false, "1..32 bytes"));
  m.name = module_name.value_or(app_name);
  if (m.name.empty() || m.name.size() > format::kMaxModuleName) {
    return a.Error("module_name", a.Find("module_name"), "1..32 bytes");
  }
  TESSERA_RETURN_IF_ERROR(VersionOf(a, p));
  TESSERA_ASSIGN_OR_RETURN(m.source, SourceOf(a, "source", base_dir));
  p.modules.push_back(std::move(m));
  TESSERA_ASSIGN_OR_RETURN(Bytes encoded, EncodeChecked(a, "source", p));
  out.code = CodeObject(encoded);
  format::AppletLimits limits;
  bool any = false;
  for (const format::AppletLimitField& l : format::kAppletLimitFields) {
    TESSERA_ASSIGN_OR_RETURN(auto v, a.Integer(l.name, false, l.min, l.max));
    if (v) {
      limits.*l.field = static_cast<uint32_t>(*v);
      any = true;
    }
  }
  if (any) out.system = format::EncodeAppletLimits(limits);
  return out;
}

Result<AppletCode> CodeFieldCode(const Fields& f, ByteView app_aid, const std::string& name,
                                 const std::string& base_dir) {
  if (app_aid.size() >= 16) {
    return f.Error("code", f.Find("code"),
                   "a 16-byte AID leaves no room for the module AID (AID || 01): use [applet]");
  }
  format::AppletPackage p;
  p.aid.assign(app_aid.begin(), app_aid.end());
  format::AppletModule m;
  m.aid = Bytes(p.aid.size() + 1, 0x01);
  std::copy(p.aid.begin(), p.aid.end(), m.aid.begin());
  m.name = name;
  TESSERA_ASSIGN_OR_RETURN(m.source, SourceOf(f, "code", base_dir));
  p.modules.push_back(std::move(m));
  TESSERA_ASSIGN_OR_RETURN(Bytes encoded, EncodeChecked(f, "code", p));
  return AppletCode{CodeObject(encoded), std::nullopt};
}

namespace {

// A package description (docs/applets.md §2, `tessera apps load`): package, version, and a
// [modules.NAME] table per module with its aid and source.
Result<format::AppletPackage> PackageFromValue(const Value& root, const std::string& source,
                                               const std::string& base_dir) {
  if (root.kind != Value::Kind::kTable) {
    return InvalidArgument(source + ": the description must be a table of fields, not " +
                           desc::TypeName(root));
  }
  const Fields f(source, root, "");
  TESSERA_RETURN_IF_ERROR(f.OnlyKnown({"package", "version", "modules"}, ""));
  format::AppletPackage p;
  TESSERA_ASSIGN_OR_RETURN(auto aid, f.Hex("package", true, "the package AID in hex", 5, 16));
  p.aid = aid.value_or(Bytes{});
  TESSERA_RETURN_IF_ERROR(VersionOf(f, p));
  const Value* modules = f.Find("modules");
  if (modules == nullptr || modules->kind != Value::Kind::kTable || modules->table.empty()) {
    return f.Error("modules", modules,
                   "give a [modules.NAME] table (aid, source) for each module, 1..4 of them");
  }
  for (const Value& mv : modules->table) {
    if (mv.kind != Value::Kind::kTable) {
      return f.Error("modules." + mv.key, &mv, "must be a table (aid, source)");
    }
    const Fields mf(source, mv, "modules." + mv.key + ".");
    TESSERA_RETURN_IF_ERROR(mf.OnlyKnown({"aid", "source"}, ""));
    format::AppletModule m;
    m.name = mv.key;
    TESSERA_ASSIGN_OR_RETURN(auto maid, mf.Hex("aid", true, "the module AID in hex", 5, 16));
    m.aid = maid.value_or(Bytes{});
    TESSERA_ASSIGN_OR_RETURN(m.source, SourceOf(mf, "source", base_dir));
    p.modules.push_back(std::move(m));
  }
  TESSERA_ASSIGN_OR_RETURN(Bytes encoded, EncodeChecked(f, "modules", p));
  (void)encoded;
  return p;
}

}  // namespace

Result<format::AppletPackage> LoadPackageDescription(const std::string& path) {
  TESSERA_ASSIGN_OR_RETURN(desc::Description d, desc::ReadDescription(path));
  return PackageFromValue(d.root, d.name, d.dir);
}

}  // namespace tessera::host
