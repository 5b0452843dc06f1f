#include "host/install_file_builder.h"

#include <toml++/toml.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "core/tlv.h"
#include "format/applet_package.h"
#include "format/installation_file.h"
#include "format/module_params.h"
#include "host/file_io.h"

namespace tessera::host {
namespace {

// A description's values, whichever format they came in.
struct Value {
  enum class Kind { kString, kInteger, kBool, kTable, kDate, kOther };
  Kind kind = Kind::kOther;
  std::string text;
  int64_t integer = 0;
  bool boolean = false;
  bool too_big = false;  // an integer beyond int64
  int year = 0, month = 0, day = 0;
  std::string key;           // as a member of a table
  std::vector<Value> table;  // kTable: the members, each with its key
  int line = 0;              // 0: unknown (JSON)
  std::string type;          // for kOther: "an array", ...
};

std::string TypeName(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kString:
      return "a string";
    case Value::Kind::kInteger:
      return "an integer";
    case Value::Kind::kBool:
      return "a boolean";
    case Value::Kind::kTable:
      return "a table";
    case Value::Kind::kDate:
      return "a date";
    case Value::Kind::kOther:
      break;
  }
  return v.type;
}

Value FromToml(const toml::node& n) {
  Value v;
  v.line = static_cast<int>(n.source().begin.line);
  if (auto s = n.as_string()) {
    v.kind = Value::Kind::kString;
    v.text = s->get();
  } else if (auto i = n.as_integer()) {
    v.kind = Value::Kind::kInteger;
    v.integer = i->get();
  } else if (auto b = n.as_boolean()) {
    v.kind = Value::Kind::kBool;
    v.boolean = b->get();
  } else if (auto t = n.as_table()) {
    v.kind = Value::Kind::kTable;
    for (auto&& [key, child] : *t) {
      v.table.push_back(FromToml(child));
      v.table.back().key = std::string(key.str());
    }
  } else if (auto d = n.as_date()) {
    v.kind = Value::Kind::kDate;
    v.year = d->get().year;
    v.month = d->get().month;
    v.day = d->get().day;
  } else if (n.is_array()) {
    v.type = "an array";
  } else if (n.is_floating_point()) {
    v.type = "a number with a fraction";
  } else {
    v.type = "a time or date-time";
  }
  return v;
}

Value FromJson(const nlohmann::json& j) {
  Value v;
  if (j.is_string()) {
    v.kind = Value::Kind::kString;
    v.text = j.get<std::string>();
  } else if (j.is_number_unsigned()) {
    v.kind = Value::Kind::kInteger;
    const auto u = j.get<uint64_t>();
    v.too_big = u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    v.integer = v.too_big ? 0 : static_cast<int64_t>(u);
  } else if (j.is_number_integer()) {
    v.kind = Value::Kind::kInteger;
    v.integer = j.get<int64_t>();
  } else if (j.is_boolean()) {
    v.kind = Value::Kind::kBool;
    v.boolean = j.get<bool>();
  } else if (j.is_object()) {
    v.kind = Value::Kind::kTable;
    for (auto it = j.begin(); it != j.end(); ++it) {
      v.table.push_back(FromJson(*it));
      v.table.back().key = it.key();
    }
  } else if (j.is_array()) {
    v.type = "an array";
  } else if (j.is_number_float()) {
    v.type = "a number with a fraction";
  } else {
    v.type = "null";
  }
  return v;
}

// Reads one table's fields and names the field (and the line) in every error.
class Fields {
 public:
  Fields(const std::string& source, const Value& table, std::string prefix)
      : source_(source), table_(table), prefix_(std::move(prefix)) {}

  const Value* Find(std::string_view key) const {
    for (const Value& v : table_.table) {
      if (v.key == key) return &v;
    }
    return nullptr;
  }
  Status Error(std::string_view key, const Value* v, const std::string& message) const {
    const int line = v ? v->line : table_.line;
    return InvalidArgument(source_ + (line > 0 ? ":" + std::to_string(line) : "") + ": field '" +
                           prefix_ + std::string(key) + "': " + message);
  }
  Status Missing(std::string_view key, const std::string& what) const {
    return InvalidArgument(source_ + ": field '" + prefix_ + std::string(key) + "' is missing (" +
                           what + ")");
  }
  // Every field must be one of `known`.
  Status OnlyKnown(std::initializer_list<std::string_view> known, const std::string& hint) const {
    for (const Value& v : table_.table) {
      bool ok = false;
      for (auto n : known) ok = ok || n == v.key;
      if (!ok) {
        std::string list;
        for (auto n : known) list += (list.empty() ? "" : ", ") + std::string(n);
        return Error(v.key, &v, "unknown field (known: " + list + ")" + hint);
      }
    }
    return Status::Ok();
  }

