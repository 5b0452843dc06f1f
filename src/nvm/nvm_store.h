// NvmStore: all-or-nothing transactions, a wiping block allocator and recovery over an NvmDevice.
// This header is the module's specification; docs/nvm-format.md fixes the bytes. The
// implementation stays one file (about 830 lines) on purpose: transactions, the allocator and
// recovery maintain the same page-level invariants (G1-G7 below) over one layout, and the
// tear suite checks them as one unit; split, each part would need the others' internals.
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
//  G6 Copy-on-write. Writes into a block taken with AllocateFreshBlocks() bypass the journal:
//     they reach NVM at once, and only the allocator change commits with the transaction (the
//     "pointer switch"). Such a block is durably WIPING until the commit, so a cut before it,
//     an Abort() or a RollbackTo() leaves it wiped and FREE again: G1 still holds.
//  G8 Integrity. Every check unit of the data area (each allocator table page, each root area
//     page, each block: integrity.h) has a CRC-32 in the check table, updated in the same
//     commit as the unit's bytes (early commits, copy-on-write blocks and wipes included).
//     Read() verifies every unit it touches, Write() and CommitNow() verify a unit before they
//     change it (so damage is never sealed under a new check), and Mount() verifies the table
//     pages whose WIPING entries it acts on: damage is kCorruption, never wrong bytes. A unit
//     is verified the first time after Mount() that it is used: under the failure model
//     nothing but this store's own commits changes it later, and they keep it intact.
//  G7 Secrets. The journal body of a sensitive transaction (MarkSensitive, and every early
//     commit) is zeroed after it is applied, and a cut at any point of that is finished by the
//     next Mount(): the header says WIPE while the body may hold secrets (docs/nvm-format.md §5).
//
// INVARIANTS (checked by InspectImage(), image_inspector.h).
//  I1 When no Mount() is pending, the journal header is IDLE (or torn, which reads as idle).
//  I2 Every allocator table byte is FREE (00), USED (01) or WIPING (02); WIPING only until the
//     next Mount() or the end of the committing transaction.
//  I3 Every FREE block reads as all zeros.
//  I5 Every check unit but a WIPING block matches its check entry (G8).
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
#include <initializer_list>
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

// A point inside the open transaction (NvmStore::Mark) that RollbackTo returns to.
struct Savepoint {
  ExtentMap pending;
  size_t pending_bytes = 0;
  size_t freed = 0;
  size_t fresh = 0;
};

struct RecoveryReport {
  bool replayed_transaction = false;   // a committed journal was applied
  bool discarded_torn_header = false;  // a torn journal header was reset to IDLE
  bool wiped_journal_body = false;     // a body that may hold secrets was zeroed
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
  // kCorruption when a check unit the range touches fails its check (G8): `out` then holds
  // the damaged bytes, which the caller must not use.
  Status Read(uint32_t offset, std::span<uint8_t> out) const;
  // Read() without the checks: for inspectors, which report damage rather than refuse it.
  Status ReadUnverified(uint32_t offset, std::span<uint8_t> out) const;
  // While one of these lives, Read() skips the checks (writes still verify what they change):
  // for the card inspector, which runs the card OS's own loaders to judge the bytes as records
  // and reports the integrity failures (VerifyUnit) on their own.
  class UncheckedReads {
   public:
    explicit UncheckedReads(const NvmStore& store) : store_(store) { ++store_.unchecked_reads_; }
    ~UncheckedReads() { --store_.unchecked_reads_; }
    UncheckedReads(const UncheckedReads&) = delete;
    UncheckedReads& operator=(const UncheckedReads&) = delete;

