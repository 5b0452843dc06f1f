// The redo journal's on-NVM format (docs/nvm-format.md §4). One transaction at a time: its
// writes are encoded as entries in the journal body, then the header page is programmed with
// state COMMITTED and the body's checksum; that single page program is the commit point.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "core/bytes.h"
#include "core/secure_bytes.h"
#include "core/status.h"

namespace tessera::nvm {

inline constexpr uint8_t kJournalMagic[4] = {'T', 'J', 'N', 'L'};
inline constexpr uint8_t kJournalIdle = 0x01;
inline constexpr uint8_t kJournalCommitted = 0xC3;
// The body (body_length bytes) may hold secrets of a sensitive transaction: recovery zeroes
// it, then writes IDLE. Nothing is replayed.
inline constexpr uint8_t kJournalWipeBody = 0x5A;
// Header flag (byte 5) of a COMMITTED header: the transaction is sensitive, so after replay
// its body is zeroed (through the WIPE state).
inline constexpr uint8_t kJournalFlagSensitive = 0x01;
inline constexpr size_t kJournalHeaderBytes = 28;
inline constexpr size_t kJournalEntryOverhead = 6;  // u32 offset + u16 length
inline constexpr size_t kJournalMaxEntryData = 0xFFFF;

struct JournalHeader {
  uint8_t state = kJournalIdle;
  uint8_t flags = 0;
  uint64_t sequence = 0;  // number of the last transaction committed
  uint32_t body_length = 0;
  uint32_t body_crc = 0;
};

// The header page: header fields, CRC, zero padding. REQUIRES: page_size >= 32.
Bytes EncodeJournalHeader(const JournalHeader& h, uint32_t page_size);
// nullopt when the page does not hold a valid header (torn write, blank or damaged page).
std::optional<JournalHeader> DecodeJournalHeader(ByteView page);

// Pending writes of a transaction: non-overlapping, non-adjacent extents keyed by offset. They
// may hold secrets (PINs, keys), so they live in zeroising storage.
using ExtentMap = std::map<uint32_t, SecureBytes>;

// Encoded size of one extent (split into entries of at most 65535 data bytes).
size_t EncodedExtentSize(size_t length);
SecureBytes EncodeJournalBody(const ExtentMap& extents);

struct JournalEntry {
  uint32_t offset;
  ByteView data;
};
// Every entry must lie within [min_offset, max_end); anything else is kCorruption.
Result<std::vector<JournalEntry>> DecodeJournalBody(ByteView body, uint32_t min_offset,
                                                    uint32_t max_end);

}  // namespace tessera::nvm
