// The CLI's one output layer for --json (docs/cli-json.md): every run prints exactly one JSON
// document on stdout, a command's result or the error object
//   {"ok": false, "error": {"message": "...", "code": "usage", "sw": "6A82"}}
// whose `code` says what kind of failure it was and fixes the exit code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/status.h"
#include "host/json_text.h"

namespace tessera::tools {

using host::Json;

enum class ErrorKind {
  kUsage,    // "usage": the command line is wrong; nothing was done (exit 2)
  kCard,     // "card": the card refused; `sw` is its status word (exit 1)
  kLink,     // "link": the card could not be reached, or the link or secure channel failed (1)
  kFile,     // "file": a file named on the command line cannot be used (exit 1)
  kDamaged,  // "damaged": an image or a card's data fails its checks (exit 1)
  kPartial,  // "partial": an issuance stopped on a command's failure (exit 3)
  kFailed,   // "failed": any other failure: the link, the secure channel, bad input (exit 1)
};

const char* ErrorCodeText(ErrorKind kind);
int ExitCode(ErrorKind kind);
// The kind of a host Status: a refusal (it carries the card's status word), a card that cannot
// be reached (kUnavailable, kPowerLost), a file that cannot be read or written (kIOError,
// kNotFound: host/file_io.h), or a failure. Where a file is to blame for another reason (its
// content), the front-end says so (Reporter::FailFile).
ErrorKind KindOf(const Status& s);

Json ErrorJson(const std::string& message, ErrorKind kind,
               std::optional<uint16_t> sw = std::nullopt);
// One line on stdout.
void PrintJson(const Json& j);

}  // namespace tessera::tools
