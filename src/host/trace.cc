#include "host/trace.h"

#include <algorithm>
#include <cstdio>

#include "core/apdu.h"
#include "format/identifiers.h"
#include "format/status_words.h"

namespace tessera::host {
namespace {

std::string SelectDetail(uint8_t p1, uint8_t p2) {
  std::string how;
  switch (p1) {
    case 0x00:
      how = "by FID";
      break;
    case 0x01:
      how = "child DF";
      break;
    case 0x02:
      how = "EF under current DF";
      break;
    case 0x03:
      how = "parent DF";
      break;
    case 0x04:
      how = "by DF name";
      break;
    case 0x08:
      how = "path from MF";
      break;
    case 0x09:
      how = "path from current DF";
      break;
    default:
      how = "P1=" + HexByte(p1) + "?";
      break;
  }
  static const char* kReturn[] = {"return FCI", "return FCP", "return FMD", "no data"};
  static const char* kOccurrence[] = {"first", "last", "next", "previous"};
  return how + ", " + kReturn[(p2 >> 2) & 3] + ", " + kOccurrence[p2 & 3];
}

}  // namespace

std::string InstructionName(uint8_t cla, uint8_t ins) {
  const std::string_view name = format::InstructionName(cla, ins);
  return name.empty() ? "INS " + HexByte(ins) : std::string(name);
}

std::string DescribeCommand(ByteView command) {
  auto parsed = CommandApdu::Parse(command);
  if (!parsed.ok()) {
    // Never echo the body of a PIN command or of PUT KEY, even a malformed one.
    const bool secret = command.size() >= 2 && (command[1] == 0x20 || command[1] == 0x24 ||
                                                command[1] == 0x2C || command[1] == 0xD8);
    return "malformed command (" + parsed.status().message() + "): " +
           (secret ? ToHex(command.first(std::min<size_t>(4, command.size()))) + " <body hidden>"
                   : ToHex(command));
  }
  const CommandApdu& c = *parsed;
  const ClassByte cls = DecodeClass(c.cla);
  std::string s = InstructionName(c.cla, c.ins);
  s += "  CLA=" + HexByte(c.cla);
  if (!cls.valid) {
    s += " (invalid class)";
  } else {
    s += " (channel " + std::to_string(cls.channel);
    if (cls.chaining) s += ", chained";
    if (cls.secure_messaging != SecureMessaging::kNone) s += ", secure messaging";
    if (cls.proprietary) s += ", proprietary";
    s += ")";
  }
  s += " P1=" + HexByte(c.p1) + " P2=" + HexByte(c.p2);
  if (c.ins == 0xA4) s += " [" + SelectDetail(c.p1, c.p2) + "]";
  if ((c.ins == 0xB0 || c.ins == 0xD6 || c.ins == 0x0E) && (c.p1 & 0x80)) {
    s += " [SFI " + std::to_string(c.p1 & 0x1F) + ", offset " + std::to_string(c.p2) + "]";
  } else if (c.ins == 0xB0 || c.ins == 0xD6 || c.ins == 0x0E) {
    s += " [offset " + std::to_string((c.p1 << 8) | c.p2) + "]";
  }
  if (c.ins == 0xB2 || c.ins == 0xDC || c.ins == 0xE2 || c.ins == 0x0C || c.ins == 0xA2) {
    s += " [record " + std::to_string(c.p1) + ", SFI " + std::to_string(c.p2 >> 3) + ", mode " +
         std::to_string(c.p2 & 7) + "]";
  }
  if (c.ins == 0xD8 && !c.data.empty()) {
    // PUT KEY carries (wrapped) key material: never print it.
    return s + " Lc=" + std::to_string(c.data.size()) + " data=<key material hidden>";
  }
  if (c.ins == 0x20 || c.ins == 0x24 || c.ins == 0x2C) {
    s += " [reference " + HexByte(c.p2) + "]";
    if (!c.data.empty()) {
      // Reference data is secret: show its length only.
      return s + " Lc=" + std::to_string(c.data.size()) + " data=<" +
             std::to_string(c.data.size()) + " bytes hidden>" +
             (c.ne ? " Le=" + std::to_string(c.ne) : "");
    }
  }
  if (!c.data.empty()) s += " Lc=" + std::to_string(c.data.size()) + " data=" + ToHex(c.data);
  if (c.ne != 0) s += " Le=" + std::to_string(c.ne);
  if (c.extended) s += " (extended)";
  return s;
}

std::string DescribeResponse(ByteView response) {
  auto r = ResponseApdu::Parse(response);
  if (!r.ok()) return "malformed response: " + ToHex(response);
  std::string s;
  if (!r->data.empty()) s = std::to_string(r->data.size()) + " bytes " + ToHex(r->data) + "  ";
  return s + sw::Describe(r->sw);
}

}  // namespace tessera::host
