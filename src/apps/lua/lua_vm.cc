#include "apps/lua/lua_vm.h"

#include <lua.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "apps/common/module_pin.h"
#include "format/status_words.h"

namespace tessera::apps::lua {
namespace {

using card::CardResult;
using card::CardStatus;
using card::Error;

// Instructions between two count-hook calls while under the limit: the hook's cost stays
// small, and the limit is exact to within this many instructions.
constexpr int kHookStep = 1000;
// CPU time an entry-point call may take, whatever its instruction count (docs/applets.md §3).
constexpr uint64_t kCpuBudgetNs = 1000000000;

const char* EntryName(int entry) {
  static const char* const kNames[] = {"install", "select", "process", "deselect", "uninstall"};
  return kNames[entry];
}

}  // namespace

const char LuaVm::kThrowSentinel = 0;
const char LuaVm::kCardErrorSentinel = 0;
const char LuaVm::kLimitSentinel = 0;

LuaVm& LuaVm::Of(lua_State* L) {
  return **static_cast<LuaVm**>(lua_getextraspace(L));
}

void LuaVm::SetMessage(const char* text) {
  std::strncpy(message, text, sizeof(message) - 1);
  message[sizeof(message) - 1] = 0;
}

void* LuaVm::Allocate(void* ud, void* ptr, size_t osize, size_t nsize) {
  auto* vm = static_cast<LuaVm*>(ud);
  const size_t old = ptr == nullptr ? 0 : osize;  // without ptr, osize is a type tag
  if (nsize == 0) {
    std::free(ptr);
    vm->heap_used_ -= old;
    return nullptr;
  }
  // Lua requires that shrinking never fails; growing fails past the limit, and always once the
  // call has hit its instruction limit (so that a pcall cannot build anything after it).
  if (nsize > old && (vm->tripped_ || vm->heap_used_ - old + nsize > vm->limits_.heap)) {
    return nullptr;
  }
  void* p = std::realloc(ptr, nsize);
  if (p == nullptr) return nullptr;
  vm->heap_used_ = vm->heap_used_ - old + nsize;
  return p;
}

// The CPU time of this thread, in nanoseconds.
static uint64_t ThreadCpuNs() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<uint64_t>(t.tv_sec) * 1000000000u + static_cast<uint64_t>(t.tv_nsec);
}

void LuaVm::CountHook(lua_State* L, lua_Debug* ar) {
  (void)ar;
  LuaVm& vm = Of(L);
  vm.count_ += vm.tripped_ ? 1 : kHookStep;
  // The backstop for work one instruction does in C that no count sees (a concatenation of
  // long strings, a copy): the call's CPU time, read every kHookStep instructions.
  if (!vm.tripped_ && ThreadCpuNs() - vm.call_cpu_start_ > kCpuBudgetNs) {
    vm.cpu_spent_ = true;
    vm.Trip();
  }
  if (vm.tripped_ || vm.count_ > vm.limits_.instructions) {
    vm.Trip();
    // From now on this thread fails at every instruction: a pcall that catches the error gets
    // no instruction further.
    lua_sethook(L, CountHook, LUA_MASKCOUNT, 1);
    lua_pushlightuserdata(L, const_cast<char*>(&kLimitSentinel));
    lua_error(L);
  }
}

void LuaVm::Trip() {
  tripped_ = true;
}

void LuaVm::FailWith(card::CardError e) {
  if (!card_error_) card_error_ = e;
  Trip();
}

void LuaVm::Log(std::string_view text) const {
  if (app_ != nullptr) Diagnose(*app_, "log: " + std::string(text));
}

void LuaVm::Diagnose(card::AppContext& app, const std::string& what) const {
  // The applet wrote part of the text: no control character of it reaches the operator's
  // terminal (a forged line, an escape sequence).
  std::string clean;
  for (unsigned char c : what) {
    if (c < 0x20 || c == 0x7F) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02X", c);
      clean += hex;
    } else {
      clean += static_cast<char>(c);
    }
  }
  app.card->Diagnose("applet " + ToHex(app.entry.aid) + ": " + clean);
}

