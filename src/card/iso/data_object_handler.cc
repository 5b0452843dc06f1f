// GET DATA (CA), PUT DATA (DA), GET CHALLENGE (84): ISO/IEC 7816-4 §11.5.
//
// PUT DATA objects live in one NVM block as a BER-TLV sequence. P1P2 is the tag: 0040-00FF a
// one-byte tag, 4000-FFFF a two-byte tag. PUT DATA with an empty field deletes the object.
// PUT DATA needs the MF's "create EF" access condition (AM b2); GET DATA is free.
#include "card/iso/access_control.h"
#include "card/iso/handlers.h"
#include "core/tlv.h"
#include "format/status_words.h"

namespace tessera::card {
namespace {

CardResult<TlvTag> TagOf(const CommandApdu& cmd) {
  const uint16_t p = static_cast<uint16_t>((cmd.p1 << 8) | cmd.p2);
  if (p >= 0x0040 && p <= 0x00FF) return TlvTag{p};
  if (p >= 0x4000 && (p & 0x1F00) == 0x1F00) return TlvTag{p};  // a valid two-byte tag
  return Error::kWrongP1P2;
}

CardResult<Bytes> LoadObjects(Card& card, const CardRoot& root) {
  if (root.data_objects == kNoNode) return Bytes{};
  Bytes block(card.store().layout().geometry.block_size);
  CARD_TRY_STATUS(card.store().Read(card.store().layout().BlockOffset(root.data_objects), block));
  // The sequence ends at the first 00 byte (the block is zero-filled after it).
  auto seq = ParseTlvSequence(block, {.allow_padding = true});
  if (!seq.ok()) return Error::kMemoryFailure;
  Bytes out;
  for (const TlvView& v : *seq) AppendTlv(out, v.tag, v.value);
  return out;
}

}  // namespace

CardResult<Response> HandleGetData(Card& card, ChannelState&, const CommandApdu& cmd) {
  CARD_ASSIGN(TlvTag tag, TagOf(cmd));
  if (tag == 0x5F52) {  // historical bytes
    Bytes atr = Card::Atr();
    Response r{EncodeTlv(0x5F52, ByteView(atr).subspan(4, atr.size() - 5)), sw::kOk, true};
    return r;
  }
  CARD_ASSIGN(CardRoot root, card.root());
  CARD_ASSIGN(Bytes objects, LoadObjects(card, root));
  auto seq = ParseTlvSequence(objects);
  if (!seq.ok()) return Error::kMemoryFailure;
  for (const TlvView& v : *seq) {
    if (v.tag == tag) return Response{EncodeTlv(v.tag, v.value), sw::kOk, true};
  }
  return Error::kReferencedDataNotFound;
}

CardResult<Response> HandlePutData(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  CARD_ASSIGN(TlvTag tag, TagOf(cmd));
  if (tag == 0x5F52) return Error::kConditionsNotSatisfied;  // read-only
  CARD_ASSIGN(CardRoot root, card.root());
  CARD_ASSIGN(FileNode mf, card.fs().Load(root.mf));
  CARD_TRY(CheckAccess(card, ch, mf, kAmCreateEf));
  CARD_ASSIGN(Bytes objects, LoadObjects(card, root));
  auto seq = ParseTlvSequence(objects);
  if (!seq.ok()) return Error::kMemoryFailure;
  Bytes updated;
  for (const TlvView& v : *seq) {
    if (v.tag != tag) AppendTlv(updated, v.tag, v.value);
  }
  if (!cmd.data.empty()) AppendTlv(updated, tag, cmd.data);
  const uint32_t bs = card.store().layout().geometry.block_size;
  if (updated.size() > bs) return Error::kNotEnoughMemory;
  if (root.data_objects == kNoNode) {
    auto b = card.store().AllocateBlock();
    if (!b.ok()) return FromStatus(b.status());
    root.data_objects = static_cast<uint16_t>(*b);
    CARD_TRY(SaveRoot(card.store(), root));
  }
  updated.resize(bs, 0);
  CARD_TRY_STATUS(
      card.store().Write(card.store().layout().BlockOffset(root.data_objects), updated));
  return Response{};
}

CardResult<Response> HandleGetChallenge(Card& card, ChannelState&, const CommandApdu& cmd) {
  if (cmd.p1 != 0 || cmd.p2 != 0) return Error::kWrongP1P2;
  if (!cmd.data.empty() || cmd.ne == 0) return Error::kWrongLength;
  Response r;
  r.data.resize(cmd.ne);
  CARD_TRY_STATUS(card.platform().Random(r.data));
  return r;
}

}  // namespace tessera::card
