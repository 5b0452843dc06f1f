// Read-only inspection of an NVM image for `tessera image show` and `tessera image check`:
// geometry, journal state, allocator usage, wear, and the invariants of nvm_store.h. Nothing
// here writes to the device; pending recovery work is reported, not done.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nvm/geometry.h"
#include "nvm/nvm_device.h"

namespace tessera::nvm {

enum class JournalState { kIdle, kCommitted, kWipeBody, kTorn };
std::string_view JournalStateName(JournalState s);

struct RegionWear {
  std::string name;
  uint32_t first_page = 0;
  uint32_t page_count = 0;
  uint64_t programs = 0;
  uint32_t max_per_page = 0;
};

// A check unit whose bytes do not match its check entry (I5, integrity.h).
struct IntegrityFailure {
  uint32_t unit = 0;
  uint32_t offset = 0;  // NVM offset and length of the unit's bytes
  uint32_t length = 0;
  uint32_t entry_offset = 0;  // NVM offset of its check entry
  uint32_t stored = 0;        // the entry
  uint32_t computed = 0;      // the CRC-32 of the bytes
  std::string message;        // as it appears in ImageReport::errors
};

struct ImageReport {
  Layout layout;
  JournalState journal_state = JournalState::kIdle;
  uint64_t journal_sequence = 0;
  uint32_t journal_body_length = 0;
  uint32_t blocks_free = 0;
  uint32_t blocks_used = 0;
  uint32_t blocks_wiping = 0;
  uint64_t total_programs = 0;
  uint32_t max_wear = 0;
  uint32_t max_wear_page = 0;
  std::vector<RegionWear> wear;
  std::vector<std::string> errors;          // damage the failure model cannot explain
  std::vector<IntegrityFailure> integrity;  // the I5 failures among the errors, in detail
  std::vector<std::string> notes;           // recovery work that the next power-on will do

  bool ok() const { return errors.empty(); }
};

// REQUIRES: device and layout describe the same geometry.
ImageReport InspectImage(const NvmDevice& device, const Layout& layout);

}  // namespace tessera::nvm
