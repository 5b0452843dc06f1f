// A subcommand's arguments split into operands, valued options and flags, as the command
// families `apps|admin|card` and `issue` take them: each family says how many values an
// option takes (its arity: 0 a flag, 1 a value, -1 not an option of the family) and how its
// aliases are named canonically.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace tessera::tools {

struct Args {
  std::vector<std::string> operands;
  std::map<std::string, std::string> values;
  std::set<std::string> flags;
  bool has(const std::string& o) const { return flags.count(o) || values.count(o); }
  std::string value(const std::string& o) const {
    auto it = values.find(o);
    return it == values.end() ? "" : it->second;
  }
};

struct OptionSyntax {
  std::function<int(const std::string&)> arity;
  std::function<std::string(const std::string&)> canonical;  // null: the option's own name
};

// Splits `in`; only the `allowed` options (canonical names) are accepted. Returns "" or the
// usage error: an unknown option, one that does not apply to `command`, one given twice, a
// missing value.
std::string SplitArgs(const std::vector<std::string>& in, const std::vector<std::string>& allowed,
                      const std::string& command, const OptionSyntax& syntax, Args* out);

// A size as operators write it, "65536", "128K" or "1M" (K and M are 1024 and 1024², either
// case), between 1 and `max`; nullopt otherwise. Every command that takes a size reads it here.
std::optional<uint64_t> ParseSize(const std::string& s, uint64_t max);

// "--help" or "-h" anywhere among `args`.
bool WantsHelp(const std::vector<std::string>& args);
// Prints a help text on stdout; returns exit code 0.
int Help(const char* text);

}  // namespace tessera::tools
