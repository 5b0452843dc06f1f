#include "format/group_format.h"

#include "core/apdu.h"

namespace tessera::format {
namespace {

constexpr uint8_t kInsGetResponse = 0xC0;
constexpr uint8_t kInsManageChannel = 0x70;

std::string Hex1(uint8_t b) {
  return ToHex(ByteView(&b, 1));
}

}  // namespace

std::string StoredCommandProblem(ByteView apdu) {
  auto parsed = CommandApdu::Parse(apdu);
  if (!parsed.ok()) return "not a command APDU (" + parsed.status().message() + ")";
  const ClassByte cls = DecodeClass(parsed->cla);
  if (!cls.valid) return "class byte " + Hex1(parsed->cla) + " is not valid";
  if (cls.chaining) return "command chaining (CLA b5) cannot be stored: send one command";
  if (cls.secure_messaging != SecureMessaging::kNone) {
    return "secure messaging (CLA " + Hex1(parsed->cla) +
           ") cannot be stored: stored commands are plain, the card runs them as the issuer's";
  }
  if (cls.channel != 0) return "logical channel bits in CLA: stored commands use channel 0";
  if (parsed->ins == kInsGetResponse) {
    return "GET RESPONSE (INS C0) cannot be stored: a stored command gets its whole response";
  }
  if (parsed->ins == kInsManageChannel) {
    return "MANAGE CHANNEL (INS 70) cannot be stored: a run has one internal channel";
  }
  return "";
}

Result<std::vector<StoredCommand>> ParseGroup(ByteView g) {
  if (g.size() < 4 || g[0] != 'G' || g[1] != 0x01) {
    return Malformed("not a compiled command group (it starts 47 01)");
  }
  if (g.size() > kMaxGroupBytes) {
    return Malformed("the group is " + std::to_string(g.size()) + " bytes; at most " +
                     std::to_string(kMaxGroupBytes));
  }
  const size_t count = GetU16(&g[2]);
  if (count == 0) return Malformed("a command group of no commands");
  if (count > kMaxCommands) {
    return Malformed(std::to_string(count) + " commands; a group holds at most " +
                     std::to_string(kMaxCommands));
  }
  std::vector<StoredCommand> out;
  out.reserve(count);
  size_t pos = 4;
  for (size_t i = 0; i < count; ++i) {
    const std::string at = "command " + std::to_string(i) + ": ";
    if (g.size() < pos + 2) return Malformed(at + "the group is truncated");
    StoredCommand c;
    c.flags = g[pos];
    if ((c.flags & ~kFlagHarmless) != 0) {
      return Malformed(at + "flags " + Hex1(c.flags) + ": only b1 (harmless) is defined");
    }
    const size_t n = g[pos + 1];
    pos += 2;
    if (n > kMaxSuccessWords) {
      return Malformed(at + std::to_string(n) + " success status words; at most " +
                       std::to_string(kMaxSuccessWords));
    }
    if (g.size() < pos + 2 * n + 2) return Malformed(at + "the group is truncated");
    for (size_t k = 0; k < n; ++k) c.success.push_back(GetU16(&g[pos + 2 * k]));
    pos += 2 * n;
    c.length = GetU16(&g[pos]);
    pos += 2;
    if (g.size() < pos + c.length) return Malformed(at + "the group is truncated");
    if (std::string problem = StoredCommandProblem(g.subspan(pos, c.length)); !problem.empty()) {
      return Malformed(at + problem);
    }
    c.offset = static_cast<uint32_t>(pos);
    pos += c.length;
    out.push_back(std::move(c));
  }
  if (pos != g.size()) return Malformed("bytes after the last command of the group");
  return out;
}

}  // namespace tessera::format
