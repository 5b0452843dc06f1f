#include "card/registry/app_lifecycle.h"

#include "card/kernel/card.h"
#include "card/kernel/identifiers.h"
#include "card/kernel/module.h"
#include "card/registry/admin_registry.h"
#include "core/tlv.h"

namespace tessera::card {
namespace {

constexpr uint16_t kFirstAppFid = 0x4101;
constexpr uint16_t kEfDirFid = 0x2F00;
constexpr uint8_t kPseDirSfi = 1;

bool Same(ByteView a, ByteView b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

CardResult<uint16_t> FreeFid(Card& card, const FileNode& mf) {
  CARD_ASSIGN(auto children, card.fs().Children(mf));
  for (uint32_t fid = kFirstAppFid; fid < 0x4200; ++fid) {
    bool used = false;
    for (const FileNode& c : children) used = used || c.fid == fid;
    if (!used) return static_cast<uint16_t>(fid);
  }
  return Error::kNotEnoughMemory;
}

AppRecord RecordFromEntry(const RegistryEntry& e, std::string admin_name) {
  AppRecord r;
  r.aid = e.aid;
  r.name = e.name;
  r.admin_name = std::move(admin_name);
  r.admin_id = e.admin_id;
  r.use_start = e.use_start;
  r.expiration = e.expiration;
  r.status = e.state;
  return r;
}

// Rewrites the records of `ef` to exactly `records`, touching only the slots that change.
CardStatus RewriteRecords(Card& card, FileNode ef, const std::vector<Bytes>& records) {
  if (records.size() > ef.max_records) return Error::kNotEnoughMemory;
  for (size_t i = 0; i < records.size(); ++i) {
    if (records[i].size() > ef.size) return Error::kNotEnoughMemory;
    if (i < ef.record_count) {
      CARD_ASSIGN(Bytes now, card.fs().ReadSlot(ef, static_cast<uint32_t>(i)));
      if (now == records[i]) continue;
    }
    CARD_TRY(card.fs().WriteSlot(ef, static_cast<uint32_t>(i), records[i]));
  }
  for (size_t i = records.size(); i < ef.record_count; ++i) {
    CARD_TRY(card.fs().WriteSlot(ef, static_cast<uint32_t>(i), {}));
  }
  if (ef.record_count != records.size()) {
    ef.record_count = static_cast<uint16_t>(records.size());
    CARD_TRY(card.fs().Save(ef));
  }
  return Ok{};
}

// A self-issuance run (privileged mode) cannot take the issuance application out of service:
// its journal must be there to record the run (docs/self-issuance.md §5).
CardStatus CheckNotRunning(Card& card, const RegistryEntry& e) {
  if (card.external_closed() && Same(e.aid, aid::kIssuanceApplication)) {
    return Error::kConditionsNotSatisfied;
  }
  return Ok{};
}

}  // namespace

bool IsReservedAid(const Card& card, ByteView aid, ByteView module_aid) {
  // One a prefix of the other: SELECT by a partial name could reach the wrong one.
  auto overlaps = [&](ByteView r) {
    const size_t n = std::min(aid.size(), r.size());
    return std::equal(aid.begin(), aid.begin() + static_cast<ptrdiff_t>(n), r.begin());
  };
  if (overlaps(aid::kIssuerSecurityDomain) || overlaps(aid::kPse)) return true;
  for (const auto& m : card.modules()) {
    if (overlaps(m->aid())) return true;
    const ByteView bound = m->bound_application();
    if (bound.empty()) continue;
    if (overlaps(bound) && !Same(aid, bound)) return true;
    // The bound AID belongs to its module, and the module to that AID.
    if (Same(aid, bound) != Same(module_aid, m->aid())) return true;
  }
  return false;
}

CardResult<RegistryEntry> InstallApplication(Card& card, Installation& in) {
  RegistryEntry& e = in.entry;
  if (e.aid.size() < 5 || e.aid.size() > kMaxAidLength) return Error::kWrongData;
  if (IsReservedAid(card, e.aid, e.module_aid)) return Error::kWrongData;
  if (e.state != AppState::kActive && e.state != AppState::kLocked) return Error::kWrongData;
  const bool brings_code = e.code_format != kCodeBuiltIn;
  Module* module = card.ModuleFor(e);
  if (module == nullptr) {
    return brings_code ? Error::kFunctionNotSupported : Error::kReferencedDataNotFound;
  }
  if (!brings_code && !in.system.empty()) return Error::kWrongData;
  CARD_ASSIGN(CardRoot root, card.root());
  CARD_ASSIGN(Registry registry, LoadRegistry(card.store(), root));
  CARD_ASSIGN(auto existing, FindEntry(card.store(), registry, e.aid));
  if (existing) return Error::kFileExists;
  CARD_ASSIGN(auto named, card.fs().DfsByName(root.mf, e.aid));
  for (const FileNode& df : named) {
    if (Same(df.df_name, e.aid)) return Error::kFileExists;
  }
  if (registry.entries.size() >= kMaxApplications) return Error::kNotEnoughMemory;
  std::string admin_name = "ISSUER";
  if (e.admin_id != kIssuerAdminId) {
    CARD_ASSIGN(auto admin, FindAdministrator(card.store(), root, e.admin_id));
    if (!admin) return Error::kReferencedDataNotFound;
    admin_name = admin->name;
  }
  // The application's home: a DF named by its AID, under the MF.
  CARD_ASSIGN(FileNode mf, card.fs().Load(root.mf));
  FileNode spec;
  spec.kind = FileKind::kDf;
  spec.fdb = 0x38;
  CARD_ASSIGN(spec.fid, FreeFid(card, mf));
  spec.df_name = e.aid;
  spec.security = kApplicationDfSecurity;
  CARD_ASSIGN(FileNode df, card.fs().Create(mf, spec, root.mf));
  e.df = df.id;
  AppContext app{&card, &card.internal_channel(), e, df};
  // The code: the bytes an installation brings, in the DF; then its reference, in the entry.
  if (brings_code) {
    CARD_ASSIGN(Module::StoredCode stored,
                module->StoreCode(app, in.code, in.system, in.module_in_code));
    e.module_aid = std::move(stored.module_aid);
    if (e.name.empty()) e.name = std::move(stored.module_name);
    if (IsReservedAid(card, e.module_aid, {})) return Error::kWrongData;
    CARD_ASSIGN(app.df, card.fs().Load(e.df));
  }
  CARD_TRY(SaveEntry(card.store(), e));
  app.entry = e;
  // The data: the module's files.
  CARD_TRY(module->Install(app, in.params));
  // The record.
  CARD_ASSIGN(root, card.root());  // Create may have changed nothing, but stay current
  registry.entries.push_back(e.block);
  CARD_TRY(SaveRegistry(card.store(), root, registry));
  if (!Same(e.aid, aid::kManagementApplication)) {
    CARD_ASSIGN(auto list, ApplicationListFile(card));
    if (list) {
      AppRecord record = in.record ? *in.record : RecordFromEntry(e, admin_name);
      record.status = e.state;
      CARD_TRY(AppendListRecord(card, *list, record));
    }
  }
  CARD_ASSIGN(app.df, card.fs().Load(e.df));
  CARD_TRY(module->AfterInstall(app));
  CARD_TRY(RefreshDirectories(card));
  card.store().MarkSensitive();  // the application's data went through the journal
  return e;
}

CardStatus ChangeApplicationState(Card& card, RegistryEntry& e, AppState to, bool update_record) {
  CARD_TRY(CheckNotRunning(card, e));
  if (!IsAllowedTransition(e.state, to)) return Error::kConditionsNotSatisfied;
  if (to == AppState::kErased && e.state != AppState::kErased) e.before_erase = e.state;
  e.state = to;
  CARD_TRY(SaveEntry(card.store(), e));
  if (update_record) {
    CARD_ASSIGN(auto list, ApplicationListFile(card));
    if (list) {
      CARD_ASSIGN(auto slot, FindRecordSlot(card, *list, e.aid));
      if (slot) {
        CARD_ASSIGN(AppRecord r, ReadListRecord(card, *list, *slot));
        r.status = to;
        CARD_TRY(WriteListRecord(card, *list, *slot, r));
      }
    }
  }
  return RefreshDirectories(card);
}

CardStatus DeleteApplication(Card& card, const RegistryEntry& e, bool remove_record) {
  CARD_TRY(CheckNotRunning(card, e));
  if (Module* module = card.ModuleFor(e); module != nullptr) {
    CARD_ASSIGN(FileNode df, card.fs().Load(e.df));
    AppContext app{&card, &card.internal_channel(), e, df};
    CARD_TRY(module->Delete(app));
  }
  if (remove_record && !Same(e.aid, aid::kManagementApplication)) {
    CARD_ASSIGN(auto list, ApplicationListFile(card));
    if (list) {
      CARD_ASSIGN(auto slot, FindRecordSlot(card, *list, e.aid));
      if (slot) CARD_TRY(RemoveListRecord(card, *list, *slot));
    }
  }
  CARD_ASSIGN(FileNode df, card.fs().Load(e.df));
  CARD_TRY(card.fs().Delete(df));
  CARD_ASSIGN(CardRoot root, card.root());
  CARD_ASSIGN(Registry registry, LoadRegistry(card.store(), root));
  std::erase(registry.entries, e.block);
  CARD_TRY(SaveRegistry(card.store(), root, registry));
  CARD_TRY_STATUS(card.store().FreeBlock(e.block));  // wiped after the commit
  CARD_TRY(card.ApplicationDeleted(e.aid));
  CARD_TRY(RefreshDirectories(card));
  card.store().MarkSensitive();
  card.ForgetApplication(e.block);
  card.ForgetDeleted();
  return Ok{};
}

CardStatus RefreshDirectories(Card& card) {
  CARD_ASSIGN(CardRoot root, card.root());
  CARD_ASSIGN(Registry registry, LoadRegistry(card.store(), root));
  CARD_ASSIGN(auto entries, AllEntries(card.store(), registry));
  std::vector<Bytes> pse, dir;
  uint8_t priority = 1;
  for (const RegistryEntry& e : entries) {
    if (e.state != AppState::kActive || !InsideWindow(e, registry.trusted_date)) continue;
    if (Same(e.aid, aid::kManagementApplication)) continue;  // not a payment-style application
    TlvBuilder p;
    p.Open(0x70).Open(0x61).Add(0x4F, e.aid).Add(0x50, ToBytes(e.name));
    p.AddByte(0x87, priority++).Close().Close();
    pse.push_back(p.Take());
    TlvBuilder d;
    d.Open(0x61).Add(0x4F, e.aid).Add(0x50, ToBytes(e.name)).Close();
    dir.push_back(d.Take());
  }
  CARD_ASSIGN(auto pse_dfs, card.fs().DfsByName(root.mf, aid::kPse));
  for (const FileNode& df : pse_dfs) {
    if (!Same(df.df_name, aid::kPse)) continue;
    auto ef = card.fs().ChildBySfi(df, kPseDirSfi);
    if (ef.ok() && ef->is_record_ef()) CARD_TRY(RewriteRecords(card, *ef, pse));
  }
  CARD_ASSIGN(FileNode mf, card.fs().Load(root.mf));
  auto ef_dir = card.fs().ChildByFid(mf, kEfDirFid);
  if (ef_dir.ok() && ef_dir->is_record_ef()) CARD_TRY(RewriteRecords(card, *ef_dir, dir));
  return Ok{};
}

}  // namespace tessera::card
