#include "card/iso/ef_resolver.h"

#include "card/iso/access_control.h"

namespace tessera::card {

CardResult<FileNode> ResolveEf(Card& card, ChannelState& ch, uint8_t sfi) {
  FileNode ef;
  if (sfi != 0 && ch.current_ef != kNoNode) {
    // The common case: the EF named by SFI is already the current one.
    auto current = card.fs().Load(ch.current_ef);
    if (current.ok() && current->is_ef() && current->sfi == sfi &&
        current->parent == ch.current_df) {
      CARD_TRY(CheckOperational(*current));
      CARD_TRY(card.CheckReachable(ch, *current));
      return current;
    }
  }
  if (sfi != 0) {
    CARD_ASSIGN(FileNode df, card.CurrentDf(ch));
    CARD_ASSIGN(ef, card.fs().ChildBySfi(df, sfi));
    if (ch.current_ef != ef.id) {
      card.Select(ch, ef);
    }
  } else {
    if (ch.current_ef == kNoNode) return Error::kNoCurrentEf;
    auto loaded = card.fs().Load(ch.current_ef);
    if (!loaded.ok() || !loaded->is_ef()) {
      ch.current_ef = kNoNode;
      return Error::kNoCurrentEf;
    }
    ef = std::move(*loaded);
  }
  CARD_TRY(CheckOperational(ef));
  CARD_TRY(card.CheckReachable(ch, ef));
  return ef;
}

}  // namespace tessera::card
