// Card content management on the issuer security domain (docs/applications.md §5, §7): STORE
// DATA uploads (installation files, administrators, the trusted date), INSTALL, LOAD of applet
// packages (docs/applets.md §2), and DELETE of applications and load files. GET STATUS and SET
// STATUS, the registry's GlobalPlatform view, are in isd_card_status.cc.
#include <algorithm>
#include <vector>

#include "card/gp/isd_application.h"
#include "card/gp/key_store.h"
#include "card/gp/load_files.h"
#include "card/gp/secure_channel_service.h"
#include "card/kernel/card_root.h"
#include "card/kernel/identifiers.h"
#include "card/kernel/module.h"
#include "card/registry/admin_registry.h"
#include "card/registry/app_lifecycle.h"
#include "card/registry/installed_application.h"
#include "core/tlv.h"
#include "crypto/ecdsa.h"
#include "format/administrator.h"
#include "format/installation_file.h"
#include "format/status_words.h"

namespace tessera::card {
namespace {

// An upload's object: an installation file with an applet package (docs/applets.md §1),
// its record, data and signature, and the tags and lengths that wrap it.
constexpr size_t kMaxUpload = 32 * 1024 + 1024;

bool Same(ByteView a, ByteView b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

// A one-byte-length field of INSTALL's data.
// Privileges an application may have here (GP CS 2.3 Table 6-1; standards.md §7.7): no DAP
// or mandated-DAP verification (nothing is loaded), none of the third byte's RFU bits.
CardStatus CheckPrivileges(ByteView p) {
  if ((p[0] & 0x41) != 0 || (p[2] & 0x0F) != 0) return Error::kWrongData;
  return Ok{};
}

CardResult<ByteView> TakeLv(ByteView& d) {
  if (d.empty() || d.size() < 1u + d[0]) return Error::kWrongData;
  ByteView v = d.subspan(1, d[0]);
  d = d.subspan(1u + d[0]);
  return v;
}

// The installation file's value (docs/applications.md §5.2): E1 record, C4 or C7 code, [C5
// privileges], [C9 application data], 9E file signature, in that order, each at most once. The
// file signature is the administrator's over every byte before it, so nothing the file makes
// the card do (record, code, privileges, data) can change after signing; the record keeps its
// own signature (over its fields) for the record door afterwards.
CardStatus InstallFromFile(Card& card, ByteView file) {
  // Code bytes (C7 after a well-formed record) in a format no runtime of this card runs: that
  // is the answer whatever follows them.
  if (auto fields = ParseTlvSequence(file);
      fields.ok() && fields->size() >= 2 && (*fields)[0].tag == 0xE1 && (*fields)[1].tag == 0xC7) {
    const TlvView& e1 = (*fields)[0];
    const ByteView code = (*fields)[1].value;
    if (ParseRecord(
            ByteView(e1.value.data() - (e1.encoded_size - e1.value.size()), e1.encoded_size))
            .ok() &&
        (code.empty() || code[0] == kCodeBuiltIn || card.CodeRuntime(code[0]) == nullptr)) {
      return Error::kFunctionNotSupported;
    }
  }
  auto parsed = format::ParseInstallationFileValue(file);
  if (!parsed.ok()) return Error::kWrongData;
  format::InstallationFile& f = parsed->file;
  std::optional<AppRecord> record = f.record;
  Installation in;
  in.entry.module_aid = f.module_aid;
  in.entry.code_format = kCodeBuiltIn;
  if (f.code) {  // a format some runtime runs (checked above)
    in.entry.code_format = (*f.code)[0];
    in.entry.module_aid.clear();
    in.code.assign(f.code->begin() + 1, f.code->end());
  }
  if (f.system) in.system = std::move(*f.system);
  if (f.privileges) {
    in.entry.privileges = *f.privileges;
    CARD_TRY(CheckPrivileges(in.entry.privileges));
  }
  if (f.params) in.params = std::move(*f.params);  // may hold a PIN: one copy
  std::optional<ByteView> file_signature;
  if (!f.signature.empty()) file_signature = ByteView(f.signature);
  const ByteView signed_bytes = parsed->signed_part;
  CARD_ASSIGN(CardRoot root, card.root());
  CARD_ASSIGN(auto admin, FindAdministrator(card.store(), root, record->admin_id));
  if (!admin) return Error::kReferencedDataNotFound;
  if (record->admin_name != admin->name) return Error::kWrongData;  // C0 names its administrator
  // Both signatures by the record's administrator: the file's over everything, the record's
  // over its fields (what UPDATE RECORD and `apps list` check later).
  if (!file_signature) return Error::kSecurityNotSatisfied;
  CARD_ASSIGN(SignatureState file_sig,
              CheckAdministratorSignature(card, record->admin_id, signed_bytes, *file_signature));
  if (file_sig != SignatureState::kValid) return Error::kSecurityNotSatisfied;
  CARD_ASSIGN(SignatureState sig, CheckSignature(card, *record));
  if (sig != SignatureState::kValid) return Error::kSecurityNotSatisfied;
  if (record->status != AppState::kActive && record->status != AppState::kLocked) {
    return Error::kWrongData;
  }
  in.entry.aid = record->aid;
  in.entry.name = record->name;
  in.entry.admin_id = record->admin_id;
  in.entry.use_start = record->use_start;
  in.entry.expiration = record->expiration;
  in.entry.state = record->status;
  in.record = std::move(record);
  CARD_ASSIGN(RegistryEntry installed, InstallApplication(card, in));
  (void)installed;
  return Ok{};
}

}  // namespace

CardResult<bool> KvnInUse(Card& card, const CardRoot& root, uint8_t kvn) {
  if (FindKeySet(card.store(), root, kvn).ok()) return true;
  CARD_ASSIGN(auto admins, LoadAdministrators(card.store(), root));
  for (const Administrator& a : admins) {
    if (a.key_set == 0xFFFF) continue;
    CARD_ASSIGN(KeySet set, LoadKeySet(card.store(), a.key_set));
    if (set.kvn == kvn) return true;
  }
  return false;
}

namespace {

CardStatus AddAdministratorFrom(Card& card, ChannelState& ch, ByteView value) {
  auto parsed = format::ParseAdministratorUpload(value);
  if (!parsed.ok()) return Error::kWrongData;
  // C1, C0 and 86 are required: an administrator is known by its signing key (what it signs
  // its records and installation files with), so one without a key, or with 65 bytes that are
  // no point of P-256, could never sign and would only take a slot.
  if (!crypto::CheckP256PublicKey(parsed->public_key).ok()) return Error::kWrongData;
  Administrator a;
  a.id = parsed->id;
  a.name = parsed->name;
  a.public_key = parsed->public_key;
  std::optional<ByteView> keys;
  if (parsed->key_set) keys = ByteView(*parsed->key_set);
  if (a.id == kIssuerAdminId && keys) return Error::kWrongData;  // the issuer has the ISD's
  CARD_ASSIGN(CardRoot root, card.root());
  CARD_ASSIGN(auto existing, FindAdministrator(card.store(), root, a.id));
  if (existing) return Error::kFileExists;
  if (keys) {
    const uint8_t kvn = (*keys)[0];
    if (kvn == 0 || kvn > 0x7F) return Error::kWrongData;
    CARD_ASSIGN(bool used, KvnInUse(card, root, kvn));
    if (used) return Error::kConditionsNotSatisfied;
    CARD_ASSIGN(crypto::SecureBuffer dek, SessionDek(card, ch));
    Bytes kcvs;
    KeySet set;
    set.kvn = kvn;
    CARD_ASSIGN(set.keys, UnwrapKeyComponents(keys->subspan(1), dek, kcvs));
    CARD_TRY(WriteKeySet(card.store(), set));
    a.key_set = set.block;
    card.store().MarkSensitive();
  }
  return AddAdministrator(card.store(), root, a);
}

CardStatus SetTrustedDate(Card& card, ByteView date) {
  if (!IsValidDate(date, /*allow_zero=*/false)) return Error::kWrongData;
  CARD_ASSIGN(CardRoot root, card.root());
  CARD_ASSIGN(Registry registry, LoadRegistry(card.store(), root));
  // The date never moves backwards: a card that could be sent back in time would make an
  // expired application selectable again.
  if (Bytes(date.begin(), date.end()) < registry.trusted_date) {
    return Error::kConditionsNotSatisfied;
  }
  registry.trusted_date.assign(date.begin(), date.end());
  CARD_TRY(SaveRegistry(card.store(), root, registry));
  return RefreshDirectories(card);
}

CardStatus CarryOutUpload(Card& card, ChannelState& ch, ByteView upload) {
  auto objects = ParseTlvSequence(upload);
  if (!objects.ok() || objects->empty()) return Error::kWrongData;
  for (const TlvView& o : *objects) {
    switch (o.tag) {
      case tag::kInstallationFile:
        CARD_TRY(InstallFromFile(card, o.value));
        break;
      case tag::kAdministrator:
        CARD_TRY(AddAdministratorFrom(card, ch, o.value));
        break;
      case tag::kTrustedDate:
        CARD_TRY(SetTrustedDate(card, o.value));
        break;
      default:
        return Error::kWrongData;
    }
  }
  return Ok{};
}

CardResult<RegistryEntry> VisibleEntry(Card& card, ByteView aid) {
  CARD_ASSIGN(CardRoot root, card.root());
  CARD_ASSIGN(Registry registry, LoadRegistry(card.store(), root));
  CARD_ASSIGN(auto entry, FindEntry(card.store(), registry, aid));
  if (!entry || entry->state == AppState::kErased) return Error::kReferencedDataNotFound;
  return *entry;
}

}  // namespace

CardResult<std::optional<Bytes>> JoinUpload(ChannelState& ch, const CommandApdu& cmd) {
  ChannelState::Content& c = ch.content;
  const bool last = (cmd.p1 & 0x80) != 0;
  const uint8_t format = cmd.p1 & 0x7E;
  if (format != 0x10 && format != 0x00) return Error::kWrongP1P2;
  if (cmd.p2 != (c.uploading ? c.next_block : 0)) {
    c.uploading = false;
    c.upload.clear();
    return Error::kWrongP1P2;  // a block out of sequence drops the upload
  }
  if (c.upload.size() + cmd.data.size() > kMaxUpload) {
    c.uploading = false;
    c.upload.clear();
    return Error::kNotEnoughMemory;
  }
  Append(c.upload, cmd.data);
  c.uploading = true;
  c.next_block = static_cast<uint8_t>(cmd.p2 + 1);
  if (!last) return std::optional<Bytes>();
  Bytes upload = std::move(c.upload);
  c.upload.clear();
  c.uploading = false;
  return std::optional<Bytes>(std::move(upload));
}

CardResult<Response> HandleStoreData(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  CARD_TRY(RequireAdminSession(card, ch));
  ChannelState::Content& c = ch.content;
  const bool last = (cmd.p1 & 0x80) != 0;
  if (!c.personalize_aid.empty()) {
    // INSTALL [for personalization]: each block goes to the application, on its own.
    const Bytes aid = c.personalize_aid;
    if (last) c.personalize_aid.clear();
    CARD_ASSIGN(RegistryEntry entry, VisibleEntry(card, aid));
    if (entry.state != AppState::kActive) return Error::kConditionsNotSatisfied;
    Application* app = card.InstanceFor(entry);
    if (app == nullptr) return Error::kReferencedDataNotFound;
    auto* installed = static_cast<InstalledApplication*>(app);
    CARD_ASSIGN(AppContext ctx, installed->Context(card, ch));
    card.store().MarkSensitive();
    return installed->module().Personalize(ctx, cmd);
  }
  CARD_ASSIGN(std::optional<Bytes> upload, JoinUpload(ch, cmd));
  if (!upload) return Response{};
  CARD_TRY(CarryOutUpload(card, ch, *upload));
  return Response{};
}

CardResult<Response> HandleInstall(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  CARD_TRY(RequireAdminSession(card, ch));
  if (cmd.p2 != 0x00) return Error::kWrongP1P2;
  ByteView d = cmd.data;
  switch (cmd.p1 & 0x7F) {
    case 0x0C: {  // for install and make selectable
      CARD_ASSIGN(ByteView elf, TakeLv(d));
      CARD_ASSIGN(ByteView module_aid, TakeLv(d));
      CARD_ASSIGN(ByteView app_aid, TakeLv(d));
      CARD_ASSIGN(ByteView privileges, TakeLv(d));
      CARD_ASSIGN(ByteView params, TakeLv(d));
      CARD_ASSIGN(ByteView token, TakeLv(d));
      if (!d.empty() || !token.empty()) return Error::kWrongData;
      if (privileges.size() != 1 && privileges.size() != 3) return Error::kWrongData;
      {
        Bytes p(3, 0);
        std::copy(privileges.begin(), privileges.end(), p.begin());
        CARD_TRY(CheckPrivileges(p));
      }
      Installation in;
      if (Module* module = card.FindModule(module_aid); module != nullptr) {
        if (!Same(elf, module_aid)) return Error::kReferencedDataNotFound;
        in.entry.module_aid.assign(module_aid.begin(), module_aid.end());
        in.entry.name = std::string(module->name());
      } else {
        // A module of a load file: the instance gets its own copy of the code.
        CARD_ASSIGN(auto file, FindLoadFile(card, elf));
        if (!file || std::none_of(file->modules.begin(), file->modules.end(),
                                  [&](const Bytes& m) { return Same(m, module_aid); })) {
          return Error::kReferencedDataNotFound;
        }
        in.entry.code_format = file->code_format;
        CARD_ASSIGN(in.code, LoadFileCode(card, *file));
        in.module_in_code.assign(module_aid.begin(), module_aid.end());
      }
      in.entry.aid.assign(app_aid.begin(), app_aid.end());
      in.entry.privileges = Bytes(3, 0);
      std::copy(privileges.begin(), privileges.end(), in.entry.privileges.begin());
      auto items = ParseTlvSequence(params);
      if (!items.ok()) return Error::kWrongData;
      for (const TlvView& t : *items) {
        if (t.tag == 0xC9) in.params.assign(t.value.begin(), t.value.end());
        if (t.tag == 0xEF) in.system.assign(t.value.begin(), t.value.end());
      }
      CARD_ASSIGN(RegistryEntry e, InstallApplication(card, in));
      (void)e;
      return GpReceipt(cmd);
    }
    case 0x20: {  // for personalization
      CARD_ASSIGN(ByteView none1, TakeLv(d));
      CARD_ASSIGN(ByteView none2, TakeLv(d));
      CARD_ASSIGN(ByteView app_aid, TakeLv(d));
      (void)none1;
      (void)none2;
      CARD_ASSIGN(RegistryEntry entry, VisibleEntry(card, app_aid));
      if (entry.state != AppState::kActive) return Error::kConditionsNotSatisfied;
      ch.content.uploading = false;
      ch.content.upload.clear();
      ch.content.personalize_aid = entry.aid;
      return GpReceipt(cmd);
    }
    case 0x02: {  // for load: LV(load file AID) LV(SD AID) LV(hash) LV(parameters) LV(token)
      CARD_ASSIGN(ByteView elf, TakeLv(d));
      CARD_ASSIGN(ByteView sd, TakeLv(d));
      CARD_ASSIGN(ByteView hash, TakeLv(d));
      CARD_ASSIGN(ByteView params, TakeLv(d));
      CARD_ASSIGN(ByteView token, TakeLv(d));
      (void)hash;  // no DAP: the issuer's session is the authority
      (void)params;
      if (!d.empty() || !token.empty()) return Error::kWrongData;
      if (elf.size() < 5 || elf.size() > kMaxAidLength) return Error::kWrongData;
      if (!sd.empty() && !Same(sd, aid::kIssuerSecurityDomain)) {
        return Error::kReferencedDataNotFound;
      }
      if (IsReservedAid(card, elf, {})) return Error::kWrongData;
      CARD_ASSIGN(auto existing, FindLoadFile(card, elf));
      if (existing) return Error::kFileExists;
      ch.content.load_aid.assign(elf.begin(), elf.end());
      ch.content.next_load_block = 0;
      ch.content.load.clear();
      return GpReceipt(cmd);
    }
    default:  // install and make selectable happen in one step here
      return Error::kWrongP1P2;
  }
}

namespace {

// The joined LOAD blocks: `C4 L {load file data block}` (no DAP blocks: nothing here verifies
// them), the data block an applet package (docs/applets.md §2).
CardStatus CarryOutLoad(Card& card, ByteView aid, ByteView load) {
  auto c4 = ParseTlv(load);
  if (!c4.ok() || c4->tag != 0xC4 || c4->encoded_size != load.size()) return Error::kWrongData;
  const ByteView code = c4->value;
  // The code format is the data block's own: an applet package starts with its A0 tag.
  const uint8_t format = !code.empty() && code[0] == 0xA0 ? 0x02 : 0x00;
  Module* runtime = card.CodeRuntime(format);
  if (runtime == nullptr) return Error::kFunctionNotSupported;
  LoadFile file;
  file.aid.assign(aid.begin(), aid.end());
  file.code_format = format;
  CARD_ASSIGN(file.modules, runtime->LoadFileModules(card, code, aid));
  // An AID names one thing on the card: the load file (another channel may have loaded one
  // since INSTALL [for load]), each of its modules, and neither may be another package's or
  // another package's module.
  CARD_ASSIGN(auto all, AllLoadFiles(card));
  auto taken = [&](ByteView a) {
    for (const LoadFile& other : all) {
      if (Same(other.aid, a)) return true;
      for (const Bytes& m : other.modules) {
        if (Same(m, a)) return true;
      }
    }
    return false;
  };
  if (taken(aid)) return Error::kFileExists;
  for (const Bytes& mine : file.modules) {
    if (taken(mine)) return Error::kFileExists;
  }
  return StoreLoadFile(card, file, code);
}

}  // namespace

CardResult<Response> HandleLoad(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  CARD_TRY(RequireAdminSession(card, ch));
  ChannelState::Content& c = ch.content;
  if (c.load_aid.empty()) return Error::kConditionsNotSatisfied;  // no INSTALL [for load]
  auto drop = [&c] {
    c.load_aid.clear();
    c.load.clear();
    c.next_load_block = 0;
  };
  if ((cmd.p1 & 0x7F) != 0 || cmd.p2 != c.next_load_block) {
    drop();
    return Error::kWrongP1P2;
  }
  if (c.load.size() + cmd.data.size() > kMaxUpload) {
    drop();
    return Error::kNotEnoughMemory;
  }
  Append(c.load, cmd.data);
  c.next_load_block = static_cast<uint8_t>(c.next_load_block + 1);
  if ((cmd.p1 & 0x80) == 0) return GpReceipt(cmd);
  const Bytes aid = c.load_aid;
  const Bytes load = std::move(c.load);
  drop();
  CARD_TRY(CarryOutLoad(card, aid, load));
  return GpReceipt(cmd);
}

CardResult<Response> HandleDelete(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  auto items = ParseTlvSequence(cmd.data);
  bool application = false;
  if (items.ok()) {
    for (const TlvView& t : *items) application = application || t.tag == 0x4F;
  }
  if (!application) return HandleDeleteKey(card, ch, cmd);
  CARD_TRY(RequireAdminSession(card, ch));
  if (cmd.p1 != 0x00 || (cmd.p2 != 0x00 && cmd.p2 != 0x80)) return Error::kWrongP1P2;
  if (items->size() != 1) return Error::kWrongData;
  ByteView aid = (*items)[0].value;
  if (Same(aid, aid::kIssuerSecurityDomain) || card.FindModule(aid) != nullptr) {
    return Error::kConditionsNotSatisfied;  // the ISD and built-in code stay
  }
  CARD_ASSIGN(auto file, FindLoadFile(card, aid));
  if (file) {
    // Its instances: the applications running one of its modules. They go with it only when
    // P2 asks for related objects (80).
    CARD_ASSIGN(CardRoot root, card.root());
    CARD_ASSIGN(Registry registry, LoadRegistry(card.store(), root));
    CARD_ASSIGN(auto entries, AllEntries(card.store(), registry));
    for (const RegistryEntry& e : entries) {
      const bool related = e.code_format == file->code_format &&
                           std::any_of(file->modules.begin(), file->modules.end(),
                                       [&](const Bytes& m) { return m == e.module_aid; });
      if (!related) continue;
      if (cmd.p2 != 0x80) return Error::kConditionsNotSatisfied;
      CARD_TRY(DeleteApplication(card, e, /*remove_record=*/true));
    }
    CARD_TRY(DeleteLoadFile(card, *file));
    return GpReceipt(cmd);
  }
  CARD_ASSIGN(RegistryEntry entry, VisibleEntry(card, aid));
  CARD_TRY(DeleteApplication(card, entry, /*remove_record=*/true));
  return GpReceipt(cmd);
}

}  // namespace tessera::card
