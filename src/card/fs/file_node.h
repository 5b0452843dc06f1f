// A file (MF, DF or EF) as it is stored in NVM: one 256-byte node block plus data blocks.
// The byte layout is fixed in docs/card-format.md §2.
#pragma once

#include <cstdint>
#include <vector>

#include "card/kernel/card_error.h"
#include "core/bytes.h"

namespace tessera::card {

inline constexpr uint16_t kNoNode = 0xFFFF;
inline constexpr size_t kNodeSize = 256;
// The leading node bytes that hold kind, FID, SFI and the sibling link (docs/card-format.md §2).
inline constexpr size_t kNodeHeaderPeek = 39;
inline constexpr size_t kMaxDataBlocks = 64;
inline constexpr size_t kMaxDfName = 16;
inline constexpr size_t kMaxSecurityBytes = 8;
inline constexpr size_t kMaxFciProprietary = 70;
inline constexpr uint16_t kMfFid = 0x3F00;

enum class FileKind : uint8_t { kDf = 1, kEf = 2 };
enum class EfStructure : uint8_t {
  kTransparent = 1,
  kLinearFixed = 2,
  kLinearVariable = 4,
  kCyclic = 6,
};

// Life cycle status bytes (ISO/IEC 7816-4 table 13).
inline constexpr uint8_t kLcsCreation = 0x01;
inline constexpr uint8_t kLcsInitialisation = 0x03;
inline constexpr uint8_t kLcsActivated = 0x05;
inline constexpr uint8_t kLcsDeactivated = 0x04;
inline constexpr uint8_t kLcsTerminated = 0x0C;

struct FileNode {
  uint16_t id = kNoNode;  // the node's block index
  FileKind kind = FileKind::kEf;
  uint8_t fdb = 0x01;  // file descriptor byte (FCP tag 82, first byte)
  uint16_t fid = 0;
  uint8_t sfi = 0;  // 0 = none
  uint8_t lcs = kLcsActivated;
  Bytes security;  // compact security attributes (FCP tag 8C): AM byte + SC bytes
  Bytes df_name;   // DF name / AID (FCP tag 84)
  uint16_t parent = kNoNode;
  uint16_t first_child = kNoNode;
  uint16_t next_sibling = kNoNode;
  uint16_t size = 0;         // transparent EF: bytes; record EF: maximum record length
  uint16_t max_records = 0;  // record EF
  uint16_t record_count = 0;
  uint16_t cyclic_head = 0;  // cyclic EF: slot of record 1 (the most recent)
  std::vector<uint16_t> data_blocks;
  Bytes fci_proprietary;  // content of FCI tag A5 for DFs (e.g. the EMV PSE's SFI)

  bool is_df() const { return kind == FileKind::kDf; }
  bool is_ef() const { return kind == FileKind::kEf; }
  EfStructure structure() const { return static_cast<EfStructure>(fdb & 0x07); }
  bool is_record_ef() const { return is_ef() && structure() != EfStructure::kTransparent; }
  bool terminated() const { return lcs >= 0x0C && lcs <= 0x0F; }
  bool deactivated() const { return lcs == 0x04 || lcs == 0x06; }
  // Bytes a record slot occupies: a length byte plus the maximum record length.
  uint32_t slot_size() const { return 1u + size; }
  uint32_t data_capacity_needed() const {
    return is_record_ef() ? slot_size() * max_records : size;
  }
};

Bytes EncodeNode(const FileNode& node);
// kMemoryFailure when the block does not hold a valid node.
CardResult<FileNode> DecodeNode(ByteView block, uint16_t id);

}  // namespace tessera::card