CardResult<LuaVm::Persistent> LuaVm::PersistentInUse(card::AppContext& app) const {
  CARD_ASSIGN(app.df, app.card->fs().Load(app.df.id));
  CARD_ASSIGN(auto children, app.card->fs().Children(app.df));
  // What the files take in NVM, not what they hold: a node block and the data blocks each,
  // so that many small files cannot take more NVM than the quota says.
  const uint32_t block = app.card->store().layout().geometry.block_size;
  Persistent p;
  for (const card::FileNode& f : children) {
    if (f.fid == kCodeFid || (f.fid > kPinFidBase && f.fid <= kPinFidBase + kMaxPinRef)) continue;
    p.bytes += static_cast<uint32_t>(1 + f.data_blocks.size()) * block;
    ++p.files;
  }
  return p;
}

uint32_t LuaVm::BytesFor(card::AppContext& app, uint32_t data_size) {
  const uint32_t block = app.card->store().layout().geometry.block_size;
  return (1 + (data_size + block - 1) / block) * block;
}

bool LuaVm::Charge(uint64_t instructions) {
  count_ += instructions;
  if (count_ > limits_.instructions) Trip();
  if (!tripped_ && ThreadCpuNs() - call_cpu_start_ > kCpuBudgetNs) {
    cpu_spent_ = true;
    Trip();
  }
  return !tripped_;
}

void LuaVm::BeginCall() {
  count_ = 0;
  cpu_spent_ = false;
  call_cpu_start_ = ThreadCpuNs();
}

CardResult<std::unique_ptr<LuaVm>> LuaVm::Create(card::AppContext& app,
                                                 const card::Application* owner) {
  CARD_ASSIGN(card::FileNode code, AppFile(app, kCodeFid));
  Bytes stored_bytes(code.size);
  CARD_TRY(app.card->fs().ReadData(code, 0, stored_bytes));
  auto stored = format::ParseStoredApplet(stored_bytes);
  if (!stored.ok()) return Error::kMemoryFailure;  // checked at installation: damage
  auto package = format::ParseAppletPackage(stored->package);
  if (!package.ok()) return Error::kMemoryFailure;
  const format::AppletModule& module = package->modules[stored->module_index];

  std::unique_ptr<LuaVm> vm(new LuaVm(owner));
  vm->card_ = app.card;
  vm->limits_ = stored->limits;
  vm->chunk_name_ = "=" + module.name;
  vm->L_ = lua_newstate(&LuaVm::Allocate, vm.get());
  if (vm->L_ == nullptr) return Error::kNoPreciseDiagnosis;
  *static_cast<LuaVm**>(lua_getextraspace(vm->L_)) = vm.get();
  lua_State* L = vm->L_;
  vm->app_ = &app;
  vm->writes_ = false;
  vm->BeginCall();
  lua_sethook(L, CountHook, LUA_MASKCOUNT, kHookStep);
  lua_pushcfunction(L, OpenSandbox);
  if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
    vm->app_ = nullptr;
    vm->Diagnose(app, "the sandbox does not fit in the heap limit");
    return Error::kNoPreciseDiagnosis;
  }
  // Text only: a chunk that is bytecode never loads, whatever the package check said.
  int status =
      luaL_loadbufferx(L, module.source.data(), module.source.size(), vm->chunk_name_.c_str(), "t");
  if (status != LUA_OK) {
    const char* m = lua_tostring(L, -1);
    std::string what = m != nullptr ? m : "out of memory";
    lua_settop(L, 0);
    vm->app_ = nullptr;
    vm->Diagnose(app, "does not compile: " + what);
    return Error::kWrongData;
  }
  // The chunk runs and its table is checked inside one protected call: nothing that may raise
  // (a metamethod, an allocation) runs unprotected.
  lua_pushcfunction(L, &LuaVm::TakeEntries);
  lua_insert(L, -2);
  status = lua_pcall(L, 1, 1, 0);
  const bool limit = vm->tripped_;
  std::string what;
  if (status != LUA_OK) {
    what = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "out of memory";
  }
  const bool no_table = status == LUA_OK && lua_toboolean(L, -1) == 0;
  lua_settop(L, 0);
  vm->app_ = nullptr;
  if (limit) {
    vm->Diagnose(app, "instruction limit while loading");
    return Error::kNoPreciseDiagnosis;
  }
  if (no_table) {
    vm->Diagnose(app, "the chunk returns no table with a process function");
    return Error::kWrongData;
  }
  if (status != LUA_OK) {
    vm->Diagnose(app, "fails while loading: " + what);
    return Error::kNoPreciseDiagnosis;
  }
  return vm;
}

