// Executable load files that GlobalPlatform LOAD brought (docs/applets.md §2; GP CS 2.3 §9.3):
// each is one EF, every access condition "never", in a DF of the MF that has no name (so that
// SELECT by name never reaches it) and the FID 7FC0. An EF holds the load file's AID, its code
// format, the AIDs of its modules (what GET STATUS lists and INSTALL [for install] names) and
// its code, which the format's runtime copies into each instance it installs. Deleting a load
// file deletes its EF and wipes its blocks, like an application's data.
#pragma once

#include <optional>
#include <vector>

#include "card/kernel/card_error.h"
#include "core/bytes.h"

namespace tessera::card {

class Card;

inline constexpr uint16_t kLoadFilesDfFid = 0x7FC0;

struct LoadFile {
  Bytes aid;
  uint8_t code_format = 0;
  std::vector<Bytes> modules;
  uint16_t node = 0xFFFF;  // its EF
};

// Every load file, in the order they were loaded (none: an empty list).
CardResult<std::vector<LoadFile>> AllLoadFiles(Card& card);
CardResult<std::optional<LoadFile>> FindLoadFile(Card& card, ByteView aid);
// The code bytes of `file`.
CardResult<Bytes> LoadFileCode(Card& card, const LoadFile& file);
// Stores a new load file in the open transaction (6A84 when the card is full).
CardStatus StoreLoadFile(Card& card, const LoadFile& file, ByteView code);
// Deletes `file`'s EF (wiped after the commit).
CardStatus DeleteLoadFile(Card& card, const LoadFile& file);

}  // namespace tessera::card
