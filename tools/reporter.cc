#include "reporter.h"

#include <cstdio>

#include "json_output.h"

namespace tessera::tools {

int Reporter::Usage(const std::string& message) const {
  if (json_) PrintJson(ErrorJson(message, ErrorKind::kUsage));
  std::fprintf(stderr, "tessera %s: %s\nRun 'tessera %s --help' for its usage.\n", command_.c_str(),
               message.c_str(), command_.c_str());
  return ExitCode(ErrorKind::kUsage);
}

int Reporter::Fail(const Status& s) const {
  return Print(s.message().empty() ? s.ToString() : s.message(), &s);
}

int Reporter::Fail(const std::string& message) const {
  return Print(message, nullptr);
}

int Reporter::Print(const std::string& message, const Status* s) const {
  const ErrorKind kind = s ? KindOf(*s) : ErrorKind::kFailed;
  if (json_) {
    PrintJson(ErrorJson(message, kind,
                        s && s->has_card_sw() ? std::optional(s->card_sw()) : std::nullopt));
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
