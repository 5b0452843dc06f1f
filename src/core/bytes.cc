#include "core/bytes.h"

#include <string.h>

#include <cstdlib>

namespace tessera {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsSeparator(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ':';
}

}  // namespace

std::string ToHex(ByteView bytes) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0x0F]);
  }
  return out;
}

Result<Bytes> FromHex(std::string_view text) {
  Bytes out;
  out.reserve(text.size() / 2);
  size_t i = 0;
  while (i < text.size()) {
    if (IsSeparator(text[i])) {
      ++i;
      continue;
    }
    int hi = HexValue(text[i]);
    if (hi < 0) {
      return Malformed("invalid hex character '" + std::string(1, text[i]) + "' at position " +
                       std::to_string(i));
    }
    if (i + 1 >= text.size()) return Malformed("odd number of hex digits");
    int lo = HexValue(text[i + 1]);
    if (lo < 0) {
      return Malformed("invalid or split hex byte at position " + std::to_string(i + 1));
    }
    out.push_back(static_cast<uint8_t>((hi << 4) | lo));
    i += 2;
  }
  return out;
}

Bytes HexOrDie(std::string_view text) {
  auto r = FromHex(text);
  if (!r.ok()) std::abort();
  return std::move(r).value();
}

std::string HexByte(uint8_t v) {
  return ToHex(ByteView(&v, 1));
}

std::string HexU16(uint16_t v) {
  const uint8_t b[2] = {static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
  return ToHex(b);
}

void Wipe(void* p, size_t n) {
  // explicit_bzero: a memset the optimiser may not remove (glibc), at memset speed (every
  // journal page image is wiped when freed).
  if (n != 0) explicit_bzero(p, n);
}

bool ConstantTimeEqual(ByteView a, ByteView b) {
  if (a.size() != b.size()) return false;
  uint8_t diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff = static_cast<uint8_t>(diff | (a[i] ^ b[i]));
  return diff == 0;
}

}  // namespace tessera
