// SELECT (A4), ISO/IEC 7816-4 §11.2.2.
#include <optional>

#include "card/fs/fcp.h"
#include "card/iso/handlers.h"
#include "format/status_words.h"

namespace tessera::card {
namespace {

CardResult<FileNode> ByFid(Card& card, ChannelState& ch, uint16_t fid) {
  FileSystem& fs = card.fs();
  CARD_ASSIGN(FileNode df, card.CurrentDf(ch));
  if (fid == kMfFid) {
    CARD_ASSIGN(CardRoot root, card.root());
    return fs.Load(root.mf);
  }
  if (fid == df.fid) return df;
  if (auto child = fs.ChildByFid(df, fid); child.ok()) return child;
  if (df.parent != kNoNode) {
    CARD_ASSIGN(FileNode parent, fs.Load(df.parent));
    if (parent.fid == fid) return parent;
    if (auto sibling = fs.ChildByFid(parent, fid); sibling.ok()) return sibling;
  }
  return Error::kFileNotFound;
}

CardResult<FileNode> ByPath(Card& card, FileNode start, ByteView path) {
  if (path.empty() || path.size() % 2 != 0) return Error::kWrongData;
  FileNode at = std::move(start);
  for (size_t i = 0; i < path.size(); i += 2) {
    const uint16_t fid = GetU16(&path[i]);
    if (i == 0 && fid == kMfFid) {
      CARD_ASSIGN(CardRoot root, card.root());
      CARD_ASSIGN(at, card.fs().Load(root.mf));
      continue;
    }
    if (!at.is_df()) return Error::kFileNotFound;
    CARD_ASSIGN(at, card.fs().ChildByFid(at, fid));
  }
  return at;
}

CardResult<FileNode> ByName(Card& card, ChannelState& ch, ByteView name, uint8_t occurrence) {
  CARD_ASSIGN(CardRoot root, card.root());
  if (name.empty()) return card.fs().Load(root.mf);
  CARD_ASSIGN(auto matches, card.fs().DfsByName(root.mf, name));
  if (matches.empty()) return Error::kFileNotFound;
  const bool same_name = ch.last_df_name == Bytes(name.begin(), name.end());
  size_t current = matches.size();
  for (size_t i = 0; i < matches.size(); ++i) {
    if (matches[i].id == ch.current_df) current = i;
  }
  switch (occurrence) {
    case 0x00:
      return matches.front();  // first
    case 0x01:
      return matches.back();  // last
    case 0x02:                // next
      if (!same_name || current == matches.size()) return matches.front();
      if (current + 1 >= matches.size()) return Error::kFileNotFound;
      return matches[current + 1];
    default:  // previous
      if (!same_name || current == matches.size()) return matches.back();
      if (current == 0) return Error::kFileNotFound;
      return matches[current - 1];
  }
}

}  // namespace

CardResult<Response> HandleSelect(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  const uint8_t response_kind = cmd.p2 & 0x0C;  // 00 FCI, 04 FCP, 08 FMD, 0C none
  const uint8_t occurrence = cmd.p2 & 0x03;
  if ((cmd.p2 & 0xF0) != 0) return Error::kWrongP1P2;
  if (occurrence != 0 && cmd.p1 != 0x04) return Error::kWrongP1P2;

  // A registered application (the issuer security domain among them): by its AID, a leading
  // part of it, or (the ISD) an empty SELECT. When the application has a DF named by its AID,
  // that DF becomes current too.
  if (cmd.p1 == 0x04 && occurrence == 0) {
    if (Application* app = card.FindApplication(cmd.data); app != nullptr) {
      CARD_ASSIGN(CardRoot root, card.root());
      // A locked card answers only its issuer security domain (GP CS: CARD_LOCKED).
      if (root.gp_life_cycle == kGpCardLocked && app != card.issuer_security_domain()) {
        return Error::kFunctionNotSupported;
      }
      std::optional<FileNode> app_df;
      if (!cmd.data.empty()) {
        CARD_ASSIGN(auto dfs, card.fs().DfsByName(root.mf, app->aid()));
        for (const FileNode& df : dfs) {
          if (std::equal(df.df_name.begin(), df.df_name.end(), app->aid().begin(),
                         app->aid().end())) {
            app_df = df;
            break;
          }
        }
      }
      if (app->installed()) {
        CARD_ASSIGN(bool vetoed, card.Vetoed(ch, app->aid()));
        if (vetoed) return Error::kConditionsNotSatisfied;
      }
      CARD_ASSIGN(Response r, app->Select(card, ch, cmd));
      if (app_df) {
        card.Select(ch, *app_df);
        if (r.sw == sw::kOk && app_df->terminated()) r.sw = sw::kWarningFileTerminated;
        if (r.sw == sw::kOk && app_df->deactivated()) r.sw = sw::kWarningFileDeactivated;
      }
      card.SelectApplication(ch, app, app_df ? app_df->id : kNoNode);
      ch.last_df_name.assign(cmd.data.begin(), cmd.data.end());
      return r;
    }
  }
  CardResult<FileNode> target = Error::kFileNotFound;
  switch (cmd.p1) {
    case 0x00:
      if (cmd.data.empty()) {
        CARD_ASSIGN(CardRoot root, card.root());
        target = card.fs().Load(root.mf);
      } else if (cmd.data.size() != 2) {
        return Error::kWrongData;
      } else {
        target = ByFid(card, ch, GetU16(cmd.data.data()));
      }
      break;
    case 0x01:
    case 0x02: {
      if (cmd.data.size() != 2) return Error::kWrongData;
      CARD_ASSIGN(FileNode df, card.CurrentDf(ch));
      target = card.fs().ChildByFid(df, GetU16(cmd.data.data()));
      if (target.ok() && target->is_df() != (cmd.p1 == 0x01)) target = Error::kFileNotFound;
      break;
    }
    case 0x03: {
      if (!cmd.data.empty()) return Error::kWrongData;
      CARD_ASSIGN(FileNode df, card.CurrentDf(ch));
      if (df.parent == kNoNode) return Error::kFileNotFound;
      target = card.fs().Load(df.parent);
      break;
    }
    case 0x04:
      if (cmd.data.size() > kMaxDfName) return Error::kWrongData;
      target = ByName(card, ch, cmd.data, occurrence);
      break;
    case 0x08: {
      CARD_ASSIGN(CardRoot root, card.root());
      CARD_ASSIGN(FileNode mf, card.fs().Load(root.mf));
      target = ByPath(card, mf, cmd.data);
      break;
    }
    case 0x09: {
      CARD_ASSIGN(FileNode df, card.CurrentDf(ch));
      target = ByPath(card, df, cmd.data);
      break;
    }
    default:
      return Error::kWrongP1P2;
  }
  if (!target.ok()) return target.error();
  if (cmd.p1 == 0x04) {
    CARD_ASSIGN(CardRoot root, card.root());
    if (root.gp_life_cycle == kGpCardLocked) return Error::kFunctionNotSupported;
  }
  const FileNode& file = *target;
  // Selecting a file outside the selected application's own DF deselects the application,
  // which ends its secure-channel session.
  if (ch.selected_app != nullptr) {
    CARD_ASSIGN(bool inside, card.fs().IsWithin(file, ch.app_df));
    if (!inside) card.SelectApplication(ch, nullptr, kNoNode);
  }
  // A file inside an installed application's DF is reached only through the application,
  // under its state (docs/applications.md §2): no back door to its files by FID or path.
  // Inside the application already selected, SELECT still answers with its state's warning.
  uint16_t app_status = sw::kOk;
  CARD_ASSIGN(Card::Owner owner, card.ApplicationOwning(file));
  if (owner.app != nullptr) {
    CARD_ASSIGN(CardRoot root, card.root());
    if (root.gp_life_cycle == kGpCardLocked) return Error::kFunctionNotSupported;
    CARD_ASSIGN(app_status, owner.app->Selectable(card));
    CARD_ASSIGN(bool vetoed, card.Vetoed(ch, owner.app->aid()));
    if (vetoed) return Error::kConditionsNotSatisfied;
    if (owner.app != ch.selected_app) card.SelectApplication(ch, owner.app, owner.df);
  }
  card.Select(ch, file);
  if (cmd.p1 == 0x04) ch.last_df_name.assign(cmd.data.begin(), cmd.data.end());

  Response r;
  switch (response_kind) {
    case 0x00:
      r.data = EncodeFci(file);
      break;
    case 0x04:
      r.data = EncodeFcp(file);
      break;
    case 0x08:
      r.data = Bytes{0x64, 0x00};
      break;
    default:
      break;
  }
  if (file.terminated())
    r.sw = sw::kWarningFileTerminated;
  else if (file.deactivated())
    r.sw = sw::kWarningFileDeactivated;
  if (app_status != sw::kOk) r.sw = app_status;
  return r;
}

}  // namespace tessera::card
