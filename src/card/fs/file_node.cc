#include "card/fs/file_node.h"

#include <algorithm>

namespace tessera::card {
namespace {

// Offsets inside the node block (docs/card-format.md §2).
constexpr size_t kMagic = 0;  // 'N'
constexpr size_t kKind = 1;
constexpr size_t kFdb = 2;
constexpr size_t kFid = 3;
constexpr size_t kSfi = 5;
constexpr size_t kLcs = 6;
constexpr size_t kSecLen = 7;
constexpr size_t kSec = 8;  // 8 bytes
constexpr size_t kNameLen = 16;
constexpr size_t kName = 17;  // 16 bytes
constexpr size_t kParent = 33;
constexpr size_t kFirstChild = 35;
constexpr size_t kNextSibling = 37;
constexpr size_t kSize = 39;
constexpr size_t kMaxRecords = 41;
constexpr size_t kRecordCount = 43;
constexpr size_t kCyclicHead = 45;
constexpr size_t kBlockCount = 47;
constexpr size_t kBlocks = 48;  // 64 x u16 = 128 bytes
constexpr size_t kFciLen = 176;
constexpr size_t kFci = 177;  // up to 70 bytes, ends at 247
constexpr uint8_t kNodeMagic = 'N';

}  // namespace

Bytes EncodeNode(const FileNode& n) {
  Bytes b(kNodeSize, 0);
  b[kMagic] = kNodeMagic;
  b[kKind] = static_cast<uint8_t>(n.kind);
  b[kFdb] = n.fdb;
  PutU16(&b[kFid], n.fid);
  b[kSfi] = n.sfi;
  b[kLcs] = n.lcs;
  b[kSecLen] = static_cast<uint8_t>(n.security.size());
  std::copy(n.security.begin(), n.security.end(), b.begin() + kSec);
  b[kNameLen] = static_cast<uint8_t>(n.df_name.size());
  std::copy(n.df_name.begin(), n.df_name.end(), b.begin() + kName);
  PutU16(&b[kParent], n.parent);
  PutU16(&b[kFirstChild], n.first_child);
  PutU16(&b[kNextSibling], n.next_sibling);
  PutU16(&b[kSize], n.size);
  PutU16(&b[kMaxRecords], n.max_records);
  PutU16(&b[kRecordCount], n.record_count);
  PutU16(&b[kCyclicHead], n.cyclic_head);
  b[kBlockCount] = static_cast<uint8_t>(n.data_blocks.size());
  for (size_t i = 0; i < n.data_blocks.size(); ++i) PutU16(&b[kBlocks + 2 * i], n.data_blocks[i]);
  b[kFciLen] = static_cast<uint8_t>(n.fci_proprietary.size());
  std::copy(n.fci_proprietary.begin(), n.fci_proprietary.end(), b.begin() + kFci);
  return b;
}

CardResult<FileNode> DecodeNode(ByteView b, uint16_t id) {
  if (b.size() < kNodeSize || b[kMagic] != kNodeMagic) return Error::kMemoryFailure;
  FileNode n;
  n.id = id;
  if (b[kKind] != 1 && b[kKind] != 2) return Error::kMemoryFailure;
  n.kind = static_cast<FileKind>(b[kKind]);
  n.fdb = b[kFdb];
  n.fid = GetU16(&b[kFid]);
  n.sfi = b[kSfi];
  n.lcs = b[kLcs];
  if (b[kSecLen] > kMaxSecurityBytes || b[kNameLen] > kMaxDfName ||
      b[kBlockCount] > kMaxDataBlocks || b[kFciLen] > kMaxFciProprietary) {
    return Error::kMemoryFailure;
  }
  n.security.assign(&b[kSec], &b[kSec] + b[kSecLen]);
  n.df_name.assign(&b[kName], &b[kName] + b[kNameLen]);
  n.parent = GetU16(&b[kParent]);
  n.first_child = GetU16(&b[kFirstChild]);
  n.next_sibling = GetU16(&b[kNextSibling]);
  n.size = GetU16(&b[kSize]);
  n.max_records = GetU16(&b[kMaxRecords]);
  n.record_count = GetU16(&b[kRecordCount]);
  n.cyclic_head = GetU16(&b[kCyclicHead]);
  for (size_t i = 0; i < b[kBlockCount]; ++i) n.data_blocks.push_back(GetU16(&b[kBlocks + 2 * i]));
  n.fci_proprietary.assign(&b[kFci], &b[kFci] + b[kFciLen]);
  if (n.is_record_ef() && n.record_count > n.max_records) return Error::kMemoryFailure;
  return n;
}

}  // namespace tessera::card
