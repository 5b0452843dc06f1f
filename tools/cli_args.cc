#include "cli_args.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <string>

namespace tessera::tools {

Command& Command::Value(const std::string& names, const std::string& value_name,
                        const std::string& help) {
  CLI::Option* o = app->add_option(names, help)->type_name(value_name)->expected(1);
  // A valued option given twice is a usage error, not "the last one wins".
  o->multi_option_policy(CLI::MultiOptionPolicy::Throw);
  options.emplace_back(o, names.substr(0, names.find(',')));
  return *this;
}

Command& Command::Flag(const std::string& names, const std::string& help) {
  CLI::Option* o = app->add_flag(names, help);
  o->multi_option_policy(CLI::MultiOptionPolicy::Throw);
  options.emplace_back(o, names.substr(0, names.find(',')));
  return *this;
}

Command& Command::Operand(const std::string& name, const std::string& help, bool required,
                          bool many) {
  operands.emplace_back();
  OperandSlot& slot = operands.back();
  if (many) {
    slot.option = app->add_option(name, slot.many, help)->type_name("");
    slot.option->expected(required ? 1 : 0, CLI::detail::expected_max_vector_size);
  } else {
    slot.option = app->add_option(name, slot.one, help)->type_name("");
  }
  if (required) slot.option->required();
  return *this;
}

void Command::Collect() {
  args = Args{};
  for (const OperandSlot& slot : operands) {
    if (slot.option->count() == 0) continue;
    if (slot.option->get_expected_max() > 1) {
      for (const auto& v : slot.many) args.operands.push_back(v);
    } else {
      args.operands.push_back(slot.one);
    }
  }
  for (const auto& [o, key] : options) {
    if (o->count() == 0) continue;
    if (o->get_expected_min() == 0) {
      args.flags.insert(key);
    } else {
      args.values[key] = o->results().empty() ? "" : o->results().back();
    }
  }
}

namespace {

// `text` with its lines broken at spaces so that none is longer than `width`.
std::string Wrap(const std::string& text, size_t width) {
  std::string out, line;
  auto flush = [&] {
    if (!out.empty()) out += '\n';
    out += line;
    line.clear();
  };
  size_t i = 0;
  while (i <= text.size()) {
    const size_t end = std::min(text.find_first_of(" \n", i), text.size());
    const std::string word = text.substr(i, end - i);
    if (!line.empty() && line.size() + 1 + word.size() > width) flush();
    line += (line.empty() ? "" : " ") + word;
    if (end < text.size() && text[end] == '\n') flush();
    i = end + 1;
  }
  if (!line.empty()) flush();
  return out;
}

constexpr size_t kHelpColumn = 26;

}  // namespace

std::string HelpLayout::make_help(const CLI::App* app, std::string name,
                                  CLI::AppFormatMode mode) const {
  if (mode == CLI::AppFormatMode::Sub) return make_expanded(app);
  std::string out = make_usage(app, name);
  auto it = texts.find(app);
  const std::string text = it != texts.end() ? it->second : app->get_description();
  if (!text.empty()) out += "\n" + text + "\n";
  out += make_positionals(app) + make_groups(app, mode) + make_subcommands(app, mode);
  const std::string footer = make_footer(app);
  if (!footer.empty()) out += "\n" + footer;
  return out;
}

std::string HelpLayout::make_option_desc(const CLI::Option* o) const {
  return Wrap(CLI::Formatter::make_option_desc(o), 80 - kHelpColumn);
}

CommandTree::CommandTree(CLI::App& root) : root_(root), layout_(std::make_shared<HelpLayout>()) {
  layout_->label("Usage", "usage");
  layout_->label("REQUIRED", "");
  layout_->column_width(kHelpColumn);
  root_.formatter(layout_);
}

Command& CommandTree::Add(CLI::App* parent, const std::string& name, const std::string& summary,
                          const std::string& description, const std::string& footer) {
  CLI::App* p = parent ? parent : &root_;
  commands_.emplace_back();
  Command& c = commands_.back();
  c.app = p->add_subcommand(name, summary);
  c.app->footer(footer);
  if (!description.empty()) layout_->texts[c.app] = description;
  return c;
}

Command* CommandTree::Chosen() {
  CLI::App* app = &root_;
  for (;;) {
    auto subs = app->get_subcommands();
    if (subs.empty()) break;
    app = subs.front();
  }
  for (auto& c : commands_) {
    if (c.app == app) return &c;
  }
  return nullptr;
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

Result<Bytes> ParseHexArg(const std::string& s, std::optional<size_t> size) {
  std::string digits = s;
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
    digits = digits.substr(2);
  }
  auto b = FromHex(digits);
  if (!b.ok() || digits.empty()) {
    return InvalidArgument("'" + s + "' is not hex");
  }
  if (size && b->size() != *size) {
    return InvalidArgument("'" + s + "': give " + std::to_string(*size) +
                           (*size == 1 ? " hex byte" : " hex bytes"));
  }
  return b;
}

std::optional<uint64_t> ParseCount(const std::string& s, uint64_t min, uint64_t max) {
  if (s.empty() || s[0] == '-' || s[0] == '+') return std::nullopt;
  const bool hex = s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
  const char* begin = s.c_str() + (hex ? 2 : 0);
  if (*begin == '\0') return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const unsigned long long n = std::strtoull(begin, &end, hex ? 16 : 10);
  if (errno != 0 || *end != '\0' || n < min || n > max) return std::nullopt;
  return n;
}

}  // namespace tessera::tools
