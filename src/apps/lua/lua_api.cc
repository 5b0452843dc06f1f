// The sandbox's libraries and the card API an applet sees (docs/applets.md §3, §4).
//
// Every function here follows one shape, because Lua errors are longjmps: check and read the
// arguments (luaL_check* may raise), then do the card work in a LuaVm member or a function of
// this file that never touches the Lua stack and reports through a result code, then push the
// results from the VM's buffers, and raise (Fail) only when no C++ object with a destructor is
// alive in the frame.
#include <lua.hpp>

#include <algorithm>
#include <cstring>
#include <optional>

#include "apps/common/module_pin.h"
#include "apps/lua/lua_vm.h"
#include "card/gp/secure_channel_service.h"
#include "card/registry/app_registry.h"
#include "crypto/aes.h"
#include "crypto/ecdsa.h"
#include "crypto/sha256.h"

namespace tessera::apps::lua {
namespace {

using card::CardError;
using card::Error;

enum Rc : int { kOk = 0, kLuaError = 1, kCardFailure = 2 };

// Raises what the card work reported: a Lua error with the VM's message, or the card error
// sentinel (the call then ends with the card's error, whatever the applet catches).
int Fail(lua_State* L, Rc rc) {
  LuaVm& vm = LuaVm::Of(L);
  if (rc == kCardFailure) {
    lua_pushlightuserdata(L, const_cast<char*>(&LuaVm::kCardErrorSentinel));
    return lua_error(L);
  }
  return luaL_error(L, "%s", vm.message);
}

Rc Misuse(LuaVm& vm, const char* text) {
  vm.SetMessage(text);
  return kLuaError;
}

Rc CardFailed(LuaVm& vm, CardError e, const char* what) {
  vm.SetMessage(what);
  vm.FailWith(e);
  return kCardFailure;
}

// The card work needs a running call (not a finalizer at close), and writes need a call that
// may write (not deselect()).
Rc Require(LuaVm& vm, bool write) {
  if (vm.app() == nullptr) return Misuse(vm, "the card API is not available here");
  if (write && !vm.writes()) return Misuse(vm, "no persistent writes in deselect()");
  return kOk;
}

int PushOut(lua_State* L, const Bytes& b) {
  lua_pushlstring(L, reinterpret_cast<const char*>(b.data()), b.size());
  return 1;
}

ByteView CheckBytes(lua_State* L, int arg) {
  size_t n = 0;
  const char* s = luaL_checklstring(L, arg, &n);
  return ByteView(reinterpret_cast<const uint8_t*>(s), n);
}

// --- card ---

int CardThrow(lua_State* L) {
  const lua_Integer sw = luaL_checkinteger(L, 1);
  LuaVm& vm = LuaVm::Of(L);
  vm.Throw(sw >= 0 && sw <= 0xFFFF ? static_cast<uint16_t>(sw) : 0x6F00);
  lua_pushlightuserdata(L, const_cast<char*>(&LuaVm::kThrowSentinel));
  return lua_error(L);
}

Rc DoRandom(LuaVm& vm, size_t n) {
  if (Rc rc = Require(vm, false)) return rc;
  vm.out.assign(n, 0);
  Status s = vm.app()->card->platform().Random(vm.out);
  if (!s.ok()) return CardFailed(vm, card::FromStatus(s), "the card's DRBG failed");
  return kOk;
}

int CardRandom(lua_State* L) {
  const lua_Integer n = luaL_checkinteger(L, 1);
  LuaVm& vm = LuaVm::Of(L);
  if (n < 1 || n > 256) return luaL_error(L, "card.random: n must be 1..256");
  if (Rc rc = DoRandom(vm, static_cast<size_t>(n))) return Fail(L, rc);
  return PushOut(L, vm.out);
}

Rc DoDate(LuaVm& vm) {
  if (Rc rc = Require(vm, false)) return rc;
  if (vm.date()) {
    vm.out = *vm.date();
    return kOk;
  }
  auto root = vm.app()->card->root();
  if (!root.ok()) return CardFailed(vm, root.error(), "the card's root record");
  auto registry = card::LoadRegistry(vm.app()->card->store(), *root);
  if (!registry.ok()) return CardFailed(vm, registry.error(), "the registry");
  vm.out.clear();
  const Bytes& d = registry->trusted_date;
  if (d != Bytes(3, 0)) {
    const std::string hex = ToHex(d);
    vm.out.assign(hex.begin(), hex.end());
  }
  vm.date() = vm.out;  // the date cannot change within a command
  return kOk;
}

int CardDate(lua_State* L) {
  LuaVm& vm = LuaVm::Of(L);
  if (Rc rc = DoDate(vm)) return Fail(L, rc);
  if (vm.out.empty()) {
    lua_pushnil(L);
    return 1;
  }
  return PushOut(L, vm.out);
}

int CardSha256(lua_State* L) {
  const ByteView s = CheckBytes(L, 1);
  LuaVm& vm = LuaVm::Of(L);
  const crypto::Sha256Digest d = crypto::Sha256(s);
  vm.out.assign(d.begin(), d.end());
  return PushOut(L, vm.out);
}

int CardHmacSha256(lua_State* L) {
  const ByteView key = CheckBytes(L, 1);
  const ByteView s = CheckBytes(L, 2);
  LuaVm& vm = LuaVm::Of(L);
  const crypto::Sha256Digest d = crypto::HmacSha256(key, s);
  vm.out.assign(d.begin(), d.end());
  return PushOut(L, vm.out);
}

// A crypto result into vm.out, or its message.
Rc TakeCrypto(LuaVm& vm, Result<Bytes> r, const char* what) {
  if (!r.ok()) return Misuse(vm, what);
  vm.out = std::move(*r);
  return kOk;
}

int CardAesEcb(lua_State* L) {
  const ByteView key = CheckBytes(L, 1);
  const ByteView s = CheckBytes(L, 2);
  const bool encrypt = lua_toboolean(L, 3) != 0;
  LuaVm& vm = LuaVm::Of(L);
  Rc rc = TakeCrypto(vm, encrypt ? crypto::AesEcbEncrypt(key, s) : crypto::AesEcbDecrypt(key, s),
                     "card.aes_ecb: a 16/24/32-byte key and data in whole blocks");
  if (rc) return Fail(L, rc);
  return PushOut(L, vm.out);
}

int CardAesCbc(lua_State* L) {
  const ByteView key = CheckBytes(L, 1);
  const ByteView iv = CheckBytes(L, 2);
  const ByteView s = CheckBytes(L, 3);
  const bool encrypt = lua_toboolean(L, 4) != 0;
  LuaVm& vm = LuaVm::Of(L);
  Rc rc = TakeCrypto(
      vm, encrypt ? crypto::AesCbcEncrypt(key, iv, s) : crypto::AesCbcDecrypt(key, iv, s),
      "card.aes_cbc: a 16/24/32-byte key, a 16-byte IV and data in whole blocks");
  if (rc) return Fail(L, rc);
  return PushOut(L, vm.out);
}

int CardAesCmac(lua_State* L) {
  const ByteView key = CheckBytes(L, 1);
  const ByteView s = CheckBytes(L, 2);
  LuaVm& vm = LuaVm::Of(L);
  if (Rc rc = TakeCrypto(vm, crypto::AesCmac(key, s), "card.aes_cmac: a 16/24/32-byte key")) {
    return Fail(L, rc);
  }
  return PushOut(L, vm.out);
}

// A private scalar from the card's DRBG (so that a seeded card is reproducible), drawn until
// it lies in [1, n-1].
Rc DoGenerate(LuaVm& vm) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    if (Rc rc = DoRandom(vm, crypto::kP256PrivateKeySize)) return rc;
    auto pub = crypto::P256PublicKeyFromPrivate(vm.out);
    if (!pub.ok()) continue;
    vm.out2 = std::move(*pub);
    return kOk;
  }
  return Misuse(vm, "card.ecdsa_generate: no key");
}

