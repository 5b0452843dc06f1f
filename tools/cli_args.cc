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

}  // namespace tessera::tools
