// The card OS: power cycle and ATR, the APDU dispatcher, logical channels, command chaining and
// GET RESPONSE, and the applications selected on each channel (application.h).
//
// Command processing has two stages:
//  - admission (Transmit, external commands only): parse, class and channel, secure-messaging
//    unwrapping, GET RESPONSE, command chaining; then Execute; then response wrapping and the
//    61xx/6Cxx handling of Le.
//  - Execute: one complete command as one atomic step: routing (the selected application's
//    commands, else the OS's), the handler, and the commit (docs/architecture.md, "Commands").
// Commands from inside the card (ExecuteInternal: a command read from NVM, for self-issuance)
// skip admission, run on an internal channel of their own, and get their whole response.
//
// Every command runs in one NVM transaction: committed when the handler succeeds (status words
// 9000, 61xx, 62xx, 63xx), aborted otherwise. Errors become status words only in ToStatusWord.
//
// Privileged mode (self-issuance): while external sources are closed, every command from a
// transport gets 6985 at once; power-off and reset always reopen them.
//
// Not thread-safe, except external_closed(): transports serialise access (one command at a
// time, as a real card) and may read the privileged-mode flag without the card's lock.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "card/fs/file_system.h"
#include "card/kernel/application.h"
#include "card/kernel/card_error.h"
#include "card/kernel/card_root.h"
#include "card/kernel/platform.h"
#include "card/registry/app_registry.h"
#include "core/apdu.h"
#include "crypto/scp03.h"
#include "format/status_words.h"
#include "nvm/nvm_device.h"
#include "nvm/nvm_store.h"

namespace tessera::card {

inline constexpr uint8_t kMaxChannels = 20;

// Volatile state an application keeps for one channel beyond app_security (an applet's
// interpreter, docs/applets.md §3). It belongs to `owner` and is dropped whenever the channel's
// selected application changes, and at reset and power-off.
struct AppTransient {
  explicit AppTransient(const class Application* o) : owner(o) {}
  virtual ~AppTransient() = default;
  const class Application* owner;
};
// Response data in one response APDU, so that data + SW fit a 65,535-byte transport frame.
inline constexpr size_t kMaxResponseData = 65533;

struct ChannelState {
  bool open = false;
  uint16_t current_df = kNoNode;
  uint16_t current_ef = kNoNode;
  uint16_t current_record = 0;    // 0 = none
  uint8_t verified_pins = 0;      // bit i: PIN slot i verified on this channel
  Bytes pending_response;         // for GET RESPONSE
  uint16_t pending_sw = sw::kOk;  // the status word its last piece ends with
  // Command chaining (CLA b5).
  bool chaining = false;
  uint8_t chain_ins = 0, chain_p1 = 0, chain_p2 = 0;
  Bytes chain_data;
  // SELECT by DF name, next occurrence: the name and the DF last selected with it.
  Bytes last_df_name;
  // The selected application (nullptr: none, the file system) and, when it has a DF of its
  // own, that DF: selecting files inside it keeps the application selected.
  Application* selected_app = nullptr;
  uint16_t app_df = kNoNode;
  // SCP03: a session being opened (after INITIALIZE UPDATE) and an authenticated one, both
  // belonging to the security domain that was selected when they were opened.
  struct PendingScp {
    crypto::scp03::SessionKeys keys;
    Bytes context;  // host challenge || card challenge
    uint16_t key_set_block = 0xFFFF;
    size_t mac_length = 8;
  };
  std::shared_ptr<PendingScp> scp_pending;
  std::shared_ptr<crypto::scp03::Session> scp;
  uint16_t scp_key_set_block = 0xFFFF;
  Application* scp_domain = nullptr;
  // The command being processed arrived wrapped in the session's secure messaging.
  bool command_secured = false;
  // The selected application's volatile security state (e.g. its PIN verified); cleared
  // whenever the selected application changes.
  uint32_t app_security = 0;
  // The selected application's transient state, and the one the Select of the application
  // being selected made (SelectApplication makes it current; a failed SELECT leaves it unused).
  std::shared_ptr<AppTransient> app_transient;
  std::shared_ptr<AppTransient> app_entering;
  // Card content management on the issuer security domain (isd_content.cc): a STORE DATA
  // upload being joined, the application INSTALL [for personalization] named, and the
  // GET STATUS query a 6310 continues.
  struct Content {
    bool uploading = false;
    uint8_t next_block = 0;
    Bytes upload;
    Bytes personalize_aid;   // empty: none
    Bytes status_query;      // P1 || search data of the last GET STATUS with more to come
    size_t status_next = 0;  // index of the next entry
    // INSTALL [for load] named this load file; LOAD blocks joined so far.
    Bytes load_aid;  // empty: no load under way
    uint8_t next_load_block = 0;
    Bytes load;
  } content;