int CardEcdsaGenerate(lua_State* L) {
  LuaVm& vm = LuaVm::Of(L);
  if (Rc rc = DoGenerate(vm)) return Fail(L, rc);
  PushOut(L, vm.out);
  PushOut(L, vm.out2);
  return 2;
}

int CardEcdsaSign(lua_State* L) {
  const ByteView key = CheckBytes(L, 1);
  const ByteView s = CheckBytes(L, 2);
  LuaVm& vm = LuaVm::Of(L);
  if (Rc rc = TakeCrypto(vm, crypto::EcdsaP256Sign(key, s),
                         "card.ecdsa_sign: a 32-byte private key of P-256")) {
    return Fail(L, rc);
  }
  return PushOut(L, vm.out);
}

int CardEcdsaVerify(lua_State* L) {
  const ByteView pub = CheckBytes(L, 1);
  const ByteView s = CheckBytes(L, 2);
  const ByteView sig = CheckBytes(L, 3);
  lua_pushboolean(L, crypto::EcdsaP256Verify(pub, s, sig).ok());
  return 1;
}

// card.log(...): its arguments, as tostring shows them, to the card's diagnostics.
int CardLog(lua_State* L) {
  const int n = lua_gettop(L);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = 1; i <= n; ++i) {
    if (i > 1) luaL_addchar(&b, ' ');
    luaL_tolstring(L, i, nullptr);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  LuaVm& vm = LuaVm::Of(L);
  size_t len = 0;
  const char* text = lua_tolstring(L, -1, &len);
  if (vm.app() != nullptr) vm.Log(std::string_view(text, len));
  return 0;
}

// card.secured(): the command came in an authenticated SCP03 session with this application at
// the card's level (as the built-in PURSE's CREDIT requires; docs/applets.md §4).
int CardSecured(lua_State* L) {
  LuaVm& vm = LuaVm::Of(L);
  const bool secured =
      vm.owns_channel() && card::RequireAdminSession(*vm.app()->card, *vm.app()->ch).ok();
  lua_pushboolean(L, secured);
  return 1;
}

// --- fs ---

bool ApplicationFid(lua_Integer fid) {
  return fid >= 0x0001 && fid <= 0xBFFF && fid != 0x3F00 && fid != 0x3FFF && fid != 0x7FFF;
}

