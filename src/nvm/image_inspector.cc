#include "nvm/image_inspector.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "core/crc32.h"
#include "nvm/integrity.h"
#include "nvm/journal.h"
#include "nvm/nvm_store.h"

namespace tessera::nvm {

std::string_view JournalStateName(JournalState s) {
  switch (s) {
    case JournalState::kIdle:
      return "idle";
    case JournalState::kCommitted:
      return "committed (recovery will replay it)";
    case JournalState::kWipeBody:
      return "wiping a sensitive body (recovery will finish it)";
    case JournalState::kTorn:
      return "torn header (recovery will reset it)";
  }
  return "?";
}

ImageReport InspectImage(const NvmDevice& device, const Layout& layout) {
  ImageReport r;
  r.layout = layout;
  const Geometry& g = layout.geometry;
  ByteView cells = device.cells();
  // Work on a copy so that a committed journal can be applied before the invariants are checked.
  Bytes view(cells.begin(), cells.end());

  auto header =
      DecodeJournalHeader(ByteView(view).subspan(layout.journal_header_offset, g.page_size));
  if (!header) {
    r.journal_state = JournalState::kTorn;
    r.notes.push_back("journal header is torn or blank; the next power-on resets it to idle");
  } else {
    r.journal_sequence = header->sequence;
    if (header->state == kJournalWipeBody) {
      r.journal_state = JournalState::kWipeBody;
      if (header->body_length > g.journal_capacity) {
        r.errors.push_back("journal: body length " + std::to_string(header->body_length) +
                           " to wipe exceeds the capacity " + std::to_string(g.journal_capacity));
      } else {
        r.notes.push_back("journal body of a sensitive transaction awaits zeroing (" +
                          std::to_string(header->body_length) +
                          " bytes); the next power-on finishes it");
      }
    } else if (header->state == kJournalCommitted) {
      r.journal_state = JournalState::kCommitted;
      r.journal_body_length = header->body_length;
      if (header->body_length > g.journal_capacity) {
        r.errors.push_back("journal: committed body length " + std::to_string(header->body_length) +
                           " exceeds the capacity " + std::to_string(g.journal_capacity));
      } else {
        ByteView body = ByteView(view).subspan(layout.journal_body_offset, header->body_length);
        if (Crc32(body) != header->body_crc) {
          r.errors.push_back("journal: committed body fails its checksum");
        } else {
          auto entries = DecodeJournalBody(body, layout.table_offset, layout.end());
          if (!entries.ok()) {
            r.errors.push_back("journal: " + entries.status().message());
          } else {
            Bytes applied = view;
            for (const JournalEntry& e : *entries) {
              std::memcpy(applied.data() + e.offset, e.data.data(), e.data.size());
            }
            view = std::move(applied);
            r.notes.push_back(
                "journal holds committed transaction " + std::to_string(header->sequence) + " (" +
                std::to_string(entries->size()) + " entries); the next power-on replays it");
          }
        }
      }
    }
  }

  for (uint32_t b = 0; b < layout.block_count; ++b) {
    const uint8_t state = view[layout.table_offset + b];
    if (state == static_cast<uint8_t>(BlockState::kFree)) {
      ++r.blocks_free;
      const uint8_t* p = view.data() + layout.BlockOffset(b);
      if (std::any_of(p, p + g.block_size, [](uint8_t x) { return x != 0; })) {
        r.errors.push_back("allocator: free block " + std::to_string(b) +
                           " holds data (freed blocks must be wiped)");
      }
    } else if (state == static_cast<uint8_t>(BlockState::kUsed)) {
      ++r.blocks_used;
    } else if (state == static_cast<uint8_t>(BlockState::kWiping)) {
      ++r.blocks_wiping;
    } else {
      r.errors.push_back("allocator: block " + std::to_string(b) + " has invalid state byte " +
                         std::to_string(state));
    }
  }
  if (r.blocks_wiping > 0) {
    r.notes.push_back(std::to_string(r.blocks_wiping) +
                      " freed block(s) await wiping; the next power-on finishes it");
  }
  for (uint32_t b = layout.block_count; b < (layout.check_offset - layout.table_offset); ++b) {
    if (view[layout.table_offset + b] != 0) {
      r.errors.push_back("allocator: padding byte after the table is not zero");
      break;
    }
  }

  // I5: every check unit but a WIPING block matches its entry; the check table's padding is
  // zero.
  for (uint32_t u = 0; u < layout.check_units; ++u) {
    const CheckUnit unit = UnitAt(layout, u);
    if (unit.kind == UnitKind::kBlock &&
        view[layout.table_offset + unit.number] == static_cast<uint8_t>(BlockState::kWiping)) {
      continue;
    }
    const uint32_t entry = CheckEntryOffset(layout, u);
    const uint32_t stored = GetU32(&view[entry]);
    const uint32_t computed = Crc32(ByteView(view).subspan(unit.offset, unit.length));
    if (stored != computed) {
      IntegrityFailure f{u, unit.offset, unit.length, entry, stored, computed, {}};
      char text[160];
      std::snprintf(text, sizeof text,
                    ": the CRC-32 of its bytes is 0x%08X, its check entry (NVM offset 0x%X) "
                    "says 0x%08X",
                    computed, entry, stored);
      f.message = "integrity: " + UnitName(layout, u) + text;
      r.errors.push_back(f.message);
      r.integrity.push_back(std::move(f));
    }
  }
  for (uint32_t at = CheckEntryOffset(layout, layout.check_units); at < layout.root_offset; ++at) {
    if (view[at] != 0) {
      r.errors.push_back("integrity: padding byte after the check table is not zero");
      break;
    }
  }

  const uint32_t ps = g.page_size;
  auto region = [&](std::string name, uint32_t from, uint32_t to) {
    RegionWear w{std::move(name), from / ps, (to - from) / ps, 0, 0};
    for (uint32_t p = w.first_page; p < w.first_page + w.page_count; ++p) {
      w.programs += device.wear(p);
      w.max_per_page = std::max(w.max_per_page, device.wear(p));
    }
    r.wear.push_back(w);
  };
  region("journal header", 0, layout.journal_body_offset);
  region("journal body", layout.journal_body_offset, layout.table_offset);
  region("allocator table", layout.table_offset, layout.check_offset);
  region("check table", layout.check_offset, layout.root_offset);
  region("root area", layout.root_offset, layout.blocks_offset);
  region("blocks", layout.blocks_offset, g.nvm_size);
  for (uint32_t p = 0; p < device.page_count(); ++p) {
    r.total_programs += device.wear(p);
    if (device.wear(p) > r.max_wear) {
      r.max_wear = device.wear(p);
      r.max_wear_page = p;
    }
  }
  return r;
}

}  // namespace tessera::nvm
