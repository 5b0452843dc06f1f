#include "host/group_compiler.h"

#include "format/issuance_format.h"

#include <cctype>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "core/apdu.h"
#include "core/tlv.h"
#include "format/identifiers.h"
#include "host/file_io.h"

namespace tessera::host {
namespace {

using format::kFlagHarmless;
constexpr size_t kMaxErrors = 20;

bool IsHexWord(const std::string& w) {
  for (char ch : w) {
    if (!std::isxdigit(static_cast<unsigned char>(ch))) return false;
  }
  return !w.empty();
}

std::string Lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

// Why `apdu` cannot be stored, or "": the card's own rule.
std::string ApduProblem(const Bytes& apdu) {
  return format::StoredCommandProblem(apdu);
}

}  // namespace

Bytes CommandGroup::Encode() const {
  Bytes g{'G', 0x01};
  AppendU16(g, static_cast<uint16_t>(commands.size()));
  for (const GroupCommand& c : commands) {
    g.push_back(c.harmless ? kFlagHarmless : 0);
    g.push_back(static_cast<uint8_t>(c.success.size()));
    for (uint16_t sw : c.success) AppendU16(g, sw);
    AppendU16(g, static_cast<uint16_t>(c.apdu.size()));
    Append(g, c.apdu);
  }
  return g;
}

Result<CommandGroup> CompileGroup(const std::string& text, const std::string& name) {
  CommandGroup group;
  std::vector<std::string> errors;
  auto error = [&](int line, const std::string& what) {
    if (errors.size() < kMaxErrors)
      errors.push_back(name + ":" + std::to_string(line) + ": " + what);
  };
  if (text.size() > kMaxGroupText) {
    return Malformed(name + ": " + std::to_string(text.size()) +
                     " bytes of text; a group's text is at most " + std::to_string(kMaxGroupText));
  }
  std::istringstream in(text);
  std::string raw;
  int line_no = 0;
  size_t bytes = 4;
  while (std::getline(in, raw)) {
    ++line_no;
    if (raw.size() > kMaxGroupLine) {
      error(line_no, "the line is " + std::to_string(raw.size()) + " characters; at most " +
                         std::to_string(kMaxGroupLine));
      continue;
    }
    if (const size_t hash = raw.find('#'); hash != std::string::npos) raw.resize(hash);
    std::istringstream words_in(raw);
    std::vector<std::string> words{std::istream_iterator<std::string>(words_in), {}};
    if (words.empty()) continue;
    const std::string first = Lower(words[0]);
    if (words.size() == 1 && (first == "exit" || first == "quit")) break;
    if (words.size() == 1 && first == "reset") {
      if (!group.commands.empty()) {
        error(line_no, "'reset' after a command: a group runs inside the card without resets");
      }
      continue;
    }
    GroupCommand c;
    c.line = line_no;
    std::string hex;
    size_t i = 0;
    bool ok = true;
    for (; i < words.size() && IsHexWord(words[i]); ++i) {
      if (words[i].size() % 2 != 0 && ok) {
        error(line_no, "'" + words[i] + "' has an odd number of hex digits: write whole bytes");
        ok = false;
      }
      hex += words[i];
    }
    if (hex.empty()) {
      error(line_no, "expected a hex command APDU, found '" + words[0] + "'");
      continue;
    }
    for (; i < words.size(); ++i) {
      const std::string w = Lower(words[i]);
      if (w == "harmless") {
        c.harmless = true;
      } else if (w.rfind("sw=", 0) == 0) {
        std::istringstream list(w.substr(3));
        std::string sw;
        c.success.clear();
        while (std::getline(list, sw, ',')) {
          if (sw.size() != 4 || !IsHexWord(sw)) {
            error(line_no, "status word '" + sw + "' in '" + words[i] +
                               "': give four hex digits, e.g. sw=9000,6310");
            ok = false;
            break;
          }
          c.success.push_back(static_cast<uint16_t>(std::stoul(sw, nullptr, 16)));
        }
        if (ok && c.success.empty()) {
          error(line_no, "'sw=' names no status word");
          ok = false;
        }
        if (ok && c.success.size() > kMaxSuccessWords) {
          error(line_no, "at most " + std::to_string(kMaxSuccessWords) + " status words");
          ok = false;
        }
      } else {
        error(line_no, "unknown option '" + words[i] + "' (options: harmless, sw=XXXX[,XXXX])");
        ok = false;
      }
    }
    if (!ok) continue;
    auto apdu = FromHex(hex);
    if (!apdu.ok()) {
      error(line_no, "the APDU is not hex");
      continue;
    }
    c.apdu = std::move(*apdu);
    if (const std::string problem = ApduProblem(c.apdu); !problem.empty()) {
      error(line_no, problem);
      continue;
    }
    if (!ok) continue;
    bytes += 4 + 2 * c.success.size() + c.apdu.size();
    group.commands.push_back(std::move(c));
  }
  if (errors.empty() && group.commands.empty()) errors.push_back(name + ": no commands");
  if (errors.empty() && group.commands.size() > kMaxGroupCommands) {
    errors.push_back(name + ": " + std::to_string(group.commands.size()) +
                     " commands; a group holds at most " + std::to_string(kMaxGroupCommands));
  }
  if (errors.empty() && bytes > kMaxGroupBytes) {
    errors.push_back(name + ": the compiled group is " + std::to_string(bytes) +
                     " bytes; at most " + std::to_string(kMaxGroupBytes) + " fit the card");
  }
  if (!errors.empty()) {
    std::string all;
    for (const std::string& e : errors) all += (all.empty() ? "" : "\n") + e;
    return Malformed(all);
  }
  return group;
}

namespace {

// A group file, text or compiled, read once (standard input cannot be read twice); a file
// larger than any group text the compiler accepts is refused before it is read.
Result<SecureBytes> ReadGroupFile(const std::string& path) {
  return ReadInputFile(path,
                       {.what = "group file", .max_bytes = kMaxGroupText, .dash_is_stdin = true});
}

std::string GroupFileName(const std::string& path) {
  return path == "-" ? "<stdin>" : DisplayName(path);
}

}  // namespace

Result<CommandGroup> CompileGroupFile(const std::string& path) {
  TESSERA_ASSIGN_OR_RETURN(SecureBytes raw, ReadGroupFile(path));
  const std::string text(raw.begin(), raw.end());
  return CompileGroup(text, GroupFileName(path));
}

Result<CommandGroup> LoadGroupFile(const std::string& path) {
  TESSERA_ASSIGN_OR_RETURN(SecureBytes raw, ReadGroupFile(path));
  if (raw.size() >= 2 && raw[0] == 'G' && raw[1] == 0x01) {
    auto g = DecodeGroup(raw);
    if (!g.ok()) return Malformed(GroupFileName(path) + ": " + g.status().message());
    return g;
  }
  const std::string text(raw.begin(), raw.end());
  return CompileGroup(text, GroupFileName(path));
}

Result<CommandGroup> DecodeGroup(ByteView g) {
  TESSERA_ASSIGN_OR_RETURN(std::vector<format::StoredCommand> stored, format::ParseGroup(g));
  CommandGroup out;
  for (size_t i = 0; i < stored.size(); ++i) {
    const format::StoredCommand& s = stored[i];
    GroupCommand c;
    c.harmless = (s.flags & kFlagHarmless) != 0;
    c.success = s.success;
    c.apdu.assign(g.begin() + s.offset, g.begin() + s.offset + s.length);
    c.line = static_cast<int>(i);
    out.commands.push_back(std::move(c));
  }
  return out;
}

Bytes TargetAid(const CommandGroup& group) {
  for (const GroupCommand& c : group.commands) {
    auto apdu = CommandApdu::Parse(c.apdu);
    if (!apdu.ok()) continue;
    const Bytes& d = apdu->data;
    if (apdu->ins == 0xE6 && (apdu->p1 & 0x04) != 0) {
      size_t pos = 0;
      for (int field = 0; field < 2 && pos < d.size(); ++field) pos += 1 + d[pos];
      if (pos < d.size() && pos + 1 + d[pos] <= d.size() && d[pos] >= 5 && d[pos] <= 16) {
        return Bytes(d.begin() + static_cast<ptrdiff_t>(pos + 1),
                     d.begin() + static_cast<ptrdiff_t>(pos + 1 + d[pos]));
      }
    } else if (apdu->ins == 0xE2) {
      auto file = ParseTlv(d);
      if (!file.ok() || file->tag != format::tag::kInstallationFile) continue;
      auto record = FindTlv(file->value, 0xE1);
      if (!record.ok() || !*record) continue;
      auto aid = FindTlv((*record)->value, 0x4F);
      if (aid.ok() && *aid && (*aid)->value.size() >= 5 && (*aid)->value.size() <= 16) {
        return Bytes((*aid)->value.begin(), (*aid)->value.end());
      }
    }
  }
  return {};
}

Bytes GroupUpload(uint8_t function, uint8_t version, ByteView target_aid, uint8_t policy,
                  ByteView encoded_group) {
  format::GroupUpload u;
  u.function = function;
  u.version = version;
  u.target.assign(target_aid.begin(), target_aid.end());
  u.policy = policy;
  u.group.assign(encoded_group.begin(), encoded_group.end());
  return format::EncodeGroupUpload(u);
}

}  // namespace tessera::host