   private:
    const NvmStore& store_;
  };
  // G8 for one check unit (integrity.h), through the open transaction: kCorruption naming the
  // unit when its bytes do not match its check entry (a WIPING block always passes).
  Status VerifyUnit(uint32_t unit) const;
  // REQUIRES: a transaction is open. Offsets must lie in the root area or in blocks that are
  // allocated (kInvalidArgument otherwise). kCapacityExceeded leaves the transaction unchanged.
  Status Write(uint32_t offset, ByteView data);
  // Marks a FREE block USED and returns its index; kOutOfSpace when none is free.
  Result<uint32_t> AllocateBlock();
  // G6: takes `n` FREE blocks for copy-on-write (one early commit marks them WIPING; the
  // transaction marks them USED). Writes into them go to NVM at once, outside the journal.
  // kOutOfSpace (nothing taken) when fewer are free.
  Result<std::vector<uint32_t>> AllocateFreshBlocks(size_t n);
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
  // Drops the open transaction; nothing of it stays on NVM (fresh blocks are wiped and freed).
  void Abort();
  // The open transaction's state so far, and a return to it: writes, allocations and frees
  // made after Mark() are undone; fresh blocks taken after it are wiped after the commit (or
  // the abort). Early commits stay (they are durable), and so do writes into fresh blocks
  // taken before the mark (they went to NVM at once).
  // REQUIRES: a transaction is open, and the savepoint was taken in it.
  Savepoint Mark() const;
  void RollbackTo(const Savepoint& point);
  // Commits everything staged so far (G1, as Commit) and opens a new transaction at once.
  Status CommitAndContinue();
  // G4. Works with or without an open transaction; an open one then sees the new bytes.
  // Its journal copy is zeroed afterwards, as for a sensitive transaction. Bytes in a block the
  // open transaction allocated are staged in it instead (Write): such a block is durable only
  // with the transaction, and so are they.
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
  // Also stages the check entries of the units the bytes fall in (G8), after verifying them.
  Status StageBytes(uint32_t offset, ByteView data);
  // Stages the check entries of units [first, last), computed from the transaction's view.
  Status StageChecks(uint32_t first, uint32_t last);
  // Journal bytes of the open transaction after merging these page-aligned [start, end) ranges.
  size_t SizeWith(std::initializer_list<std::pair<uint64_t, uint64_t>> ranges) const;
  // G8 of one unit in the cells as `overlay` (nullptr: NVM as it is) would leave them;
  // `checked` says whether it was checked (a WIPING block is not).
  Status CheckUnitIn(uint32_t unit, const ExtentMap* overlay, bool* checked = nullptr) const;
  // CheckUnitIn, once per unit and power-on: a unit whose NVM bytes passed stays intact until
  // the next power-on, since nothing changes NVM but this store's programs (nvm_device.h), and
  // every commit writes a unit's bytes and its entry together (G8).
  Status Verified(uint32_t unit, const ExtentMap* overlay) const;
  uint32_t ViewCrc(uint32_t offset, uint32_t length, const ExtentMap* overlay) const;
  void ViewCopy(uint32_t offset, std::span<uint8_t> out, const ExtentMap* overlay) const;
  // Adds to `extents` (page images to program over NVM) the check entries of every unit they
  // touch and of `extra` units, computed over NVM with the extents applied.
  void AddChecks(ExtentMap& extents, const std::vector<uint32_t>& extra) const;
  // Recomputes, from the transaction's view, the entries of units [first, last) (or of every
  // unit) whose check page the open transaction holds: after an early commit changed NVM.
  void RefreshPendingChecks(uint32_t first, uint32_t last);
  // Whether a block of the range is allocated only in the open transaction (FREE on NVM).
  Result<bool> AllocatedInOpenTransaction(uint32_t offset, size_t length) const;
  void RefreshAllPendingChecks();
  // Adds bytes to an extent map, merging overlapping and adjacent extents.
  static void MergeExtent(ExtentMap& extents, uint32_t offset, ByteView data);
  static size_t EncodedSize(const ExtentMap& extents);
  // Journals, commits and applies `extents` (steps 1-4 of docs/nvm-format.md §5); a sensitive
  // commit also zeroes the body it used, under a WIPE header (G7).
  Status CommitExtents(const ExtentMap& extents, bool sensitive);
  Status WriteHeader(uint8_t state, uint8_t flags, uint32_t body_length, uint32_t body_crc);
  Status ZeroBody(size_t length);
  // Write() of a range inside one block: straight to NVM for a fresh block, else staged.
  Status WritePiece(uint32_t offset, ByteView data);
  // Page images of the allocator table with `blocks` set to `state`, from NVM (not from the
  // open transaction), merged into extents.
  Result<ExtentMap> TablePages(const std::vector<uint32_t>& blocks, BlockState state) const;
  // Makes the open transaction's pending pages show `data` at `offset` (an early commit).
  void PatchPending(uint32_t offset, ByteView data);
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
  std::vector<uint32_t> fresh_;    // G6 blocks of the open transaction
  std::vector<uint32_t> orphans_;  // fresh blocks given up by RollbackTo: wiped at the end
  std::vector<std::pair<uint32_t, SecureBytes>> early_;  // early commits of the transaction
  bool sensitive_ = false;
  mutable int unchecked_reads_ = 0;         // UncheckedReads alive
  mutable std::vector<uint64_t> verified_;  // a bit per check unit: passed since Mount()
  // Read()'s hot path: the check unit of block 0, and log2 of the block size (-1: not a power
  // of two).
  uint32_t block_unit_base_ = 0;
  int block_shift_ = 0;
  uint32_t BlockIndex(uint32_t offset) const {
    const uint32_t rel = offset - layout_.blocks_offset;
    return block_shift_ >= 0 ? rel >> block_shift_ : rel / layout_.geometry.block_size;
  }
};

}  // namespace tessera::nvm
