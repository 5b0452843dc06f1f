// The human-readable form of a card function's command group, and its compiler to the card's
// form (docs/self-issuance.md §3, §6.1). One command a line:
//
//   # a comment (also after a command)
//   00A4040009F05445535345524150 harmless      the hex APDU; spaces between bytes allowed
//   80 52 00 00 04 00 00 03 E8 sw=9000,6310    status words that count as success
//
// A line is hex bytes (scriptor style: "00 A4 04 00 ..." works) followed by options: `harmless`
// (safe to run again on resume: SELECT, VERIFY) and `sw=XXXX[,XXXX...]` (default 9000 only).
// A scriptor "reset" line before the first command is accepted and means nothing (a run always
// starts on the card's fresh internal channel); "exit" or "quit" ends the group. Errors name
// FILE:LINE and what is wrong; nothing is compiled from a group with any error.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"
#include "format/group_format.h"

namespace tessera::host {

struct GroupCommand {
  Bytes apdu;                     // a plain command APDU (no SM, no chaining, basic channel)
  std::vector<uint16_t> success;  // empty: 9000 only
  bool harmless = false;
  int line = 0;  // in the source text, for messages
};

struct CommandGroup {
  std::vector<GroupCommand> commands;
  // The card's form: 47 01 count(2) { flags, n, n x SW, length(2), APDU }.
  Bytes Encode() const;
};

// The card's limits (format/group_format.h), one set for every side.
inline constexpr size_t kMaxGroupCommands = format::kMaxCommands;
inline constexpr size_t kMaxGroupBytes = format::kMaxGroupBytes;
inline constexpr size_t kMaxSuccessWords = format::kMaxSuccessWords;
// A text line longer than this is refused: the largest command that fits a group, in hex with
// a space between bytes, and a comment, fit.
inline constexpr size_t kMaxGroupLine = 64 * 1024;
// A group text larger than this is refused before it is compiled.
inline constexpr size_t kMaxGroupText = 1024 * 1024;

// Compiles `text`; `name` is the file name used in messages ("FILE:LINE: ..."). kMalformed
// with every error found (one per line, at most 20) when the text is not a valid group.
Result<CommandGroup> CompileGroup(const std::string& text, const std::string& name);
// Reads and compiles a file ('-': standard input).
Result<CommandGroup> CompileGroupFile(const std::string& path);
// A group file in either form: the card's (starts 47 01, e.g. from 'tessera issue compile -o';
// decoded and checked) or the text form (compiled). '-': standard input, text.
Result<CommandGroup> LoadGroupFile(const std::string& path);
// Decodes the card's form (from `tessera image write-group` or a group file read back):
// kMalformed if it is not one.
Result<CommandGroup> DecodeGroup(ByteView encoded);

// The application the group issues: the AID of its first INSTALL [for install] (80 E6, P1 b3:
// the third LV of its data) or of the record in its first installation-file upload (STORE
// DATA of BF70 { E1 { 4F ... } }); empty when it has neither. It is the table record's target
// (docs/self-issuance.md §2): unusable from outside while the function is half issued.
Bytes TargetAid(const CommandGroup& group);

// The STORE DATA upload that loads a group into the issuance application:
// BF73 { C1 function, C3 version, [4F target], C5 policy, C6 group }.
Bytes GroupUpload(uint8_t function, uint8_t version, ByteView target_aid, uint8_t policy,
                  ByteView encoded_group);

}  // namespace tessera::host
