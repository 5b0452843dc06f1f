// The administrator objects at the issuer security domain (docs/applications.md §5.3): the
// STORE DATA BF71 that registers one, and the GET DATA BF71 list of them. One codec for the
// card (gp/) and the host (`tessera admin add|list`, `apps list`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"

namespace tessera::format {

inline constexpr uint8_t kMaxAdministratorId = 0x7F;
inline constexpr size_t kMaxAdministratorName = 32;

// STORE DATA BF71 { C1 01 id, C0 name, 86 public key, [D8 KVN || wrapped keys] }.
struct AdministratorUpload {
  uint8_t id = 0;                // 00..7F; 00 is the card issuer
  std::string name;              // 1..32 bytes
  Bytes public_key;              // 86: the uncompressed P-256 point its signatures verify with
  std::optional<Bytes> key_set;  // D8: a KVN byte, then ENC, MAC and DEK as PUT KEY wraps them
};
// BF71 L { ... }.
Bytes EncodeAdministratorUpload(const AdministratorUpload& upload);
// Parses BF71's value: each object once, C1, C0 and 86 present, D8 not empty. Whether 86 is a
// point of the curve is for the caller (crypto) to check. kMalformed says what is wrong.
Result<AdministratorUpload> ParseAdministratorUpload(ByteView value);

// GET DATA BF71: BF71 L { E2 L { C1 id, C0 name, [86 public key], [D2 KVN of its key set] } ... }.
struct AdministratorEntry {
  uint8_t id = 0;
  std::string name;
  Bytes public_key;  // empty: none
  std::optional<uint8_t> kvn;
};
Bytes EncodeAdministratorList(const std::vector<AdministratorEntry>& list);
// The list; objects other than E2, and fields it does not know inside one, are skipped.
Result<std::vector<AdministratorEntry>> ParseAdministratorList(ByteView bytes);

}  // namespace tessera::format
