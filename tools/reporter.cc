#include "reporter.h"

#include <cstdio>

namespace tessera::tools {

int Reporter::Usage(const std::string& message) const {
  if (json_) PrintJson(ErrorJson(message, ErrorKind::kUsage));
  std::fprintf(stderr, "tessera %s: %s\nRun 'tessera %s --help' for its usage.\n", command_.c_str(),
               message.c_str(), command_.c_str());
  return ExitCode(ErrorKind::kUsage);
}

namespace {

std::string MessageOf(const Status& s) {
  return s.message().empty() ? s.ToString() : s.message();
}

std::optional<uint16_t> SwOf(const Status& s) {
  return s.has_card_sw() ? std::optional(s.card_sw()) : std::nullopt;
}

}  // namespace

int Reporter::Fail(const Status& s) const {
  return Print(MessageOf(s), KindOf(s), SwOf(s), nullptr);
}

int Reporter::Fail(const std::string& message) const {
  return Print(message, ErrorKind::kFailed, std::nullopt, nullptr);
}

int Reporter::FailFile(const Status& s) const {
  return Print(MessageOf(s), ErrorKind::kFile, std::nullopt, nullptr);
}

int Reporter::Fail(const Status& s, ErrorKind kind, const Json& extra) const {
  return Print(MessageOf(s), kind, SwOf(s), &extra);
}

int Reporter::Print(const std::string& message, ErrorKind kind, std::optional<uint16_t> sw,
                    const Json* extra) const {
  if (json_) {
    Json j = ErrorJson(message, kind, sw);
    if (extra) {
      for (const auto& [key, value] : extra->items()) j[key] = value;
    }
    PrintJson(j);
  }
  std::fprintf(stderr, "tessera %s: %s\n", command_.c_str(), message.c_str());
  return ExitCode(kind);
}

int Reporter::CardFail(const std::string& what, uint16_t sw,
                       const std::vector<SwMeaning>& known) const {
  return Fail(host::Refused(what, sw, known));
}

void Reporter::Warn(const std::string& message) const {
  std::fprintf(stderr, "tessera %s: warning: %s\n", command_.c_str(), message.c_str());
}

}  // namespace tessera::tools
