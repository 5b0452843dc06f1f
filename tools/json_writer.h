// A minimal JSON writer for `--json` output: objects, arrays, strings (escaped), numbers, bools.
// The output is always valid UTF-8: a string's bytes that are not well-formed UTF-8 (a path may
// hold any bytes) are written as \ufffd, one per byte.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::tools {

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
