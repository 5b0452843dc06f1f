// The host's command-group codecs (tools/issue_group.h): the text compiler and the decoder of
// the card's form. The input is compiled as group text and decoded as an encoded group.
//
// A group the compiler accepts is one the card accepts (format::ParseGroup, the card's own
// codec: "groups the compiler accepts must load") within the card's limits, and it decodes back
// to the same commands; a decoded group re-encodes to exactly its input; TargetAid and the
// BF73 upload are made from either without failing.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "format/group_format.h"
#include "host/group_compiler.h"

using namespace tessera;
using namespace tessera::host;

namespace {

bool SameCommands(const CommandGroup& a, const CommandGroup& b) {
  if (a.commands.size() != b.commands.size()) return false;
  for (size_t i = 0; i < a.commands.size(); ++i) {
    const GroupCommand &x = a.commands[i], &y = b.commands[i];
    if (x.apdu != y.apdu || x.harmless != y.harmless) return false;
    // 9000 alone and "no list" mean the same.
    const bool x_default = x.success.empty() || x.success == std::vector<uint16_t>{0x9000};
    const bool y_default = y.success.empty() || y.success == std::vector<uint16_t>{0x9000};
    if (!(x_default && y_default) && x.success != y.success) return false;
  }
  return true;
}

void Use(const CommandGroup& g, const Bytes& encoded) {
  const Bytes target = TargetAid(g);
  if (!target.empty() && (target.size() < 5 || target.size() > 16)) std::abort();
  (void)GroupUpload(0x01, 0x01, target, 0x03, encoded);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto compiled = CompileGroup(text, "fuzz");
  if (compiled.ok()) {
    const Bytes encoded = compiled->Encode();
    if (encoded.size() > kMaxGroupBytes || compiled->commands.size() > kMaxGroupCommands) {
      std::abort();
    }
    auto on_card = format::ParseGroup(encoded);
    if (!on_card.ok() || on_card->size() != compiled->commands.size()) std::abort();
    auto decoded = DecodeGroup(encoded);
    if (!decoded.ok() || !SameCommands(*compiled, *decoded)) std::abort();
    if (decoded->Encode() != encoded) std::abort();
    Use(*compiled, encoded);
  }
  const ByteView raw(data, size);
  auto decoded = DecodeGroup(raw);
  if (decoded.ok()) {
    // What the host decodes, the card accepts, and the host's form loses nothing of it.
    if (!format::ParseGroup(raw).ok()) std::abort();
    const Bytes again = decoded->Encode();
    if (again != Bytes(raw.begin(), raw.end())) std::abort();
    Use(*decoded, again);
  }
  return 0;
}