Rc DoCreate(LuaVm& vm, uint16_t fid, uint32_t size, uint32_t records) {
  if (Rc rc = Require(vm, true)) return rc;
  card::AppContext& app = *vm.app();
  const uint32_t bytes = records == 0 ? size : (size + 1) * records;
  if (AppFile(app, fid).ok()) return Misuse(vm, "fs.create: the FID exists");
  auto used = vm.PersistentInUse(app);
  if (!used.ok()) return CardFailed(vm, used.error(), "fs.create");
  if (used->files >= kMaxAppletFiles) {
    return CardFailed(vm, {Error::kNotEnoughMemory}, "fs.create: 32 files already");
  }
  if (used->bytes + LuaVm::BytesFor(app, bytes) > vm.limits().persistent) {
    return CardFailed(vm, {Error::kNotEnoughMemory}, "fs.create: over the persistent quota");
  }
  auto f = CreateAppFile(
      app, fid, 0,
      records == 0 ? card::EfStructure::kTransparent : card::EfStructure::kLinearVariable,
      static_cast<uint16_t>(size), static_cast<uint16_t>(records), kReadableFile);
  if (!f.ok()) return CardFailed(vm, f.error(), "fs.create");
  vm.files().clear();  // making a file relinks the DF
  if (records != 0) {  // every record there from the start, empty
    f->record_count = static_cast<uint16_t>(records);
    auto saved = app.card->fs().Save(*f);
    if (!saved.ok()) return CardFailed(vm, saved.error(), "fs.create");
  }
  return kOk;
}

int FsCreate(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getfield(L, 1, "fid");
  lua_getfield(L, 1, "size");
  lua_getfield(L, 1, "records");
  const lua_Integer fid = luaL_checkinteger(L, -3);
  const lua_Integer size = luaL_checkinteger(L, -2);
  const lua_Integer records = luaL_optinteger(L, -1, 0);
  if (!ApplicationFid(fid)) return luaL_error(L, "fs.create: fid must be 0001..BFFF");
  if (records < 0 || records > 254) return luaL_error(L, "fs.create: records must be 0..254");
  if (size < 1 || size > (records == 0 ? kMaxFileBytes : 255) ||
      (records != 0 && (size + 1) * records > kMaxFileBytes)) {
    return luaL_error(L, "fs.create: at most 8,192 bytes (records: 255 bytes each)");
  }
  LuaVm& vm = LuaVm::Of(L);
  if (Rc rc = DoCreate(vm, static_cast<uint16_t>(fid), static_cast<uint32_t>(size),
                       static_cast<uint32_t>(records))) {
    return Fail(L, rc);
  }
  return 0;
}

// The applet's EF `fid` of the wanted kind, resolved once per call (vm.files()).
Rc OpenFile(LuaVm& vm, lua_Integer fid, bool records, card::FileNode*& out) {
  if (!ApplicationFid(fid)) return Misuse(vm, "fid must be 0001..BFFF");
  const auto key = static_cast<uint16_t>(fid);
  auto it = vm.files().find(key);
  if (it == vm.files().end()) {
    auto f = AppFile(*vm.app(), key);
    if (!f.ok()) return Misuse(vm, "no such file");
    it = vm.files().emplace(key, std::move(*f)).first;
  }
  if (it->second.is_record_ef() != records) {
    return Misuse(vm, records ? "not a record file" : "not a transparent file");
  }
  out = &it->second;
  return kOk;
}

Rc DoRead(LuaVm& vm, lua_Integer fid, lua_Integer offset, lua_Integer n) {
  if (Rc rc = Require(vm, false)) return rc;
  card::FileNode* f = nullptr;
  if (Rc rc = OpenFile(vm, fid, false, f)) return rc;
  if (offset < 0 || n < 0 || offset > f->size || n > f->size - offset) {
    return Misuse(vm, "fs.read: past the file");
  }
  vm.out.assign(static_cast<size_t>(n), 0);
  auto r = vm.app()->card->fs().ReadData(*f, static_cast<uint32_t>(offset), vm.out);
  if (!r.ok()) return CardFailed(vm, r.error(), "fs.read");
  return kOk;
}

int FsRead(lua_State* L) {
  const lua_Integer fid = luaL_checkinteger(L, 1);
  const lua_Integer offset = luaL_checkinteger(L, 2);
  const lua_Integer n = luaL_checkinteger(L, 3);
  LuaVm& vm = LuaVm::Of(L);
  if (Rc rc = DoRead(vm, fid, offset, n)) return Fail(L, rc);
  return PushOut(L, vm.out);
}

Rc DoWrite(LuaVm& vm, lua_Integer fid, lua_Integer offset, ByteView data) {
  if (Rc rc = Require(vm, true)) return rc;
  card::FileNode* f = nullptr;
  if (Rc rc = OpenFile(vm, fid, false, f)) return rc;
  if (offset < 0 || offset > f->size || static_cast<lua_Integer>(data.size()) > f->size - offset) {
    return Misuse(vm, "fs.write: past the file");
  }
  auto r = vm.app()->card->fs().WriteData(*f, static_cast<uint32_t>(offset), data);
  if (!r.ok()) return CardFailed(vm, r.error(), "fs.write");
  return kOk;
}

int FsWrite(lua_State* L) {
  const lua_Integer fid = luaL_checkinteger(L, 1);
  const lua_Integer offset = luaL_checkinteger(L, 2);
  const ByteView data = CheckBytes(L, 3);
  LuaVm& vm = LuaVm::Of(L);
  if (Rc rc = DoWrite(vm, fid, offset, data)) return Fail(L, rc);
  return 0;
}

