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
  if (s.code() == ErrorCode::kIOError) return ErrorKind::kFile;
  if (s.code() == ErrorCode::kCorruption) return ErrorKind::kDamaged;
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
