#include "app_record.h"

#include <algorithm>
#include <array>
#include <cstdio>

#include "core/tlv.h"
#include "json_writer.h"

namespace tessera::tools {
namespace {

constexpr std::string_view kTesseraPrefix = "F054455353455241";

struct Module {
  std::string_view name;
  std::string_view aid;
};
constexpr std::array kModules = {
    Module{"management", "F0544553534552414D00"},
    Module{"data-store", "F0544553534552414D01"},
    Module{"purse", "F0544553534552414D02"},
    Module{"files", "F0544553534552414D03"},
};

bool StartsWith(ByteView b, ByteView prefix) {
  return b.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), b.begin());
}

bool IsBcd(uint8_t b) {
  return (b >> 4) <= 9 && (b & 0x0F) <= 9;
}

std::string Text(ByteView v) {
  return std::string(v.begin(), v.end());
}

}  // namespace

Bytes ManagementAid() {
  return HexOrDie("F05445535345524101");
}
Bytes IsdAid() {
  return HexOrDie("A000000151000000");
}

std::optional<Bytes> ModuleAidByName(std::string_view name) {
  for (const auto& m : kModules) {
    if (m.name == name) return HexOrDie(m.aid);
  }
  return std::nullopt;
}

std::string ModuleNameByAid(ByteView aid) {
  for (const auto& m : kModules) {
    if (ToHex(aid) == m.aid) return std::string(m.name);
  }
  return "";
}

std::string ReservedAidReason(ByteView aid) {
  if (StartsWith(aid, IsdAid()) || StartsWith(IsdAid(), aid)) {
    return "it is under the issuer security domain's AID A000000151000000";
  }
  if (StartsWith(aid, ManagementAid())) return "it is under the management application's AID";
  const Bytes module_prefix = HexOrDie(std::string(kTesseraPrefix) + "4D");
  if (StartsWith(aid, module_prefix)) return "it is under the module AIDs F054455353455241 4Dxx";
  return "";
}

std::string StatusName(uint8_t status) {
  switch (status) {
    case kStatusActive:
      return "active";
    case kStatusLocked:
      return "locked";
    case kStatusTerminated:
      return "terminated";
    case kStatusErased:
      return "erased";
    default:
      return "status " + HexByte(status);
  }
}

Bytes SignedData(const AppRecord& r) {
  Bytes out;
  AppendTlv(out, 0x4F, r.aid);
  AppendTlv(out, 0x50, ToBytes(r.name));
  AppendTlv(out, 0xC0, ToBytes(r.admin_name));
  AppendTlv(out, 0xC1, Bytes{r.admin_id});
  AppendTlv(out, 0x5F25, r.use_start);
  AppendTlv(out, 0x5F24, r.expiration);
  return out;
}

Bytes EncodeRecord(const AppRecord& r) {
  Bytes content = SignedData(r);
  AppendTlv(content, 0xC2, Bytes{r.status});
  if (!r.signature.empty()) AppendTlv(content, 0x9E, r.signature);
  return EncodeTlv(0xE1, content);
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
        TESSERA_RETURN_IF_ERROR(need(v.size() >= 5 && v.size() <= 16, "(AID) is not 5..16 bytes"));
        r.aid.assign(v.begin(), v.end());
        break;
      case 0x50:
        TESSERA_RETURN_IF_ERROR(need(!v.empty() && v.size() <= 32, "(name) is not 1..32 bytes"));
        r.name = Text(v);
        break;
      case 0xC0:
        TESSERA_RETURN_IF_ERROR(
            need(!v.empty() && v.size() <= 32, "(administrator name) is not 1..32 bytes"));
        r.admin_name = Text(v);
        break;
      case 0xC1:
        TESSERA_RETURN_IF_ERROR(need(v.size() == 1, "(administrator id) is not 1 byte"));
        r.admin_id = v[0];
        break;
      case 0x5F25:
      case 0x5F24:
        TESSERA_RETURN_IF_ERROR(need(v.size() == 3, "(date) is not 3 bytes"));
        (t.tag == 0x5F25 ? r.use_start : r.expiration).assign(v.begin(), v.end());
        break;
      case 0xC2:
        TESSERA_RETURN_IF_ERROR(need(v.size() == 1, "(status) is not 1 byte"));
        r.status = v[0];
        break;
      case 0x9E:
        TESSERA_RETURN_IF_ERROR(need(v.size() == 64, "(signature) is not 64 bytes"));
        r.signature.assign(v.begin(), v.end());
        break;
    }
    if (t.tag != 0xC2 && t.tag != 0x9E) {
      const size_t off = static_cast<size_t>(t.value.data() - outer->value.data()) -
                         (t.encoded_size - t.value.size());
      Append(r.signed_data, outer->value.subspan(off, t.encoded_size));
    }
  }
  if (next < 7) return Malformed("record: " + TlvTagToHex(kOrder[next]) + " missing");
  return r;
}