Rc DoRecord(LuaVm& vm, lua_Integer fid, lua_Integer n, const ByteView* write) {
  if (Rc rc = Require(vm, write != nullptr)) return rc;
  card::FileNode* f = nullptr;
  if (Rc rc = OpenFile(vm, fid, true, f)) return rc;
  if (n < 1 || n > f->record_count) return Misuse(vm, "no such record");
  const uint32_t slot = static_cast<uint32_t>(n - 1);
  if (write != nullptr) {
    if (write->size() > f->size) return Misuse(vm, "fs.write_record: longer than the record size");
    auto r = vm.app()->card->fs().WriteSlot(*f, slot, *write);
    if (!r.ok()) return CardFailed(vm, r.error(), "fs.write_record");
    return kOk;
  }
  auto r = vm.app()->card->fs().ReadSlot(*f, slot);
  if (!r.ok()) return CardFailed(vm, r.error(), "fs.read_record");
  vm.out = std::move(*r);
  return kOk;
}

int FsReadRecord(lua_State* L) {
  const lua_Integer fid = luaL_checkinteger(L, 1);
  const lua_Integer n = luaL_checkinteger(L, 2);
  LuaVm& vm = LuaVm::Of(L);
  if (Rc rc = DoRecord(vm, fid, n, nullptr)) return Fail(L, rc);
  return PushOut(L, vm.out);
}

int FsWriteRecord(lua_State* L) {
  const lua_Integer fid = luaL_checkinteger(L, 1);
  const lua_Integer n = luaL_checkinteger(L, 2);
  const ByteView data = CheckBytes(L, 3);
  LuaVm& vm = LuaVm::Of(L);
  if (Rc rc = DoRecord(vm, fid, n, &data)) return Fail(L, rc);
  return 0;
}

// --- store: klen key vlen value ..., 00 (docs/applets.md §5) ---

// Reads the store into vm.out (empty when it has no file yet).
Rc LoadStore(LuaVm& vm, card::FileNode* file) {
  vm.out.clear();
  auto f = AppFile(*vm.app(), kStoreFid);
  if (!f.ok()) return kOk;
  vm.out.assign(f->size, 0);
  auto r = vm.app()->card->fs().ReadData(*f, 0, vm.out);
  if (!r.ok()) return CardFailed(vm, r.error(), "store");
  if (file != nullptr) *file = *f;
  return kOk;
}

// The offset of the end marker of the entries in `b` (or b.size() when damaged).
size_t EndOfEntries(const Bytes& b) {
  size_t at = 0;
  while (at < b.size() && b[at] != 0) {
    const size_t klen = b[at];
    if (at + 1 + klen >= b.size()) return b.size();
    const size_t next = at + 2 + klen + b[at + 1 + klen];
    if (next > b.size()) return b.size();
    at = next;
  }
  return at;
}

// The offset of `key`'s entry in `b`, or nullopt.
std::optional<size_t> FindEntry(const Bytes& b, ByteView key) {
  const size_t end = EndOfEntries(b);
  for (size_t at = 0; at < end; at += 2 + b[at] + b[at + 1 + b[at]]) {
    if (b[at] == key.size() &&
        std::equal(key.begin(), key.end(), b.begin() + static_cast<ptrdiff_t>(at + 1))) {
      return at;
    }
  }
  return std::nullopt;
}

// vm.out2 = the value of `key`; `found` false when there is none.
Rc DoStoreGet(LuaVm& vm, ByteView key, bool& found) {
  if (Rc rc = Require(vm, false)) return rc;
  if (Rc rc = LoadStore(vm, nullptr)) return rc;
  const std::optional<size_t> at = FindEntry(vm.out, key);
  found = at.has_value();
  if (!found) return kOk;
  const size_t vlen = vm.out[*at + 1 + key.size()];
  const auto v = vm.out.begin() + static_cast<ptrdiff_t>(*at + 2 + key.size());
  vm.out2.assign(v, v + static_cast<ptrdiff_t>(vlen));
  return kOk;
}

int StoreGet(lua_State* L) {
  const ByteView key = CheckBytes(L, 1);
  LuaVm& vm = LuaVm::Of(L);
  if (key.empty() || key.size() > 32) return luaL_error(L, "store: keys are 1..32 bytes");
  bool found = false;
  if (Rc rc = DoStoreGet(vm, key, found)) return Fail(L, rc);
  if (!found) {
    lua_pushnil(L);
    return 1;
  }
  return PushOut(L, vm.out2);
}