LuaVm::~LuaVm() {
  if (L_ == nullptr) return;
  // Finalizers run at close: they get no API and no instruction.
  app_ = nullptr;
  Trip();
  lua_sethook(L_, CountHook, LUA_MASKCOUNT, 1);
  lua_close(L_);
}

int LuaVm::TakeEntries(lua_State* L) {
  LuaVm& vm = Of(L);
  lua_call(L, 0, 1);
  if (lua_type(L, -1) != LUA_TTABLE) {
    lua_pushboolean(L, 0);
    return 1;
  }
  lua_pushliteral(L, "process");
  if (lua_rawget(L, -2) != LUA_TFUNCTION) {
    lua_pushboolean(L, 0);
    return 1;
  }
  lua_pop(L, 1);
  vm.entry_ref_ = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pushboolean(L, 1);
  return 1;
}

int LuaVm::Trampoline(lua_State* L) {
  LuaVm& vm = Of(L);
  lua_settop(L, 0);
  lua_rawgeti(L, LUA_REGISTRYINDEX, vm.entry_ref_);
  if (lua_getfield(L, 1, EntryName(static_cast<int>(vm.call_entry_))) != LUA_TFUNCTION) {
    // process is required (checked at loading): one the applet removed since is an error.
    if (vm.call_entry_ == Entry::kProcess) return luaL_error(L, "process is gone");
    vm.call_missing_ = true;
    return 0;
  }
  int args = 0;
  if (vm.call_cmd_ != nullptr) {
    const CommandApdu& c = *vm.call_cmd_;
    lua_createtable(L, 0, 7);
    lua_pushinteger(L, c.cla);
    lua_setfield(L, -2, "cla");
    lua_pushinteger(L, c.ins);
    lua_setfield(L, -2, "ins");
    lua_pushinteger(L, c.p1);
    lua_setfield(L, -2, "p1");
    lua_pushinteger(L, c.p2);
    lua_setfield(L, -2, "p2");
    lua_pushlstring(L, reinterpret_cast<const char*>(c.data.data()), c.data.size());
    lua_setfield(L, -2, "data");
    if (c.ne != 0) {
      lua_pushinteger(L, c.ne);
      lua_setfield(L, -2, "le");
    }
    lua_pushboolean(L, c.extended);
    lua_setfield(L, -2, "extended");
    args = 1;
  } else if (vm.call_entry_ == Entry::kInstall) {
    lua_pushlstring(L, reinterpret_cast<const char*>(vm.call_params_.data()),
                    vm.call_params_.size());
    args = 1;
  }
  lua_call(L, args, 3);
  return 3;
}