Bytes RewriteRecord(ByteView record, uint8_t status, const std::optional<Bytes>& signature) {
  auto outer = ParseTlv(record);
  auto items = ParseTlvSequence(outer->value);
  Bytes content;
  bool signed_now = false;
  for (const TlvView& t : *items) {
    if (t.tag == 0xC2) {
      AppendTlv(content, 0xC2, Bytes{status});
    } else if (t.tag == 0x9E && signature) {
      AppendTlv(content, 0x9E, *signature);
      signed_now = true;
    } else {
      AppendTlv(content, t.tag, t.value);
    }
  }
  if (signature && !signed_now) AppendTlv(content, 0x9E, *signature);
  return EncodeTlv(0xE1, content);
}

Result<Bytes> ParseYymmdd(std::string_view text) {
  if (text.size() != 6 || text.find_first_not_of("0123456789") != std::string_view::npos) {
    return InvalidArgument("not a YYMMDD date (six digits, e.g. \"260131\"; \"000000\" = none)");
  }
  Bytes bcd(3);
  for (size_t i = 0; i < 3; ++i) {
    bcd[i] = static_cast<uint8_t>(((text[2 * i] - '0') << 4) | (text[2 * i + 1] - '0'));
  }
  if (text == "000000") return bcd;
  const int yy = (text[0] - '0') * 10 + (text[1] - '0');
  const int mm = (text[2] - '0') * 10 + (text[3] - '0');
  const int dd = (text[4] - '0') * 10 + (text[5] - '0');
  if (mm < 1 || mm > 12) return InvalidArgument("month " + std::string(text.substr(2, 2)));
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const int days = (mm == 2 && yy % 4 != 0) ? 28 : kDays[mm - 1];
  if (dd < 1 || dd > days) {
    return InvalidArgument("day " + std::string(text.substr(4, 2)) + " of 20" +
                           std::string(text.substr(0, 4)) + " does not exist");
  }
  return bcd;
}

std::string YymmddText(ByteView bcd) {
  return ToHex(bcd);
}

std::string DateDisplay(ByteView bcd, std::string_view none) {
  if (bcd.size() != 3) return "?";
  if (bcd[0] == 0 && bcd[1] == 0 && bcd[2] == 0) return std::string(none);
  if (!IsBcd(bcd[0]) || !IsBcd(bcd[1]) || !IsBcd(bcd[2])) return "?" + ToHex(bcd);
  const std::string h = ToHex(bcd);
  return "20" + h.substr(0, 2) + "-" + h.substr(2, 2) + "-" + h.substr(4, 2);
}

bool IsPrintableUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = Utf8SequenceLength(s.substr(i));
    if (n == 0) return false;
    const auto c = static_cast<unsigned char>(s[i]);
    if (n == 1 && (c < 0x20 || c == 0x7F)) return false;
    i += n;
  }
  return true;
}

std::string Printable(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    const size_t n = Utf8SequenceLength(s.substr(i));
    const auto c = static_cast<unsigned char>(s[i]);
    if (n == 0 || (n == 1 && (c < 0x20 || c == 0x7F))) {
      out += '?';
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

size_t DisplayWidth(std::string_view s) {
  size_t w = 0;
  for (unsigned char c : s) w += (c & 0xC0) != 0x80;
  return w;
}

Result<ByteView> UnwrapObject(ByteView b, uint32_t tag) {
  const std::string name = TlvTagToHex(tag);
  auto t = ParseTlv(b);
  if (!t.ok()) return Malformed(name + ": " + t.status().message());
  if (t->tag != tag) return Malformed("not an " + name + " object");
  if (t->encoded_size != b.size()) {
    return Malformed(name + ": " + std::to_string(b.size() - t->encoded_size) +
                     " bytes after the object");
  }
  return t->value;
}

}  // namespace tessera::tools
