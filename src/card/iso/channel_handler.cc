// MANAGE CHANNEL (70): ISO/IEC 7816-4 §11.1.2. Channels 1-19 open and close; channel 0 is
// always open. A channel opened from the basic channel starts at the MF; one opened from
// another channel starts at that channel's current DF.
#include "card/iso/handlers.h"

namespace tessera::card {

CardResult<Response> HandleManageChannel(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  if (!cmd.data.empty()) return Error::kWrongLength;
  if (cmd.p1 == 0x00) {  // open
    uint8_t n = cmd.p2;
    if (n == 0) {
      for (n = 1; n < kMaxChannels && card.channel(n).open; ++n) {
      }
      if (n == kMaxChannels) return Error::kFunctionNotSupported;  // no channel free
      if (cmd.ne == 0) return Error::kWrongLength;
    } else {
      if (n >= kMaxChannels) return Error::kChannelNotSupported;
      if (card.channel(n).open) return Error::kConditionsNotSatisfied;
    }
    ChannelState fresh;
    fresh.open = true;
    CARD_ASSIGN(CardRoot root, card.root());
    fresh.current_df = &ch == &card.channel(0) ? root.mf : ch.current_df;
    // Opened from another channel, it starts at that channel's DF, and so with its selected
    // application (whose state table then applies; no session and nothing verified).
    if (&ch != &card.channel(0)) {
      fresh.selected_app = ch.selected_app;
      fresh.app_df = ch.app_df;
    }
    card.channel(n) = std::move(fresh);
    Response r;
    if (cmd.p2 == 0) r.data = Bytes{n};
    return r;
  }
  if (cmd.p1 == 0x80) {  // close
    uint8_t n = cmd.p2;
    if (n == 0) {
      for (n = 0; n < kMaxChannels && &card.channel(n) != &ch; ++n) {
      }
    }
    if (n == 0) return Error::kWrongP1P2;  // the basic channel cannot be closed
    if (n >= kMaxChannels || !card.channel(n).open) return Error::kChannelNotSupported;
    card.channel(n) = ChannelState{};
    return Response{};
  }
  return Error::kWrongP1P2;
}

}  // namespace tessera::card
