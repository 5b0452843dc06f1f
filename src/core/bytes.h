// Byte strings and their hex form, plus big-endian integer helpers. The card world is
// big-endian throughout (APDU lengths, TLV lengths, NVM formats), so every on-NVM integer in
// Tessera is big-endian too.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace tessera {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

// "0A1B" (upper case, no separators).
std::string ToHex(ByteView bytes);
// Accepts upper or lower case and ignores spaces, tabs, newlines and ':' between byte pairs.
// A byte split by a separator ("0 A") or an odd digit count is malformed.
Result<Bytes> FromHex(std::string_view text);
// For tests and constants known to be valid. REQUIRES: text is valid hex.
Bytes HexOrDie(std::string_view text);
// "0A" and "0A1B": one byte, a big-endian 16-bit value.
std::string HexByte(uint8_t v);
std::string HexU16(uint16_t v);

inline Bytes ToBytes(std::string_view s) {
  return Bytes(s.begin(), s.end());
}
inline void Append(Bytes& out, ByteView more) {
  out.insert(out.end(), more.begin(), more.end());
}

inline uint16_t GetU16(const uint8_t* p) {
  return static_cast<uint16_t>((p[0] << 8) | p[1]);
}
inline uint32_t GetU32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
inline uint64_t GetU64(const uint8_t* p) {
  return (uint64_t{GetU32(p)} << 32) | GetU32(p + 4);
}
inline void PutU16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline void PutU32(uint8_t* p, uint32_t v) {
  PutU16(p, static_cast<uint16_t>(v >> 16));
  PutU16(p + 2, static_cast<uint16_t>(v));
}
inline void PutU64(uint8_t* p, uint64_t v) {
  PutU32(p, static_cast<uint32_t>(v >> 32));
  PutU32(p + 4, static_cast<uint32_t>(v));
}
template <typename Vec>
inline void AppendU16(Vec& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}
template <typename Vec>
inline void AppendU32(Vec& out, uint32_t v) {
  AppendU16(out, static_cast<uint16_t>(v >> 16));
  AppendU16(out, static_cast<uint16_t>(v));
}

// Overwrites memory with zeros in a way the optimiser may not remove (for layers below
// crypto that briefly hold secrets, such as a transaction's pending page images).
void Wipe(void* p, size_t n);

// Compares in time independent of where the first difference is (for MACs and cryptograms).
bool ConstantTimeEqual(ByteView a, ByteView b);

}  // namespace tessera
