// NvmStore: all-or-nothing transactions, a wiping block allocator and recovery over an NvmDevice.
// This header is the module's specification; docs/nvm-format.md fixes the bytes.
//
// FAILURE MODEL. See nvm_device.h: page programs, a cut tears at most the page being programmed
// (old/new bytes, or arbitrary bytes in harsh mode), nothing happens after the cut.
//
// GUARANTEES.
//  G1 Atomicity. Every write and block state change between Begin() and Commit() becomes durable
//     together, or not at all: after a cut at any program operation and a Mount(), the data area
//     (allocator table, root area, blocks) equals its content before Begin() or after Commit().
//  G2 Read your writes. Read() inside a transaction returns the transaction's own writes.
//  G3 Bounded commit. A transaction's journal encoding may not exceed the commit capacity
//     (Geometry::journal_capacity). The journal holds whole pages: each run of touched pages
//     costs 6 bytes plus its pages, however few bytes changed in them. A Write() that would exceed
//     it returns kCapacityExceeded and leaves the transaction as it was; the caller aborts, and
//     nothing has changed on NVM.
//  G4 Early commit. CommitNow() makes one small write durable before it returns, independent of
//     the open transaction (for retry counters: decrement, commit, then compare).
//  G5 Wiping. A block freed by a committed transaction is overwritten with zeros before it can be
//     allocated again; a wipe interrupted by a cut is finished by the next Mount().
//
// INVARIANTS (checked by CheckImage()).
//  I1 When no Mount() is pending, the journal header is IDLE (or torn, which reads as idle).
//  I2 Every allocator table byte is FREE (00), USED (01) or WIPING (02); WIPING only until the
//     next Mount() or the end of the committing transaction.
//  I3 Every FREE block reads as all zeros.
//
// WHY IT HOLDS (sketch; docs/nvm-format.md §5 has the full argument). The body is programmed
// while the header says IDLE, so a cut there leaves the old state. The header program is the
// commit point: torn, it fails its CRC and reads as IDLE (old state); whole, it says COMMITTED
// and recovery replays the body, which only ever writes absolute bytes and so can be repeated
// any number of times. The header returns to IDLE only after the body is applied, and nothing
// else is written in between. Wipes write zeros to blocks marked WIPING, which no one else
// reads or allocates, so they too can be repeated.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"
#include "nvm/geometry.h"
#include "nvm/journal.h"
#include "nvm/nvm_device.h"

namespace tessera::nvm {

enum class BlockState : uint8_t { kFree = 0x00, kUsed = 0x01, kWiping = 0x02 };

struct RecoveryReport {
  bool replayed_transaction = false;   // a committed journal was applied
  bool discarded_torn_header = false;  // a torn journal header was reset to IDLE
  uint32_t wipes_finished = 0;         // blocks found WIPING and wiped
};

class NvmStore {
 public:
  // Erases the device to a fresh store: IDLE journal, all blocks FREE, everything zero.
  static Status Format(NvmDevice& device, const Geometry& geometry);
  // Runs recovery, then returns a store ready for transactions. kCorruption when the data
  // cannot be explained by the failure model (the image is invalid); kPowerLost when a cut hit
  // recovery itself (power on and mount again: recovery is restartable).
  static Result<std::unique_ptr<NvmStore>> Mount(NvmDevice& device, const Geometry& geometry,
                                                 RecoveryReport* report = nullptr);

  const Layout& layout() const { return layout_; }
  NvmDevice& device() { return device_; }
  uint64_t sequence() const { return sequence_; }

  // --- Transactions (one at a time) ---
  // kFailedPrecondition if one is already open.
  Status Begin();
  bool in_transaction() const { return in_tx_; }
  // Reads [offset, offset+out.size()) anywhere in the device, through the open transaction.
  Status Read(uint32_t offset, std::span<uint8_t> out) const;
  // REQUIRES: a transaction is open. Offsets must lie in the root area or in blocks that are
  // allocated (kInvalidArgument otherwise). kCapacityExceeded leaves the transaction unchanged.
  Status Write(uint32_t offset, ByteView data);
  // Marks a FREE block USED and returns its index; kOutOfSpace when none is free.
  Result<uint32_t> AllocateBlock();
  // Marks a USED block WIPING; after commit it is zeroed, then FREE.
  Status FreeBlock(uint32_t block);
  Result<BlockState> GetBlockState(uint32_t block) const;
  // Journal bytes the open transaction would use, and the limit (G3).
  size_t pending_journal_bytes() const { return pending_bytes_; }
  size_t commit_capacity() const { return layout_.geometry.journal_capacity; }
  // Makes the transaction durable (G1), then wipes the blocks it freed (G5). On kPowerLost the
  // store is dead: power on and Mount() again.
  Status Commit();
  // The open transaction carries secrets (keys): after it commits, the journal body it used is
  // overwritten with zeros so that no copy of its bytes outlives it outside their home.
  void MarkSensitive() { sensitive_ = true; }
  // Drops the open transaction; nothing reaches NVM.
  void Abort();
  // G4. Works with or without an open transaction; an open one then sees the new bytes.
  // Its journal copy is zeroed afterwards, as for a sensitive transaction.
  Status CommitNow(uint32_t offset, ByteView data);

  uint32_t CountBlocks(BlockState state) const;

 private:
  NvmStore(NvmDevice& device, const Layout& layout) : device_(device), layout_(layout) {}
  Status CheckAlive() const;
  Status CheckDataRange(uint32_t offset, size_t length) const;
  // Writes into the block area must target allocated (USED) blocks only (invariant I3).
  Status CheckBlocksInUse(uint32_t offset, size_t length) const;
  // Stages bytes (widened to whole pages) into the open transaction; kCapacityExceeded leaves
  // the transaction unchanged. REQUIRES: the range was checked.
  Status StageBytes(uint32_t offset, ByteView data);
  // Adds bytes to an extent map, merging overlapping and adjacent extents.
  static void MergeExtent(ExtentMap& extents, uint32_t offset, ByteView data);
  static size_t EncodedSize(const ExtentMap& extents);
  // Journals, commits and applies `extents` (steps 1-4 of docs/nvm-format.md §5).
  Status CommitExtents(const ExtentMap& extents);
  Status ApplyEntries(const std::vector<JournalEntry>& entries);
  Status WriteIdleHeader();
  Status WipeAndRelease(const std::vector<uint32_t>& blocks);
  Status Recover(RecoveryReport& report);

  NvmDevice& device_;
  Layout layout_;
  uint64_t sequence_ = 0;
  bool dead_ = false;
  bool in_tx_ = false;
  ExtentMap pending_;
  size_t pending_bytes_ = 0;
  std::vector<uint32_t> freed_;
  bool sensitive_ = false;
};

}  // namespace tessera::nvm