  void ResetContent() { content = Content{}; }
  void CloseSecureChannel() {
    scp.reset();
    scp_pending.reset();
    scp_key_set_block = 0xFFFF;
    scp_domain = nullptr;
  }
  // The command arrived in an authenticated session of `domain`.
  bool SecuredBy(const Application* domain) const {
    return scp && command_secured && scp_domain == domain;
  }
};

// What a handler returns on success: data and a success or warning status word.
struct Response {
  Bytes data;
  uint16_t sw = tessera::sw::kOk;
  // The data is one object that cannot be cut (a record, a data object): a short Le that does
  // not match its length gets 6Cxx instead of 61xx.
  bool exact_length = false;
};

class Module;
class InstalledApplication;

class Card {
 public:
  // REQUIRES: device and platform outlive the card.
  Card(nvm::NvmDevice& device, const nvm::Geometry& geometry, Platform& platform);
  ~Card();

  // Runs NVM recovery and loads the card. On success returns the ATR.
  Result<Bytes> PowerOn();
  // Clears all volatile state (channels, selections, PINs verified, pending data).
  void PowerOff();
  // Warm reset: PowerOff + PowerOn.
  Result<Bytes> Reset();
  bool powered() const { return store_ != nullptr; }
  static Bytes Atr();

  // A command from a transport. Always returns a response with a status word; malformed input
  // gets 6700 / 6E00 / 6D00. While external sources are closed, every command gets 6985.
  Bytes Transmit(ByteView command);

  // Stages extra writes into the commit of the command just executed (the self-issuance
  // journal bit); it sees the command's result. Its error aborts the step (nothing of the
  // command or of the hook is committed); a power loss propagates.
  using StageHook = std::function<CardStatus(const CardResult<Response>& result)>;
  // Runs one complete (de-chained, unwrapped) command on `ch` as one atomic step: routing,
  // the handler, then one commit holding the command's writes and the hook's.
  //  - No transaction open: opens one, commits it (or aborts it when the command failed and
  //    no hook is given).
  //  - The caller holds one (a handler running stored commands): a failed command's writes
  //    are rolled back to where it started; then everything staged so far, the caller's own
  //    earlier writes included, commits, and a new transaction is open when Execute returns.
  // A power loss comes back as kPowerLost and leaves the card powered off: its store and file
  // system are gone, so a handler that gets kPowerLost must return it at once.
  CardResult<Response> Execute(const CommandApdu& command, ChannelState& ch,
                               const StageHook& stage = nullptr);
  // A command from inside the card (self-issuance): runs through Execute on the internal
  // channel (its own selection, PINs and session; never channel 0's), and answers with the
  // whole response, never 61xx pieces. The command's CLA must be plain (no chaining, no
  // secure messaging: 6884 / 6882); its channel bits are ignored.
  ResponseApdu ExecuteInternal(const CommandApdu& command, const StageHook& stage = nullptr);
  ChannelState& internal_channel() { return internal_; }
  // `ch` is the internal channel of a run in privileged mode: its commands are the stored
  // ones of a command group the issuer loaded in a session and whose digest was checked, and
  // they count as the issuer's (RequireAdminSession).
  bool privileged_internal(const ChannelState& ch) const {
    return &ch == &internal_ && external_closed();
  }
  // A fresh internal channel (at the MF, nothing selected or verified), for a new run.
  void ResetInternalChannel();

  // Privileged mode. It ends with the external command that entered it, and power-off (and so
  // reset and power-on) always ends it.
  void set_external_closed(bool closed) { external_closed_.store(closed); }
  bool external_closed() const { return external_closed_.load(); }

