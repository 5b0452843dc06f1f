#include "json_output.h"

#include <cstdio>

#include "core/bytes.h"

namespace tessera::tools {

const char* ErrorCodeText(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kUsage:
      return "usage";
    case ErrorKind::kCard:
      return "card";
    case ErrorKind::kLink:
      return "link";
    case ErrorKind::kFile:
      return "file";
    case ErrorKind::kDamaged:
      return "damaged";
    case ErrorKind::kPartial:
      return "partial";
    case ErrorKind::kFailed:
      break;
  }
  return "failed";
}

int ExitCode(ErrorKind kind) {
  if (kind == ErrorKind::kUsage) return 2;
  if (kind == ErrorKind::kPartial) return 3;
  return 1;
}

ErrorKind KindOf(const Status& s) {
  if (s.has_card_sw()) return ErrorKind::kCard;
  if (s.code() == ErrorCode::kUnavailable || s.code() == ErrorCode::kPowerLost) {
    return ErrorKind::kLink;
  }
  // The host's file reads (host/file_io.h) fail with these; links fail as kUnavailable.
  if (s.code() == ErrorCode::kIOError || s.code() == ErrorCode::kNotFound) return ErrorKind::kFile;
  return ErrorKind::kFailed;
}

Json ErrorJson(const std::string& message, ErrorKind kind, std::optional<uint16_t> sw) {
  Json error{{"message", message}, {"code", ErrorCodeText(kind)}};
  if (sw) error["sw"] = HexU16(*sw);
  return Json{{"ok", false}, {"error", std::move(error)}};
}

void PrintJson(const Json& j) {
  std::printf("%s\n", host::DumpJson(j).c_str());
}

}  // namespace tessera::tools
