// READ BINARY (B0), UPDATE BINARY (D6), ERASE BINARY (0E): ISO/IEC 7816-4 §11.3.
#include "card/iso/access_control.h"
#include "card/iso/ef_resolver.h"
#include "card/iso/handlers.h"
#include "format/status_words.h"

namespace tessera::card {
namespace {

struct Target {
  FileNode ef;
  uint32_t offset;
};

// P1 b8 = 1: b7-b6 = 00, b5-b1 = SFI, P2 = offset. Otherwise P1P2 = a 15-bit offset into the
// current EF.
CardResult<Target> Resolve(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  uint8_t sfi = 0;
  uint32_t offset;
  if (cmd.p1 & 0x80) {
    if (cmd.p1 & 0x60) return Error::kWrongP1P2;
    sfi = cmd.p1 & 0x1F;
    if (sfi == 0 || sfi == 0x1F) return Error::kWrongP1P2;
    offset = cmd.p2;
  } else {
    offset = (uint32_t{cmd.p1} << 8) | cmd.p2;
  }
  CARD_ASSIGN(FileNode ef, ResolveEf(card, ch, sfi));
  if (ef.structure() != EfStructure::kTransparent) return Error::kIncompatibleFile;
  if (offset > ef.size) return Error::kOffsetOutsideFile;
  return Target{std::move(ef), offset};
}

}  // namespace

CardResult<Response> HandleReadBinary(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  if (!cmd.data.empty()) return Error::kWrongLength;
  if (cmd.ne == 0) return Error::kWrongLength;
  CARD_ASSIGN(Target t, Resolve(card, ch, cmd));
  CARD_TRY(CheckAccess(card, ch, t.ef, kAmRead));
  const uint32_t available = t.ef.size - t.offset;
  if (available == 0) return Response{{}, sw::kWarningEndOfFile};
  // Le = 00 (or 0000) means "as much as there is"; otherwise answering less is a warning.
  const bool maximum = cmd.ne == kMaxShortNe || cmd.ne == kMaxExtendedNe;
  const uint32_t n = std::min<uint32_t>(available, cmd.ne);
  Response r;
  r.data.resize(n);
  CARD_TRY(card.fs().ReadData(t.ef, t.offset, r.data));
  if (n < cmd.ne && !maximum) r.sw = sw::kWarningEndOfFile;
  return r;
}

CardResult<Response> HandleUpdateBinary(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  if (cmd.data.empty()) return Error::kWrongLength;
  CARD_ASSIGN(Target t, Resolve(card, ch, cmd));
  CARD_TRY(CheckAccess(card, ch, t.ef, kAmUpdate));
  if (cmd.data.size() > t.ef.size - t.offset) return Error::kWrongLength;
  CARD_TRY(card.fs().WriteData(t.ef, t.offset, cmd.data));
  return Response{};
}

CardResult<Response> HandleEraseBinary(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  CARD_ASSIGN(Target t, Resolve(card, ch, cmd));
  CARD_TRY(CheckAccess(card, ch, t.ef, kAmUpdate));
  // No data: erase to the end. Two bytes: the offset where erasing stops (exclusive).
  uint32_t end = t.ef.size;
  if (cmd.data.size() == 2) {
    end = GetU16(cmd.data.data());
    if (end < t.offset || end > t.ef.size) return Error::kWrongData;
  } else if (!cmd.data.empty()) {
    return Error::kWrongLength;
  }
  if (end > t.offset) CARD_TRY(card.fs().WriteData(t.ef, t.offset, Bytes(end - t.offset, 0)));
  return Response{};
}

}  // namespace tessera::card
