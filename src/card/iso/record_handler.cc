// READ RECORD(S) (B2), UPDATE RECORD (DC), APPEND RECORD (E2), ERASE RECORD(S) (0C),
// SEARCH RECORD (A2): ISO/IEC 7816-4 §11.4. P2 = (SFI << 3) | mode; SFI 0 = the current EF.
#include <algorithm>

#include "card/iso/access_control.h"
#include "card/iso/ef_resolver.h"
#include "card/iso/handlers.h"

namespace tessera::card {
namespace {

constexpr uint8_t kModeFirst = 0, kModeLast = 1, kModeNext = 2, kModePrevious = 3;
constexpr uint8_t kModeAbsolute = 4, kModeToLast = 5, kModeFromLast = 6;

CardResult<FileNode> RecordEf(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  const uint8_t sfi = cmd.p2 >> 3;
  if (sfi == 0x1F) return Error::kWrongP1P2;
  CARD_ASSIGN(FileNode ef, ResolveEf(card, ch, sfi));
  if (!ef.is_record_ef()) return Error::kIncompatibleFile;
  return ef;
}

// Slot of record number n (1-based): records of a cyclic EF are numbered from the most recent.
uint32_t SlotOf(const FileNode& ef, uint32_t n) {
  if (ef.structure() == EfStructure::kCyclic) {
    return (ef.cyclic_head + ef.max_records - (n - 1)) % ef.max_records;
  }
  return n - 1;
}

CardResult<Bytes> ReadRecord(Card& card, const FileNode& ef, uint32_t n) {
  if (n == 0 || n > ef.record_count) return Error::kRecordNotFound;
  return card.fs().ReadSlot(ef, SlotOf(ef, n));
}

// The record number a single-record command addresses (P1 = number, 00 = current; or the
// first/last/next/previous record).
CardResult<uint32_t> TargetRecord(const ChannelState& ch, const FileNode& ef, uint8_t p1,
                                  uint8_t mode) {
  const uint32_t current = ch.current_ef == ef.id ? ch.current_record : 0;
  switch (mode) {
    case kModeAbsolute:
      if (p1 == 0) {
        if (current == 0) return Error::kRecordNotFound;
        return current;
      }
      return static_cast<uint32_t>(p1);
    case kModeFirst:
      return ef.record_count == 0 ? CardResult<uint32_t>(Error::kRecordNotFound) : 1u;
    case kModeLast:
      return ef.record_count == 0 ? CardResult<uint32_t>(Error::kRecordNotFound)
                                  : uint32_t{ef.record_count};
    case kModeNext:
      return current + 1;
    case kModePrevious:
      if (current <= 1) return Error::kRecordNotFound;
      return current - 1;
    default:
      return Error::kWrongP1P2;
  }
}

}  // namespace

CardResult<Response> HandleReadRecord(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  if (!cmd.data.empty()) return Error::kWrongLength;
  if (cmd.ne == 0) return Error::kWrongLength;
  const uint8_t mode = cmd.p2 & 0x07;
  CARD_ASSIGN(FileNode ef, RecordEf(card, ch, cmd));
  CARD_TRY(CheckAccess(card, ch, ef, kAmRead));
  Response r;
  if (mode == kModeToLast || mode == kModeFromLast) {
    const uint32_t from = cmd.p1 == 0 ? (ch.current_ef == ef.id ? ch.current_record : 0) : cmd.p1;
    if (from == 0 || from > ef.record_count) return Error::kRecordNotFound;
    std::vector<uint32_t> order;
    for (uint32_t n = from; n <= ef.record_count; ++n) order.push_back(n);
    if (mode == kModeFromLast) std::reverse(order.begin(), order.end());
    for (uint32_t n : order) {
      CARD_ASSIGN(Bytes rec, ReadRecord(card, ef, n));
      Append(r.data, rec);
    }
    ch.current_record = static_cast<uint16_t>(order.back());
    return r;
  }
  if (mode == 7) return Error::kWrongP1P2;
  if (mode != kModeAbsolute) {
    // Occurrence modes: P1 = record identifier (the first byte of a record, its tag), 00 = any.
    const uint32_t current = ch.current_ef == ef.id ? ch.current_record : 0;
    std::vector<uint32_t> order;
    if (mode == kModeFirst || mode == kModeNext) {
      for (uint32_t n = (mode == kModeFirst ? 1 : current + 1); n <= ef.record_count; ++n) {
        order.push_back(n);
      }
    } else {
      for (uint32_t n = (mode == kModeLast ? ef.record_count : current - 1);
           n >= 1 && n <= ef.record_count; --n) {
        order.push_back(n);
      }
    }
    for (uint32_t n : order) {
      CARD_ASSIGN(Bytes rec, ReadRecord(card, ef, n));
      if (cmd.p1 == 0 || (!rec.empty() && rec[0] == cmd.p1)) {
        ch.current_record = static_cast<uint16_t>(n);
        r.data = std::move(rec);
        r.exact_length = true;
        return r;
      }
    }
    return Error::kRecordNotFound;
  }
  CARD_ASSIGN(uint32_t n, TargetRecord(ch, ef, cmd.p1, mode));
  CARD_ASSIGN(r.data, ReadRecord(card, ef, n));
  ch.current_record = static_cast<uint16_t>(n);
  r.exact_length = true;
  return r;
}

CardResult<Response> HandleUpdateRecord(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  const uint8_t mode = cmd.p2 & 0x07;
  if (mode > kModeAbsolute) return Error::kWrongP1P2;
  CARD_ASSIGN(FileNode ef, RecordEf(card, ch, cmd));
  CARD_TRY(CheckAccess(card, ch, ef, kAmUpdate));
  if (ef.structure() == EfStructure::kLinearFixed || ef.structure() == EfStructure::kCyclic) {
    if (cmd.data.size() != ef.size) return Error::kWrongLength;
  } else if (cmd.data.empty() || cmd.data.size() > ef.size) {
    return Error::kWrongLength;
  }
  CARD_ASSIGN(uint32_t n, TargetRecord(ch, ef, cmd.p1, mode));
  if (n == 0 || n > ef.record_count) return Error::kRecordNotFound;
  CARD_TRY(card.fs().WriteSlot(ef, SlotOf(ef, n), cmd.data));
  ch.current_record = static_cast<uint16_t>(n);
  return Response{};
}

CardResult<Response> HandleAppendRecord(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  if (cmd.p1 != 0 || (cmd.p2 & 0x07) != 0) return Error::kWrongP1P2;
  CARD_ASSIGN(FileNode ef, RecordEf(card, ch, cmd));
  CARD_TRY(CheckAccess(card, ch, ef, kAmWrite));
  if (ef.structure() == EfStructure::kLinearFixed || ef.structure() == EfStructure::kCyclic) {
    if (cmd.data.size() != ef.size) return Error::kWrongLength;
  } else if (cmd.data.empty() || cmd.data.size() > ef.size) {
    return Error::kWrongLength;
  }
  uint32_t slot;
  if (ef.structure() == EfStructure::kCyclic) {
    // The new record is record 1; when full, it replaces the oldest.
    slot = ef.record_count == 0 ? 0 : (ef.cyclic_head + 1u) % ef.max_records;
    ef.cyclic_head = static_cast<uint16_t>(slot);
    ef.record_count =
        static_cast<uint16_t>(std::min<uint32_t>(ef.record_count + 1u, ef.max_records));
    ch.current_record = 1;
  } else {
    if (ef.record_count >= ef.max_records) return Error::kNotEnoughMemory;
    slot = ef.record_count;
    ++ef.record_count;
    ch.current_record = ef.record_count;
  }
  CARD_TRY(card.fs().WriteSlot(ef, slot, cmd.data));
  CARD_TRY(card.fs().Save(ef));
  return Response{};
}

CardResult<Response> HandleEraseRecord(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  const uint8_t mode = cmd.p2 & 0x07;
  if (mode != kModeAbsolute && mode != kModeToLast) return Error::kWrongP1P2;
  if (!cmd.data.empty()) return Error::kWrongLength;
  CARD_ASSIGN(FileNode ef, RecordEf(card, ch, cmd));
  CARD_TRY(CheckAccess(card, ch, ef, kAmUpdate));
  if (ef.structure() == EfStructure::kCyclic) return Error::kIncompatibleFile;
  CARD_ASSIGN(uint32_t first, TargetRecord(ch, ef, cmd.p1, kModeAbsolute));
  if (first == 0 || first > ef.record_count) return Error::kRecordNotFound;
  const uint32_t last = mode == kModeToLast ? ef.record_count : first;
  // Erased records are removed; the records after them move down (docs/apdu-reference.md).
  const uint32_t removed = last - first + 1;
  for (uint32_t n = last + 1; n <= ef.record_count; ++n) {
    CARD_ASSIGN(Bytes rec, card.fs().ReadSlot(ef, n - 1));
    CARD_TRY(card.fs().WriteSlot(ef, n - 1 - removed, rec));
  }
  for (uint32_t slot = ef.record_count - removed; slot < ef.record_count; ++slot) {
    CARD_TRY(card.fs().WriteData(ef, slot * ef.slot_size(), Bytes(ef.slot_size(), 0)));
  }
  ef.record_count = static_cast<uint16_t>(ef.record_count - removed);
  CARD_TRY(card.fs().Save(ef));
  ch.current_record = 0;
  return Response{};
}

CardResult<Response> HandleSearchRecord(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  const uint8_t mode = cmd.p2 & 0x07;
  if (mode != kModeAbsolute && mode != kModeToLast) return Error::kWrongP1P2;
  if (cmd.data.empty()) return Error::kWrongLength;
  CARD_ASSIGN(FileNode ef, RecordEf(card, ch, cmd));
  CARD_TRY(CheckAccess(card, ch, ef, kAmRead));
  const uint32_t start = cmd.p1 == 0 ? 1 : cmd.p1;
  if (start > ef.record_count) return Error::kRecordNotFound;
  std::vector<uint32_t> order;
  if (mode == kModeAbsolute) {
    for (uint32_t n = start; n <= ef.record_count; ++n) order.push_back(n);
  } else {
    for (uint32_t n = start; n >= 1; --n) order.push_back(n);
  }
  Response r;
  for (uint32_t n : order) {
    CARD_ASSIGN(Bytes rec, ReadRecord(card, ef, n));
    if (std::search(rec.begin(), rec.end(), cmd.data.begin(), cmd.data.end()) != rec.end()) {
      r.data.push_back(static_cast<uint8_t>(n));
    }
  }
  if (r.data.empty()) return Error::kRecordNotFound;
  ch.current_record = r.data.front();
  return r;
}

}  // namespace tessera::card
