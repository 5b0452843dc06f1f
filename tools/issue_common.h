// What the `tessera issue` front-ends share: the --function option, a run shown as text
// (a line per command, what is pending) and as JSON (docs/cli-json.md §2.13), the progress
// of a run on stderr, and the kind of a run's failure.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "cli_args.h"
#include "host/issuance_protocol.h"
#include "host/issuance_run.h"
#include "json_output.h"

namespace tessera::tools {

using host::RunReport;
using host::RunStateName;
using host::TableRecord;

// --function N: decimal 1..254 or 0x01..0xFE; nullopt otherwise.
std::optional<uint8_t> ParseFunction(const std::string& v);
// The function, or a usage message.
std::string GetFunction(const Args& a, uint8_t* out);
// A function id as it is printed: two hex digits.
std::string FunctionText(uint8_t f);

// A line per command (ranges of equal ones for groups of more than 64 commands).
std::vector<std::string> CommandLines(const RunReport& r);
// The first command that did not succeed, and why; "" when none.
std::string PendingText(const RunReport& r);
// The run's fields (docs/cli-json.md §2.13), added to `j`.
void AddRunJson(Json& j, const RunReport& r);
// The run and, when known, the function's table record, as text on stdout.
void PrintReport(const RunReport& r, const TableRecord* t, std::optional<bool> acked);
// The error code of a run's failure.
ErrorKind RunErrorKind(host::RunFailure f);

// A run's progress on stderr: a bar on a terminal, plain lines otherwise.
class Progress {
 public:
  explicit Progress(const std::string& command) : command_(command), tty_(isatty(2) == 1) {}
  void Request(const std::string& phase) {
    phase_ = phase;
    if (tty_) {
      std::fprintf(stderr, "\r\033[K%-7s %s waiting for the card (EXECUTE ISSUANCE %s)",
                   phase.c_str(), Bar(done_, count_).c_str(), phase.c_str());
    } else {
      std::fprintf(stderr, "tessera %s: %s: EXECUTE ISSUANCE sent\n", command_.c_str(),
                   phase.c_str());
    }
    std::fflush(stderr);
  }
  void Response(const std::string& phase, uint16_t sw, const RunReport& r) {
    done_ = r.succeeded, count_ = r.count;
    const std::string summary = HexU16(sw) + " " + RunStateName(r.state) + ", " +
                                std::to_string(r.succeeded) + " of " + std::to_string(r.count) +
                                " commands succeeded";
    if (tty_) {
      std::fprintf(stderr, "\r\033[K%-7s %s %s\n", phase.c_str(), Bar(r.succeeded, r.count).c_str(),
                   summary.c_str());
    } else {
      std::fprintf(stderr, "tessera %s: %s: %s\n", command_.c_str(), phase.c_str(),
                   summary.c_str());
    }
    for (const std::string& l : CommandLines(r)) std::fprintf(stderr, "%s\n", l.c_str());
    std::fflush(stderr);
  }
  void Note(const std::string& n) {
    std::fprintf(stderr, "%stessera %s: %s\n", tty_ ? "\r\033[K" : "", command_.c_str(), n.c_str());
    std::fflush(stderr);
  }

 private:
  static std::string Bar(size_t done, size_t count) {
    constexpr size_t kWidth = 30;
    const size_t fill = count == 0 ? 0 : done * kWidth / count;
    return "[" + std::string(fill, '#') + std::string(kWidth - fill, '.') + "] " +
           std::to_string(done) + "/" + (count ? std::to_string(count) : std::string("?"));
  }
  std::string command_;
  bool tty_;
  std::string phase_;
  size_t done_ = 0, count_ = 0;
};

}  // namespace tessera::tools
