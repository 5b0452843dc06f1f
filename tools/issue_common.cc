#include "issue_common.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "format/issuance_format.h"
#include "host/card_session.h"

namespace tessera::tools {

using namespace host;  // NOLINT(google-build-using-namespace)

namespace {
constexpr uint8_t kPolicySecure = format::kPolicySecureChannel;
}  // namespace

// --function N: decimal 1..254 or 0x01..0xFE.
std::optional<uint8_t> ParseFunction(const std::string& v) {
  if (v.empty()) return std::nullopt;
  char* end = nullptr;
  const bool hex = v.size() > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X');
  errno = 0;
  const unsigned long n = std::strtoul(v.c_str() + (hex ? 2 : 0), &end, hex ? 16 : 10);
  if (errno != 0 || *end != '\0' || !std::isdigit(static_cast<unsigned char>(v[0])) || n < 1 ||
      n > 254) {
    return std::nullopt;
  }
  return static_cast<uint8_t>(n);
}

// The function, or a usage message.
std::string GetFunction(const Args& a, uint8_t* out) {
  if (!a.has("--function")) return "--function N is required (the card function, 1..254)";
  auto f = ParseFunction(a.value("--function"));
  if (!f) return "--function '" + a.value("--function") + "': give 1..254 (or 0x01..0xFE)";
  *out = *f;
  return "";
}

std::string FunctionText(uint8_t f) {
  return HexByte(f);
}

// ---------------------------------------------------------------------------------------------
// Showing a template

// A line per command (ranges of equal ones for groups of more than 64 commands).
std::vector<std::string> CommandLines(const RunReport& r) {
  auto state = [&](size_t i) -> std::string {
    if (r.done(i)) return "ok";
    if (i == r.first_pending && r.failed_sw != 0) {
      return "failed " + HexU16(r.failed_sw) + " (" + Meaning(r.failed_sw) + ")";
    }
    return "not run";
  };
  std::vector<std::string> out;
  if (r.count <= 64) {
    for (size_t i = 0; i < r.count; ++i) {
      out.push_back("  command " + std::to_string(i) + ": " + state(i));
    }
    return out;
  }
  for (size_t i = 0; i < r.count;) {
    const std::string s = state(i);
    size_t j = i + 1;
    while (j < r.count && state(j) == s) ++j;
    out.push_back(j == i + 1 ? "  command " + std::to_string(i) + ": " + s
                             : "  commands " + std::to_string(i) + "-" + std::to_string(j - 1) +
                                   ": " + s + " (" + std::to_string(j - i) + ")");
    i = j;
  }
  return out;
}

std::string PendingText(const RunReport& r) {
  if (r.first_pending == 0xFFFF) return "";
  if (r.failed_sw != 0) {
    return "first failed: command " + std::to_string(r.first_pending) + " with " +
           HexU16(r.failed_sw) + ": " + Meaning(r.failed_sw);
  }
  return "first unanswered: command " + std::to_string(r.first_pending);
}

// The run's fields (docs/cli-json.md §2.13), added to `j`.
void AddRunJson(Json& j, const RunReport& r) {
  j["function"] = FunctionText(r.function);
  j["state"] = RunStateName(r.state);
  j["run_id"] = RunIdText(r.run_id);
  j["count"] = r.count;
  j["succeeded"] = r.succeeded;
  Json commands = Json::array();
  for (size_t i = 0; i < r.count; ++i) {
    commands.push_back(r.done(i)                                    ? "ok"
                       : (i == r.first_pending && r.failed_sw != 0) ? "failed"
                                                                    : "not run");
  }
  j["commands"] = commands;
  if (r.first_pending != 0xFFFF) {
    j["first_pending"] = r.first_pending;
    if (r.failed_sw != 0) {
      j["failed_sw"] = HexU16(r.failed_sw);
      j["failed_meaning"] = Meaning(r.failed_sw);
    }
  }
  j["acked"] = r.acknowledged;
}

// Progress on stderr: a bar redrawn in place on a terminal, plain lines otherwise.
void PrintReport(const RunReport& r, const TableRecord* t, std::optional<bool> acked) {
  if (t) {
    std::printf("function %s: group file %s, version %u, %u commands, policy %s%s%s\n",
                FunctionText(r.function).c_str(), HexU16(t->fid).c_str(), t->version, t->count,
                HexByte(t->policy).c_str(), (t->policy & kPolicySecure) ? " (secure channel)" : "",
                t->target.empty() ? "" : (", target " + ToHex(t->target)).c_str());
  } else {
    std::printf("function %s%s (its table record is readable only with --scp03 KEYS)\n",
                FunctionText(r.function).c_str(),
                r.target.empty() ? "" : (", target " + ToHex(r.target)).c_str());
  }
  std::printf("state: %s\n", RunStateName(r.state).c_str());
  if (r.state == static_cast<uint8_t>(RunState::kIdle) && r.run_id == RunId{}) {
    std::printf("run id: none (no run since the group was loaded)\n");
  } else {
    std::printf("run id: %s%s\n", RunIdText(r.run_id).c_str(),
                !acked   ? ""
                : *acked ? " (acknowledged)"
                         : " (not acknowledged)");
  }
  std::printf("succeeded: %u of %u\n", r.succeeded, r.count);
  if (const std::string p = PendingText(r); !p.empty()) std::printf("%s\n", p.c_str());
  for (const std::string& l : CommandLines(r)) std::printf("%s\n", l.c_str());
}

ErrorKind RunErrorKind(RunFailure f) {
  switch (f) {
    case RunFailure::kCard:
      return ErrorKind::kCard;
    case RunFailure::kLink:
      return ErrorKind::kLink;
    case RunFailure::kPartial:
      return ErrorKind::kPartial;
    case RunFailure::kFile:
      return ErrorKind::kFile;
    case RunFailure::kNone:
    case RunFailure::kFailed:
      break;
  }
  return ErrorKind::kFailed;
}

}  // namespace tessera::tools