Rc DoStoreSet(LuaVm& vm, ByteView key, const ByteView* value) {
  if (Rc rc = Require(vm, true)) return rc;
  card::FileNode f;
  if (Rc rc = LoadStore(vm, &f)) return rc;
  if (vm.out.empty()) {  // the first entry: the store's file
    if (value == nullptr) return kOk;
    auto used = vm.PersistentInUse(*vm.app());
    if (!used.ok()) return CardFailed(vm, used.error(), "store");
    if (used->files >= kMaxAppletFiles ||
        used->bytes + LuaVm::BytesFor(*vm.app(), kStoreSize) > vm.limits().persistent) {
      return CardFailed(vm, {Error::kNotEnoughMemory}, "store: over the persistent quota");
    }
    auto created = CreateAppFile(*vm.app(), kStoreFid, 0, card::EfStructure::kTransparent,
                                 kStoreSize, 0, kPrivateFile);
    if (!created.ok()) return CardFailed(vm, created.error(), "store");
    vm.files().clear();
    f = *created;
    vm.out.assign(kStoreSize, 0);
  }
  const size_t end = EndOfEntries(vm.out);
  Bytes next(vm.out.begin(), vm.out.begin() + static_cast<ptrdiff_t>(end));
  if (const std::optional<size_t> at = FindEntry(vm.out, key)) {
    const size_t len = 2 + key.size() + vm.out[*at + 1 + key.size()];
    next.erase(next.begin() + static_cast<ptrdiff_t>(*at),
               next.begin() + static_cast<ptrdiff_t>(*at + len));
  }
  if (value != nullptr) {
    next.push_back(static_cast<uint8_t>(key.size()));
    Append(next, key);
    next.push_back(static_cast<uint8_t>(value->size()));
    Append(next, *value);
  }
  if (next.size() + 1 > f.size) return CardFailed(vm, {Error::kNotEnoughMemory}, "store: full");
  // The end marker, and zeros over what the entries took before.
  next.resize(std::min<size_t>(std::max(end, next.size()) + 1, f.size), 0);
  auto w = vm.app()->card->fs().WriteData(f, 0, next);
  if (!w.ok()) return CardFailed(vm, w.error(), "store");
  return kOk;
}

int StoreSet(lua_State* L) {
  const ByteView key = CheckBytes(L, 1);
  const bool erase = lua_isnoneornil(L, 2);
  const ByteView value = erase ? ByteView{} : CheckBytes(L, 2);
  LuaVm& vm = LuaVm::Of(L);
  if (key.empty() || key.size() > 32) return luaL_error(L, "store: keys are 1..32 bytes");
  if (value.size() > 255) return luaL_error(L, "store: values are at most 255 bytes");
  if (Rc rc = DoStoreSet(vm, key, erase ? nullptr : &value)) return Fail(L, rc);
  return 0;
}

// --- pin ---

uint16_t PinFid(lua_State* L, int arg) {
  const lua_Integer ref = luaL_checkinteger(L, arg);
  if (ref < 1 || ref > kMaxPinRef) luaL_error(L, "pin: ref must be 1..4");
  return static_cast<uint16_t>(kPinFidBase + ref);
}

uint32_t PinBit(uint16_t fid) {
  return 1u << (fid - kPinFidBase);
}

Rc DoPinCreate(LuaVm& vm, uint16_t fid, ByteView value, lua_Integer tries) {
  if (Rc rc = Require(vm, true)) return rc;
  if (AppFile(*vm.app(), fid).ok()) return Misuse(vm, "pin.create: the PIN exists");
  if (value.size() < 4 || value.size() > 16 || tries < 1 || tries > 15) {
    return Misuse(vm, "pin.create: 4..16 bytes, 1..15 tries");
  }
  auto r = CreatePinFile(*vm.app(), fid, value, static_cast<uint8_t>(tries));
  if (!r.ok()) return CardFailed(vm, r.error(), "pin.create");
  return kOk;
}

int PinCreate(lua_State* L) {
  const uint16_t fid = PinFid(L, 1);
  const ByteView value = CheckBytes(L, 2);
  const lua_Integer tries = luaL_checkinteger(L, 3);
  LuaVm& vm = LuaVm::Of(L);
  if (Rc rc = DoPinCreate(vm, fid, value, tries)) return Fail(L, rc);
  return 0;
}

Rc DoPinVerify(LuaVm& vm, uint16_t fid, ByteView value, PinCheck& check) {
  if (Rc rc = Require(vm, true)) return rc;  // spending a try is a write
  if (!vm.owns_channel()) return Misuse(vm, "pin.verify: not while being selected");
  if (!AppFile(*vm.app(), fid).ok()) return Misuse(vm, "pin.verify: no such PIN");
  vm.app()->ch->app_security &= ~PinBit(fid);
  auto r = CheckPin(*vm.app(), fid, value);
  if (!r.ok() && r.error().code == Error::kAuthenticationBlocked) {
    check = PinCheck{false, 0};
    return kOk;
  }
  if (!r.ok() && r.error().code == Error::kReferenceDataNotUsable) {
    return Misuse(vm, "pin.verify: the PIN has no value");
  }
  if (!r.ok()) return CardFailed(vm, r.error(), "pin.verify");
  check = *r;
  if (check.verified) vm.app()->ch->app_security |= PinBit(fid);
  return kOk;
}

int PinVerify(lua_State* L) {
  const uint16_t fid = PinFid(L, 1);
  const ByteView value = CheckBytes(L, 2);
  LuaVm& vm = LuaVm::Of(L);
  PinCheck check;
  if (Rc rc = DoPinVerify(vm, fid, value, check)) return Fail(L, rc);
  lua_pushboolean(L, check.verified);
  if (check.verified) return 1;
  lua_pushinteger(L, check.tries_left);
  return 2;
}

int PinVerified(lua_State* L) {
  const uint16_t fid = PinFid(L, 1);
  LuaVm& vm = LuaVm::Of(L);
  if (Rc rc = Require(vm, false)) return Fail(L, rc);
  lua_pushboolean(L, vm.owns_channel() && (vm.app()->ch->app_security & PinBit(fid)) != 0);
  return 1;
}

