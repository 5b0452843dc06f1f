// The applet package codec (format/applet_package.h) on arbitrary bytes: a package, the stored
// code header (EF C0DE) and the system parameters (EF). Whatever parses re-encodes to bytes
// that parse to the same package; bytecode never parses as a package.
//
// Input: u8 which (0 package, 1 stored code, 2 system parameters), then the bytes.
#include <cstdint>
#include <cstdlib>

#include "format/applet_package.h"

using namespace tessera;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const ByteView in(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      auto p = format::ParseAppletPackage(in);
      if (!p.ok()) break;
      for (const auto& m : p->modules) {
        if (!m.source.empty() && static_cast<uint8_t>(m.source[0]) == 0x1B) std::abort();
      }
      auto again = format::ParseAppletPackage(format::EncodeAppletPackage(*p));
      if (!again.ok() || again->aid != p->aid || again->modules.size() != p->modules.size()) {
        std::abort();
      }
      for (size_t i = 0; i < p->modules.size(); ++i) {
        if (again->modules[i].source != p->modules[i].source ||
            again->modules[i].aid != p->modules[i].aid) {
          std::abort();
        }
      }
      break;
    }
    case 1: {
      auto st = format::ParseStoredApplet(in);
      if (st.ok() && !format::ParseAppletPackage(st->package).ok()) std::abort();
      break;
    }
    case 2: {
      auto l = format::ParseAppletLimits(in);
      if (!l.ok()) break;
      if (l->heap < format::kMinHeap || l->heap > format::kMaxHeap ||
          l->persistent > format::kMaxPersistent || l->instructions < format::kMinInstructions ||
          l->instructions > format::kMaxInstructions) {
        std::abort();
      }
      auto again = format::ParseAppletLimits(format::EncodeAppletLimits(*l));
      if (!again.ok() || again->heap != l->heap || again->persistent != l->persistent ||
          again->instructions != l->instructions) {
        std::abort();
      }
      break;
    }
  }
  return 0;
}
