// The persistent file tree: nodes and data in NVM blocks, linked parent -> first child -> next
// sibling. Every mutating call stages writes in the NVM store's open transaction; the
// dispatcher commits or aborts them with the command. Layout: docs/card-format.md.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "card/fs/file_node.h"
#include "card/kernel/card_error.h"
#include "nvm/nvm_store.h"

namespace tessera::card {

inline constexpr size_t kBulkWriteBlocks = 4;

class FileSystem {
 public:
  explicit FileSystem(nvm::NvmStore& store) : store_(store) {}

  CardResult<FileNode> Load(uint16_t id) const;
  CardStatus Save(const FileNode& node);

  CardResult<std::vector<FileNode>> Children(const FileNode& df) const;
  // First child of `df` whose (kind, FID, SFI) satisfy `match`, reading only node headers on
  // the way (the hot path of SELECT and SFI addressing); kFileNotFound otherwise.
  template <typename Match>
  CardResult<FileNode> FindChild(const FileNode& df, Match match) const;
  // Child of `df` with this FID; kFileNotFound otherwise.
  CardResult<FileNode> ChildByFid(const FileNode& df, uint16_t fid) const;
  // EF child of `df` with this short EF identifier.
  CardResult<FileNode> ChildBySfi(const FileNode& df, uint8_t sfi) const;
  // Whether `file` is the DF `df` or lies below it (false when df is kNoNode).
  CardResult<bool> IsWithin(const FileNode& file, uint16_t df) const;
  // Every DF whose name starts with `name`, in tree order (depth first from the MF).
  CardResult<std::vector<FileNode>> DfsByName(uint16_t mf, ByteView name) const;

  // Creates `spec` under `parent`: allocates its node and data blocks (zero filled) and links
  // it as the parent's first child. Checks FID and DF name uniqueness (6A89 / 6A8A).
  CardResult<FileNode> Create(const FileNode& parent, FileNode spec, uint16_t mf);
  // Unlinks `node` from its parent and frees (wipes) it and all its descendants.
  CardStatus Delete(const FileNode& node);

  // Transparent data. REQUIRES: offset + out.size() <= node.size.
  CardStatus ReadData(const FileNode& node, uint32_t offset, std::span<uint8_t> out) const;
  // A bulk write (one that covers at least kBulkWriteBlocks whole data blocks) goes
  // copy-on-write for those blocks: fresh blocks receive the new bytes outside the journal, the
  // node's block list switches to them in the transaction, and the old blocks are freed (wiped
  // after the commit). `node` is updated and saved then. So a command's bulk data is bounded
  // by free blocks, not by the commit capacity (docs/card-format.md, "Limits"); with too few
  // free blocks the write goes through the journal.
  CardStatus WriteData(FileNode& node, uint32_t offset, ByteView data);

  // Record slots (0-based). A slot holds a length byte and up to node.size record bytes.
  CardResult<Bytes> ReadSlot(const FileNode& node, uint32_t slot) const;
  CardStatus WriteSlot(const FileNode& node, uint32_t slot, ByteView record);

  nvm::NvmStore& store() { return store_; }

 private:
  uint32_t NodeOffset(uint16_t id) const { return store_.layout().BlockOffset(id); }
  // Maps a byte range of the node's data to NVM ranges and applies `fn(nvm_offset, length,
  // position_in_range)` to each piece.
  template <typename Fn>
  CardStatus ForEachPiece(const FileNode& node, uint32_t offset, size_t length, Fn fn) const;
  CardStatus FreeTree(const FileNode& node);

  nvm::NvmStore& store_;
};

}  // namespace tessera::card
