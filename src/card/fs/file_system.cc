#include "card/fs/file_system.h"

#include <algorithm>
#include <functional>

namespace tessera::card {

CardResult<FileNode> FileSystem::Load(uint16_t id) const {
  if (id >= store_.layout().block_count) return Error::kMemoryFailure;
  Bytes b(kNodeSize);
  CARD_TRY_STATUS(store_.Read(NodeOffset(id), b));
  return DecodeNode(b, id);
}

CardStatus FileSystem::Save(const FileNode& node) {
  CARD_TRY_STATUS(store_.Write(NodeOffset(node.id), EncodeNode(node)));
  return Ok{};
}

CardResult<std::vector<FileNode>> FileSystem::Children(const FileNode& df) const {
  std::vector<FileNode> out;
  uint16_t id = df.first_child;
  while (id != kNoNode) {
    if (out.size() > store_.layout().block_count) return Error::kMemoryFailure;  // a cycle
    CARD_ASSIGN(FileNode child, Load(id));
    id = child.next_sibling;
    out.push_back(std::move(child));
  }
  return out;
}

template <typename Match>
CardResult<FileNode> FileSystem::FindChild(const FileNode& df, Match match) const {
  uint16_t id = df.first_child;
  uint8_t head[kNodeHeaderPeek];
  for (uint32_t steps = 0; id != kNoNode; ++steps) {
    if (steps > store_.layout().block_count || id >= store_.layout().block_count) {
      return Error::kMemoryFailure;  // a cycle or a dangling link
    }
    CARD_TRY_STATUS(store_.Read(NodeOffset(id), head));
    const auto kind = static_cast<FileKind>(head[1]);
    if (match(kind, GetU16(&head[3]), head[5])) return Load(id);
    id = GetU16(&head[37]);
  }
  return Error::kFileNotFound;
}

CardResult<FileNode> FileSystem::ChildByFid(const FileNode& df, uint16_t fid) const {
  return FindChild(df, [fid](FileKind, uint16_t f, uint8_t) { return f == fid; });
}

CardResult<FileNode> FileSystem::ChildBySfi(const FileNode& df, uint8_t sfi) const {
  if (sfi == 0) return Error::kFileNotFound;
  return FindChild(
      df, [sfi](FileKind k, uint16_t, uint8_t s) { return k == FileKind::kEf && s == sfi; });
}

CardResult<bool> FileSystem::IsWithin(const FileNode& file, uint16_t df) const {
  if (df == kNoNode) return false;
  uint16_t at = file.id;
  for (uint32_t depth = 0; at != kNoNode && depth <= store_.layout().block_count; ++depth) {
    if (at == df) return true;
    CARD_ASSIGN(FileNode node, Load(at));
    at = node.parent;
  }
  return false;
}

CardResult<std::vector<FileNode>> FileSystem::DfsByName(uint16_t mf, ByteView name) const {
  std::vector<FileNode> found;
  std::vector<uint16_t> stack{mf};
  size_t visited = 0;
  while (!stack.empty()) {
    if (++visited > store_.layout().block_count) return Error::kMemoryFailure;
    CARD_ASSIGN(FileNode n, Load(stack.back()));
    stack.pop_back();
    if (!n.is_df()) continue;
    if (!n.df_name.empty() && n.df_name.size() >= name.size() &&
        std::equal(name.begin(), name.end(), n.df_name.begin())) {
      found.push_back(n);
    }
    CARD_ASSIGN(auto children, Children(n));
    // Push in reverse so that the first child is visited first.
    for (auto it = children.rbegin(); it != children.rend(); ++it) {
      if (it->is_df()) stack.push_back(it->id);
    }
  }
  return found;
}

CardResult<FileNode> FileSystem::Create(const FileNode& parent_in, FileNode spec, uint16_t mf) {
  CARD_ASSIGN(FileNode parent, Load(parent_in.id));
  CARD_ASSIGN(auto siblings, Children(parent));
  for (const auto& s : siblings) {
    if (s.fid == spec.fid) return Error::kFileExists;
    if (spec.is_ef() && spec.sfi != 0 && s.is_ef() && s.sfi == spec.sfi) return Error::kFileExists;
  }
  if (spec.fid == parent.fid || spec.fid == kMfFid) return Error::kFileExists;
  if (!spec.df_name.empty()) {
    CARD_ASSIGN(auto same, DfsByName(mf, spec.df_name));
    for (const auto& d : same) {
      if (d.df_name == spec.df_name) return Error::kDfNameExists;
    }
  }
  const uint32_t bs = store_.layout().geometry.block_size;
  const uint32_t need = spec.is_ef() ? spec.data_capacity_needed() : 0;
  const uint32_t blocks = (need + bs - 1) / bs;
  if (blocks > kMaxDataBlocks) return Error::kNotEnoughMemory;
  auto node_block = store_.AllocateBlock();
  if (!node_block.ok()) return FromStatus(node_block.status());
  spec.id = static_cast<uint16_t>(*node_block);
  spec.data_blocks.clear();
  for (uint32_t i = 0; i < blocks; ++i) {
    auto b = store_.AllocateBlock();
    if (!b.ok()) return FromStatus(b.status());
    spec.data_blocks.push_back(static_cast<uint16_t>(*b));
  }
  spec.parent = parent.id;
  spec.first_child = kNoNode;
  spec.next_sibling = parent.first_child;
  spec.record_count = 0;
  spec.cyclic_head = 0;
  parent.first_child = spec.id;
  CARD_TRY(Save(spec));
  CARD_TRY(Save(parent));
  return spec;
}

CardStatus FileSystem::FreeTree(const FileNode& node) {
  CARD_ASSIGN(auto children, Children(node));
  for (const auto& c : children) CARD_TRY(FreeTree(c));
  for (uint16_t b : node.data_blocks) CARD_TRY_STATUS(store_.FreeBlock(b));
  CARD_TRY_STATUS(store_.FreeBlock(node.id));
  return Ok{};
}

CardStatus FileSystem::Delete(const FileNode& node_in) {
  CARD_ASSIGN(FileNode node, Load(node_in.id));
  if (node.parent == kNoNode) return Error::kConditionsNotSatisfied;  // the MF stays
  CARD_ASSIGN(FileNode parent, Load(node.parent));
  if (parent.first_child == node.id) {
    parent.first_child = node.next_sibling;
    CARD_TRY(Save(parent));
  } else {
    CARD_ASSIGN(auto siblings, Children(parent));
    bool unlinked = false;
    for (auto& s : siblings) {
      if (s.next_sibling == node.id) {
        s.next_sibling = node.next_sibling;
        CARD_TRY(Save(s));
        unlinked = true;
        break;
      }
    }
    if (!unlinked) return Error::kMemoryFailure;
  }
  return FreeTree(node);
}

template <typename Fn>
CardStatus FileSystem::ForEachPiece(const FileNode& node, uint32_t offset, size_t length,
                                    Fn fn) const {
  const uint32_t bs = store_.layout().geometry.block_size;
  size_t done = 0;
  while (done < length) {
    const uint32_t at = offset + static_cast<uint32_t>(done);
    const uint32_t index = at / bs;
    if (index >= node.data_blocks.size()) return Error::kMemoryFailure;
    const uint32_t in_block = at % bs;
    const size_t n = std::min<size_t>(bs - in_block, length - done);
    CARD_TRY(fn(store_.layout().BlockOffset(node.data_blocks[index]) + in_block, n, done));
    done += n;
  }
  return Ok{};
}

CardStatus FileSystem::ReadData(const FileNode& node, uint32_t offset,
                                std::span<uint8_t> out) const {
  return ForEachPiece(node, offset, out.size(),
                      [&](uint32_t at, size_t n, size_t pos) -> CardStatus {
                        CARD_TRY_STATUS(store_.Read(at, out.subspan(pos, n)));
                        return Ok{};
                      });
}

CardStatus FileSystem::WriteData(FileNode& node, uint32_t offset, ByteView data) {
  auto journaled = [&](uint32_t from, uint32_t to) -> CardStatus {
    if (to <= from) return Ok{};
    const ByteView part = data.subspan(from - offset, to - from);
    return ForEachPiece(node, from, part.size(),
                        [&](uint32_t at, size_t n, size_t pos) -> CardStatus {
                          CARD_TRY_STATUS(store_.Write(at, part.subspan(pos, n)));
                          return Ok{};
                        });
  };
  const uint32_t bs = store_.layout().geometry.block_size;
  const uint32_t end = offset + static_cast<uint32_t>(data.size());
  const uint32_t first_whole = (offset + bs - 1) / bs;
  const uint32_t last_whole = end / bs;  // exclusive
  if (last_whole < first_whole + kBulkWriteBlocks) return journaled(offset, end);
  if (last_whole > node.data_blocks.size()) return Error::kMemoryFailure;
  const size_t n = last_whole - first_whole;
  auto fresh = store_.AllocateFreshBlocks(n);
  // Without free blocks for the copies, the journal may still hold the write.
  if (!fresh.ok() && fresh.status().code() == ErrorCode::kOutOfSpace) {
    return journaled(offset, end);
  }
  if (!fresh.ok()) return FromStatus(fresh.status());
  for (size_t i = 0; i < n; ++i) {
    const uint32_t index = first_whole + static_cast<uint32_t>(i);
    const uint32_t block = (*fresh)[i];
    CARD_TRY_STATUS(
        store_.Write(store_.layout().BlockOffset(block), data.subspan(index * bs - offset, bs)));
    CARD_TRY_STATUS(store_.FreeBlock(node.data_blocks[index]));
    node.data_blocks[index] = static_cast<uint16_t>(block);
  }
  CARD_TRY(Save(node));
  CARD_TRY(journaled(offset, first_whole * bs));
  return journaled(last_whole * bs, end);
}

CardResult<Bytes> FileSystem::ReadSlot(const FileNode& node, uint32_t slot) const {
  if (slot >= node.max_records) return Error::kRecordNotFound;
  Bytes raw(node.slot_size());
  CARD_TRY(ReadData(node, slot * node.slot_size(), raw));
  if (raw[0] > node.size) return Error::kMemoryFailure;
  return Bytes(raw.begin() + 1, raw.begin() + 1 + raw[0]);
}

CardStatus FileSystem::WriteSlot(const FileNode& node, uint32_t slot, ByteView record) {
  if (slot >= node.max_records || record.size() > node.size || record.size() > 255) {
    return Error::kMemoryFailure;
  }
  Bytes raw(node.slot_size(), 0);
  raw[0] = static_cast<uint8_t>(record.size());
  std::copy(record.begin(), record.end(), raw.begin() + 1);
  // A slot (at most 256 bytes) never makes a bulk write: `node` stays as it is.
  FileNode same = node;
  return WriteData(same, slot * node.slot_size(), raw);
}

}  // namespace tessera::card
