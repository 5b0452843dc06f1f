// The parser of the host's issue state file (tools/issue_run.h, docs/self-issuance.md §6.3),
// reached as `tessera issue run` reaches it: the input is the file's content, read from a file
// with ReadIssueState.
//
// A state that parses is written back with WriteIssueState and reads again to the same card,
// function, run id, acknowledgement and result; anything else is an error value, never a crash.
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "host/issuance_run.h"

using namespace tessera;
using namespace tessera::host;

namespace {

// A private directory for the files, on tmpfs where there is one (the round trip fsyncs).
const std::string& Dir() {
  static const std::string dir = [] {
    for (const char* base : {"/dev/shm", "/tmp"}) {
      std::string t = std::string(base) + "/tessera-state-fuzz-XXXXXX";
      if (::mkdtemp(t.data()) != nullptr) return t;
    }
    std::abort();
  }();
  return dir;
}

void WriteFile(const std::string& path, const uint8_t* data, size_t size) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) std::abort();
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(fd, data + done, size - done);
    if (n <= 0) std::abort();
    done += static_cast<size_t>(n);
  }
  ::close(fd);
}

// Removes the directory at exit. It keeps its own copy of the name: statics are destroyed in
// the reverse order of their construction.
struct Cleanup {
  std::string dir = Dir();
  ~Cleanup() {
    ::unlink((dir + "/in.state").c_str());
    ::unlink((dir + "/out.state").c_str());
    ::unlink((dir + "/out.state.tmp").c_str());
    ::rmdir(dir.c_str());
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Cleanup cleanup;
  const std::string in = Dir() + "/in.state", out = Dir() + "/out.state";
  WriteFile(in, data, size);
  auto state = ReadIssueState(in);
  if (!state.ok() || !*state) return 0;
  const IssueState& s = **state;
  if (!WriteIssueState(out, s).ok()) std::abort();
  auto again = ReadIssueState(out);
  if (!again.ok() || !*again) std::abort();
  const IssueState& t = **again;
  if (t.card != s.card || t.function != s.function || t.run_id != s.run_id || t.acked != s.acked ||
      t.result != s.result) {
    std::abort();
  }
  return 0;
}
