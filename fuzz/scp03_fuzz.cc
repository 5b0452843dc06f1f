// Fuzz target: secure-messaging unwrapping. Arbitrary bytes arrive as a command inside an SCP03
// session at any security level (S8 or S16), and as a response on the host side. Unwrapping
// must refuse or succeed, never crash; a command refused for its MAC must not change the
// session's state (the next genuine command still verifies).
#include <cstdint>
#include <cstdlib>

#include "crypto/scp03.h"

using namespace tessera;
namespace scp03 = tessera::crypto::scp03;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  static const scp03::SessionKeys keys = [] {
    const Bytes k = HexOrDie("404142434445464748494A4B4C4D4E4F");
    scp03::StaticKeys s{crypto::MakeSecure(k), crypto::MakeSecure(k), crypto::MakeSecure(k)};
    return *scp03::DeriveSessionKeys(s, HexOrDie("00010203040506070001020304050607"));
  }();
  static const uint8_t kLevels[] = {0x01, 0x03, 0x11, 0x13, 0x33};
  const uint8_t level = kLevels[data[0] % 5];
  const size_t mac = (data[0] & 0x80) ? 16 : 8;
  scp03::Session card(keys, mac), host(keys, mac);
  card.set_level(level);
  host.set_level(level);
  ByteView rest(data + 1, size - 1);
  if (data[1] & 1) {
    auto cmd = CommandApdu::Parse(rest);
    if (cmd.ok()) {
      auto r = card.UnwrapCommand(*cmd);
      if (r.ok() && r->data.size() > cmd->data.size()) std::abort();
      if (!r.ok() && r.status().code() == ErrorCode::kFailedPrecondition) {
        auto genuine = host.WrapCommand(*CommandApdu::Parse(HexOrDie("80CA006600")));
        if (!genuine.ok() || !card.UnwrapCommand(*genuine).ok()) std::abort();
      }
    }
  } else {
    auto rsp = ResponseApdu::Parse(rest);
    if (rsp.ok()) (void)host.UnwrapResponse(*rsp);
  }
  return 0;
}