  // --- registration from above (src/apps/) ---
  // Adds an application, selectable by SELECT by DF name. The first registered application
  // that answers a name wins; the issuer security domain is registered by the card itself.
  void AddApplication(std::shared_ptr<Application> app);
  // Adds an OS-level command (reached whatever is selected, unless the selected application
  // declares the same INS). False when the OS already has one with this INS.
  bool AddCommand(Route route);
  // The application that answers SELECT by `name`, or nullptr: the registered ones first, then
  // the installed ones of the OS registry (their state is the Application's business).
  Application* FindApplication(ByteView name);
  // A rule that can keep an installed application from being selected from outside (a
  // half-issued card function): true = not selectable now (SELECT answers 6985).
  using SelectionVeto = CardResult<bool> (*)(Card& card, const ChannelState& ch, ByteView aid);
  void AddSelectionVeto(SelectionVeto veto) { vetoes_.push_back(veto); }
  CardResult<bool> Vetoed(const ChannelState& ch, ByteView aid) {
    for (SelectionVeto v : vetoes_) {
      CARD_ASSIGN(bool no, v(*this, ch, aid));
      if (no) return true;
    }
    return false;
  }
  // A rule that follows the deletion of an installed application, inside the deletion's
  // transaction (the issuance application forgets, and wipes, the functions that targeted it).
  using DeletionObserver = CardStatus (*)(Card& card, ByteView aid);
  void AddDeletionObserver(DeletionObserver observer) { deletion_observers_.push_back(observer); }
  CardStatus ApplicationDeleted(ByteView aid) {
    for (DeletionObserver o : deletion_observers_) CARD_TRY(o(*this, aid));
    return Ok{};
  }
  // Adds a module (the code installed applications name by AID). False when one with this AID
  // exists.
  bool AddModule(std::shared_ptr<Module> module);
  Module* FindModule(ByteView module_aid) const;
  // Adds the module that runs code an installation brings in `code_format` (the applet
  // runtime, docs/applets.md). False when the format has one.
  bool AddCodeRuntime(uint8_t code_format, std::shared_ptr<Module> runtime);
  // The runtime of `code_format`, or nullptr (code format 01 names built-in modules instead).
  Module* CodeRuntime(uint8_t code_format) const;
  // The module an entry's code runs on: the built-in one its module AID names, or its code
  // format's runtime; nullptr when this card has neither.
  Module* ModuleFor(const RegistryEntry& entry) const;
  const std::vector<std::shared_ptr<Module>>& modules() const { return modules_; }
  // The Application of an installed application (made on first use, kept until power-off).
  // nullptr when the entry's module is not on this card.
  Application* InstanceFor(const RegistryEntry& entry);
  // The installed application whose DF holds `file` (or is it), and that DF; {nullptr, FFFF}
  // when none.
  struct Owner {
    Application* app = nullptr;
    uint16_t df = kNoNode;
  };
  CardResult<Owner> ApplicationOwning(const FileNode& file);
  // A file of an installed application is reached only while that application is selected on
  // the channel (its state table then applies): 6982 otherwise.
  CardStatus CheckReachable(const ChannelState& ch, const FileNode& file);
  // After an application is deleted: its Application is dropped from the cache (kept alive
  // until power-off) and every channel that had it selected falls back to the MF.
  void ForgetApplication(uint16_t entry_block);
  const Application* issuer_security_domain() const { return isd_; }
  // Ends every session (and half-open one) opened with this key set, on every channel: the key
  // set is gone.
  void EndSessionsOf(uint16_t key_set_block);

  // Diagnostics: what the card tells its operator and never a response (an applet's Lua error
  // with its source line, docs/applets.md §6). `tessera-card --trace` and `tessera --trace`
  // print them; without a sink they are dropped.
  using DiagnosticSink = std::function<void(std::string_view message)>;
  void set_diagnostics(DiagnosticSink sink) { diagnostics_ = std::move(sink); }
  void Diagnose(std::string_view message) const {
    if (diagnostics_) diagnostics_(message);
  }

  // --- for handlers ---
  FileSystem& fs() { return *fs_; }
  nvm::NvmStore& store() { return *store_; }
  Platform& platform() { return platform_; }
  ChannelState& channel(uint8_t n) { return channels_[n]; }
  CardResult<CardRoot> root() const { return LoadRoot(*store_); }
  // The current DF of a channel, reset to the MF if it no longer exists.
  CardResult<FileNode> CurrentDf(ChannelState& ch);
  // Makes `node` current on `ch` (an EF also makes its parent the current DF).
  void Select(ChannelState& ch, const FileNode& node);
  // After a deletion: channels whose selection is gone fall back to the MF.
  void ForgetDeleted();
  // Makes `app` the selected application of `ch` (nullptr: none). Changing the application
  // ends the channel's secure-channel session (GP CS 2.3 §10.2.3: the domain is deselected).
  void SelectApplication(ChannelState& ch, Application* app, uint16_t app_df);

 private:
  ResponseApdu Admit(const CommandApdu& command);
  CardResult<Response> Dispatch(const CommandApdu& command, ChannelState& ch);
  // Applies Le: the data, or its first Ne bytes and 61xx (the rest kept for GET RESPONSE), or
  // 6Cxx. `keep_warning_data`: data with a warning and no Le is kept for GET RESPONSE too.
  ResponseApdu Finish(const CommandApdu& command, ChannelState& ch, Response r,
                      bool keep_warning_data = false);

  nvm::NvmDevice& device_;
  nvm::Geometry geometry_;
  Platform& platform_;
  std::unique_ptr<nvm::NvmStore> store_;
  std::unique_ptr<FileSystem> fs_;
  uint16_t mf_ = kNoNode;
  std::array<ChannelState, kMaxChannels> channels_;
  ChannelState internal_;
  std::atomic<bool> external_closed_{false};
  std::vector<std::shared_ptr<Application>> apps_;
  std::vector<std::shared_ptr<Module>> modules_;
  std::vector<std::pair<uint8_t, std::shared_ptr<Module>>> runtimes_;
  std::vector<SelectionVeto> vetoes_;
  std::vector<DeletionObserver> deletion_observers_;
  // Installed applications by entry block; those of deleted entries wait in retired_ until
  // power-off, so that no pointer a channel held can dangle.
  std::vector<std::shared_ptr<InstalledApplication>> instances_;
  std::vector<std::shared_ptr<InstalledApplication>> retired_;
  const Application* isd_ = nullptr;
  std::vector<Route> os_routes_;
  DiagnosticSink diagnostics_;
};

}  // namespace tessera::card
