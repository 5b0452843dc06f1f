// Reading installation-file and package descriptions (install_file_builder.h,
// applet_description.h): the values of a TOML or JSON text in one shape, and a reader of one
// table's fields that names the field, and the TOML line, in every error it returns. Values of
// secret fields are never repeated in an error.
#pragma once

#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"
#include "core/utf8.h"
#include "host/app_record.h"

namespace tessera::host::desc {

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

std::string TypeName(const Value& v);

// Parses `text` (TOML, or JSON when !toml) into its root table; `name` names it in errors.
Result<Value> ParseDescriptionText(std::string_view text, const std::string& name, bool toml);

// A description file by extension (.toml or .json): its root table, the name errors give it,
// and the folder the paths inside it are relative to. `keep_secret`: wipe the text read (it
// may hold a PIN).
struct Description {
  Value root;
  std::string name;
  std::string dir;
};
Result<Description> ReadDescription(const std::string& path);

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
    TESSERA_ASSIGN_OR_RETURN(auto given, String(key, true, "UTF-8 text, 1..32 bytes"));
    const std::string s = given.value_or("");
    if (s.empty() || s.size() > 32) {
      return Error(key, Find(key),
                   std::to_string(s.size()) + " bytes; give 1..32 bytes of UTF-8 text");
    }
    if (!IsPrintableUtf8(s)) return Error(key, Find(key), "control characters are not allowed");
    return s;
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

}  // namespace tessera::host::desc
