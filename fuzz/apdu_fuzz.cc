// Fuzz target: the command APDU parser, with a serialise/parse round trip. Every well-formed
// command must serialise back to exactly the bytes it was parsed from.
#include <cstdint>
#include <cstdlib>

#include "core/apdu.h"
#include "format/status_words.h"

using namespace tessera;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteView in(data, size);
  auto cmd = CommandApdu::Parse(in);
  if (cmd.ok()) {
    Bytes out = cmd->Serialize();
    if (out.size() != size || !std::equal(out.begin(), out.end(), data)) std::abort();
    auto again = CommandApdu::Parse(out);
    if (!again.ok() || !(*again == *cmd)) std::abort();
    if (cmd->data.size() > kMaxExtendedNc || cmd->ne > kMaxExtendedNe) std::abort();
  } else if (cmd.status().code() != ErrorCode::kMalformed) {
    std::abort();
  }
  if (size > 0) {
    ClassByte c = DecodeClass(data[0]);
    if (c.valid && c.channel > 19) std::abort();
  }
  auto rsp = ResponseApdu::Parse(in);
  if (rsp.ok()) {
    Bytes out = rsp->Serialize();
    if (out.size() != size || !std::equal(out.begin(), out.end(), data)) std::abort();
    (void)sw::Describe(rsp->sw);
  }
  return 0;
}
