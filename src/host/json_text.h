// JSON as the host writes it (the CLI's --json output, the issuance log): nlohmann's
// ordered_json, fields in the order they were set, dumped as one line that is always valid
// UTF-8 — bytes of a string that are not well-formed UTF-8 (a path may hold any bytes) become
// U+FFFD, where a plain dump() would throw.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace tessera::host {

using Json = nlohmann::ordered_json;

std::string DumpJson(const Json& j);

}  // namespace tessera::host
