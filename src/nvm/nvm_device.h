// The simulated NVM chip: a byte array programmed one page at a time, with power-cut injection.
//
// Failure model (docs/nvm-format.md §1 is the full statement):
//   - NVM is programmed in pages (default 64 bytes); one ProgramPage() is one program operation.
//   - A power cut during a program leaves each byte of that page at its old value or its new value
//     (TearMode::kNormal), or at any value at all (TearMode::kHarsh).
//   - Every program that completed before the cut is intact; nothing after the cut happens: the
//     device refuses every read and program (kPowerLost) until PowerOn().
//   - Reads never fail while power is on.
//
// The device works on memory it does not own: a shared mapping of an image file (ImageFile) or
// a RAM buffer (RamNvm, for tests and benchmarks). It also keeps a wear counter (big-endian u32
// program count) per page.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "core/bytes.h"
#include "core/status.h"

namespace tessera::nvm {

enum class TearMode { kNormal, kHarsh };

class NvmDevice {
 public:
  // REQUIRES: page_size > 0; cells.size() is a multiple of page_size;
  //           wear.size() == 4 * (cells.size() / page_size).
  NvmDevice(std::span<uint8_t> cells, std::span<uint8_t> wear, uint32_t page_size);
  NvmDevice(const NvmDevice&) = delete;
  NvmDevice& operator=(const NvmDevice&) = delete;

  uint32_t size() const { return static_cast<uint32_t>(cells_.size()); }
  uint32_t page_size() const { return page_size_; }
  uint32_t page_count() const { return size() / page_size_; }

  // Copies bytes out. kInvalidArgument when out of range, kPowerLost when power is off.
  Status Read(uint32_t offset, std::span<uint8_t> out) const;
  // Programs one whole page. REQUIRES: data.size() == page_size().
  Status ProgramPage(uint32_t page, ByteView data);
  // Programs the bytes [offset, offset + data.size()), one page at a time, skipping pages whose
  // content would not change. Not atomic: a cut leaves a prefix of pages programmed.
  Status ProgramRange(uint32_t offset, ByteView data);

  // --- Fault injection and power ---
  // Cuts power during the program operation with zero-based index `index`, counted from now:
  // ScheduleCut(0) tears the very next program. The torn bytes come from a generator seeded by
  // `seed`, so a failing cut point can be replayed exactly.
  void ScheduleCut(uint64_t index, TearMode mode, uint64_t seed);
  void CancelCut() { cut_.reset(); }
  bool powered() const { return powered_; }
  // Restores power; volatile state above the device must be rebuilt (mount runs recovery).
  void PowerOn() { powered_ = true; }

  // Program operations performed since construction (torn one included).
  uint64_t programs() const { return programs_; }
  uint64_t bytes_programmed() const { return programs_ * page_size_; }
  uint32_t wear(uint32_t page) const;

  // Direct read-only view, for inspection tools. Ignores power state.
  ByteView cells() const { return cells_; }

 private:
  struct Cut {
    uint64_t at_program;  // absolute program counter value at which to cut
    TearMode mode;
    uint64_t seed;
  };
  void Tear(uint8_t* page, ByteView data, const Cut& cut);

  std::span<uint8_t> cells_;
  std::span<uint8_t> wear_;
  uint32_t page_size_;
  bool powered_ = true;
  uint64_t programs_ = 0;
  std::optional<Cut> cut_;
};

// An NVM held in RAM (tests, benchmarks, fuzzing). Not movable: the device points into it.
class RamNvm {
 public:
  RamNvm(uint32_t size, uint32_t page_size);
  // A copy of another device's cells and wear, powered on, with no cut scheduled.
  static std::unique_ptr<RamNvm> CopyOf(const NvmDevice& other);
  RamNvm(const RamNvm&) = delete;
  RamNvm& operator=(const RamNvm&) = delete;

  NvmDevice& device() { return device_; }
  Bytes& cells() { return cells_; }

 private:
  Bytes cells_;
  Bytes wear_;
  NvmDevice device_;
};

}  // namespace tessera::nvm
