#include "format/administrator.h"

#include <algorithm>

#include "core/tlv.h"
#include "format/identifiers.h"

namespace tessera::format {

Bytes EncodeAdministratorUpload(const AdministratorUpload& u) {
  Bytes content;
  AppendTlv(content, 0xC1, Bytes{u.id});
  AppendTlv(content, 0xC0, ToBytes(u.name));
  AppendTlv(content, 0x86, u.public_key);
  if (u.key_set) AppendTlv(content, 0xD8, *u.key_set);
  Bytes out = EncodeTlv(tag::kAdministrator, content);
  Wipe(content.data(), content.size());  // D8 holds wrapped keys
  return out;
}

Result<AdministratorUpload> ParseAdministratorUpload(ByteView value) {
  auto fields = ParseTlvSequence(value);
  if (!fields.ok()) return Malformed("BF71: " + fields.status().message());
  AdministratorUpload a;
  bool have_id = false;
  std::vector<TlvTag> seen;
  for (const TlvView& f : *fields) {
    const std::string tag = TlvTagToHex(f.tag);
    if (std::find(seen.begin(), seen.end(), f.tag) != seen.end()) {
      return Malformed("BF71: " + tag + " twice");
    }
    seen.push_back(f.tag);
    const ByteView v = f.value;
    if (f.tag == 0xC1 && v.size() == 1 && v[0] <= kMaxAdministratorId) {
      a.id = v[0];
      have_id = true;
    } else if (f.tag == 0xC0 && !v.empty() && v.size() <= kMaxAdministratorName) {
      a.name.assign(v.begin(), v.end());
    } else if (f.tag == 0x86 && !v.empty()) {
      a.public_key.assign(v.begin(), v.end());
    } else if (f.tag == 0xD8 && !v.empty()) {
      a.key_set = Bytes(v.begin(), v.end());
    } else {
      return Malformed("BF71: field " + tag + " unknown or out of range");
    }
  }
  if (!have_id) return Malformed("BF71: no id C1");
  if (a.name.empty()) return Malformed("BF71: no name C0");
  if (a.public_key.empty()) return Malformed("BF71: no public key 86");
  return a;
}

Bytes EncodeAdministratorList(const std::vector<AdministratorEntry>& list) {
  TlvBuilder b;
  b.Open(tag::kAdministrator);
  for (const AdministratorEntry& a : list) {
    b.Open(0xE2).AddByte(0xC1, a.id).Add(0xC0, ToBytes(a.name));
    if (!a.public_key.empty()) b.Add(0x86, a.public_key);
    if (a.kvn) b.AddByte(0xD2, *a.kvn);
    b.Close();
  }
  b.Close();
  return b.Take();
}

Result<std::vector<AdministratorEntry>> ParseAdministratorList(ByteView bytes) {
  auto outer = ParseTlv(bytes);
  if (!outer.ok()) return Malformed("BF71: " + outer.status().message());
  if (outer->tag != tag::kAdministrator) return Malformed("not a BF71 object");
  if (outer->encoded_size != bytes.size()) return Malformed("BF71: bytes after the object");
  auto entries = ParseTlvSequence(outer->value);
  if (!entries.ok()) return Malformed("BF71: " + entries.status().message());
  std::vector<AdministratorEntry> out;
  for (const TlvView& e : *entries) {
    if (e.tag != 0xE2) continue;
    auto fields = ParseTlvSequence(e.value);
    if (!fields.ok()) return Malformed("BF71: " + fields.status().message());
    AdministratorEntry a;
    for (const TlvView& f : *fields) {
      if (f.tag == 0xC1 && f.value.size() == 1) a.id = f.value[0];
      if (f.tag == 0xC0) a.name.assign(f.value.begin(), f.value.end());
      if (f.tag == 0x86) a.public_key.assign(f.value.begin(), f.value.end());
      if (f.tag == 0xD2 && f.value.size() == 1) a.kvn = f.value[0];
    }
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace tessera::format
