// One applet interpreter (docs/applets.md §3): a Lua 5.4 state with only the safe libraries,
// an allocator that refuses past the heap limit, and a count hook that ends an entry-point call
// at the instruction limit. It lives per (application, channel) as the channel's transient state
// (card.h, AppTransient) and is thrown away after any call that fails.
//
// Lua raises errors with longjmp, which skips C++ destructors: the API functions (lua_api.cc)
// check their arguments first, do the card work in member functions that never touch the Lua
// stack, and push results from buffers this object owns, so that no C++ object with a
// destructor is alive when Lua may jump. Every call into Lua runs inside lua_pcall.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "card/kernel/card.h"
#include "card/kernel/module.h"
#include "format/applet_package.h"

struct lua_State;
struct lua_Debug;

namespace tessera::apps::lua {

// The files of an applet's DF that are the OS's, not the applet's (docs/applets.md §5).
inline constexpr uint16_t kCodeFid = 0xC0DE;
inline constexpr uint16_t kStoreFid = 0xC0DF;
inline constexpr uint16_t kPinFidBase = 0xC0E0;  // + ref (1..4)
inline constexpr uint8_t kMaxPinRef = 4;
inline constexpr uint16_t kStoreSize = 1024;
// Files an applet may create (its store included): deleting an application with all of them
// fits one commit, whatever the quota.
inline constexpr uint32_t kMaxAppletFiles = 32;
// The largest file an applet creates: its blocks are zeroed inside the command's commit.
inline constexpr int kMaxFileBytes = 8192;

class LuaVm final : public card::AppTransient {
 public:
  enum class Entry : uint8_t { kInstall, kSelect, kProcess, kDeselect, kUninstall };
  // Reads the applet's code (EF C0DE of app.df), makes the interpreter and runs the module's
  // chunk for its entry table, counted against the applet's limits. 6A80: the code does not
  // compile or returns no table with a process function; 6F00: it fails while running.
  static card::CardResult<std::unique_ptr<LuaVm>> Create(card::AppContext& app,
                                                         const card::Application* owner);
  ~LuaVm() override;
  LuaVm(const LuaVm&) = delete;
  LuaVm& operator=(const LuaVm&) = delete;

  // The entry points. Each is one call under the limits; an applet without the optional entry
  // point succeeds at once.
  card::CardStatus Install(card::AppContext& app, ByteView params);
  // False: the applet refused the selection.
  card::CardResult<bool> Select(card::AppContext& app);
  card::CardResult<card::Response> Process(card::AppContext& app, const CommandApdu& cmd);
  // No persistent writes; an error is only diagnosed.
  void Deselect(card::AppContext& app);
  // Before deletion: a failure is only diagnosed (the deletion goes on), a card error ends it.
  card::CardStatus Uninstall(card::AppContext& app);

  const format::AppletLimits& limits() const { return limits_; }
  card::Card& card() const { return *card_; }

  // --- for the API functions (lua_api.cc) and the hooks ---
  static LuaVm& Of(lua_State* L);
  // The application of the call running now; nullptr outside one (a finalizer at close).
  card::AppContext* app() const { return app_; }
  bool writes() const { return writes_; }
  // The channel's application is this interpreter's (not so while select() runs for a new
  // selection: the channel still shows the previous one, its session and its PIN state).
  bool owns_channel() const {
    return app_ != nullptr && app_->ch != nullptr && app_->ch->selected_app == owner;
  }
  // A card error under an API function (power lost, NVM full): the call ends with it, whatever
  // the applet does; from here on every instruction fails.
  void FailWith(card::CardError e);
  // card.throw(sw).
  void Throw(uint16_t sw) {
    thrown_ = true;
    thrown_sw_ = sw;
  }
  // Scratch buffers the API pushes results from and writes error messages to.
  Bytes out;
  Bytes out2;
  char message[192] = {};
  void SetMessage(const char* text);
  // card.log: to the card's diagnostics, named by the application (no Lua stack touched).
  void Log(std::string_view text) const;
  // The NVM the applet's files and store take now (node and data blocks), and how many.
  struct Persistent {
    uint32_t bytes = 0;
    uint32_t files = 0;
  };
  card::CardResult<Persistent> PersistentInUse(card::AppContext& app) const;
  // What a new file of `data_size` bytes takes.
  static uint32_t BytesFor(card::AppContext& app, uint32_t data_size);
  // Counts work done in C for the call (a C function's cost in instructions): false, and the
  // call tripped, once the limit is passed.
  bool Charge(uint64_t instructions);
  bool tripped() const { return tripped_; }
  // The applet's files this call resolved, by FID (nodes stay where they are: writes update
  // them in place); forgotten at every call and whenever a file is made.
  std::map<uint16_t, card::FileNode>& files() { return files_; }
  // The trusted date read once per call (empty: none).
  std::optional<Bytes>& date() { return date_; }

  // Sentinels raised as light userdata: a card.throw, a card error, the instruction limit.
  static const char kThrowSentinel;
  static const char kCardErrorSentinel;
  static const char kLimitSentinel;

 private:
  explicit LuaVm(const card::Application* app) : AppTransient(app) {}
  struct CallResult {
    bool missing = false;  // the applet has no such entry point
    Bytes data;            // process: the response data (empty for nil)
    uint16_t sw = 0x9000;
    bool exact = false;  // process's third value: the data is one object that cannot be cut
    bool select_refused = false;
  };
  card::CardResult<CallResult> Call(card::AppContext& app, Entry entry, const CommandApdu* cmd,
                                    ByteView params, bool writes);
  static void* Allocate(void* ud, void* ptr, size_t osize, size_t nsize);
  static void CountHook(lua_State* L, lua_Debug* ar);
  static int Trampoline(lua_State* L);
  static int TakeEntries(lua_State* L);
  void Trip();
  // Starts the count and the CPU clock of one entry-point call (or of loading the chunk).
  void BeginCall();
  void Diagnose(card::AppContext& app, const std::string& what) const;

  lua_State* L_ = nullptr;
  card::Card* card_ = nullptr;
  format::AppletLimits limits_;
  size_t heap_used_ = 0;
  uint64_t count_ = 0;
  bool tripped_ = false;
  uint64_t call_cpu_start_ = 0;
  bool cpu_spent_ = false;  // the CPU-time backstop, not the count, tripped the call
  card::AppContext* app_ = nullptr;
  bool writes_ = false;
  bool thrown_ = false;
  uint16_t thrown_sw_ = 0;
  std::optional<card::CardError> card_error_;
  int entry_ref_ = -1;
  std::string chunk_name_;
  // The call being set up for Trampoline.
  Entry call_entry_ = Entry::kProcess;
  const CommandApdu* call_cmd_ = nullptr;
  ByteView call_params_;
  bool call_missing_ = false;
  std::map<uint16_t, card::FileNode> files_;
  std::optional<Bytes> date_;
};

// Installs the card API (card, fs, store, pin) and the sandboxed libraries into a fresh state
// (lua_api.cc). Runs inside a protected call.
int OpenSandbox(lua_State* L);

}  // namespace tessera::apps::lua
