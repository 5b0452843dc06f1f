#include "format/applet_package.h"

#include <algorithm>

#include "core/tlv.h"
#include "format/application_record.h"

namespace tessera::format {
namespace {

constexpr TlvTag kPackage = 0xA0, kAid = 0x4F, kVersion = 0xC2, kModule = 0xA1, kName = 0x50,
                 kSource = 0xC6;
constexpr TlvTag kHeap = 0xC6, kPersistent = 0xC7, kInstructions = 0xDF21;
// Precompiled Lua chunks start with ESC "Lua" (LUA_SIGNATURE).
constexpr uint8_t kBytecodeSignature = 0x1B;

bool ValidAidLength(ByteView aid) {
  return aid.size() >= kMinAidLength && aid.size() <= kMaxAidLength;
}

Result<AppletModule> ParseModule(ByteView value, size_t index) {
  const std::string where = "A0: module " + std::to_string(index + 1) + ": ";
  TESSERA_ASSIGN_OR_RETURN(auto fields, ParseTlvSequence(value));
  if (fields.size() != 3 || fields[0].tag != kAid || fields[1].tag != kName ||
      fields[2].tag != kSource) {
    return Malformed(where + "expected 4F, 50, C6 in this order");
  }
  AppletModule m;
  if (!ValidAidLength(fields[0].value)) return Malformed(where + "4F is not 5..16 bytes");
  m.aid.assign(fields[0].value.begin(), fields[0].value.end());
  const ByteView name = fields[1].value;
  if (name.empty() || name.size() > kMaxModuleName) return Malformed(where + "50 not 1..32 bytes");
  m.name.assign(name.begin(), name.end());
  const ByteView source = fields[2].value;
  if (source.empty()) return Malformed(where + "C6 (source) is empty");
  if (source[0] == kBytecodeSignature) {
    return Malformed(where + "C6 holds precompiled Lua bytecode; only source is accepted");
  }
  m.source.assign(source.begin(), source.end());
  return m;
}

bool SameBytes(ByteView a, ByteView b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

}  // namespace

Bytes EncodeAppletPackage(const AppletPackage& p) {
  TlvBuilder b;
  b.Open(kPackage).Add(kAid, p.aid);
  const uint8_t version[] = {p.major, p.minor};
  b.Add(kVersion, version);
  for (const AppletModule& m : p.modules) {
    b.Open(kModule).Add(kAid, m.aid).Add(kName, ToBytes(m.name)).Add(kSource, ToBytes(m.source));
    b.Close();
  }
  b.Close();
  return b.Take();
}

Result<AppletPackage> ParseAppletPackage(ByteView bytes) {
  if (bytes.size() > kMaxPackageSize) {
    return Malformed("A0: the package is over " + std::to_string(kMaxPackageSize) + " bytes");
  }
  auto top = ParseTlv(bytes);
  if (!top.ok()) return Malformed("A0: " + top.status().message());
  if (top->tag != kPackage) return Malformed("not an A0 applet package");
  if (top->encoded_size != bytes.size()) return Malformed("A0: bytes after the package");
  TESSERA_ASSIGN_OR_RETURN(auto fields, ParseTlvSequence(top->value));
  if (fields.size() < 3 || fields[0].tag != kAid || fields[1].tag != kVersion) {
    return Malformed("A0: expected 4F, C2, then A1 modules");
  }
  AppletPackage p;
  if (!ValidAidLength(fields[0].value)) return Malformed("A0: 4F is not 5..16 bytes");
  p.aid.assign(fields[0].value.begin(), fields[0].value.end());
  if (fields[1].value.size() != 2) return Malformed("A0: C2 (version) is not 2 bytes");
  p.major = fields[1].value[0];
  p.minor = fields[1].value[1];
  if (fields.size() - 2 > kMaxPackageModules) return Malformed("A0: more than 4 modules");
  for (size_t i = 2; i < fields.size(); ++i) {
    if (fields[i].tag != kModule)
      return Malformed("A0: " + TlvTagToHex(fields[i].tag) + " after C2");
    TESSERA_ASSIGN_OR_RETURN(AppletModule m, ParseModule(fields[i].value, i - 2));
    if (SameBytes(m.aid, p.aid)) return Malformed("A0: a module AID equals the package AID");
    for (const AppletModule& other : p.modules) {
      if (SameBytes(m.aid, other.aid)) return Malformed("A0: two modules with one AID");
    }
    p.modules.push_back(std::move(m));
  }
  return p;
}

Result<AppletLimits> ParseAppletLimits(ByteView ef_value) {
  AppletLimits l;
  TESSERA_ASSIGN_OR_RETURN(auto fields, ParseTlvSequence(ef_value));
  bool seen[3] = {false, false, false};
  for (const TlvView& t : fields) {
    if (t.value.size() != 4) return Malformed("EF: " + TlvTagToHex(t.tag) + " is not 4 bytes");
    const uint32_t v = (uint32_t{t.value[0]} << 24) | (uint32_t{t.value[1]} << 16) |
                       (uint32_t{t.value[2]} << 8) | t.value[3];
    auto take = [&](int i, uint32_t lo, uint32_t hi, uint32_t& out) -> Status {
      if (seen[i]) return Malformed("EF: " + TlvTagToHex(t.tag) + " twice");
      if (v < lo || v > hi) {
        return Malformed("EF: " + TlvTagToHex(t.tag) + " outside " + std::to_string(lo) + ".." +
                         std::to_string(hi));
      }
      seen[i] = true;
      out = v;
      return Status::Ok();
    };
    switch (t.tag) {
      case kHeap:
        TESSERA_RETURN_IF_ERROR(take(0, kMinHeap, kMaxHeap, l.heap));
        break;
      case kPersistent:
        TESSERA_RETURN_IF_ERROR(take(1, 0, kMaxPersistent, l.persistent));
        break;
      case kInstructions:
        TESSERA_RETURN_IF_ERROR(take(2, kMinInstructions, kMaxInstructions, l.instructions));
        break;
      default:
        return Malformed("EF: unknown system parameter " + TlvTagToHex(t.tag));
    }
  }
  return l;
}

Bytes EncodeAppletLimits(const AppletLimits& l) {
  Bytes out;
  auto add = [&](TlvTag tag, uint32_t v) {
    const uint8_t b[] = {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
                         static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
    AppendTlv(out, tag, b);
  };
  add(kHeap, l.heap);
  add(kPersistent, l.persistent);
  add(kInstructions, l.instructions);
  return out;
}

Bytes EncodeStoredApplet(const StoredApplet& st) {
  Bytes out = {1, st.module_index};
  for (uint32_t v : {st.limits.heap, st.limits.persistent, st.limits.instructions}) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
  }
  Append(out, st.package);
  return out;
}

Result<StoredApplet> ParseStoredApplet(ByteView b) {
  if (b.size() < kStoredAppletHeader || b[0] != 1) return Malformed("C0DE: not a version-1 header");
  StoredApplet st;
  st.module_index = b[1];
  auto u32 = [&](size_t at) {
    return (uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) | (uint32_t{b[at + 2]} << 8) |
           b[at + 3];
  };
  st.limits = {u32(2), u32(6), u32(10)};
  // The package's own length: the EF may be longer than what it holds.
  auto top = ParseTlv(b.subspan(kStoredAppletHeader));
  if (!top.ok()) return Malformed("C0DE: " + top.status().message());
  st.package.assign(b.begin() + kStoredAppletHeader,
                    b.begin() + static_cast<ptrdiff_t>(kStoredAppletHeader + top->encoded_size));
  TESSERA_ASSIGN_OR_RETURN(AppletPackage p, ParseAppletPackage(st.package));
  if (st.module_index >= p.modules.size()) return Malformed("C0DE: no such module");
  return st;
}

}  // namespace tessera::format