  // A string field; nullopt when absent and not required.
  Result<std::optional<std::string>> String(std::string_view key, bool required,
                                            const std::string& what) const {
    const Value* v = Find(key);
    if (!v) {
      if (required) return Missing(key, what);
      return std::optional<std::string>();
    }
    if (v->kind != Value::Kind::kString) {
      return Error(key, v, "must be a string (" + what + "), not " + TypeName(*v));
    }
    return std::optional<std::string>(v->text);
  }
  Result<std::optional<Bytes>> Hex(std::string_view key, bool required, const std::string& what,
                                   size_t min, size_t max) const {
    TESSERA_ASSIGN_OR_RETURN(auto s, String(key, required, what));
    if (!s) return std::optional<Bytes>();
    auto b = FromHex(*s);
    if (!b.ok()) {
      // Short values are repeated to show what is wrong; long ones (parameters that may hold a
      // PIN) are not.
      const std::string shown = s->size() <= 40 && key != "params_hex" ? "\"" + *s + "\" " : "";
      return Error(key, Find(key), shown + "is not hex (" + what + ")");
    }
    if (b->size() < min || b->size() > max) {
      return Error(key, Find(key),
                   std::to_string(b->size()) + " bytes; give " +
                       (min == max ? std::to_string(min)
                                   : std::to_string(min) + ".." + std::to_string(max)) +
                       " (" + what + ")");
    }
    return std::optional<Bytes>(std::move(*b));
  }
  // Text of 1..32 bytes of UTF-8 (a name).
  Result<std::string> Name(std::string_view key) const {
    TESSERA_ASSIGN_OR_RETURN(auto s, String(key, true, "UTF-8 text, 1..32 bytes"));
    if (s->empty() || s->size() > 32) {
      return Error(key, Find(key),
                   std::to_string(s->size()) + " bytes; give 1..32 bytes of UTF-8 text");
    }
    if (!IsPrintableUtf8(*s)) return Error(key, Find(key), "control characters are not allowed");
    return *s;
  }
  Result<std::optional<int64_t>> Integer(std::string_view key, bool required, int64_t min,
                                         int64_t max) const {
    const std::string range = std::to_string(min) + ".." + std::to_string(max);
    const Value* v = Find(key);
    if (!v) {
      if (required) return Missing(key, "an integer, " + range);
      return std::optional<int64_t>();
    }
    if (v->kind != Value::Kind::kInteger) {
      return Error(key, v, "must be an integer (" + range + "), not " + TypeName(*v));
    }
    if (v->too_big || v->integer < min || v->integer > max) {
      return Error(key, v, "out of range: give " + range);
    }
    return std::optional<int64_t>(v->integer);
  }
  // "YYMMDD" (or a TOML date); 000000 when absent.
  Result<Bytes> Date(std::string_view key) const {
    const Value* v = Find(key);
    if (!v) return Bytes(3, 0);
    std::string text;
    if (v->kind == Value::Kind::kDate) {
      if (v->year < 2000 || v->year > 2099) {
        return Error(key, v, "the year must be 2000..2099 (dates are YYMMDD on the card)");
      }
      char buf[16];
      std::snprintf(buf, sizeof buf, "%02d%02d%02d", v->year % 100, v->month, v->day);
      text = buf;
    } else if (v->kind == Value::Kind::kString) {
      text = v->text;
    } else {
      return Error(key, v, "must be a \"YYMMDD\" string, not " + TypeName(*v));
    }
    auto bcd = ParseYymmdd(text);
    if (!bcd.ok()) return Error(key, v, "\"" + text + "\": " + bcd.status().message());
    return *bcd;
  }

