#include "format/gp_status.h"

#include <algorithm>

namespace tessera::format {

Bytes EncodeGpRegistryEntry(const GpRegistryEntry& e, const std::vector<TlvTag>& tags) {
  auto wanted = [&](TlvTag t) {
    return tags.empty() || std::find(tags.begin(), tags.end(), t) != tags.end();
  };
  TlvBuilder b;
  b.Open(0xE3);
  if (wanted(0x4F)) b.Add(0x4F, e.aid);
  if (e.life_cycle && wanted(0x9F70)) b.AddByte(0x9F70, *e.life_cycle);
  if (!e.privileges.empty() && wanted(0xC5)) b.Add(0xC5, e.privileges);
  if (!e.load_file.empty() && wanted(0xC4)) b.Add(0xC4, e.load_file);
  if (wanted(0x84)) {
    for (const Bytes& m : e.modules) b.Add(0x84, m);
  }
  if (!e.associated_domain.empty() && wanted(0xCC)) b.Add(0xCC, e.associated_domain);
  b.Close();
  return b.Take();
}

Result<std::vector<GpRegistryEntry>> ParseGpRegistryEntries(ByteView data) {
  auto entries = ParseTlvSequence(data);
  if (!entries.ok()) return Malformed("GET STATUS: " + entries.status().message());
  std::vector<GpRegistryEntry> out;
  for (const TlvView& e : *entries) {
    if (e.tag != 0xE3) continue;
    auto fields = ParseTlvSequence(e.value);
    if (!fields.ok()) return Malformed("GET STATUS: " + fields.status().message());
    GpRegistryEntry g;
    for (const TlvView& f : *fields) {
      const Bytes v(f.value.begin(), f.value.end());
      switch (f.tag) {
        case 0x4F:
          g.aid = v;
          break;
        case 0x9F70:
          if (v.size() != 1) return Malformed("GET STATUS: 9F70 is not one byte");
          g.life_cycle = v[0];
          break;
        case 0xC5:
          g.privileges = v;
          break;
        case 0xC4:
          g.load_file = v;
          break;
        case 0x84:
          g.modules.push_back(v);
          break;
        case 0xCC:
          g.associated_domain = v;
          break;
        default:
          break;  // objects of a newer card
      }
    }
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace tessera::format
