// Modules: the code of installed applications (docs/applications.md §1). One class per module;
// an installed application is an entry of the OS registry (app_registry.h) that names its
// module by AID, plus a DF of its own where the module keeps its data. The OS calls the module
//  - at installation (Install: create the files from the installation parameters),
//  - for SELECT, and for each command the module declares, only while the application's state
//    lets its code run (InstalledApplication::Admit, the state table of §2),
//  - at deselection (Deselect: drop the channel's volatile state),
//  - before deletion (Delete), and for STORE DATA after INSTALL [for personalization].
// A module never holds per-application state in memory: everything lives in the DF or in the
// channel (ChannelState::app_security), so code and data stay apart and the code could equally
// come from the installation file (a later code format, run in a sandbox).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "card/fs/file_node.h"
#include "card/kernel/application.h"
#include "card/kernel/card.h"
#include "card/registry/app_registry.h"

namespace tessera::card {

// The application a module's handler works on: its registry entry and its DF.
struct AppContext {
  Card* card = nullptr;
  ChannelState* ch = nullptr;
  RegistryEntry entry;
  FileNode df;
};

// Which key sets an installed application offers SCP03 sessions with.
enum class SessionKeys : uint8_t {
  kNone,               // no sessions
  kOwnAdministrator,   // its administrator's key set, and the issuer's
  kAllAdministrators,  // every administrator's, and the issuer's (the management application)
};

class Module {
 public:
  virtual ~Module() = default;
  // The module's AID (also its executable load file's AID in the GlobalPlatform view).
  virtual ByteView aid() const = 0;
  // The name applications installed without a record get (GlobalPlatform INSTALL).
  virtual std::string_view name() const = 0;
  // The one application AID this module's code runs as (the management module's instance),
  // reserved to it: empty when its applications may take any free AID.
  virtual ByteView bound_application() const { return {}; }
  // Creates the application's files in app.df (new and empty) from its installation
  // parameters (C9 content). Errors abort the installation: 6A80 for bad parameters.
  virtual CardStatus Install(AppContext& app, ByteView params) = 0;
  // After the entry and the record are written, in the same transaction.
  virtual CardStatus AfterInstall(AppContext& app) {
    (void)app;
    return Ok{};
  }
  // SELECT of an active application. Default: FCI 6F {84 AID, A5 {50 name}}.
  virtual CardResult<Response> Select(AppContext& app, const CommandApdu& cmd);
  // The commands the module handles; handlers find their application with CurrentApp().
  virtual std::span<const Route> commands() const = 0;
  // The application is no longer selected on `ch`.
  virtual void Deselect(ChannelState& ch) { (void)ch; }
  // Runs before the OS deletes the DF and wipes it.
  virtual CardStatus Delete(AppContext& app) {
    (void)app;
    return Ok{};
  }
  // One STORE DATA block after INSTALL [for personalization] (6A81: the module takes none).
  virtual CardResult<Response> Personalize(AppContext& app, const CommandApdu& store_data) {
    (void)app;
    (void)store_data;
    return Error::kFunctionNotSupported;
  }
  virtual SessionKeys session_keys() const { return SessionKeys::kNone; }
  // The sessions an application of this module with `privileges` (GP C5) offers. Default:
  // session_keys(), whatever the privileges (a built-in module decides for itself).
  virtual SessionKeys session_keys_for(ByteView privileges) const {
    (void)privileges;
    return session_keys();
  }
  // A code runtime's part of an installation (docs/applets.md §2), before the registry entry is
  // written: checks `code` (the code object after its format byte) and `system` (the system
  // parameters), stores them in app.df, and says which module of the code the application runs
  // as: `module_aid`, or the code's first when it is empty (6A88: no such module). Errors abort
  // the installation. Built-in modules bring no code: 6A81.
  struct StoredCode {
    Bytes module_aid;
    std::string module_name;
  };
  virtual CardResult<StoredCode> StoreCode(AppContext& app, ByteView code, ByteView system,
                                           ByteView module_aid) {
    (void)app;
    (void)code;
    (void)system;
    (void)module_aid;
    return Error::kFunctionNotSupported;
  }
  // A code runtime's check of a load file's code (GlobalPlatform LOAD, docs/applets.md §2):
  // the AIDs of the modules it holds, when it is code this runtime runs whose own AID is
  // `load_file_aid`; 6A80 otherwise.
  virtual CardResult<std::vector<Bytes>> LoadFileModules(Card& card, ByteView code,
                                                         ByteView load_file_aid) {
    (void)card;
    (void)code;
    (void)load_file_aid;
    return Error::kFunctionNotSupported;
  }
};

// The installed application selected on `ch`, for a module's handlers. 6985 when the channel's
// application is not an installed one (or is gone).
CardResult<AppContext> CurrentApp(Card& card, ChannelState& ch);

}  // namespace tessera::card
