// A minimal JSON writer for `--json` output: objects, arrays, strings (escaped), numbers, bools.
// The output is always valid UTF-8: a string's bytes that are not well-formed UTF-8 (a path may
// hold any bytes) are written as \ufffd, one per byte.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace tessera::tools {

// `j` as one line of JSON, always valid UTF-8 like JsonWriter's output: bytes of its strings
// that are not well-formed UTF-8 become U+FFFD (nlohmann's dump() would throw on them).
std::string DumpJson(const nlohmann::json& j);

// The length of the well-formed UTF-8 sequence `s` starts with (RFC 3629: no overlong forms,
// no surrogates, nothing above U+10FFFF), or 0 if it does not start with one (or is empty).
// ASCII, control characters included, is a sequence of 1.
size_t Utf8SequenceLength(std::string_view s);

class JsonWriter {
 public:
  JsonWriter& BeginObject(std::string_view key = {});
  JsonWriter& EndObject();
  JsonWriter& BeginArray(std::string_view key = {});
  JsonWriter& EndArray();
  JsonWriter& String(std::string_view key, std::string_view value);
  JsonWriter& Number(std::string_view key, uint64_t value);
  JsonWriter& Bool(std::string_view key, bool value);
  // Array element.
  JsonWriter& String(std::string_view value) { return String({}, value); }
  std::string Take() { return std::move(out_); }

  static std::string Escape(std::string_view s);

 private:
  void Key(std::string_view key);
  std::string out_;
  std::vector<bool> first_{true};
};

}  // namespace tessera::tools
