#include "host/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/utf8.h"

namespace tessera::host {
namespace {

// Closes the descriptor it owns (never standard input).
struct Fd {
  int fd = -1;
  bool owned = false;
  ~Fd() {
    if (owned && fd >= 0) ::close(fd);
  }
};

// strerror's text ("No such file or directory", "Permission denied"), but for a directory.
std::string Reason(int err) {
  if (err == EISDIR) return "it is a directory, not a file";
  return std::strerror(err);
}

}  // namespace

bool NextLine(ByteView text, size_t* pos, std::string* line) {
  line->resize(line->capacity());
  Wipe(line->data(), line->size());
  line->clear();
  if (*pos >= text.size()) return false;
  size_t end = *pos;
  while (end < text.size() && text[end] != '\n') ++end;
  line->assign(reinterpret_cast<const char*>(text.data()) + *pos, end - *pos);
  *pos = end + 1;
  return true;
}

std::string DisplayName(std::string_view path) {
  std::string out;
  size_t i = 0;
  while (i < path.size()) {
    const unsigned char c = static_cast<unsigned char>(path[i]);
    const size_t n = Utf8SequenceLength(path.substr(i));
    if (n == 0 || c < 0x20 || c == 0x7F || c == '\\') {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02X", c);
      out += hex;
      ++i;
      continue;
    }
    out.append(path.substr(i, n));
    i += n;
  }
  return out;
}

Result<SecureBytes> ReadInputFile(const std::string& path, const InputFileSpec& spec) {
  const bool from_stdin = spec.dash_is_stdin && path == "-";
  const std::string name =
      from_stdin ? "standard input" : spec.what + " '" + DisplayName(path) + "'";
  Fd f;
  if (from_stdin) {
    f.fd = STDIN_FILENO;
  } else {
    // O_NONBLOCK: a FIFO without a writer must not hang the command at open; cleared below.
    f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (f.fd < 0) {
      const int err = errno;
      const std::string m = "cannot open " + name + ": " + Reason(err);
      return err == ENOENT ? NotFound(m) : IOError(m);
    }
    f.owned = true;
  }
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) return IOError("cannot read " + name + ": " + Reason(errno));
  if (S_ISDIR(st.st_mode)) {
    if (from_stdin) return IOError("standard input is a directory, not a " + spec.what);
    return IOError("cannot open " + name + ": it is a directory, not a file");
  }
  if (S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) > spec.max_bytes) {
    return IOError(name + " has " + std::to_string(st.st_size) + " bytes; a " + spec.what +
                   " has at most " + std::to_string(spec.max_bytes));
  }
  if (!from_stdin) {
    const int flags = ::fcntl(f.fd, F_GETFL);
    if (flags < 0 || ::fcntl(f.fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
      return IOError("cannot read " + name + ": " + Reason(errno));
    }
  }
  SecureBytes out;
  if (S_ISREG(st.st_mode)) out.reserve(static_cast<size_t>(st.st_size));
  uint8_t chunk[16384];
  for (;;) {
    const ssize_t n = ::read(f.fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      Wipe(chunk, sizeof chunk);
      return IOError("cannot read " + name + ": " + Reason(err));
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > spec.max_bytes) {
      Wipe(chunk, sizeof chunk);
      return IOError(name + " has more than " + std::to_string(spec.max_bytes) + " bytes; a " +
                     spec.what + " has at most " + std::to_string(spec.max_bytes));
    }
    out.insert(out.end(), chunk, chunk + n);
  }
  Wipe(chunk, sizeof chunk);
  return out;
}

}  // namespace tessera::host
