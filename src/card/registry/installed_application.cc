#include "card/registry/installed_application.h"

#include "card/kernel/card.h"
#include "card/kernel/identifiers.h"
#include "card/registry/admin_registry.h"
#include "core/tlv.h"
#include "format/status_words.h"

namespace tessera::card {
namespace {

bool SameAid(ByteView a, ByteView b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

Bytes PlainFci(ByteView aid, std::string_view name) {
  TlvBuilder b;
  b.Open(0x6F).Add(0x84, aid).Open(0xA5);
  if (!name.empty()) b.Add(0x50, ToBytes(name));
  b.Close().Close();
  return b.Take();
}

}  // namespace

CardResult<Response> Module::Select(AppContext& app, const CommandApdu& cmd) {
  Response r;
  if ((cmd.p2 & 0x0C) != 0x0C) r.data = PlainFci(app.entry.aid, app.entry.name);
  return r;
}

CardResult<AppContext> CurrentApp(Card& card, ChannelState& ch) {
  if (ch.selected_app == nullptr || !ch.selected_app->installed()) {
    return Error::kConditionsNotSatisfied;
  }
  return static_cast<InstalledApplication*>(ch.selected_app)->Context(card, ch);
}

CardResult<AppContext> InstalledApplication::Context(Card& card, ChannelState& ch) {
  auto entry = LoadEntry(card.store(), entry_block_);
  if (!entry.ok() || !SameAid(entry->aid, aid_)) return Error::kConditionsNotSatisfied;
  CARD_ASSIGN(FileNode df, card.fs().Load(entry->df));
  return AppContext{&card, &ch, std::move(*entry), std::move(df)};
}

CardResult<uint16_t> InstalledApplication::Selectable(Card& card) {
  auto entry = LoadEntry(card.store(), entry_block_);
  if (!entry.ok() || !SameAid(entry->aid, aid_)) return Error::kFileNotFound;
  CARD_ASSIGN(CardRoot root, card.root());
  CARD_ASSIGN(Registry registry, LoadRegistry(card.store(), root));
  if (!InsideWindow(*entry, registry.trusted_date)) return Error::kFileNotFound;
  switch (entry->state) {
    case AppState::kActive:
      return sw::kOk;
    case AppState::kLocked:
      return sw::kWarningFileDeactivated;  // 6283
    case AppState::kTerminated:
      return sw::kWarningFileTerminated;  // 6285
    case AppState::kErased:
      break;
  }
  return Error::kFileNotFound;
}

CardResult<Response> InstalledApplication::Select(Card& card, ChannelState& ch,
                                                  const CommandApdu& cmd) {
  CARD_ASSIGN(uint16_t status, Selectable(card));
  if (status != sw::kOk) {
    // The module's code never runs: the OS answers with the AID alone.
    Response r;
    if ((cmd.p2 & 0x0C) != 0x0C) r.data = PlainFci(aid_, {});
    r.sw = status;
    return r;
  }
  CARD_ASSIGN(AppContext app, Context(card, ch));
  return module_->Select(app, cmd);
}

CardResult<AppAccess> InstalledApplication::Admit(Card& card, ChannelState& ch,
                                                  const CommandApdu& cmd) {
  (void)ch;
  auto state = LoadEntryState(card.store(), entry_block_);
  if (!state.ok()) return Error::kConditionsNotSatisfied;
  // Whatever runs now may touch the application's data: its journal body is zeroed after the
  // commit, so nothing of the data outlives the application (docs/applications.md §2).
  card.store().MarkSensitive();
  switch (*state) {
    case AppState::kActive:
      return AppAccess::kCode;
    case AppState::kTerminated: {
      const bool read = cmd.ins == ins::kReadBinary || cmd.ins == ins::kReadBinary + 1 ||
                        cmd.ins == ins::kReadRecord || cmd.ins == ins::kReadRecord + 1;
      if (read && (cmd.cla & 0x80) == 0) return AppAccess::kOsOnly;
      return Error::kConditionsNotSatisfied;
    }
    case AppState::kLocked:
    case AppState::kErased:
      break;
  }
  return Error::kConditionsNotSatisfied;
}

CardResult<std::vector<KeySet>> InstalledApplication::KeySets(Card& card) {
  CARD_ASSIGN(CardRoot root, card.root());
  CARD_ASSIGN(std::vector<KeySet> sets, AllKeySets(card.store(), root));
  CARD_ASSIGN(RegistryEntry entry, LoadEntry(card.store(), entry_block_));
  CARD_ASSIGN(auto admins, LoadAdministrators(card.store(), root));
  for (const Administrator& a : admins) {
    if (a.key_set == 0xFFFF) continue;
    if (keys_ == SessionKeys::kOwnAdministrator && a.id != entry.admin_id) {
      continue;
    }
    CARD_ASSIGN(KeySet set, LoadKeySet(card.store(), a.key_set));
    sets.push_back(std::move(set));
  }
  return sets;
}

CardStatus InstalledApplication::SaveKeySet(Card& card, KeySet& set) {
  CARD_ASSIGN(CardRoot root, card.root());
  for (uint16_t b : root.key_sets) {
    if (b != 0xFFFF && b == set.block) return card::SaveKeySet(card.store(), root, set);
  }
  if (set.block == 0xFFFF) return Error::kConditionsNotSatisfied;  // no PUT KEY here
  return WriteKeySet(card.store(), set);
}

}  // namespace tessera::card