 private:
  const std::string& source_;
  const Value& table_;
  std::string prefix_;
};

// The C9 content of the DATA STORE (§6.1): 80 data, 81 PIN, 82 tries.
Result<Bytes> DataStoreParamsOf(const Fields& p, bool* holds_pin) {
  TESSERA_RETURN_IF_ERROR(p.OnlyKnown({"pin", "tries", "data", "data_hex"}, ""));
  format::DataStoreParams out;
  TESSERA_ASSIGN_OR_RETURN(auto text, p.String("data", false, "the initial data as text"));
  TESSERA_ASSIGN_OR_RETURN(
      auto hex, p.Hex("data_hex", false, "the initial data in hex", 0, format::kDataStoreSize));
  if (text && hex) {
    return p.Error("data_hex", p.Find("data_hex"), "give data or data_hex, not both");
  }
  if (text && text->size() > format::kDataStoreSize) {
    return p.Error("data", p.Find("data"),
                   std::to_string(text->size()) + " bytes; the data store holds at most " +
                       std::to_string(format::kDataStoreSize));
  }
  if (text) out.data = ToBytes(*text);
  if (hex) out.data = *hex;
  TESSERA_ASSIGN_OR_RETURN(auto pin, p.String("pin", false, "the PIN as text, 4..16 bytes"));
  if (pin) {
    // Never repeat the PIN in an error.
    if (pin->size() < format::kMinPinLength || pin->size() > format::kMaxPinLength) {
      return p.Error("pin", p.Find("pin"),
                     std::to_string(pin->size()) + " bytes; a PIN has 4..16 bytes");
    }
    out.pin = ToBytes(*pin);
    *holds_pin = true;
  }
  TESSERA_ASSIGN_OR_RETURN(auto tries, p.Integer("tries", false, 1, 15));
  if (tries) out.tries = static_cast<uint8_t>(*tries);
  return format::EncodeDataStoreParams(out);
}

// The C9 content of the PURSE (§6.2): 80 04 balance, 81 PIN, 83 04 limit.
Result<Bytes> PurseParamsOf(const Fields& p, bool* holds_pin) {
  TESSERA_RETURN_IF_ERROR(p.OnlyKnown({"balance", "pin", "limit"}, ""));
  constexpr int64_t kMax = 0xFFFFFFFF, kDefaultLimit = format::kPurseDefaultLimit;
  format::PurseParams out;
  TESSERA_ASSIGN_OR_RETURN(auto balance, p.Integer("balance", false, 0, kMax));
  TESSERA_ASSIGN_OR_RETURN(auto limit, p.Integer("limit", false, 0, kMax));
  if (balance && *balance > limit.value_or(kDefaultLimit)) {
    return p.Error("balance", p.Find("balance"),
                   "over the balance limit (" + std::to_string(limit.value_or(kDefaultLimit)) +
                       (limit ? ")" : ", the default)"));
  }
  if (balance) out.balance = static_cast<uint32_t>(*balance);
  TESSERA_ASSIGN_OR_RETURN(auto pin, p.String("pin", false, "the PIN as text, 4..16 bytes"));
  if (pin) {
    if (pin->size() < format::kMinPinLength || pin->size() > format::kMaxPinLength) {
      return p.Error("pin", p.Find("pin"),
                     std::to_string(pin->size()) + " bytes; a PIN has 4..16 bytes");
    }
    out.pin = ToBytes(*pin);
    *holds_pin = true;
  }
  if (limit) out.limit = static_cast<uint32_t>(*limit);
  return format::EncodePurseParams(out);
}

// The [applet] table: the C7 code object (format 02, a package of one module) and, when a
// limit is given, the EF system parameters.
Status AppletOf(const Fields& a, const std::string& app_name, const std::string& base_dir,
                InstallDescription& d) {
  TESSERA_RETURN_IF_ERROR(a.OnlyKnown({"package", "module", "source", "module_name", "version",
                                       "heap", "persistent", "instructions"},
                                      ""));
  format::AppletPackage p;
  TESSERA_ASSIGN_OR_RETURN(auto package, a.Hex("package", true, "the package AID in hex", 5, 16));
  p.aid = *package;
  format::AppletModule m;
  TESSERA_ASSIGN_OR_RETURN(auto module, a.Hex("module", true, "the module AID in hex", 5, 16));
  m.aid = *module;
  TESSERA_ASSIGN_OR_RETURN(auto module_name, a.String("module_name", false, "1..32 bytes"));
  m.name = module_name.value_or(app_name);
  if (m.name.empty() || m.name.size() > format::kMaxModuleName) {
    return a.Error("module_name", a.Find("module_name"), "1..32 bytes");
  }
  TESSERA_ASSIGN_OR_RETURN(auto version, a.String("version", false, "\"MAJOR.MINOR\""));
  if (version) {
    unsigned major = 0, minor = 0;
    char extra = 0;
    if (std::sscanf(version->c_str(), "%u.%u%c", &major, &minor, &extra) != 2 || major > 255 ||
        minor > 255) {
      return a.Error("version", a.Find("version"), "\"" + *version + "\": give \"MAJOR.MINOR\"");
    }
    p.major = static_cast<uint8_t>(major);
    p.minor = static_cast<uint8_t>(minor);
  }
  TESSERA_ASSIGN_OR_RETURN(auto source, a.String("source", true, "the Lua source's path"));
  const std::string path = base_dir.empty() || (!source->empty() && (*source)[0] == '/')
                               ? *source
                               : base_dir + "/" + *source;
  auto text = ReadInputFile(path, {.what = "Lua source", .max_bytes = format::kMaxPackageSize});
  if (!text.ok()) return a.Error("source", a.Find("source"), text.status().message());
  m.source.assign(text->begin(), text->end());
  p.modules.push_back(std::move(m));
  const Bytes encoded = format::EncodeAppletPackage(p);
  // The card's own check, before anything is signed: bytecode, sizes, AIDs.
  if (auto check = format::ParseAppletPackage(encoded); !check.ok()) {
    return a.Error("source", a.Find("source"), check.status().message());
  }
  d.code = Bytes{format::kCodeFormatLuaPackage};
  Append(*d.code, encoded);
  format::AppletLimits limits;
  bool any = false;
  struct Limit {
    const char* key;
    uint32_t lo, hi;
    uint32_t* out;
  };
  for (const Limit& l : {Limit{"heap", format::kMinHeap, format::kMaxHeap, &limits.heap},
                         Limit{"persistent", 0, format::kMaxPersistent, &limits.persistent},
                         Limit{"instructions", format::kMinInstructions, format::kMaxInstructions,
                               &limits.instructions}}) {
    TESSERA_ASSIGN_OR_RETURN(auto v, a.Integer(l.key, false, l.lo, l.hi));
    if (v) {
      *l.out = static_cast<uint32_t>(*v);
      any = true;
    }
  }
  if (any) d.system = format::EncodeAppletLimits(limits);
  return Status::Ok();
}

Result<InstallDescription> FromValue(const Value& root, const std::string& source,
                                     const std::string& base_dir) {
  if (root.kind != Value::Kind::kTable) {
    return InvalidArgument(source + ": the description must be a table of fields, not " +
                           TypeName(root));
  }
  const Fields f(source, root, "");
  TESSERA_RETURN_IF_ERROR(
      f.OnlyKnown({"aid", "name", "admin_name", "admin_id", "use_start", "expiration", "status",
                   "module", "applet", "privileges", "params", "params_hex"},
                  "; module parameters go in the params table"));
  InstallDescription d;
  AppRecord& r = d.record;
  TESSERA_ASSIGN_OR_RETURN(auto aid,
                           f.Hex("aid", true, "the application's AID, 5..16 bytes in hex", 5, 16));
  r.aid = aid.value_or(Bytes{});
  if (auto why = ReservedAidReason(r.aid); !why.empty()) {
    d.warnings.push_back("aid " + ToHex(r.aid) + ": the card refuses it (6A80): " + why);
  }
  TESSERA_ASSIGN_OR_RETURN(r.name, f.Name("name"));
  TESSERA_ASSIGN_OR_RETURN(r.admin_name, f.Name("admin_name"));
  TESSERA_ASSIGN_OR_RETURN(auto admin_id, f.Integer("admin_id", true, 0, 127));
  r.admin_id = static_cast<uint8_t>(*admin_id);
  TESSERA_ASSIGN_OR_RETURN(r.use_start, f.Date("use_start"));
  TESSERA_ASSIGN_OR_RETURN(r.expiration, f.Date("expiration"));
  const Bytes none(3, 0);
  if (r.use_start != none && r.expiration != none && r.expiration < r.use_start) {
    return f.Error("expiration", f.Find("expiration"),
                   "before use_start (" + DateDisplay(r.use_start) + ")");
  }
  TESSERA_ASSIGN_OR_RETURN(auto status, f.String("status", false, "\"active\" or \"locked\""));
  if (status && *status != "active" && *status != "locked") {
    return f.Error("status", f.Find("status"),
                   "\"" + *status + "\": give \"active\" or \"locked\" (the initial status)");
  }
  r.status = status && *status == "locked" ? AppState::kLocked : AppState::kActive;

  const std::string module_what =
      "\"data-store\", \"purse\", \"files\", \"management\" or a module AID in hex; or an "
      "[applet] table";
  const Value* applet = f.Find("applet");
  if (applet != nullptr && f.Find("module") != nullptr) {
    return f.Error("applet", applet, "give module (built-in code) or applet (its own), not both");
  }
  TESSERA_ASSIGN_OR_RETURN(auto module, f.String("module", applet == nullptr, module_what));
  std::string module_name;
  if (applet != nullptr) {
    if (applet->kind != Value::Kind::kTable) {
      return f.Error("applet", applet, "must be a table, not " + TypeName(*applet));
    }
    TESSERA_RETURN_IF_ERROR(AppletOf(Fields(source, *applet, "applet."), r.name, base_dir, d));
    module_name = "applet";
  } else if (auto known = ModuleAidByName(*module)) {
    d.module_aid = *known;
    module_name = *module;
  } else {
    auto hex = FromHex(*module);
    if (!hex.ok() || hex->size() < 5 || hex->size() > 16) {
      return f.Error("module", f.Find("module"),
                     "\"" + *module + "\" is no module: give " + module_what + " (5..16 bytes)");
    }
    d.module_aid = *hex;
    module_name = ModuleNameByAid(d.module_aid);
  }
  TESSERA_ASSIGN_OR_RETURN(d.privileges, f.Hex("privileges", false,
                                               "3 bytes of GP privileges (C5 coding), e.g. "
                                               "\"000000\"",
                                               3, 3));

  const Value* params = f.Find("params");
  const Value* params_hex = f.Find("params_hex");
  if (params && params_hex) return f.Error("params_hex", params_hex, "give params or params_hex");
  if (params_hex) {
    TESSERA_ASSIGN_OR_RETURN(
        auto raw, f.Hex("params_hex", false, "the C9 content (module parameters) in hex", 0, 4096));
    const Bytes params_bytes = raw.value_or(Bytes{});
    if (!params_bytes.empty()) {
      // A PIN (81) among the parameters keeps the file's bytes out of every output.
      auto items = ParseTlvSequence(params_bytes);
      if (items.ok()) {
        for (const auto& t : *items) d.params_hold_pin |= t.tag == 0x81;
      } else {
        d.params_hold_pin = true;
      }
      d.params = params_bytes;
    }
  } else if (params) {
    if (params->kind != Value::Kind::kTable) {
      return f.Error("params", params,
                     "must be a table of module parameters, not " + TypeName(*params));
    }
    const Fields p(source, *params, "params.");
    Bytes c9;
    if (module_name == "data-store") {
      TESSERA_ASSIGN_OR_RETURN(c9, DataStoreParamsOf(p, &d.params_hold_pin));
    } else if (module_name == "purse") {
      TESSERA_ASSIGN_OR_RETURN(c9, PurseParamsOf(p, &d.params_hold_pin));
    } else if (!params->table.empty() && module_name == "applet") {
      return f.Error("params", params,
                     "an applet's install(params) is a string: give params_hex for its bytes");
    } else if (!params->table.empty()) {
      return f.Error("params", params,
                     "module " + (module_name.empty() ? ToHex(d.module_aid) : module_name) +
                         " has no parameters Tessera knows; give params_hex for raw C9 content");
    }
    if (!c9.empty()) d.params = std::move(c9);
  }
  return d;
}

std::string StripJsonPrefix(std::string m) {
  // "[json.exception.parse_error.101] parse error at line 2, column 3: ...; last read: '...'"
  if (auto p = m.find("] "); m.rfind("[json.exception.", 0) == 0 && p != std::string::npos) {
    m.erase(0, p + 2);
  }
  // What the lexer read last may be part of a PIN: never repeat it.
  if (auto p = m.find("; last read:"); p != std::string::npos) m.resize(p);
  return m;
}

}  // namespace

