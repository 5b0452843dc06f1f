// Read-only inspection of the card OS's records in NVM (docs/card-format.md), for `tessera image
// check` and `tessera image ls`: the invariants a card needs to power on and to serve every file,
// and the file tree as a listing. Nothing here writes to the store or the device. The
// implementation is one file (about 810 lines) on purpose: the invariants C1-C5 below share
// one walk over the tree and one table of block owners, so each check sees what the others
// found; it is long because there are many invariants, not because it mixes concerns.
//
// The invariants checked (each damage names the file by its FID path, e.g. 3F00/1000/1001, or
// the PIN, key set or block, the field, and the NVM offset of the bytes at fault):
//  C1 The root record has the magic TCOS and version 1; card state, GlobalPlatform life cycle
//     and minimum security level are values the card writes; its reserved bytes are zero.
//  C2 The MF is a DF with FID 3F00 and no parent; every node reachable from it through first
//     child / next sibling links decodes (docs/card-format.md §2), names its DF as parent, is
//     reached once (no cycle, no node linked twice) and has a FID, SFI and DF name that are
//     unique where the card requires it.
//  C3 Ownership: every USED block is owned by exactly one thing (a file's node, a file's data
//     block, a key set, the PUT DATA block); nothing points at a FREE block or outside the
//     blocks area. A USED block nothing owns is a leak.
//  C4 Sizes: a transparent EF has the data blocks its size needs; a record EF has the data
//     blocks its max_records slots of 1 + record length need, record_count <= max_records, a
//     cyclic head inside the slots and no slot whose length byte exceeds the record length; at
//     most 64 data blocks; DFs have none.
//  C5 PINs: value length 1..16, tries left <= maximum tries, references unique, a PUK reference
//     names a PIN. Key sets: magic 'K', key length 16/24/32, failures left <= maximum, KVNs
//     unique. PUT DATA objects: a BER-TLV sequence padded with zeros.
// Blocks that application modules registered from above keep for themselves (none on images
// that `tessera image init` makes) would be reported as leaks: the checker knows the OS's own.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "card/fs/file_node.h"
#include "card/kernel/card_root.h"
#include "nvm/geometry.h"
#include "nvm/nvm_device.h"
#include "nvm/nvm_store.h"

namespace tessera::card {

struct CardDamage {
  std::string where;        // "3F00/1000/1001", "root record", "PIN 81", "key set 30", "block 17"
  std::string field;        // "record count", "next sibling", "value length", ...
  std::string message;      // what is wrong, in a sentence
  uint32_t nvm_offset = 0;  // NVM offset of the offending bytes
  std::string ToString() const;  // "WHERE: FIELD: MESSAGE (NVM offset 0x...)"
};

struct FileEntry {
  std::string path;  // FIDs from the MF, e.g. "3F00/1000/1001"
  int depth = 0;     // 0 for the MF
  FileNode node;     // node.id is its node block
};

struct PinSummary {
  uint8_t reference = 0;
  uint8_t max_tries = 0;
  uint8_t tries_left = 0;
  uint8_t puk_reference = 0;
};

struct KeySetSummary {
  uint16_t block = 0;
  uint8_t kvn = 0;
  uint8_t key_length = 0;
  uint8_t max_failures = 0;
  uint8_t failures_left = 0;
};

struct CardReport {
  bool card_present = false;  // the root area holds a card (a blank store does not)
  bool mountable = false;     // the card can power on (store mounts, root and MF load)
  std::optional<CardRoot> root;
  std::vector<FileEntry> files;  // the tree in order: depth first, children in link order
  std::vector<PinSummary> pins;  // the PINs in use (never their values)
  std::vector<KeySetSummary> key_sets;
  bool has_data_objects = false;
  uint32_t data_object_count = 0;
  uint32_t blocks_used = 0;   // USED blocks, as the allocator says
  uint32_t blocks_owned = 0;  // of those, the ones something owns
  std::vector<CardDamage> damage;
  std::vector<std::string> notes;
  // What owns each block the tree and the records reach ("the node of 3F00/1000", "data block
  // 0 of 3F00/1000/1001", "key set slot 0", ...): names NVM integrity failures (I5).
  std::map<uint32_t, std::string> block_owners;

  bool ok() const { return damage.empty(); }
};

// The card in a mounted store (recovery done). Reads only.
CardReport InspectCard(const nvm::NvmStore& store);
// What a card powering on this device finds: recovery runs on a copy (the device is left as it
// is), then the card is inspected. A store that does not mount is damage ("NVM").
CardReport InspectCardImage(const nvm::NvmDevice& device, const nvm::Geometry& geometry);

// NVM offsets of the fields the checker reports, relative to the start of a node block
// (docs/card-format.md §2) and of a key set block (§2a); the root area's are root_field in
// card_root.h. The test checks them against the encoders.
namespace node_field {
inline constexpr uint32_t kMagic = 0, kKind = 1, kFdb = 2, kFid = 3, kSfi = 5, kLcs = 6;
inline constexpr uint32_t kSecurityLength = 7, kSecurity = 8, kNameLength = 16, kName = 17;
inline constexpr uint32_t kParent = 33, kFirstChild = 35, kNextSibling = 37, kSize = 39;
inline constexpr uint32_t kMaxRecords = 41, kRecordCount = 43, kCyclicHead = 45;
inline constexpr uint32_t kBlockCount = 47, kBlocks = 48, kFciLength = 176;
}  // namespace node_field
namespace key_field {
inline constexpr uint32_t kMagic = 0, kKvn = 1, kKeyLength = 2, kMaxFailures = 3;
inline constexpr uint32_t kFailuresLeft = 4;
}  // namespace key_field

}  // namespace tessera::card
