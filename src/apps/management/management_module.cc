// The management application (seed JP6426411B2; docs/applications.md §4). It keeps the
// application list (EF SFI 1) that anyone may read with the OS's READ RECORD and SEARCH
// RECORD (the acquisition command), and takes the two commands that manage applications by
// record, in a secure channel opened with it:
//  - UPDATE RECORD (the update command): the update unit checks and writes the new record;
//    the management application detects the status change and gives the change instruction to
//    the OS's change unit (ChangeApplicationState), in the same transaction;
//  - ERASE RECORD (the delete command): the record deletion unit removes the record and gives
//    the deletion instruction to the OS's application deletion unit (DeleteApplication).
// Installing it collects a record for every application already on the card.
#include "apps/management/management_module.h"
#include "apps/common/module_pin.h"
#include "card/gp/secure_channel_service.h"
#include "card/kernel/card.h"
#include "card/kernel/identifiers.h"
#include "card/registry/admin_registry.h"
#include "card/registry/app_lifecycle.h"
#include "core/tlv.h"

namespace tessera::apps {
namespace {

using card::AppContext;
using card::AppRecord;
using card::AppState;
using card::CardResult;
using card::CardStatus;
using card::Error;
using card::Response;

// Who the session speaks for: an administrator, or the issuer (an ISD key set).
struct Caller {
  bool issuer = false;
  uint8_t admin_id = 0;
};

CardResult<Caller> SessionCaller(card::Card& c, card::ChannelState& ch) {
  CARD_TRY(card::RequireAdminSession(c, ch));
  if (c.privileged_internal(ch)) return Caller{true, card::kIssuerAdminId};  // a stored command
  if (!ch.SecuredBy(ch.selected_app)) return Error::kSecurityNotSatisfied;
  CARD_ASSIGN(card::CardRoot root, c.root());
  CARD_ASSIGN(auto admin, card::AdministratorOfKeySet(c.store(), root, ch.scp_key_set_block));
  if (admin) return Caller{false, admin->id};
  return Caller{true, card::kIssuerAdminId};
}

// The record P1 names (P2: 04 with the list current, or 0C = SFI 1), and its slot.
struct Target {
  card::FileNode list;
  uint16_t slot = 0;
  AppRecord record;
  card::RegistryEntry entry;
};

CardResult<Target> TargetRecord(card::Card& c, const CommandApdu& cmd) {
  if (cmd.p2 != 0x04 && cmd.p2 != 0x0C) return Error::kWrongP1P2;
  CARD_ASSIGN(auto list, card::ApplicationListFile(c));
  if (!list) return Error::kConditionsNotSatisfied;
  if (cmd.p1 == 0 || cmd.p1 > list->record_count) return Error::kRecordNotFound;
  Target t;
  t.list = *list;
  t.slot = static_cast<uint16_t>(cmd.p1 - 1);
  CARD_ASSIGN(t.record, card::ReadListRecord(c, t.list, t.slot));
  CARD_ASSIGN(card::CardRoot root, c.root());
  CARD_ASSIGN(card::Registry registry, card::LoadRegistry(c.store(), root));
  CARD_ASSIGN(auto entry, card::FindEntry(c.store(), registry, t.record.aid));
  if (!entry) return Error::kMemoryFailure;  // a record without its application: damaged
  t.entry = std::move(*entry);
  return t;
}

// One administrator never acts on another's records; the issuer acts on all.
CardStatus MayManage(const Caller& caller, const AppRecord& record) {
  if (caller.issuer || caller.admin_id == record.admin_id) return card::Ok{};
  return Error::kSecurityNotSatisfied;
}

// The issuer's own records (administrator 00) need no signature from the issuer's session:
// the session is the issuer's authority, as it is for GlobalPlatform's INSTALL and SET STATUS
// on the same applications, so both doors work for the issuer without a signing key. A
// signature that is there must still verify; another administrator's record always needs
// that administrator's signature, whoever sends it.
bool IssuerMayLeaveUnsigned(const Caller& caller, const AppRecord& updated,
                            card::SignatureState sig) {
  return caller.issuer && updated.admin_id == card::kIssuerAdminId &&
         sig == card::SignatureState::kUnsigned;
}

// The update unit.
CardResult<Response> HandleUpdateRecord(card::Card& c, card::ChannelState& ch,
                                        const CommandApdu& cmd) {
  CARD_ASSIGN(Caller caller, SessionCaller(c, ch));
  CARD_ASSIGN(Target t, TargetRecord(c, cmd));
  CARD_TRY(MayManage(caller, t.record));
  CARD_ASSIGN(AppRecord updated, card::ParseRecord(cmd.data));
  if (updated.aid != t.record.aid) return Error::kWrongData;
  if (updated.admin_id != t.record.admin_id) return Error::kSecurityNotSatisfied;
  CARD_ASSIGN(card::SignatureState sig, card::CheckSignature(c, updated));
  if (sig != card::SignatureState::kValid && !IssuerMayLeaveUnsigned(caller, updated, sig)) {
    return Error::kSecurityNotSatisfied;
  }
  if (!card::IsAllowedTransition(t.entry.state, updated.status)) {
    return Error::kConditionsNotSatisfied;
  }
  CARD_TRY(card::WriteListRecord(c, t.list, t.slot, updated));
  // The signed fields the OS keeps too (name, dates: selection and the directories use them).
  t.entry.name = updated.name;
  t.entry.use_start = updated.use_start;
  t.entry.expiration = updated.expiration;
  if (updated.status != t.entry.state) {
    // The status changed: the change instruction.
    CARD_TRY(card::ChangeApplicationState(c, t.entry, updated.status, /*update_record=*/false));
  } else {
    CARD_TRY(card::SaveEntry(c.store(), t.entry));
    CARD_TRY(card::RefreshDirectories(c));
  }
  return Response{};
}

// The record deletion unit.
CardResult<Response> HandleEraseRecord(card::Card& c, card::ChannelState& ch,
                                       const CommandApdu& cmd) {
  CARD_ASSIGN(Caller caller, SessionCaller(c, ch));
  if (!cmd.data.empty()) return Error::kWrongLength;
  CARD_ASSIGN(Target t, TargetRecord(c, cmd));
  CARD_TRY(MayManage(caller, t.record));
  CARD_TRY(card::RemoveListRecord(c, t.list, t.slot));
  // The deletion instruction.
  CARD_TRY(card::DeleteApplication(c, t.entry, /*remove_record=*/false));
  return Response{};
}

constexpr card::Route kCommands[] = {
    {card::ins::kUpdateRecord, HandleUpdateRecord},
    {card::ins::kEraseRecord, HandleEraseRecord},
};

// The label the PSE gives `aid`, or "".
std::string PseLabel(card::Card& c, ByteView aid) {
  auto root = c.root();
  if (!root.ok()) return "";
  auto dfs = c.fs().DfsByName(root->mf, card::aid::kPse);
  if (!dfs.ok()) return "";
  for (const card::FileNode& df : *dfs) {
    auto ef = c.fs().ChildBySfi(df, 1);
    if (!ef.ok() || !ef->is_record_ef()) continue;
    for (uint16_t i = 0; i < ef->record_count; ++i) {
      auto rec = c.fs().ReadSlot(*ef, i);
      if (!rec.ok()) continue;
      auto entry = FindTlvPath(*rec, std::array<TlvTag, 2>{0x70, 0x61});
      if (!entry.ok() || !*entry) continue;
      auto id = FindTlv((*entry)->value, 0x4F);
      auto label = FindTlv((*entry)->value, 0x50);
      if (id.ok() && *id && label.ok() && *label &&
          std::equal((*id)->value.begin(), (*id)->value.end(), aid.begin(), aid.end())) {
        return std::string((*label)->value.begin(), (*label)->value.end());
      }
    }
  }
  return "";
}

class ManagementModule final : public card::Module {
 public:
  ByteView aid() const override { return card::aid::kManagementModule; }
  std::string_view name() const override { return "MANAGEMENT"; }
  ByteView bound_application() const override { return card::aid::kManagementApplication; }
  std::span<const card::Route> commands() const override { return kCommands; }
  card::SessionKeys session_keys() const override { return card::SessionKeys::kAllAdministrators; }

