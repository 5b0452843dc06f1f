// Reading the host tool's input files (installation files, descriptions, keys, groups, master
// keys, scripts, state files): one helper, so that every command refuses a directory, a missing,
// unreadable or oversized file with the same clear error instead of aborting, and names the file
// safely whatever bytes its name holds.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/secure_bytes.h"
#include "core/status.h"

namespace tessera::host {

// Bounds of the kinds of input file more than one command reads.
inline constexpr size_t kMaxKeyFileBytes = 64 * 1024;  // SCP03 key files, master keys, PEM

struct InputFileSpec {
  // What the file is, for the messages: "group file", "key file", ...
  std::string what;
  // The most bytes the command accepts; a larger file is refused before it is read.
  size_t max_bytes = 1 << 20;
  // "-" means standard input (read to its end, with the same bound).
  bool dash_is_stdin = false;
};

// The whole file, in a buffer that is wiped when it goes (key files, PINs in descriptions).
// Errors (IOError, or NotFound for a file that does not exist), each naming the file by
// DisplayName, quoted: "cannot open WHAT 'NAME': it is a directory, not a file", "...: No such file
// or directory", "...: Permission denied" (strerror's text), "cannot read WHAT 'NAME': <errno
// text>", "WHAT 'NAME' has more than N bytes (the most it may have)". Any kind of file that read(2)
// can read (regular files, pipes, /dev/stdin) is accepted; a FIFO is opened without waiting for a
// writer.
Result<SecureBytes> ReadInputFile(const std::string& path, const InputFileSpec& spec);

// The next line of `text` from *pos (without its '\n') into *line, which is wiped before it is
// overwritten (lines of key files hold key hex); false at the end of the text.
bool NextLine(ByteView text, size_t* pos, std::string* line);

// `path` for a message (FILE:LINE: ... keeps its form): bytes that are not well-formed UTF-8,
// control characters and the backslash are written as \xNN, so a message prints as one line of
// valid UTF-8 and the name can still be told apart from any other.
std::string DisplayName(std::string_view path);

}  // namespace tessera::host
