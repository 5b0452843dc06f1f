// How a front-end reports a failure, as the CLI documents it: "tessera COMMAND: message" on
// stderr and, with --json, one error object on stdout (docs/cli-json.md). Exit 1 for a card, link
// or I/O failure, 2 for a usage error.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "host/card_session.h"
#include "json_output.h"

namespace tessera::tools {

using host::SwMeaning;

class Reporter {
 public:
  Reporter(std::string command, bool json) : command_(std::move(command)), json_(json) {}
  const std::string& command() const { return command_; }
  bool json() const { return json_; }
  int Usage(const std::string& message) const;  // exit 2
  // Exit 1; a Status from host::Refused also shows the card's status word.
  int Fail(const Status& s) const;
  int Fail(const std::string& message) const;  // exit 1
  // Exit 1: a file named on the command line cannot be used (missing, unreadable, not what the
  // command needs, an output that exists).
  int FailFile(const Status& s) const;
  // Exit `ExitCode(kind)`, with `extra`'s fields beside "ok" and "error" in --json (the part of
  // the result the command has).
  int Fail(const Status& s, ErrorKind kind, const Json& extra) const;
  // "WHAT: the card answered 6A89: an application with this AID exists" (exit 1).
  int CardFail(const std::string& what, uint16_t sw,
               const std::vector<SwMeaning>& known = {}) const;
  void Warn(const std::string& message) const;

 private:
  int Print(const std::string& message, ErrorKind kind, std::optional<uint16_t> sw,
            const Json* extra) const;
  std::string command_;
  bool json_;
};

// The reporter's warnings as a callback, for the host library's long operations.
inline std::function<void(const std::string&)> WarnOf(const Reporter& rep) {
  return [&rep](const std::string& m) { rep.Warn(m); };
}

}  // namespace tessera::tools
