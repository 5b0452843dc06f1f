// The install parameters (C9) of the built-in modules that take any (docs/applications.md
// §6.1, §6.2), and the limits behind them. The card's modules parse them at installation and
// personalisation; the host's installation-file builder writes them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "core/bytes.h"
#include "core/status.h"

namespace tessera::format {

inline constexpr size_t kMinPinLength = 4;
inline constexpr size_t kMaxPinLength = 16;

// DATA STORE: 80 initial data (0..512 bytes), 81 PIN (4..16), 82 01 tries (1..15).
inline constexpr size_t kDataStoreSize = 512;
inline constexpr uint8_t kDataStoreDefaultTries = 3;
struct DataStoreParams {
  std::optional<Bytes> data;
  std::optional<Bytes> pin;
  std::optional<uint8_t> tries;
};
Bytes EncodeDataStoreParams(const DataStoreParams& params);
// kMalformed names the field that is unknown or out of range.
Result<DataStoreParams> ParseDataStoreParams(ByteView bytes);

// PURSE: 80 04 balance, 81 PIN (4..16), 83 04 balance limit; the balance may not exceed the
// limit (kPurseDefaultLimit when none is given).
inline constexpr uint32_t kPurseDefaultLimit = 100000000;
struct PurseParams {
  std::optional<uint32_t> balance;
  std::optional<Bytes> pin;
  std::optional<uint32_t> limit;
};
Bytes EncodePurseParams(const PurseParams& params);
Result<PurseParams> ParsePurseParams(ByteView bytes);

}  // namespace tessera::format