Rc DoPinTries(LuaVm& vm, uint16_t fid, uint8_t& left) {
  if (Rc rc = Require(vm, false)) return rc;
  if (!AppFile(*vm.app(), fid).ok()) return Misuse(vm, "pin.tries: no such PIN");
  auto r = PinTriesLeft(*vm.app(), fid);
  if (!r.ok()) return CardFailed(vm, r.error(), "pin.tries");
  left = *r;
  return kOk;
}

int PinTries(lua_State* L) {
  const uint16_t fid = PinFid(L, 1);
  LuaVm& vm = LuaVm::Of(L);
  uint8_t left = 0;
  if (Rc rc = DoPinTries(vm, fid, left)) return Fail(L, rc);
  lua_pushinteger(L, left);
  return 1;
}

// --- the sandboxed libraries ---

int LimitReached(lua_State* L);

// load(chunk [, name [, mode [, env]]]): a string chunk of source text only.
int SafeLoad(lua_State* L) {
  size_t n = 0;
  const char* chunk = luaL_checklstring(L, 1, &n);
  const char* name = luaL_optstring(L, 2, "=(load)");
  const char* mode = luaL_optstring(L, 3, "t");
  if (std::strcmp(mode, "t") != 0) return luaL_error(L, "load: only text chunks (mode \"t\")");
  if (!LuaVm::Of(L).Charge(1 + n / 4)) return LimitReached(L);  // compiling is work in C
  const bool env = !lua_isnone(L, 4);
  if (luaL_loadbufferx(L, chunk, n, name, "t") != LUA_OK) {
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;  // nil, message
  }
  if (env) {
    lua_pushvalue(L, 4);
    if (lua_setupvalue(L, -2, 1) == nullptr) lua_pop(L, 1);
  }
  return 1;
}

// Raises the limit error when the VM's count is spent (after a Charge).
int LimitReached(lua_State* L) {
  lua_pushlightuserdata(L, const_cast<char*>(&LuaVm::kLimitSentinel));
  return lua_error(L);
}

// string.find(s, pattern [, init]): always a plain search, its worst case (length of s times
// length of the pattern) charged to the instruction count first.
int PlainFind(lua_State* L) {
  size_t n = 0, m = 0;
  luaL_checklstring(L, 1, &n);
  luaL_checklstring(L, 2, &m);
  const lua_Integer init = luaL_optinteger(L, 3, 1);
  if (!LuaVm::Of(L).Charge(1 + static_cast<uint64_t>(n) * (m + 1) / 64)) return LimitReached(L);
  const int base = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_pushinteger(L, init);
  lua_pushboolean(L, 1);
  lua_call(L, 4, LUA_MULTRET);
  return lua_gettop(L) - base;
}

// A library function whose C work grows with the strings it gets and makes: the bytes of its
// string arguments and results are charged to the instruction count (one per 16), so that a
// loop of such calls meets the limit as a loop of Lua code does.
int Charged(lua_State* L) {
  LuaVm& vm = LuaVm::Of(L);
  const int args = lua_gettop(L);
  uint64_t bytes = 0;
  for (int i = 1; i <= args; ++i) {
    if (lua_type(L, i) == LUA_TSTRING) bytes += lua_rawlen(L, i);
  }
  if (!vm.Charge(1 + bytes / 16)) return LimitReached(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, args, LUA_MULTRET);
  const int results = lua_gettop(L);
  bytes = 0;
  for (int i = 1; i <= results; ++i) {
    if (lua_type(L, i) == LUA_TSTRING) bytes += lua_rawlen(L, i);
  }
  if (!vm.Charge(bytes / 16)) return LimitReached(L);
  return results;
}

