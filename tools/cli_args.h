// The command line of both programs, parsed by CLI11 alone: each front-end registers its
// commands (a CLI::App each) with their operands, options and help; the help printed is
// generated from those definitions, so it cannot drift from what is accepted. A command's
// handler reads its parsed arguments as an Args: operands in order, option values as the user
// wrote them (by the option's first name, e.g. "--function" or "-o"), flags given. Values are
// checked by the handler with the parsers below, which every command shares: one syntax for
// hex fields (with or without 0x), sizes and counts.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/bytes.h"
#include "core/status.h"

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

// One command of the tree: its CLI11 app and, once parsed, its Args. `run` is called when the
// command is the one the user chose.
struct Command {
  CLI::App* app = nullptr;
  Args args;
  std::function<int(const Args&)> run;
  std::vector<std::pair<CLI::Option*, std::string>> options;  // with their keys in Args
  struct OperandSlot {
    CLI::Option* option = nullptr;
    std::string one;                // an operand that takes one value
    std::vector<std::string> many;  // one that takes all that are left
  };
  std::deque<OperandSlot> operands;

  // A valued option: names as CLI11 takes them ("-o,--output"); its key in Args is the first.
  Command& Value(const std::string& names, const std::string& value_name, const std::string& help);
  Command& Flag(const std::string& names, const std::string& help);
  // Operands in the order they are declared; `many` takes all that are left.
  Command& Operand(const std::string& name, const std::string& help, bool required = true,
                   bool many = false);
  // Fills `args` from what CLI11 parsed (after parsing).
  void Collect();
};

// How help is laid out: the usage line first, then the command's own text, its operands and
// options (descriptions wrapped to 80 columns), its subcommands with their one-line summaries,
// and the footer.
class HelpLayout : public CLI::Formatter {
 public:
  std::string make_help(const CLI::App* app, std::string name,
                        CLI::AppFormatMode mode) const override;
  std::string make_option_desc(const CLI::Option* o) const override;
  std::map<const CLI::App*, std::string> texts;  // a command's text; its summary otherwise
};

// The tree of commands of one program. Commands live as long as the tree.
class CommandTree {
 public:
  // Sets the root's help layout ("usage: tessera ...") for every command added later.
  explicit CommandTree(CLI::App& root);
  CLI::App& root() { return root_; }
  // A command under `parent` (nullptr: the root). `summary` is its line in its parent's list;
  // `description` the text atop its help; `footer` the text below its options.
  Command& Add(CLI::App* parent, const std::string& name, const std::string& summary,
               const std::string& description, const std::string& footer = "");
  // The command the user chose (the deepest parsed), or nullptr.
  Command* Chosen();

 private:
  CLI::App& root_;
  std::shared_ptr<HelpLayout> layout_;
  std::deque<Command> commands_;
};

// A size as operators write it, "65536", "128K" or "1M" (K and M are 1024 and 1024², either
// case), between 1 and `max`; nullopt otherwise. Every command that takes a size reads it here.
std::optional<uint64_t> ParseSize(const std::string& s, uint64_t max);
// Hex as every command takes it (AIDs, KVN, SW, P1/P2, levels, policies): digits in either
// case, with or without a leading 0x. Exactly `size` bytes when `size` is given.
Result<Bytes> ParseHexArg(const std::string& s, std::optional<size_t> size = std::nullopt);
// A decimal count (or 0x-prefixed hex) from `min` to `max`.
std::optional<uint64_t> ParseCount(const std::string& s, uint64_t min, uint64_t max);

}  // namespace tessera::tools
