#include "card/gp/load_files.h"

#include <algorithm>

#include "card/kernel/card.h"
#include "card/registry/app_lifecycle.h"

namespace tessera::card {
namespace {

// EF content: format (1), AID (1+n), module count (1), modules (1+n each), then the code.
Bytes EncodeHeader(const LoadFile& f) {
  Bytes b{f.code_format, static_cast<uint8_t>(f.aid.size())};
  Append(b, f.aid);
  b.push_back(static_cast<uint8_t>(f.modules.size()));
  for (const Bytes& m : f.modules) {
    b.push_back(static_cast<uint8_t>(m.size()));
    Append(b, m);
  }
  return b;
}

// The header of an EF's content and where its code starts; kMemoryFailure when damaged.
CardResult<size_t> DecodeHeader(ByteView b, LoadFile& f) {
  size_t at = 0;
  auto take = [&](size_t n) -> CardResult<ByteView> {
    if (at + n > b.size()) return Error::kMemoryFailure;
    ByteView v = b.subspan(at, n);
    at += n;
    return v;
  };
  CARD_ASSIGN(ByteView format, take(1));
  f.code_format = format[0];
  CARD_ASSIGN(ByteView len, take(1));
  CARD_ASSIGN(ByteView aid, take(len[0]));
  f.aid.assign(aid.begin(), aid.end());
  CARD_ASSIGN(ByteView count, take(1));
  f.modules.clear();
  for (uint8_t i = 0; i < count[0]; ++i) {
    CARD_ASSIGN(ByteView mlen, take(1));
    CARD_ASSIGN(ByteView m, take(mlen[0]));
    f.modules.emplace_back(m.begin(), m.end());
  }
  return at;
}

CardResult<std::optional<FileNode>> Container(Card& card, bool create) {
  CARD_ASSIGN(CardRoot root, card.root());
  CARD_ASSIGN(FileNode mf, card.fs().Load(root.mf));
  auto df = card.fs().ChildByFid(mf, kLoadFilesDfFid);
  if (df.ok() && df->is_df()) return std::optional<FileNode>(*df);
  if (df.ok() || !create) return std::optional<FileNode>();
  FileNode spec;
  spec.kind = FileKind::kDf;
  spec.fdb = 0x38;
  spec.fid = kLoadFilesDfFid;
  spec.security = kApplicationDfSecurity;
  CARD_ASSIGN(FileNode made, card.fs().Create(mf, spec, root.mf));
  return std::optional<FileNode>(made);
}

CardResult<Bytes> Content(Card& card, const FileNode& ef) {
  Bytes b(ef.size);
  CARD_TRY(card.fs().ReadData(ef, 0, b));
  return b;
}

}  // namespace

CardResult<std::vector<LoadFile>> AllLoadFiles(Card& card) {
  std::vector<LoadFile> out;
  CARD_ASSIGN(auto df, Container(card, false));
  if (!df) return out;
  CARD_ASSIGN(auto children, card.fs().Children(*df));
  // Children are linked newest first.
  for (auto it = children.rbegin(); it != children.rend(); ++it) {
    if (!it->is_ef()) continue;
    CARD_ASSIGN(Bytes b, Content(card, *it));
    LoadFile f;
    CARD_ASSIGN(size_t code_at, DecodeHeader(b, f));
    (void)code_at;
    f.node = it->id;
    out.push_back(std::move(f));
  }
  return out;
}

CardResult<std::optional<LoadFile>> FindLoadFile(Card& card, ByteView aid) {
  CARD_ASSIGN(auto all, AllLoadFiles(card));
  for (LoadFile& f : all) {
    if (std::equal(f.aid.begin(), f.aid.end(), aid.begin(), aid.end())) {
      return std::optional<LoadFile>(std::move(f));
    }
  }
  return std::optional<LoadFile>();
}

CardResult<Bytes> LoadFileCode(Card& card, const LoadFile& file) {
  CARD_ASSIGN(FileNode ef, card.fs().Load(file.node));
  CARD_ASSIGN(Bytes b, Content(card, ef));
  LoadFile f;
  CARD_ASSIGN(size_t code_at, DecodeHeader(b, f));
  return Bytes(b.begin() + static_cast<ptrdiff_t>(code_at), b.end());
}

CardStatus StoreLoadFile(Card& card, const LoadFile& file, ByteView code) {
  Bytes content = EncodeHeader(file);
  Append(content, code);
  if (content.size() > 0xFFFF) return Error::kNotEnoughMemory;
  CARD_ASSIGN(auto df, Container(card, true));
  CARD_ASSIGN(auto children, card.fs().Children(*df));
  uint16_t fid = 1;
  while (std::any_of(children.begin(), children.end(),
                     [&](const FileNode& c) { return c.fid == fid; })) {
    ++fid;
  }
  FileNode spec;
  spec.kind = FileKind::kEf;
  spec.fdb = static_cast<uint8_t>(EfStructure::kTransparent);
  spec.fid = fid;
  spec.size = static_cast<uint16_t>(content.size());
  spec.security = kApplicationDfSecurity;
  CARD_ASSIGN(CardRoot root, card.root());
  CARD_ASSIGN(FileNode ef, card.fs().Create(*df, spec, root.mf));
  CARD_TRY(card.fs().WriteData(ef, 0, content));
  card.store().MarkSensitive();
  return Ok{};
}

CardStatus DeleteLoadFile(Card& card, const LoadFile& file) {
  CARD_ASSIGN(FileNode ef, card.fs().Load(file.node));
  CARD_TRY(card.fs().Delete(ef));
  card.store().MarkSensitive();
  card.ForgetDeleted();
  return Ok{};
}

}  // namespace tessera::card
