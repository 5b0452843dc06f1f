// The GlobalPlatform registry entries GET STATUS returns with P2 b2 set (GP CS 2.3 §11.4.3.2):
// E3 { 4F AID, 9F70 life cycle, [C5 privileges], [C4 load file AID], [84 module AID],
// [CC associated security domain] }, one per object. One codec for the card (gp/, which
// answers GET STATUS) and the host (`tessera apps list --scp03`).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"
#include "core/tlv.h"

namespace tessera::format {

struct GpRegistryEntry {
  Bytes aid;                          // 4F
  std::optional<uint8_t> life_cycle;  // 9F70 (always sent by the card)
  Bytes privileges;                   // C5, empty: not sent (load files)
  Bytes load_file;                    // C4, empty: not sent
  std::vector<Bytes> modules;         // 84 each (load files and their modules)
  Bytes associated_domain;            // CC, empty: not sent
};

// E3 L { ... } with only the objects of `tags` (empty: every one the entry has), in the order
// above.
Bytes EncodeGpRegistryEntry(const GpRegistryEntry& e, const std::vector<TlvTag>& tags = {});
// Every E3 of a GET STATUS response's data (other objects skipped); kMalformed when the data
// or an entry is not BER-TLV, or 9F70 is not one byte.
Result<std::vector<GpRegistryEntry>> ParseGpRegistryEntries(ByteView data);

}  // namespace tessera::format
