#include "host/install_file_builder.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <utility>
#include <vector>

#include "core/tlv.h"
#include "format/applet_package.h"
#include "format/installation_file.h"
#include "format/module_params.h"
#include "host/applet_description.h"
#include "host/description_fields.h"
#include "host/file_io.h"

namespace tessera::host {
namespace {

using desc::Fields;
using desc::TypeName;
using desc::Value;

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

Result<InstallDescription> FromValue(const Value& root, const std::string& source,
                                     const std::string& base_dir) {
  if (root.kind != Value::Kind::kTable) {
    return InvalidArgument(source + ": the description must be a table of fields, not " +
                           TypeName(root));
  }
  const Fields f(source, root, "");
  TESSERA_RETURN_IF_ERROR(
      f.OnlyKnown({"aid", "name", "admin_name", "admin_id", "use_start", "expiration", "status",
                   "module", "applet", "code", "privileges", "params", "params_hex"},
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
  const Value* code = f.Find("code");
  if ((applet != nullptr) + (code != nullptr) + (f.Find("module") != nullptr) > 1) {
    return f.Error(applet ? "applet" : "code", applet ? applet : code,
                   "give one of module (built-in code), code or applet (its own Lua code)");
  }
  TESSERA_ASSIGN_OR_RETURN(auto module,
                           f.String("module", applet == nullptr && code == nullptr, module_what));
  std::string module_name;
  if (code != nullptr) {
    TESSERA_ASSIGN_OR_RETURN(AppletCode c, CodeFieldCode(f, r.aid, r.name, base_dir));
    d.code = std::move(c.code);
    module_name = "applet";
  } else if (applet != nullptr) {
    if (applet->kind != Value::Kind::kTable) {
      return f.Error("applet", applet, "must be a table, not " + TypeName(*applet));
    }
    TESSERA_ASSIGN_OR_RETURN(AppletCode c,
                             AppletTableCode(Fields(source, *applet, "applet."), r.name, base_dir));
    d.code = std::move(c.code);
    d.system = std::move(c.system);
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

}  // namespace

Result<InstallDescription> ParseInstallDescriptionToml(std::string_view text,
                                                       const std::string& source,
                                                       const std::string& base_dir) {
  TESSERA_ASSIGN_OR_RETURN(Value root, desc::ParseDescriptionText(text, source, true));
  return FromValue(root, source, base_dir);
}

Result<InstallDescription> ParseInstallDescriptionJson(std::string_view text,
                                                       const std::string& source,
                                                       const std::string& base_dir) {
  TESSERA_ASSIGN_OR_RETURN(Value root, desc::ParseDescriptionText(text, source, false));
  return FromValue(root, source, base_dir);
}

Result<InstallDescription> LoadInstallDescription(const std::string& path) {
  TESSERA_ASSIGN_OR_RETURN(desc::Description d, desc::ReadDescription(path));
  return FromValue(d.root, d.name, d.dir);
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