// string.rep(s, n [, sep]): Lua's loops n times even when nothing is copied; here the result's
// length, or n for an empty one, is charged first.
int ChargedRep(lua_State* L) {
  size_t l = 0, lsep = 0;
  luaL_checklstring(L, 1, &l);
  const lua_Integer n = luaL_checkinteger(L, 2);
  luaL_optlstring(L, 3, "", &lsep);
  if (n <= 0) {
    lua_pushliteral(L, "");
    return 1;
  }
  const uint64_t per = l + lsep;
  const uint64_t cost = per == 0 ? static_cast<uint64_t>(n)
                                 : (static_cast<uint64_t>(n) > UINT64_MAX / per
                                        ? UINT64_MAX
                                        : static_cast<uint64_t>(n) * per / 16);
  if (!LuaVm::Of(L).Charge(1 + cost)) return LimitReached(L);
  if (per == 0) {
    lua_pushliteral(L, "");
    return 1;
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

// table.insert / remove / move / concat / sort / unpack: their loops run in C over ranges an
// applet chooses (a __len can claim any length): ranges are charged to the count, and none
// may exceed kMaxTableRange elements.
constexpr lua_Integer kMaxTableRange = 1 << 20;

// The elements from `from` to `to`, without overflow: capped just past kMaxTableRange.
lua_Integer Span(lua_Integer from, lua_Integer to) {
  if (to < from) return 0;
  const lua_Unsigned d = static_cast<lua_Unsigned>(to) - static_cast<lua_Unsigned>(from);
  return d >= static_cast<lua_Unsigned>(kMaxTableRange) ? kMaxTableRange + 1
                                                        : static_cast<lua_Integer>(d) + 1;
}

int ChargedTable(lua_State* L) {
  LuaVm& vm = LuaVm::Of(L);
  const int which = static_cast<int>(lua_tointeger(L, lua_upvalueindex(2)));
  // A __len could answer one length here and another to the library's own loop: these
  // functions take no table with one.
  if (lua_getmetatable(L, 1)) {
    lua_pushliteral(L, "__len");
    const bool has_len = lua_rawget(L, -2) != LUA_TNIL;
    lua_pop(L, 2);
    if (has_len) return luaL_error(L, "table functions take no table with __len here");
  }
  lua_Integer span = 0;
  if (which == 2) {  // move(a1, f, e, t [, a2])
    const lua_Integer f = luaL_checkinteger(L, 2), e = luaL_checkinteger(L, 3);
    luaL_checkinteger(L, 4);
    span = Span(f, e);
  } else if (which == 3 || which == 5) {  // concat(t [, sep [, i [, j]]]), unpack(t [, i [, j]])
    const int at = which == 3 ? 3 : 2;
    const lua_Integer i = luaL_optinteger(L, at, 1);
    const lua_Integer j =
        lua_isnoneornil(L, at + 1) ? luaL_len(L, 1) : luaL_checkinteger(L, at + 1);
    span = Span(i, j);
  } else {  // insert, remove, sort: the table's length
    span = luaL_len(L, 1);
  }
  if (span > kMaxTableRange || span < 0) {
    return luaL_error(L, "table: a range of more than 1,048,576 elements");
  }
  // sort compares n log n times; the rest touch each element once.
  const uint64_t cost = static_cast<uint64_t>(span) * (which == 4 ? 20 : 1);
  if (!vm.Charge(1 + cost)) return LimitReached(L);
  const int args = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, args, LUA_MULTRET);
  return lua_gettop(L);
}

// coroutine.create / resume / wrap and the functions wrap makes: Lua counts instructions per
// thread, and a thread that runs fewer than the hook's step never reaches the hook, so each
// start of a coroutine is charged a full step: the count stays an upper bound.
int ChargedStart(lua_State* L) {
  if (!LuaVm::Of(L).Charge(1000)) return LimitReached(L);
  const int args = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, args, LUA_MULTRET);
  return lua_gettop(L);
}

// coroutine.wrap(f): the function it returns is charged at every call too.
int ChargedWrap(lua_State* L) {
  if (!LuaVm::Of(L).Charge(1000)) return LimitReached(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  lua_pushcclosure(L, ChargedStart, 1);
  return 1;
}

// setmetatable(t, mt): no __gc. Lua runs finalizers with the hooks off, outside any
// instruction count, so one that loops would hang the card; an object is marked for
// finalization only when its metatable has __gc at this moment (raw), so the check is whole.
int SafeSetMetatable(lua_State* L) {
  if (lua_type(L, 2) == LUA_TTABLE) {
    lua_pushliteral(L, "__gc");
    if (lua_rawget(L, 2) != LUA_TNIL) return luaL_error(L, "setmetatable: no __gc here");
    lua_pop(L, 1);
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

// Replaces `table`.`field` with `fn` closing over the original (and `extra`, when given).
void Wrap(lua_State* L, const char* table, const char* field, lua_CFunction fn, int extra = -1) {
  if (table == nullptr) {
    lua_pushglobaltable(L);
  } else {
    lua_getglobal(L, table);
  }
  lua_getfield(L, -1, field);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 2);
    return;
  }
  int n = 1;
  if (extra >= 0) {
    lua_pushinteger(L, extra);
    n = 2;
  }
  lua_pushcclosure(L, fn, n);
  lua_setfield(L, -2, field);
  lua_pop(L, 1);
}

Rc DoRandomU64(LuaVm& vm, uint64_t& v) {
  if (Rc rc = DoRandom(vm, 8)) return rc;
  v = 0;
  for (uint8_t b : vm.out) v = (v << 8) | b;
  return kOk;
}

// math.random() / (m) / (m, n), drawing from the card's DRBG.
int MathRandom(lua_State* L) {
  const int args = lua_gettop(L);
  lua_Integer lo = 1, hi = 0;
  if (args == 1 && luaL_checkinteger(L, 1) == 0) {  // math.random(0): a whole random integer
    LuaVm& vm = LuaVm::Of(L);
    uint64_t v = 0;
    if (Rc rc = DoRandomU64(vm, v)) return Fail(L, rc);
    lua_pushinteger(L, static_cast<lua_Integer>(v));
    return 1;
  }
  if (args == 1) {
    hi = luaL_checkinteger(L, 1);
  } else if (args >= 2) {
    lo = luaL_checkinteger(L, 1);
    hi = luaL_checkinteger(L, 2);
  }
  if (args >= 1 && lo > hi) return luaL_error(L, "math.random: interval is empty");
  LuaVm& vm = LuaVm::Of(L);
  uint64_t v = 0;
  if (Rc rc = DoRandomU64(vm, v)) return Fail(L, rc);
  if (args == 0) {
    lua_pushnumber(L, static_cast<lua_Number>(v >> 11) * 0x1.0p-53);
    return 1;
  }
  const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  // Rejection sampling for an unbiased draw in [0, span].
  if (span != UINT64_MAX) {
    const uint64_t range = span + 1;
    const uint64_t limit = UINT64_MAX - (UINT64_MAX % range + 1) % range;
    while (v > limit) {
      if (Rc rc = DoRandomU64(vm, v)) return Fail(L, rc);
    }
    v %= range;
  }
  lua_pushinteger(L, static_cast<lua_Integer>(static_cast<uint64_t>(lo) + v));
  return 1;
}

// Every card API function through this: a C++ exception (an allocation failing) must never
// unwind through Lua's C frames; it becomes a Lua error once nothing C++ is alive.
template <lua_CFunction F>
int Guard(lua_State* L) {
  try {
    return F(L);
  } catch (...) {
  }
  return luaL_error(L, "the card API ran out of memory");
}

void Open(lua_State* L, const char* name, lua_CFunction open) {
  luaL_requiref(L, name, open, 1);
  lua_pop(L, 1);
}

void Remove(lua_State* L, const char* table, const char* field) {
  lua_getglobal(L, table);
  lua_pushnil(L);
  lua_setfield(L, -2, field);
  lua_pop(L, 1);
}

void NewLib(lua_State* L, const char* name, const luaL_Reg* fns) {
  lua_newtable(L);
  luaL_setfuncs(L, fns, 0);
  lua_setglobal(L, name);
}

}  // namespace