CardResult<LuaVm::CallResult> LuaVm::Call(card::AppContext& app, Entry entry,
                                          const CommandApdu* cmd, ByteView params, bool writes) {
  if (tripped_ || card_error_) return Error::kNoPreciseDiagnosis;  // a spent interpreter
  app_ = &app;
  writes_ = writes;
  thrown_ = false;
  BeginCall();
  call_entry_ = entry;
  call_cmd_ = cmd;
  call_params_ = params;
  call_missing_ = false;
  files_.clear();
  date_.reset();
  lua_State* L = L_;
  lua_sethook(L, CountHook, LUA_MASKCOUNT, kHookStep);
  lua_pushcfunction(L, Trampoline);
  const int status = lua_pcall(L, 0, 3, 0);
  app_ = nullptr;
  CallResult r;
  std::string what;
  bool bad_return = false;
  if (status == LUA_OK) {
    r.missing = call_missing_;
    if (entry == Entry::kProcess && !r.missing) {
      const int t1 = lua_type(L, -3), t2 = lua_type(L, -2);
      if (t1 == LUA_TSTRING) {
        size_t n = 0;
        const char* s = lua_tolstring(L, -3, &n);
        r.data.assign(s, s + n);
      } else if (t1 != LUA_TNIL) {
        bad_return = true;
      }
      r.exact = lua_toboolean(L, -1) != 0;
      if (t2 == LUA_TNUMBER && lua_isinteger(L, -2)) {
        const lua_Integer sw = lua_tointeger(L, -2);
        if (sw < 0 || sw > 0xFFFF) bad_return = true;
        r.sw = static_cast<uint16_t>(sw);
      } else if (t2 != LUA_TNIL) {
        bad_return = true;
      }
      if (r.data.size() > card::kMaxResponseData) bad_return = true;
    }
    if (entry == Entry::kSelect && !r.missing && lua_type(L, -3) == LUA_TBOOLEAN &&
        !lua_toboolean(L, -3)) {
      r.select_refused = true;
    }
  } else if (lua_touserdata(L, -1) == &kThrowSentinel && thrown_) {
    r.sw = thrown_sw_;
  } else if (lua_type(L, -1) == LUA_TSTRING) {
    what = lua_tostring(L, -1);
  } else if (status == LUA_ERRMEM) {
    what = "out of memory (heap limit " + std::to_string(limits_.heap) + " bytes)";
  } else {
    what = "error object that is not a string";
  }
  const bool thrown = status != LUA_OK && lua_touserdata(L, -1) == &kThrowSentinel && thrown_;
  lua_settop(L, 0);
  if (card_error_) {
    if (card_error_->code != Error::kPowerLost) {
      Diagnose(app, std::string(EntryName(static_cast<int>(entry))) + ": " + message);
    }
    return *card_error_;
  }
  if (tripped_) {
    Diagnose(app, std::string(EntryName(static_cast<int>(entry))) +
                      (cpu_spent_ ? ": CPU time limit (1 s) reached"
                                  : ": instruction limit (" + std::to_string(limits_.instructions) +
                                        ") reached"));
    Trip();
    return Error::kNoPreciseDiagnosis;
  }
  if (status != LUA_OK && !thrown) {
    Diagnose(app, std::string(EntryName(static_cast<int>(entry))) + ": " + what);
    Trip();
    return Error::kNoPreciseDiagnosis;
  }
  if (bad_return) {
    Diagnose(app, "process: returns something other than (string or nil, status word or nil)");
    Trip();
    return Error::kNoPreciseDiagnosis;
  }
  return r;
}

namespace {

// A status word an entry point ended with: success and warnings commit, errors roll back.
CardResult<uint16_t> Outcome(uint16_t sw) {
  const uint8_t sw1 = static_cast<uint8_t>(sw >> 8);
  if (sw == sw::kOk || sw1 == 0x62 || sw1 == 0x63) return sw;
  if (sw1 >= 0x64 && sw1 <= 0x6F && sw1 != 0x6C) {
    return card::CardError{Error::kApplicationStatus, 0, sw};
  }
  return Error::kNoPreciseDiagnosis;  // 61xx, 6Cxx, 9xxx: not an applet's to give
}

}  // namespace

CardStatus LuaVm::Install(card::AppContext& app, ByteView params) {
  CARD_ASSIGN(CallResult r, Call(app, Entry::kInstall, nullptr, params, true));
  CARD_ASSIGN(uint16_t sw, Outcome(r.sw));
  (void)sw;
  return card::Ok{};
}

CardResult<bool> LuaVm::Select(card::AppContext& app) {
  CARD_ASSIGN(CallResult r, Call(app, Entry::kSelect, nullptr, {}, true));
  CARD_ASSIGN(uint16_t sw, Outcome(r.sw));
  (void)sw;
  return !r.select_refused;
}

CardResult<card::Response> LuaVm::Process(card::AppContext& app, const CommandApdu& cmd) {
  CARD_ASSIGN(CallResult r, Call(app, Entry::kProcess, &cmd, {}, true));
  CARD_ASSIGN(uint16_t sw, Outcome(r.sw));
  card::Response response;
  response.sw = sw;
  response.data = std::move(r.data);
  response.exact_length = r.exact;
  return response;
}

void LuaVm::Deselect(card::AppContext& app) {
  auto r = Call(app, Entry::kDeselect, nullptr, {}, false);
  (void)r;
}

CardStatus LuaVm::Uninstall(card::AppContext& app) {
  // An applet cannot keep itself from being deleted: whatever uninstall() wrote is rolled
  // back (its files go with its DF anyway, and its writes must not crowd the deletion's
  // commit), its failure is only diagnosed, and only a power loss ends the deletion.
  const nvm::Savepoint before = app.card->store().Mark();
  auto r = Call(app, Entry::kUninstall, nullptr, {}, true);
  if (!r.ok() && r.error().code == Error::kPowerLost) return r.error();
  app.card->store().RollbackTo(before);
  return card::Ok{};
}

}  // namespace tessera::apps::lua
