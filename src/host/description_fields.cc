#include "host/description_fields.h"

#include <toml++/toml.h>

#include <limits>
#include <nlohmann/json.hpp>

#include "host/file_io.h"

namespace tessera::host::desc {
namespace {

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

Result<Value> ParseDescriptionText(std::string_view text, const std::string& name, bool toml) {
  if (toml) {
    toml::table table;
    try {
      table = toml::parse(text, name);
    } catch (const toml::parse_error& e) {
      return InvalidArgument(name + ":" + std::to_string(e.source().begin.line) +
                             ": not TOML: " + std::string(e.description()));
    }
    Value root = FromToml(table);
    root.line = 0;
    return root;
  }
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(name + ": not JSON: " + StripJsonPrefix(e.what()));
  }
  return FromJson(j);
}

Result<Description> ReadDescription(const std::string& path) {
  auto ends = [&](std::string_view ext) {
    return path.size() > ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0;
  };
  const bool toml = ends(".toml"), json = ends(".json");
  if (!toml && !json) {
    return InvalidArgument(path + ": a description ends in .toml or .json (its format)");
  }
  auto read = ReadInputFile(path, {.what = "description", .max_bytes = 64 * 1024});
  if (!read.ok()) return read.status();
  Description d;
  d.name = DisplayName(path);
  const size_t slash = path.rfind('/');
  d.dir = slash == std::string::npos ? "" : path.substr(0, slash == 0 ? 1 : slash);
  // The text read is a SecureBytes (it may hold a PIN): parsed from it in place.
  auto root = ParseDescriptionText(
      std::string_view(reinterpret_cast<const char*>(read->data()), read->size()), d.name, toml);
  if (!root.ok()) return root.status();
  d.root = std::move(*root);
  return d;
}

}  // namespace tessera::host::desc