int OpenSandbox(lua_State* L) {
  Open(L, LUA_GNAME, luaopen_base);
  Open(L, LUA_STRLIBNAME, luaopen_string);
  Open(L, LUA_TABLIBNAME, luaopen_table);
  Open(L, LUA_MATHLIBNAME, luaopen_math);
  Open(L, LUA_UTF8LIBNAME, luaopen_utf8);
  Open(L, LUA_COLIBNAME, luaopen_coroutine);
  for (const char* f :
       {"dofile", "loadfile", "require", "print", "collectgarbage", "load", "warn"}) {
    Remove(L, LUA_GNAME, f);
  }
  Wrap(L, nullptr, "setmetatable", SafeSetMetatable);
  // C work that grows with its input is charged to the instruction count.
  // (Cheap ones - byte, char, len, pack, sub, unpack, tostring - are left alone: what they copy
  // is no more than a concatenation does, and the CPU-time backstop bounds both.)
  for (const char* f : {"format", "lower", "reverse", "upper"}) {
    Wrap(L, LUA_STRLIBNAME, f, Charged);
  }
  Wrap(L, LUA_STRLIBNAME, "rep", ChargedRep);
  for (const char* f : {"char", "codepoint", "len", "offset"}) {
    Wrap(L, LUA_UTF8LIBNAME, f, Charged);
  }
  Wrap(L, LUA_COLIBNAME, "create", ChargedStart);
  Wrap(L, LUA_COLIBNAME, "resume", ChargedStart);
  Wrap(L, LUA_COLIBNAME, "wrap", ChargedWrap);
  const char* const kTable[] = {"insert", "remove", "move", "concat", "sort", "unpack"};
  for (int i = 0; i < 6; ++i) Wrap(L, LUA_TABLIBNAME, kTable[i], ChargedTable, i);
  lua_pushcfunction(L, SafeLoad);
  lua_setglobal(L, "load");
  for (const char* f : {"dump", "match", "gmatch", "gsub"}) Remove(L, LUA_STRLIBNAME, f);
  lua_getglobal(L, LUA_STRLIBNAME);
  lua_getfield(L, -1, "find");
  lua_pushcclosure(L, PlainFind, 1);
  lua_setfield(L, -2, "find");
  lua_pop(L, 1);
  Remove(L, LUA_MATHLIBNAME, "randomseed");
  lua_getglobal(L, LUA_MATHLIBNAME);
  lua_pushcfunction(L, MathRandom);
  lua_setfield(L, -2, "random");
  lua_pop(L, 1);

  static const luaL_Reg kCard[] = {{"throw", Guard<CardThrow>},
                                   {"random", Guard<CardRandom>},
                                   {"date", Guard<CardDate>},
                                   {"sha256", Guard<CardSha256>},
                                   {"hmac_sha256", Guard<CardHmacSha256>},
                                   {"aes_ecb", Guard<CardAesEcb>},
                                   {"aes_cbc", Guard<CardAesCbc>},
                                   {"aes_cmac", Guard<CardAesCmac>},
                                   {"ecdsa_generate", Guard<CardEcdsaGenerate>},
                                   {"ecdsa_sign", Guard<CardEcdsaSign>},
                                   {"ecdsa_verify", Guard<CardEcdsaVerify>},
                                   {"log", Guard<CardLog>},
                                   {"secured", Guard<CardSecured>},
                                   {nullptr, nullptr}};
  static const luaL_Reg kFs[] = {{"create", Guard<FsCreate>},
                                 {"read", Guard<FsRead>},
                                 {"write", Guard<FsWrite>},
                                 {"read_record", Guard<FsReadRecord>},
                                 {"write_record", Guard<FsWriteRecord>},
                                 {nullptr, nullptr}};
  static const luaL_Reg kStore[] = {
      {"get", Guard<StoreGet>}, {"set", Guard<StoreSet>}, {nullptr, nullptr}};
  static const luaL_Reg kPin[] = {{"create", Guard<PinCreate>},
                                  {"verify", Guard<PinVerify>},
                                  {"verified", Guard<PinVerified>},
                                  {"tries", Guard<PinTries>},
                                  {nullptr, nullptr}};
  NewLib(L, "card", kCard);
  NewLib(L, "fs", kFs);
  NewLib(L, "store", kStore);
  NewLib(L, "pin", kPin);
  return 0;
}

}  // namespace tessera::apps::lua
