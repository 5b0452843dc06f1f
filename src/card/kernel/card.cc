#include "card/kernel/card.h"

#include "card/gp/isd_application.h"
#include "card/gp/secure_channel_service.h"
#include "card/iso/handlers.h"
#include "card/kernel/identifiers.h"
#include "card/kernel/module.h"
#include "card/registry/installed_application.h"
#include "format/status_words.h"

namespace tessera::card {
namespace {

ResponseApdu ErrorResponse(CardError e) {
  return ResponseApdu{{}, ToStatusWord(e)};
}

uint16_t BytesRemaining(size_t n) {
  return static_cast<uint16_t>(sw::kBytesRemaining | (n >= 256 ? 0 : n));
}

}  // namespace

Card::Card(nvm::NvmDevice& device, const nvm::Geometry& geometry, Platform& platform)
    : device_(device), geometry_(geometry), platform_(platform) {
  for (const Route& r : IsoCommands()) os_routes_.push_back(r);
  auto isd = MakeIssuerSecurityDomain();
  isd_ = isd.get();
  AddApplication(std::move(isd));
}

void Card::AddApplication(std::shared_ptr<Application> app) {
  apps_.push_back(std::move(app));
}

void Card::EndSessionsOf(uint16_t key_set_block) {
  for (ChannelState& ch : channels_) {
    if (ch.scp_key_set_block == key_set_block) ch.CloseSecureChannel();
    if (ch.scp_pending && ch.scp_pending->key_set_block == key_set_block) ch.scp_pending.reset();
  }
}

bool Card::AddCommand(Route route) {
  for (const Route& r : os_routes_) {
    if (r.ins == route.ins) return false;
  }
  os_routes_.push_back(route);
  return true;
}

Application* Card::FindApplication(ByteView name) {
  // An exact AID first (the registered applications', then the installed ones'), then the
  // first whose AID starts with `name` in the same order.
  auto exact = [&](ByteView aid) {
    return std::equal(name.begin(), name.end(), aid.begin(), aid.end());
  };
  Application* partial = nullptr;
  for (const auto& app : apps_) {
    if (!name.empty() && exact(app->aid())) return app.get();
    if (partial == nullptr && app->Answers(name)) partial = app.get();
  }
  if (!powered() || name.size() < 5) return partial;
  auto root = LoadRoot(*store_);
  if (!root.ok()) return partial;
  auto registry = LoadRegistry(*store_, *root);
  if (!registry.ok()) return partial;
  for (uint16_t block : registry->entries) {
    auto entry = LoadEntry(*store_, block);
    if (!entry.ok()) continue;
    Application* app = InstanceFor(*entry);
    if (app == nullptr) continue;
    if (exact(entry->aid)) return app;
    if (partial == nullptr && app->Answers(name)) partial = app;
  }
  return partial;
}

bool Card::AddModule(std::shared_ptr<Module> module) {
  if (FindModule(module->aid()) != nullptr) return false;
  modules_.push_back(std::move(module));
  return true;
}

Module* Card::FindModule(ByteView module_aid) const {
  for (const auto& m : modules_) {
    ByteView a = m->aid();
    if (std::equal(a.begin(), a.end(), module_aid.begin(), module_aid.end())) return m.get();
  }
  return nullptr;
}

Application* Card::InstanceFor(const RegistryEntry& entry) {
  for (const auto& inst : instances_) {
    if (inst->entry_block() != entry.block) continue;
    ByteView a = inst->aid();
    if (std::equal(a.begin(), a.end(), entry.aid.begin(), entry.aid.end())) return inst.get();
  }
  std::shared_ptr<Module> module;
  if (entry.code_format == kCodeBuiltIn) {
    for (const auto& m : modules_) {
      ByteView a = m->aid();
      if (std::equal(a.begin(), a.end(), entry.module_aid.begin(), entry.module_aid.end())) {
        module = m;
      }
    }
  } else {
    for (const auto& [format, runtime] : runtimes_) {
      if (format == entry.code_format) module = runtime;
    }
  }
  if (module == nullptr) return nullptr;
  // A block reused by a later entry: the old object retires.
  ForgetApplication(entry.block);
  instances_.push_back(std::make_shared<InstalledApplication>(
      entry.block, entry.aid, module, module->session_keys_for(entry.privileges)));
  return instances_.back().get();
}

bool Card::AddCodeRuntime(uint8_t code_format, std::shared_ptr<Module> runtime) {
  if (code_format == kCodeBuiltIn || CodeRuntime(code_format) != nullptr) return false;
  runtimes_.emplace_back(code_format, std::move(runtime));
  return true;
}

Module* Card::CodeRuntime(uint8_t code_format) const {
  for (const auto& [format, runtime] : runtimes_) {
    if (format == code_format) return runtime.get();
  }
  return nullptr;
}

Module* Card::ModuleFor(const RegistryEntry& entry) const {
  if (entry.code_format == kCodeBuiltIn) return FindModule(entry.module_aid);
  return CodeRuntime(entry.code_format);
}

CardResult<Card::Owner> Card::ApplicationOwning(const FileNode& file) {
  // Applications' DFs are children of the MF named by their AIDs: find the file's ancestor
  // among the MF's children first, so that files elsewhere never touch the registry.
  if (file.parent == kNoNode) return Owner{};  // the MF
  const FileNode* at = &file;
  FileNode up;
  while (at->parent != mf_) {
    CARD_ASSIGN(up, fs_->Load(at->parent));
    if (up.parent == kNoNode) return Owner{};
    at = &up;
  }
  const FileNode& top = *at;
  if (!top.is_df() || top.df_name.size() < 5) return Owner{};
  CARD_ASSIGN(CardRoot root, LoadRoot(*store_));
  CARD_ASSIGN(Registry registry, LoadRegistry(*store_, root));
  for (uint16_t block : registry.entries) {
    CARD_ASSIGN(RegistryEntry entry, LoadEntry(*store_, block));
    if (entry.df == top.id) return Owner{InstanceFor(entry), entry.df};
  }
  return Owner{};
}

void Card::ForgetApplication(uint16_t entry_block) {
  for (auto it = instances_.begin(); it != instances_.end();) {
    if ((*it)->entry_block() != entry_block) {
      ++it;
      continue;
    }
    InstalledApplication* gone = it->get();
    auto drop = [&](ChannelState& ch) {
      if (ch.selected_app == gone) {
        SelectApplication(ch, nullptr, kNoNode);
        ch.current_df = mf_;
        ch.current_ef = kNoNode;
        ch.current_record = 0;
      }
      if (ch.scp_domain == gone) ch.CloseSecureChannel();
    };
    for (ChannelState& ch : channels_) drop(ch);
    drop(internal_);
    retired_.push_back(*it);
    it = instances_.erase(it);
  }
}

void Card::SelectApplication(ChannelState& ch, Application* app, uint16_t app_df) {
  if (ch.selected_app != app) {
    if (ch.selected_app != nullptr) ch.selected_app->Deselect(ch);
    ch.CloseSecureChannel();
    ch.app_security = 0;
    ch.app_transient.reset();
    ch.ResetContent();
  }
  if (ch.app_entering != nullptr && ch.app_entering->owner == app && app != nullptr) {
    ch.app_transient = std::move(ch.app_entering);
  }
  ch.app_entering.reset();
  ch.selected_app = app;
  ch.app_df = app == nullptr ? kNoNode : app_df;
  // An application without a DF of its own (the ISD) leaves nothing of another application's
  // DF current: the file commands that pass it by must not reach that application's files.
  if (app != nullptr && app_df == kNoNode) {
    ch.current_df = mf_;
    ch.current_ef = kNoNode;
    ch.current_record = 0;
  }
}

CardStatus Card::CheckReachable(const ChannelState& ch, const FileNode& file) {
  CARD_ASSIGN(Owner owner, ApplicationOwning(file));
  if (owner.app != nullptr && owner.app != ch.selected_app) return Error::kSecurityNotSatisfied;
  return Ok{};
}

void Card::ResetInternalChannel() {
  internal_ = ChannelState{};
  internal_.open = true;
  internal_.current_df = mf_;
}

Card::~Card() = default;

Bytes Card::Atr() {
  // TS=3B (direct), T0=8D: TD1 follows, 13 historical bytes; TD1=80: TD2 follows, T=0 listed;
  // TD2=01: T=1. Historical bytes: category 80, then COMPACT-TLV: 57 "TESSERA" (card issuer's
  // data) and 73 card capabilities (FE: every selection method; 01: data unit 1 byte;
  // DF: chaining, extended Lc/Le, channels assigned by card and host, 8 or more channels).
  // TCK makes the XOR of T0..TCK zero.
  Bytes atr = HexOrDie("3B8D8001 80 57 54455353455241 73FE01DF");
  uint8_t tck = 0;
  for (size_t i = 1; i < atr.size(); ++i) tck ^= atr[i];
  atr.push_back(tck);
  return atr;
}

Result<Bytes> Card::PowerOn() {
  PowerOff();
  // Installed applications' objects outlive a power loss inside a handler (the handler may
  // still be on the stack); a fresh power-on is where they go.
  instances_.clear();
  retired_.clear();
  if (!device_.powered()) device_.PowerOn();
  TESSERA_ASSIGN_OR_RETURN(store_, nvm::NvmStore::Mount(device_, geometry_));
  auto root = LoadRoot(*store_);
  if (!root.ok()) {
    // A root record that fails its integrity check is damage, not a blank store.
    uint8_t magic[4];
    Status damaged = store_->Read(store_->layout().root_offset, magic);
    store_.reset();
    if (damaged.code() == ErrorCode::kCorruption) {
      return Corruption("the card's root record is damaged: " + damaged.message());
    }
    return Corruption("the image holds no card file system (create one with 'tessera image init')");
  }
  fs_ = std::make_unique<FileSystem>(*store_);
  mf_ = root->mf;
  auto mf = fs_->Load(mf_);
  if (!mf.ok()) {
    store_.reset();
    fs_.reset();
    return Corruption("the card's MF is damaged");
  }
  channels_[0].open = true;
  channels_[0].current_df = mf_;
  ResetInternalChannel();
  return Atr();
}

void Card::PowerOff() {
  channels_ = {};
  internal_ = ChannelState{};
  external_closed_.store(false);  // privileged mode never survives a power cycle
  fs_.reset();
  store_.reset();
  mf_ = kNoNode;
}

Result<Bytes> Card::Reset() {
  PowerOff();
  return PowerOn();
}

CardResult<FileNode> Card::CurrentDf(ChannelState& ch) {
  auto df = fs_->Load(ch.current_df);
  if (df.ok() && df->is_df()) return df;
  ch.current_df = mf_;
  ch.current_ef = kNoNode;
  return fs_->Load(mf_);
}

void Card::Select(ChannelState& ch, const FileNode& node) {
  if (node.is_df()) {
    ch.current_df = node.id;
    ch.current_ef = kNoNode;
  } else {
    ch.current_df = node.parent;
    ch.current_ef = node.id;
  }
  ch.current_record = 0;
}

void Card::ForgetDeleted() {
  auto forget = [&](ChannelState& ch) {
    if (!ch.open) return;
    auto alive = [&](uint16_t id) {
      auto st = store_->GetBlockState(id);
      return st.ok() && *st == nvm::BlockState::kUsed;
    };
    if (ch.current_ef != kNoNode && !alive(ch.current_ef)) {
      ch.current_ef = kNoNode;
      ch.current_record = 0;
    }
    if (!alive(ch.current_df)) {
      ch.current_df = mf_;
      ch.current_ef = kNoNode;
    }
    if (ch.app_df != kNoNode && !alive(ch.app_df)) SelectApplication(ch, nullptr, kNoNode);
  };
  for (ChannelState& ch : channels_) forget(ch);
  forget(internal_);
}

Bytes Card::Transmit(ByteView command) {
  if (!powered()) return ErrorResponse({Error::kNoPreciseDiagnosis}).Serialize();
  if (external_closed()) return ErrorResponse({Error::kConditionsNotSatisfied}).Serialize();
  auto parsed = CommandApdu::Parse(command);
  if (!parsed.ok()) {
    if (command.size() >= 1 && !DecodeClass(command[0]).valid) {
      return ErrorResponse({Error::kClaNotSupported}).Serialize();
    }
    return ErrorResponse({Error::kWrongLength}).Serialize();
  }
  Bytes response = Admit(*parsed).Serialize();
  // Privileged mode lasts at most as long as the external command that entered it.
  external_closed_.store(false);
  return response;
}

ResponseApdu Card::ExecuteInternal(const CommandApdu& command, const StageHook& stage) {
  if (!powered()) return ErrorResponse({Error::kNoPreciseDiagnosis});
  const ClassByte cls = DecodeClass(command.cla);
  if (!cls.valid) return ErrorResponse({Error::kClaNotSupported});
  if (cls.chaining) return ErrorResponse({Error::kChainingNotSupported});
  if (cls.secure_messaging != SecureMessaging::kNone) {
    return ErrorResponse({Error::kSecureMessagingNotSupported});
  }
  // GET RESPONSE has nothing to return here, and MANAGE CHANNEL would reach the external
  // channels.
  if (command.ins == ins::kGetResponse || command.ins == ins::kManageChannel) {
    return ErrorResponse({Error::kInsNotSupported});
  }
  internal_.command_secured = false;
  CardResult<Response> r = Execute(command, internal_, stage);
  if (!r.ok()) return ErrorResponse(r.error());
  return ResponseApdu{std::move(r->data), r->sw};
}

ResponseApdu Card::Admit(const CommandApdu& cmd_in) {
  const ClassByte cls = DecodeClass(cmd_in.cla);
  if (!cls.valid) return ErrorResponse({Error::kClaNotSupported});
  ChannelState& ch = channels_[cls.channel];
  if (!ch.open) return ErrorResponse({Error::kChannelNotSupported});
  // Secure messaging: EXTERNAL AUTHENTICATE (GP class) unwraps itself; everything else needs the
  // channel's authenticated session. Any verification failure ends the session.
  CommandApdu unwrapped;
  const CommandApdu* in = &cmd_in;
  ch.command_secured = false;
  if (cls.secure_messaging != SecureMessaging::kNone &&
      !(cmd_in.ins == ins::kExternalAuthenticate && cls.proprietary)) {
    if (!ch.scp) return ErrorResponse({Error::kSecureMessagingNotSupported});
    auto plain = ch.scp->UnwrapCommand(cmd_in);
    if (!plain.ok()) {
      ch.CloseSecureChannel();
      return ErrorResponse({plain.status().code() == ErrorCode::kMalformed
                                ? Error::kSmDataIncorrect
                                : Error::kSecurityNotSatisfied});
    }
    unwrapped = std::move(*plain);
    in = &unwrapped;
    ch.command_secured = true;
  }

  if (in->ins == ins::kGetResponse && !ch.chaining) {
    if (in->p1 != 0 || in->p2 != 0) return ErrorResponse({Error::kWrongP1P2});
    if (ch.pending_response.empty()) return ErrorResponse({Error::kConditionsNotSatisfied});
    if (in->ne == 0) return ErrorResponse({Error::kWrongLength});
    Bytes pending = std::move(ch.pending_response);
    ch.pending_response.clear();
    // The last piece carries the status word of the command that produced the data (a
    // warning, and the one an R-MAC was computed over).
    return Finish(*in, ch, Response{std::move(pending), ch.pending_sw}, true);
  }
  ch.pending_response.clear();
  // Anything but EXTERNAL AUTHENTICATE after INITIALIZE UPDATE abandons the half-open session.
  if (ch.scp_pending && in->ins != ins::kExternalAuthenticate) ch.scp_pending.reset();

  // Command chaining: collect the data of every link, run the command on the last one.
  CommandApdu cmd = *in;
  if (cls.chaining || ch.chaining) {
    const bool same =
        ch.chaining && ch.chain_ins == cmd.ins && ch.chain_p1 == cmd.p1 && ch.chain_p2 == cmd.p2;
    if (ch.chaining && !same) {
      ch.chaining = false;
      ch.chain_data.clear();
      return ErrorResponse({Error::kLastCommandExpected});
    }
    if (ch.chain_data.size() + cmd.data.size() > kMaxExtendedNc) {
      ch.chaining = false;
      ch.chain_data.clear();
      return ErrorResponse({Error::kWrongLength});
    }
    Append(ch.chain_data, cmd.data);
    if (cls.chaining) {
      ch.chaining = true;
      ch.chain_ins = cmd.ins;
      ch.chain_p1 = cmd.p1;
      ch.chain_p2 = cmd.p2;
      return ResponseApdu{{}, sw::kOk};
    }
    cmd.data = std::move(ch.chain_data);
    ch.chain_data.clear();
    ch.chaining = false;
    cmd.cla = static_cast<uint8_t>(cmd.cla & ~0x10);
  }

  CardResult<Response> r = Execute(cmd, ch);
  if (!r.ok()) return ErrorResponse(r.error());
  if (ch.command_secured && ch.scp) {
    auto wrapped = ch.scp->WrapResponse(ResponseApdu{std::move(r->data), r->sw});
    if (!wrapped.ok()) return ErrorResponse({Error::kNoPreciseDiagnosis});
    r->data = std::move(wrapped->data);
  }
  return Finish(cmd, ch, std::move(*r), ch.command_secured && ch.scp != nullptr);
}

CardResult<Response> Card::Execute(const CommandApdu& cmd, ChannelState& ch,
                                   const StageHook& stage) {
  if (!powered()) return Error::kNoPreciseDiagnosis;
  const bool own = !store_->in_transaction();
  if (own) {
    if (Status s = store_->Begin(); !s.ok()) return FromStatus(s);
  }
  auto lost = [&](CardError e) -> CardResult<Response> {
    if (e.code == Error::kPowerLost) {
      if (store_ != nullptr && store_->in_transaction()) store_->Abort();
      PowerOff();
    }
    return e;
  };
  const nvm::Savepoint start = store_->Mark();
  CardResult<Response> r = Error::kNoPreciseDiagnosis;
  {
    auto state = LoadCardState(*store_);
    if (!state.ok())
      r = state.error();
    else if (*state == kCardTerminated)
      r = Error::kFunctionNotSupported;
    else
      r = Dispatch(cmd, ch);
  }
  // A nested Execute that lost power has powered the card off already.
  if (!powered()) return Error::kPowerLost;
  if (!r.ok()) {
    if (r.error().code == Error::kPowerLost) return lost(r.error());
    store_->RollbackTo(start);
    if (own && !stage) {
      store_->Abort();
      return r;
    }
  }
  if (stage) {
    CardStatus staged = stage(r);
    if (!powered()) return Error::kPowerLost;
    if (!staged.ok()) {
      if (staged.error().code == Error::kPowerLost) return lost(staged.error());
      store_->RollbackTo(start);
      if (own) store_->Abort();
      return staged.error();
    }
  }
  Status s = own ? store_->Commit() : store_->CommitAndContinue();
  if (!s.ok()) {
    if (s.code() == ErrorCode::kPowerLost) return lost(FromStatus(s));
    return FromStatus(s);
  }
  return r;
}

CardResult<Response> Card::Dispatch(const CommandApdu& cmd, ChannelState& ch) {
  // SELECT and MANAGE CHANNEL always belong to the OS (GET RESPONSE never gets here).
  if (cmd.ins != ins::kSelect && cmd.ins != ins::kManageChannel && ch.selected_app != nullptr) {
    Application& app = *ch.selected_app;
    // The application's state decides what the command may reach (a locked application:
    // nothing; a terminated one: the OS's reads of its data).
    CARD_ASSIGN(AppAccess access, app.Admit(*this, ch, cmd));
    if (access == AppAccess::kCode) {
      if (SecurityDomain* sd = app.security_domain();
          sd != nullptr &&
          (cmd.ins == ins::kInitializeUpdate || cmd.ins == ins::kExternalAuthenticate)) {
        if ((cmd.cla & 0x80) == 0) return Error::kClaNotSupported;  // GP commands: CLA 80/84
        if (cmd.ins == ins::kInitializeUpdate) return HandleInitializeUpdate(*this, ch, *sd, cmd);
        return HandleExternalAuthenticate(*this, ch, *sd, cmd);
      }
      const bool proprietary = (cmd.cla & 0x80) != 0;
      for (const Route& route : app.commands()) {
        if (route.ins == cmd.ins && (proprietary || route.classes == ClassRange::kAny)) {
          return route.handler(*this, ch, cmd);
        }
      }
      // A proprietary-class command is the application's own business (GlobalPlatform's STORE
      // DATA, INSTALL, LOAD...): it never falls through to an interindustry file command that
      // happens to share its INS.
      if (proprietary) return Error::kInsNotSupported;
    }
  }
  for (const Route& route : os_routes_) {
    if (route.ins == cmd.ins) return route.handler(*this, ch, cmd);
  }
  return Error::kInsNotSupported;
}

ResponseApdu Card::Finish(const CommandApdu& cmd, ChannelState& ch, Response r,
                          bool keep_warning_data) {
  if (r.data.empty()) return ResponseApdu{{}, r.sw};
  ch.pending_sw = r.sw;
  if (cmd.ne == 0) {
    // Data without Le: announce it (61xx) and keep it for GET RESPONSE. A plain warning drops
    // its data (as over T=0); a protected one keeps it, since the data is its R-MAC.
    if (r.sw != sw::kOk && !keep_warning_data) return ResponseApdu{{}, r.sw};
    ch.pending_response = std::move(r.data);
    return ResponseApdu{{}, BytesRemaining(ch.pending_response.size())};
  }
  // A response APDU never exceeds 65,535 bytes, the transports' frame limit (vpcd's too): an
  // extended Le of 65,536 gets 65,533 bytes and 61xx for the rest.
  const size_t ne = std::min<size_t>(cmd.ne, kMaxResponseData);
  if (r.data.size() <= ne) return ResponseApdu{std::move(r.data), r.sw};
  if (r.exact_length && cmd.ne < kMaxShortNe && r.data.size() <= kMaxShortNe) {
    return ErrorResponse({Error::kWrongLengthExpected, static_cast<uint8_t>(r.data.size() & 0xFF)});
  }
  ResponseApdu out{Bytes(r.data.begin(), r.data.begin() + static_cast<ptrdiff_t>(ne)), 0};
  ch.pending_response.assign(r.data.begin() + static_cast<ptrdiff_t>(ne), r.data.end());
  out.sw = BytesRemaining(ch.pending_response.size());
  return out;
}

}  // namespace tessera::card