  CardStatus Install(AppContext& app, ByteView params) override {
    if (!params.empty()) return Error::kWrongData;
    CARD_ASSIGN(card::FileNode list,
                CreateAppFile(app, card::kApplicationListFid, card::kApplicationListSfi,
                              card::EfStructure::kLinearVariable, card::kApplicationListRecordSize,
                              card::kMaxApplications, card::kApplicationListSecurity));
    (void)list;
    return card::Ok{};
  }

  // Collection: a record for every application already on the card, from the PSE and the
  // registry, unsigned until its administrator signs it.
  CardStatus AfterInstall(AppContext& app) override {
    card::Card& c = *app.card;
    CARD_ASSIGN(card::CardRoot root, c.root());
    CARD_ASSIGN(card::Registry registry, card::LoadRegistry(c.store(), root));
    CARD_ASSIGN(auto entries, card::AllEntries(c.store(), registry));
    CARD_ASSIGN(auto list, card::ApplicationListFile(c));
    if (!list) return Error::kMemoryFailure;
    for (const card::RegistryEntry& e : entries) {
      if (e.block == app.entry.block) continue;
      CARD_ASSIGN(auto slot, card::FindRecordSlot(c, *list, e.aid));
      if (slot) continue;
      AppRecord r;
      r.aid = e.aid;
      r.name = PseLabel(c, e.aid);
      if (r.name.empty()) r.name = e.name;
      r.admin_id = e.admin_id;
      r.admin_name = "ISSUER";
      if (e.admin_id != card::kIssuerAdminId) {
        CARD_ASSIGN(auto admin, card::FindAdministrator(c.store(), root, e.admin_id));
        if (admin) r.admin_name = admin->name;
      }
      r.use_start = e.use_start;
      r.expiration = e.expiration;
      r.status = e.state;
      CARD_TRY(card::AppendListRecord(c, *list, r));
    }
    return card::Ok{};
  }
};

}  // namespace

void RegisterManagementModule(card::Card& card) {
  card.AddModule(std::make_shared<ManagementModule>());
}

}  // namespace tessera::apps
