// CREATE FILE (E0), DELETE FILE (E4), ACTIVATE (44) / DEACTIVATE (04) FILE, TERMINATE DF (E6),
// TERMINATE EF (E8), TERMINATE CARD USAGE (FE): ISO/IEC 7816-9.
#include "card/fs/fcp.h"
#include "card/iso/access_control.h"
#include "card/iso/handlers.h"

namespace tessera::card {
namespace {

CardResult<FileNode> Addressed(Card& card, ChannelState& ch, const CommandApdu& cmd);

// The file a life-cycle command addresses: P1 = 00 with a FID in the data (a child of the
// current DF, or the current DF itself), or no data: the current EF, else the current DF.
// An installed application's DF is never one (its life cycle is the application's state, in
// the registry), nor is any file of an application that is not selected.
CardResult<FileNode> AddressedFile(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  CARD_ASSIGN(FileNode file, Addressed(card, ch, cmd));
  CARD_ASSIGN(Card::Owner owner, card.ApplicationOwning(file));
  if (owner.app != nullptr && (owner.app != ch.selected_app || owner.df == file.id)) {
    return Error::kConditionsNotSatisfied;
  }
  return file;
}

CardResult<FileNode> Addressed(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  if (cmd.p1 != 0 || cmd.p2 != 0) return Error::kWrongP1P2;
  CARD_ASSIGN(FileNode df, card.CurrentDf(ch));
  if (cmd.data.empty()) {
    if (ch.current_ef != kNoNode) {
      auto ef = card.fs().Load(ch.current_ef);
      if (ef.ok()) return ef;
    }
    return df;
  }
  if (cmd.data.size() != 2) return Error::kWrongData;
  const uint16_t fid = GetU16(cmd.data.data());
  if (fid == df.fid) return df;
  return card.fs().ChildByFid(df, fid);
}

// The access condition for changing a file's state: its own, or for the MF-less case the parent's.
CardResult<Response> ChangeLcs(Card& card, ChannelState& ch, const CommandApdu& cmd,
                               uint8_t access_mode, uint8_t new_lcs, int kind_filter) {
  CARD_ASSIGN(FileNode file, AddressedFile(card, ch, cmd));
  if (kind_filter == 1 && !file.is_df()) return Error::kIncompatibleFile;
  if (kind_filter == 2 && !file.is_ef()) return Error::kIncompatibleFile;
  CARD_TRY(CheckAccess(card, ch, file, access_mode));
  if (file.terminated()) return Error::kConditionsNotSatisfied;  // irreversible
  file.lcs = new_lcs;
  CARD_TRY(card.fs().Save(file));
  card.Select(ch, file);
  return Response{};
}

}  // namespace

CardResult<Response> HandleCreateFile(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  if (cmd.p1 != 0 || cmd.p2 != 0) return Error::kWrongP1P2;
  CARD_ASSIGN(FileNode spec, ParseCreateFcp(cmd.data));
  CARD_ASSIGN(FileNode df, card.CurrentDf(ch));
  CARD_TRY(CheckOperational(df));
  CARD_TRY(CheckAccess(card, ch, df, spec.is_df() ? kAmCreateDf : kAmCreateEf));
  CARD_ASSIGN(CardRoot root, card.root());
  CARD_ASSIGN(FileNode created, card.fs().Create(df, std::move(spec), root.mf));
  card.Select(ch, created);
  return Response{};
}

CardResult<Response> HandleDeleteFile(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  CARD_ASSIGN(FileNode file, AddressedFile(card, ch, cmd));
  if (file.parent == kNoNode) return Error::kConditionsNotSatisfied;  // not the MF
  CARD_ASSIGN(FileNode parent, card.fs().Load(file.parent));
  // Either the file's own "delete self" or the parent's "delete child" condition suffices.
  if (!CheckAccess(card, ch, file, kAmDeleteSelf).ok()) {
    CARD_TRY(CheckAccess(card, ch, parent, kAmDeleteChild));
  }
  CARD_TRY(card.fs().Delete(file));
  card.Select(ch, parent);
  card.ForgetDeleted();
  return Response{};
}

CardResult<Response> HandleActivateFile(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  return ChangeLcs(card, ch, cmd, kAmActivate, kLcsActivated, 0);
}

CardResult<Response> HandleDeactivateFile(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  return ChangeLcs(card, ch, cmd, kAmDeactivate, kLcsDeactivated, 0);
}

CardResult<Response> HandleTerminateDf(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  return ChangeLcs(card, ch, cmd, kAmTerminate, kLcsTerminated, 1);
}

CardResult<Response> HandleTerminateEf(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  return ChangeLcs(card, ch, cmd, kAmTerminate, kLcsTerminated, 2);
}

CardResult<Response> HandleTerminateCardUsage(Card& card, ChannelState& ch,
                                              const CommandApdu& cmd) {
  if (cmd.p1 != 0 || cmd.p2 != 0) return Error::kWrongP1P2;
  if (!cmd.data.empty()) return Error::kWrongLength;
  CARD_ASSIGN(CardRoot root, card.root());
  CARD_ASSIGN(FileNode mf, card.fs().Load(root.mf));
  CARD_TRY(CheckAccess(card, ch, mf, kAmTerminate));
  // Never from a stored command: the run could not even be acknowledged afterwards.
  if (card.privileged_internal(ch)) return Error::kConditionsNotSatisfied;
  root.card_state = kCardTerminated;
  CARD_TRY(SaveRoot(card.store(), root));
  return Response{};
}

}  // namespace tessera::card