Result<InstallDescription> ParseInstallDescriptionToml(std::string_view text,
                                                       const std::string& source,
                                                       const std::string& base_dir) {
  toml::table table;
  try {
    table = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return InvalidArgument(source + ":" + std::to_string(e.source().begin.line) +
                           ": not TOML: " + std::string(e.description()));
  }
  Value root = FromToml(table);
  root.line = 0;
  return FromValue(root, source, base_dir);
}

Result<InstallDescription> ParseInstallDescriptionJson(std::string_view text,
                                                       const std::string& source,
                                                       const std::string& base_dir) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(source + ": not JSON: " + StripJsonPrefix(e.what()));
  }
  return FromValue(FromJson(j), source, base_dir);
}

Result<InstallDescription> LoadInstallDescription(const std::string& path) {
  auto ends = [&](std::string_view ext) {
    return path.size() > ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0;
  };
  const bool toml = ends(".toml"), json = ends(".json");
  if (!toml && !json) {
    return InvalidArgument(path + ": a description ends in .toml or .json (its format)");
  }
  auto read = ReadInputFile(path, {.what = "description", .max_bytes = 64 * 1024});
  if (!read.ok()) return read.status();
  std::string text(read->begin(), read->end());
  const std::string name = DisplayName(path);
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "" : path.substr(0, slash == 0 ? 1 : slash);
  auto d = toml ? ParseInstallDescriptionToml(text, name, dir)
                : ParseInstallDescriptionJson(text, name, dir);
  Wipe(text.data(), text.size());  // it may hold a PIN
  return d;
}

