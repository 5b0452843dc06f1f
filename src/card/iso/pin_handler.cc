// VERIFY (20), CHANGE REFERENCE DATA (24), RESET RETRY COUNTER (2C): ISO/IEC 7816-4 §11.5.
//
// Retry counters are decremented and committed to NVM before the comparison (an early commit
// outside the command's transaction), and reset only after a match: cutting power at the
// moment of a wrong guess never yields a free try.
#include "card/iso/handlers.h"
#include "format/status_words.h"

namespace tessera::card {
namespace {

struct Pin {
  PinTable table;  // zeroising: the values never reach ordinary heap memory
  size_t slot;
};

CardResult<Pin> FindPin(Card& card, uint8_t reference) {
  CARD_ASSIGN(PinTable table, LoadPins(card.store()));
  const int slot = table.Find(reference);
  if (slot < 0) return Error::kReferencedDataNotFound;
  return Pin{std::move(table), static_cast<size_t>(slot)};
}

uint16_t TriesLeftWord(uint8_t left) {
  return static_cast<uint16_t>(sw::kCounterBase | (left & 0x0F));
}

// Compares `candidate` with the PIN in `slot`, spending one try first. On a match the counter
// is restored (in the command's transaction) and true is returned.
CardResult<bool> Attempt(Card& card, Pin& pin, ByteView candidate) {
  PinRecord& p = pin.table.pins[pin.slot];
  if (p.tries_left == 0) return Error::kAuthenticationBlocked;
  const uint8_t left = static_cast<uint8_t>(p.tries_left - 1);
  CARD_TRY_STATUS(
      card.store().CommitNow(PinTriesOffset(card.store(), pin.slot), ByteView(&left, 1)));
  p.tries_left = left;
  if (!ConstantTimeEqual(candidate, p.value)) return false;
  p.tries_left = p.max_tries;
  CARD_TRY(SavePins(card.store(), pin.table));
  return true;
}

CardStatus CheckNewValue(ByteView value) {
  if (value.empty() || value.size() > kMaxPinLength) return Error::kWrongData;
  return Ok{};
}

}  // namespace

CardResult<Response> HandleVerify(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  if (cmd.p1 == 0xFF) {  // reset the verified state
    if (!cmd.data.empty()) return Error::kWrongLength;
    CARD_ASSIGN(Pin pin, FindPin(card, cmd.p2));
    ch.verified_pins = static_cast<uint8_t>(ch.verified_pins & ~(1u << pin.slot));
    return Response{};
  }
  if (cmd.p1 != 0x00) return Error::kWrongP1P2;
  CARD_ASSIGN(Pin pin, FindPin(card, cmd.p2));
  const PinRecord& p = pin.table.pins[pin.slot];
  if (cmd.data.empty()) {  // status query
    if (ch.verified_pins & (1u << pin.slot)) return Response{};
    if (p.tries_left == 0) return Error::kAuthenticationBlocked;
    return Response{{}, TriesLeftWord(p.tries_left)};
  }
  if (cmd.data.size() > kMaxPinLength) return Error::kWrongLength;
  CARD_ASSIGN(bool match, Attempt(card, pin, cmd.data));
  if (!match) {
    ch.verified_pins = static_cast<uint8_t>(ch.verified_pins & ~(1u << pin.slot));
    return Response{{}, TriesLeftWord(pin.table.pins[pin.slot].tries_left)};
  }
  ch.verified_pins = static_cast<uint8_t>(ch.verified_pins | (1u << pin.slot));
  return Response{};
}

CardResult<Response> HandleChangeReferenceData(Card& card, ChannelState& ch,
                                               const CommandApdu& cmd) {
  if (cmd.p1 != 0x00 && cmd.p1 != 0x01) return Error::kWrongP1P2;
  CARD_ASSIGN(Pin pin, FindPin(card, cmd.p2));
  SecureBytes new_value;
  if (cmd.p1 == 0x00) {
    // Old value || new value; the old value has the stored PIN's length.
    const size_t old_len = pin.table.pins[pin.slot].value.size();
    if (cmd.data.size() <= old_len) return Error::kWrongLength;
    CARD_ASSIGN(bool match, Attempt(card, pin, ByteView(cmd.data).first(old_len)));
    if (!match) return Response{{}, TriesLeftWord(pin.table.pins[pin.slot].tries_left)};
    new_value.assign(cmd.data.begin() + static_cast<ptrdiff_t>(old_len), cmd.data.end());
  } else {
    if (!(ch.verified_pins & (1u << pin.slot))) return Error::kSecurityNotSatisfied;
    new_value.assign(cmd.data.begin(), cmd.data.end());
  }
  CARD_TRY(CheckNewValue(new_value));
  PinRecord& p = pin.table.pins[pin.slot];
  p.value = new_value;
  p.tries_left = p.max_tries;
  CARD_TRY(SavePins(card.store(), pin.table));
  ch.verified_pins = static_cast<uint8_t>(ch.verified_pins | (1u << pin.slot));
  return Response{};
}

CardResult<Response> HandleResetRetryCounter(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  if (cmd.p1 > 0x03) return Error::kWrongP1P2;
  CARD_ASSIGN(Pin pin, FindPin(card, cmd.p2));
  const uint8_t puk_ref = pin.table.pins[pin.slot].puk_reference;
  if (puk_ref == 0) return Error::kReferenceDataNotUsable;
  const int puk_slot_i = pin.table.Find(puk_ref);
  if (puk_slot_i < 0) return Error::kReferenceDataNotUsable;
  const size_t puk_slot = static_cast<size_t>(puk_slot_i);
  SecureBytes new_value;
  if (cmd.p1 == 0x00 || cmd.p1 == 0x01) {
    // PUK (|| new value): the PUK has its stored length.
    const size_t puk_len = pin.table.pins[puk_slot].value.size();
    if (cmd.data.size() < puk_len || (cmd.p1 == 0x01 && cmd.data.size() != puk_len) ||
        (cmd.p1 == 0x00 && cmd.data.size() == puk_len)) {
      return Error::kWrongLength;
    }
    Pin puk{pin.table, puk_slot};
    CARD_ASSIGN(bool match, Attempt(card, puk, ByteView(cmd.data).first(puk_len)));
    if (!match) return Response{{}, TriesLeftWord(puk.table.pins[puk_slot].tries_left)};
    pin.table = puk.table;
    if (cmd.p1 == 0x00)
      new_value.assign(cmd.data.begin() + static_cast<ptrdiff_t>(puk_len), cmd.data.end());
  } else {
    // 02: new value only, 03: nothing; both need the PUK verified on this channel.
    if (!(ch.verified_pins & (1u << puk_slot))) return Error::kSecurityNotSatisfied;
    if (cmd.p1 == 0x02)
      new_value.assign(cmd.data.begin(), cmd.data.end());
    else if (!cmd.data.empty())
      return Error::kWrongLength;
  }
  PinRecord& p = pin.table.pins[pin.slot];
  if (!new_value.empty() || cmd.p1 == 0x02) {
    CARD_TRY(CheckNewValue(new_value));
    p.value = new_value;
  }
  p.tries_left = p.max_tries;
  CARD_TRY(SavePins(card.store(), pin.table));
  return Response{};
}

}  // namespace tessera::card
