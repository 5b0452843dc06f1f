#include "format/application_record.h"

#include <array>

#include "core/tlv.h"

namespace tessera::format {
namespace {

int Bcd(uint8_t b) {
  return (b >> 4) * 10 + (b & 0x0F);
}

bool IsZero(ByteView b) {
  for (uint8_t x : b) {
    if (x != 0) return false;
  }
  return true;
}

}  // namespace

std::string_view AppStateName(AppState state) {
  switch (state) {
    case AppState::kActive:
      return "active";
    case AppState::kLocked:
      return "locked";
    case AppState::kTerminated:
      return "terminated";
    case AppState::kErased:
      return "erased";
  }
  return "?";
}

bool IsValidDate(ByteView d, bool allow_zero) {
  if (d.size() != 3) return false;
  if (IsZero(d)) return allow_zero;
  for (uint8_t b : d) {
    if ((b >> 4) > 9 || (b & 0x0F) > 9) return false;
  }
  const int month = Bcd(d[1]), day = Bcd(d[2]);
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

Result<AppRecord> ParseRecord(ByteView bytes) {
  auto outer = ParseTlv(bytes);
  if (!outer.ok()) return Malformed("record: " + outer.status().message());
  if (outer->tag != 0xE1) return Malformed("record: tag " + TlvTagToHex(outer->tag) + ", not E1");
  if (outer->encoded_size != bytes.size()) return Malformed("record: bytes after the E1 object");
  auto items = ParseTlvSequence(outer->value);
  if (!items.ok()) return Malformed("record: " + items.status().message());
  static constexpr std::array<TlvTag, 8> kOrder = {0x4F,   0x50,   0xC0, 0xC1,
                                                   0x5F25, 0x5F24, 0xC2, 0x9E};
  AppRecord r;
  size_t next = 0;  // index into kOrder
  for (const TlvView& t : *items) {
    size_t at = next;
    while (at < kOrder.size() && kOrder[at] != t.tag) ++at;
    if (at == kOrder.size()) {
      return Malformed("record: tag " + TlvTagToHex(t.tag) + " unknown or out of order");
    }
    if (at != next) {
      return Malformed("record: " + TlvTagToHex(kOrder[next]) + " missing before " +
                       TlvTagToHex(t.tag));
    }
    next = at + 1;
    const ByteView v = t.value;
    auto need = [&](bool ok, const char* what) -> Status {
      if (ok) return Status::Ok();
      return Malformed("record: " + TlvTagToHex(t.tag) + " " + what);
    };
    switch (t.tag) {
      case 0x4F:
        TESSERA_RETURN_IF_ERROR(need(v.size() >= kMinAidLength && v.size() <= kMaxAidLength,
                                     "(AID) is not 5..16 bytes"));
        r.aid.assign(v.begin(), v.end());
        break;
      case 0x50:
        TESSERA_RETURN_IF_ERROR(
            need(!v.empty() && v.size() <= kMaxAppName, "(name) is not 1..32 bytes"));
        r.name.assign(v.begin(), v.end());
        break;
      case 0xC0:
        TESSERA_RETURN_IF_ERROR(
            need(!v.empty() && v.size() <= kMaxAppName, "(administrator name) is not 1..32 bytes"));
        r.admin_name.assign(v.begin(), v.end());
        break;
      case 0xC1:
        TESSERA_RETURN_IF_ERROR(need(v.size() == 1, "(administrator id) is not 1 byte"));
        r.admin_id = v[0];
        break;
      case 0x5F25:
      case 0x5F24:
        TESSERA_RETURN_IF_ERROR(need(IsValidDate(v), "(date) is not a BCD date YYMMDD or 000000"));
        (t.tag == 0x5F25 ? r.use_start : r.expiration).assign(v.begin(), v.end());
        break;
      case 0xC2:
        TESSERA_RETURN_IF_ERROR(
            need(v.size() == 1 && v[0] <= 0x03, "(status) is not one of 00..03"));
        r.status = static_cast<AppState>(v[0]);
        break;
      case 0x9E:
        TESSERA_RETURN_IF_ERROR(
            need(v.size() == kRecordSignatureSize, "(signature) is not 64 bytes"));
        r.signature.assign(v.begin(), v.end());
        break;
    }
  }
  // Everything but the signature is required.
  if (next < 7) return Malformed("record: " + TlvTagToHex(kOrder[next]) + " missing");
  return r;
}

Bytes SignedPart(const AppRecord& r) {
  TlvBuilder b;
  b.Add(0x4F, r.aid).Add(0x50, ToBytes(r.name)).Add(0xC0, ToBytes(r.admin_name));
  b.AddByte(0xC1, r.admin_id).Add(0x5F25, r.use_start).Add(0x5F24, r.expiration);
  return b.Take();
}

Bytes EncodeRecord(const AppRecord& r) {
  Bytes inner = SignedPart(r);
  TlvBuilder tail;
  tail.AddByte(0xC2, static_cast<uint8_t>(r.status));
  if (!r.signature.empty()) tail.Add(0x9E, r.signature);
  Append(inner, tail.Take());
  TlvBuilder b;
  b.Add(0xE1, inner);
  return b.Take();
}

}  // namespace tessera::format