namespace {

format::InstallationFile FileOf(const InstallDescription& d, ByteView record_signature,
                                ByteView file_signature) {
  format::InstallationFile f;
  f.record = d.record;
  f.record.signature.assign(record_signature.begin(), record_signature.end());
  f.module_aid = d.module_aid;
  f.code = d.code;
  f.system = d.system;
  f.privileges = d.privileges;
  f.params = d.params;
  f.signature.assign(file_signature.begin(), file_signature.end());
  return f;
}

// C9 may hold a PIN: the temporary's copy is wiped.
void WipeParams(format::InstallationFile& f) {
  if (f.params) Wipe(f.params->data(), f.params->size());
}

}  // namespace

Bytes InstallFileSignedData(const InstallDescription& d, ByteView record_signature) {
  format::InstallationFile f = FileOf(d, record_signature, {});
  Bytes out = format::SignedPart(f);
  WipeParams(f);
  return out;
}

Bytes BuildInstallFile(const InstallDescription& d, ByteView record_signature,
                       ByteView file_signature) {
  format::InstallationFile f = FileOf(d, record_signature, file_signature);
  Bytes out = format::EncodeInstallationFile(f);
  WipeParams(f);
  return out;
}

Result<Bytes> SignInstallFile(const InstallDescription& d, const crypto::P256KeyPair& key) {
  const Bytes record_data = SignedPart(d.record);
  TESSERA_ASSIGN_OR_RETURN(Bytes record_sig, crypto::EcdsaP256Sign(key.private_key, record_data));
  Bytes file_data = InstallFileSignedData(d, record_sig);
  auto file_sig = crypto::EcdsaP256Sign(key.private_key, file_data);
  const bool verify = file_sig.ok() &&
                      crypto::EcdsaP256Verify(key.public_key, record_data, record_sig).ok() &&
                      crypto::EcdsaP256Verify(key.public_key, file_data, *file_sig).ok();
  Wipe(file_data.data(), file_data.size());  // C9 may hold a PIN
  if (!file_sig.ok()) return file_sig.status();
  if (!verify) return Status(ErrorCode::kCryptoError, "the signatures made do not verify");
  return BuildInstallFile(d, record_sig, *file_sig);
}

Result<AppRecord> CheckInstallFile(ByteView file) {
  if (file.size() > kMaxInstallFile) {
    return InvalidArgument("installation file of " + std::to_string(file.size()) +
                           " bytes: the card takes at most " + std::to_string(kMaxInstallFile) +
                           " bytes per upload");
  }
  TESSERA_ASSIGN_OR_RETURN(auto parsed, format::ParseInstallationFile(file));
  return std::move(parsed.file.record);
}

}  // namespace tessera::host
