#include "apps/lua/lua_runtime.h"

#include <algorithm>
#include <array>

#include "apps/common/module_pin.h"
#include "apps/lua/lua_vm.h"
#include "card/kernel/identifiers.h"
#include "card/kernel/module.h"
#include "card/registry/app_lifecycle.h"
#include "format/applet_package.h"
#include "format/status_words.h"

namespace tessera::apps {
namespace {

using card::AppContext;
using card::CardResult;
using card::CardStatus;
using card::Error;
using card::Response;
using lua::LuaVm;

// The channel's interpreter for the selected application, if it has one.
LuaVm* ChannelVm(card::ChannelState& ch) {
  if (ch.app_transient == nullptr || ch.app_transient->owner != ch.selected_app) return nullptr;
  return static_cast<LuaVm*>(ch.app_transient.get());
}

// A fresh interpreter whose select() ran: what SELECT makes, and what the next command makes
// after a failed one threw the channel's away.
// Whatever keeps an applet from being selected (code that no longer loads, select() failing,
// throwing or answering false) answers 6999, as GP says for a failed selection; a power loss
// stays one.
CardResult<std::unique_ptr<LuaVm>> SelectedVm(AppContext& app, const card::Application* owner) {
  const card::CardError refused{Error::kApplicationStatus, 0, sw::kAppletSelectionFailed};
  auto vm = LuaVm::Create(app, owner);
  if (!vm.ok()) return vm.error().code == Error::kPowerLost ? vm.error() : refused;
  auto accepted = (*vm)->Select(app);
  if (!accepted.ok())
    return accepted.error().code == Error::kPowerLost ? accepted.error() : refused;
  if (!*accepted) return refused;
  return std::move(*vm);
}

// Every command reaches process() but those the OS keeps (SELECT, MANAGE CHANNEL; GET
// RESPONSE never reaches an application).
CardResult<Response> HandleCommand(card::Card& card, card::ChannelState& ch,
                                   const CommandApdu& cmd) {
  CARD_ASSIGN(AppContext app, card::CurrentApp(card, ch));
  LuaVm* vm = ChannelVm(ch);
  if (vm == nullptr) {
    CARD_ASSIGN(std::unique_ptr<LuaVm> fresh, SelectedVm(app, ch.selected_app));
    ch.app_transient = std::move(fresh);
    vm = ChannelVm(ch);
  }
  auto r = vm->Process(app, cmd);
  // A failed call leaves nothing of its interpreter: the next command starts a fresh one. An
  // error the applet raised on purpose (card.throw) keeps it, as an ISOException keeps an
  // applet's transient state.
  if (!r.ok() && r.error().code != Error::kApplicationStatus) ch.app_transient.reset();
  return r;
}

constexpr std::array<card::Route, 253> MakeRoutes() {
  std::array<card::Route, 253> routes{};
  size_t n = 0;
  for (int ins = 0; ins < 256; ++ins) {
    if (ins == card::ins::kSelect || ins == card::ins::kManageChannel ||
        ins == card::ins::kGetResponse) {
      continue;
    }
    routes[n++] = card::Route{static_cast<uint8_t>(ins), HandleCommand};
  }
  return routes;
}
constexpr std::array<card::Route, 253> kRoutes = MakeRoutes();

bool Same(ByteView a, ByteView b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

// A package this card will store: it parses, and neither it nor a module takes a reserved AID.
CardResult<format::AppletPackage> CheckedPackage(card::Card& card, ByteView code) {
  auto package = format::ParseAppletPackage(code);
  if (!package.ok()) {
    card.Diagnose("applet package refused: " + package.status().message());
    return Error::kWrongData;
  }
  if (card::IsReservedAid(card, package->aid, {})) return Error::kWrongData;
  for (const format::AppletModule& m : package->modules) {
    if (card::IsReservedAid(card, m.aid, {})) return Error::kWrongData;
  }
  return std::move(*package);
}

class LuaRuntime final : public card::Module {
 public:
  ByteView aid() const override { return {}; }
  std::string_view name() const override { return "LUA"; }
  std::span<const card::Route> commands() const override { return kRoutes; }
  // With the security-domain privilege (C5 byte 1, b8) an applet offers SCP03 sessions with its
  // administrator's key set and the issuer's, as the built-in PURSE does; INITIALIZE UPDATE and
  // EXTERNAL AUTHENTICATE (CLA 8x) are then the OS's, and card.secured() tells a command that
  // came in such a session.
  card::SessionKeys session_keys_for(ByteView privileges) const override {
    return !privileges.empty() && (privileges[0] & 0x80) != 0 ? card::SessionKeys::kOwnAdministrator
                                                              : card::SessionKeys::kNone;
  }

  CardResult<StoredCode> StoreCode(AppContext& app, ByteView code, ByteView system,
                                   ByteView module_aid) override {
    CARD_ASSIGN(format::AppletPackage package, CheckedPackage(*app.card, code));
    auto limits = format::ParseAppletLimits(system);
    if (!limits.ok()) {
      app.card->Diagnose("system parameters refused: " + limits.status().message());
      return Error::kWrongData;
    }
    format::StoredApplet stored;
    stored.limits = *limits;
    size_t index = 0;
    if (!module_aid.empty()) {
      while (index < package.modules.size() && !Same(package.modules[index].aid, module_aid)) {
        ++index;
      }
      if (index == package.modules.size()) return Error::kReferencedDataNotFound;
    }
    stored.module_index = static_cast<uint8_t>(index);
    stored.package.assign(code.begin(), code.end());
    const Bytes bytes = format::EncodeStoredApplet(stored);
    CARD_ASSIGN(card::FileNode f,
                CreateAppFile(app, lua::kCodeFid, 0, card::EfStructure::kTransparent,
                              static_cast<uint16_t>(bytes.size()), 0, kPrivateFile));
    CARD_TRY(app.card->fs().WriteData(f, 0, bytes));
    return StoredCode{package.modules[index].aid, package.modules[index].name};
  }

  CardResult<std::vector<Bytes>> LoadFileModules(card::Card& card, ByteView code,
                                                 ByteView load_file_aid) override {
    CARD_ASSIGN(format::AppletPackage package, CheckedPackage(card, code));
    if (!Same(package.aid, load_file_aid)) {
      card.Diagnose("applet package refused: its AID is not the load file's of INSTALL [for load]");
      return Error::kWrongData;
    }
    std::vector<Bytes> modules;
    for (const format::AppletModule& m : package.modules) modules.push_back(m.aid);
    return modules;
  }

  CardStatus Install(AppContext& app, ByteView params) override {
    CARD_ASSIGN(std::unique_ptr<LuaVm> vm, LuaVm::Create(app, nullptr));
    return vm->Install(app, params);
  }

  CardResult<Response> Select(AppContext& app, const CommandApdu& cmd) override {
    const card::Application* owner = app.card->InstanceFor(app.entry);
    CARD_ASSIGN(std::unique_ptr<LuaVm> vm, SelectedVm(app, owner));
    CARD_ASSIGN(Response r, Module::Select(app, cmd));
    app.ch->app_entering = std::move(vm);
    return r;
  }

  void Deselect(card::ChannelState& ch) override {
    LuaVm* vm = ChannelVm(ch);
    if (vm == nullptr) return;
    auto app = card::CurrentApp(vm->card(), ch);
    // deselect() is the applet's code: not for one locked or terminated while selected.
    if (app.ok() && app->entry.state == card::AppState::kActive) vm->Deselect(*app);
  }

  CardStatus Delete(AppContext& app) override {
    // uninstall() is the applet's code: it runs only for an active application (a locked or
    // terminated one's code never runs, docs/applications.md §2).
    if (app.entry.state != card::AppState::kActive) return card::Ok{};
    CARD_ASSIGN(card::CardRoot root, app.card->root());
    CARD_ASSIGN(card::Registry registry, card::LoadRegistry(app.card->store(), root));
    if (!card::InsideWindow(app.entry, registry.trusted_date)) return card::Ok{};
    auto vm = LuaVm::Create(app, nullptr);
    if (!vm.ok() && vm.error().code == Error::kPowerLost) return vm.error();
    if (!vm.ok()) return card::Ok{};  // code that no longer loads is deleted all the same
    return (*vm)->Uninstall(app);
  }
};

}  // namespace

void RegisterLuaRuntime(card::Card& card) {
  card.AddCodeRuntime(format::kCodeFormatLuaPackage, std::make_shared<LuaRuntime>());
}

}  // namespace tessera::apps
