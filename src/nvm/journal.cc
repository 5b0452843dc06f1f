#include "nvm/journal.h"

#include <cstring>
#include <string>

#include "core/crc32.h"

namespace tessera::nvm {

Bytes EncodeJournalHeader(const JournalHeader& h, uint32_t page_size) {
  Bytes page(page_size, 0);
  std::memcpy(page.data(), kJournalMagic, 4);
  page[4] = h.state;
  page[5] = h.flags;
  PutU64(&page[8], h.sequence);
  PutU32(&page[16], h.body_length);
  PutU32(&page[20], h.body_crc);
  PutU32(&page[24], Crc32(ByteView(page).first(24)));
  return page;
}

std::optional<JournalHeader> DecodeJournalHeader(ByteView page) {
  if (page.size() < kJournalHeaderBytes) return std::nullopt;
  if (std::memcmp(page.data(), kJournalMagic, 4) != 0) return std::nullopt;
  if (GetU32(&page[24]) != Crc32(page.first(24))) return std::nullopt;
  JournalHeader h;
  h.state = page[4];
  h.flags = page[5];
  h.sequence = GetU64(&page[8]);
  h.body_length = GetU32(&page[16]);
  h.body_crc = GetU32(&page[20]);
  if (h.state != kJournalIdle && h.state != kJournalCommitted && h.state != kJournalWipeBody) {
    return std::nullopt;
  }
  return h;
}

size_t EncodedExtentSize(size_t length) {
  const size_t entries = (length + kJournalMaxEntryData - 1) / kJournalMaxEntryData;
  return entries * kJournalEntryOverhead + length;
}

SecureBytes EncodeJournalBody(const ExtentMap& extents) {
  // Sized once: a growing SecureBytes would wipe and free every buffer it outgrows.
  size_t total = 0;
  for (const auto& [offset, data] : extents) total += EncodedExtentSize(data.size());
  SecureBytes body(total);
  uint8_t* out = body.data();
  for (const auto& [offset, data] : extents) {
    for (size_t done = 0; done < data.size(); done += kJournalMaxEntryData) {
      const size_t n = std::min(kJournalMaxEntryData, data.size() - done);
      PutU32(out, offset + static_cast<uint32_t>(done));
      PutU16(out + 4, static_cast<uint16_t>(n));
      std::memcpy(out + kJournalEntryOverhead, data.data() + done, n);
      out += kJournalEntryOverhead + n;
    }
  }
  return body;
}

Result<std::vector<JournalEntry>> DecodeJournalBody(ByteView body, uint32_t min_offset,
                                                    uint32_t max_end) {
  std::vector<JournalEntry> entries;
  size_t pos = 0;
  while (pos < body.size()) {
    if (body.size() - pos < kJournalEntryOverhead) {
      return Corruption("journal entry header truncated at body offset " + std::to_string(pos));
    }
    const uint32_t offset = GetU32(&body[pos]);
    const uint16_t length = GetU16(&body[pos + 4]);
    pos += kJournalEntryOverhead;
    if (length == 0 || body.size() - pos < length) {
      return Corruption("journal entry data truncated at body offset " + std::to_string(pos));
    }
    if (offset < min_offset || offset > max_end || length > max_end - offset) {
      return Corruption("journal entry targets bytes outside the data area (offset " +
                        std::to_string(offset) + ")");
    }
    entries.push_back({offset, body.subspan(pos, length)});
    pos += length;
  }
  return entries;
}

}  // namespace tessera::nvm
