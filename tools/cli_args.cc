#include "cli_args.h"

#include <algorithm>
#include <cstdio>

namespace tessera::tools {

std::string SplitArgs(const std::vector<std::string>& in, const std::vector<std::string>& allowed,
                      const std::string& command, const OptionSyntax& syntax, Args* out) {
  for (size_t i = 0; i < in.size(); ++i) {
    const std::string& a = in[i];
    const int arity = syntax.arity(a);
    if (arity < 0) {
      if (a.size() > 1 && a[0] == '-') return "unknown option '" + a + "'";
      out->operands.push_back(a);
      continue;
    }
    const std::string name = syntax.canonical ? syntax.canonical(a) : a;
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      return "option " + a + " does not apply to '" + command + "'";
    }
    if (out->has(name)) return a + " given twice";
    if (arity == 0) {
      out->flags.insert(name);
    } else {
      if (i + 1 >= in.size()) return a + " needs a value";
      out->values[name] = in[++i];
    }
  }
  return "";
}

bool WantsHelp(const std::vector<std::string>& args) {
  return std::find(args.begin(), args.end(), "--help") != args.end() ||
         std::find(args.begin(), args.end(), "-h") != args.end();
}

int Help(const char* text) {
  std::fputs(text, stdout);
  return 0;
}

std::optional<uint64_t> ParseSize(const std::string& s, uint64_t max) {
  if (s.empty()) return std::nullopt;
  uint64_t mult = 1;
  std::string digits = s;
  const char last = s.back();
  if (last == 'K' || last == 'k') mult = 1024;
  if (last == 'M' || last == 'm') mult = 1024 * 1024;
  if (mult != 1) digits.pop_back();
  if (digits.empty() || digits.size() > 10) return std::nullopt;
  uint64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  v *= mult;
  if (v == 0 || v > max) return std::nullopt;
  return v;
}

}  // namespace tessera::tools
