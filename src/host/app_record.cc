#include "host/app_record.h"

#include <algorithm>
#include <array>
#include <cstdio>

#include "core/tlv.h"
#include "core/utf8.h"
#include "format/identifiers.h"

namespace tessera::host {
namespace {

struct Module {
  std::string_view name;
  ByteView aid;
};
// The modules an installation file may name (the issuance module installs only its own
// application, by `issue install`).
const std::array kModules = {
    Module{"management", format::aid::kManagementModule},
    Module{"data-store", format::aid::kDataStoreModule},
    Module{"purse", format::aid::kPurseModule},
    Module{"files", format::aid::kFilesModule},
};

bool StartsWith(ByteView b, ByteView prefix) {
  return b.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), b.begin());
}

bool IsBcd(uint8_t b) {
  return (b >> 4) <= 9 && (b & 0x0F) <= 9;
}

}  // namespace

Bytes ManagementAid() {
  return Bytes(std::begin(format::aid::kManagementApplication),
               std::end(format::aid::kManagementApplication));
}
Bytes IsdAid() {
  return Bytes(std::begin(format::aid::kIssuerSecurityDomain),
               std::end(format::aid::kIssuerSecurityDomain));
}

std::optional<Bytes> ModuleAidByName(std::string_view name) {
  for (const auto& m : kModules) {
    if (m.name == name) return Bytes(m.aid.begin(), m.aid.end());
  }
  return std::nullopt;
}

std::string ModuleNameByAid(ByteView aid) {
  for (const auto& m : kModules) {
    if (std::equal(aid.begin(), aid.end(), m.aid.begin(), m.aid.end())) return std::string(m.name);
  }
  return "";
}

std::string ReservedAidReason(ByteView aid) {
  if (StartsWith(aid, IsdAid()) || StartsWith(IsdAid(), aid)) {
    return "it is under the issuer security domain's AID " + ToHex(IsdAid());
  }
  if (StartsWith(aid, ManagementAid())) return "it is under the management application's AID";
  // The module AIDs: "F0 'TESSERA' 'M' nn".
  const ByteView module_prefix = ByteView(format::aid::kManagementModule).first(9);
  if (StartsWith(aid, module_prefix)) return "it is under the module AIDs F054455353455241 4Dxx";
  return "";
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

}  // namespace tessera::host
