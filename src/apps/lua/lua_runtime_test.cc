// The applet runtime end to end (docs/applets.md): packages built here by hand from the
// document, installed by signed installation file, then driven by APDUs. The oracle for the
// API and the state rules is the built-in DATA STORE: an applet that mirrors it answers every
// command exactly as the module does.
#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "card/check/card_inspector.h"
#include "format/applet_package.h"
#include "nvm/image_inspector.h"
#include "support/app_management_fixture.h"

namespace tessera::apps {
namespace {

const std::string kPackageAid = "F0000000AA";
const std::string kModuleAid = "F0000000AA01";
const std::string kApplet = "F0000000AA10";
const std::string kApplet2 = "F0000000AA11";
const std::string kBuiltIn = "F05445535345524120";

std::string SelectCmd(const std::string& aid) {
  return "00A40400" + Lc(aid.size() / 2) + aid + "00";
}

// A4 … as docs/applets.md §1 writes it, with one module.
Bytes Package(const std::string& source, const std::string& module_aid = kModuleAid) {
  TlvBuilder b;
  b.Open(0xA0).Add(0x4F, HexOrDie(kPackageAid)).Add(0xC2, HexOrDie("0100"));
  b.Open(0xA1).Add(0x4F, HexOrDie(module_aid)).Add(0x50, ToBytes("MIRROR"));
  b.Add(0xC6, ToBytes(source)).Close().Close();
  return b.Take();
}

// DATA STORE (docs/applications.md §6.1) written as an applet.
const char* const kDataStoreApplet = R"lua(
local SIZE = 512
local M = {}

local function parse(params)
  local out, i = {}, 1
  while i <= #params do
    local tag, len = params:byte(i), params:byte(i + 1)
    if not len or len > 127 then card.throw(0x6A80) end
    out[tag] = params:sub(i + 2, i + 1 + len)
    if #out[tag] ~= len then card.throw(0x6A80) end
    i = i + 2 + len
  end
  return out
end

function M.install(params)
  local p = parse(params)
  for tag in pairs(p) do
    if tag ~= 0x80 and tag ~= 0x81 and tag ~= 0x82 then card.throw(0x6A80) end
  end
  fs.create{fid = 0x0101, size = SIZE}
  if p[0x81] then pin.create(1, p[0x81], p[0x82] and p[0x82]:byte(1) or 3) end
  if p[0x80] then fs.write(0x0101, 0, p[0x80]) end
end

local function offset(apdu)
  if apdu.p1 & 0x80 ~= 0 then
    if apdu.p1 & 0x1F ~= 1 or apdu.p1 & 0x60 ~= 0 then card.throw(0x6A82) end
    return apdu.p2
  end
  return ((apdu.p1 & 0x7F) << 8) | apdu.p2
end

function M.process(apdu)
  if apdu.ins == 0x20 then
    if apdu.p1 ~= 0 or apdu.p2 ~= 0x80 then card.throw(0x6A86) end
    local ok, left = pcall(pin.tries, 1)
    if not ok then card.throw(0x6984) end
    if #apdu.data == 0 then
      if pin.verified(1) then return nil end
      return nil, 0x63C0 | left
    end
    if left == 0 then card.throw(0x6983) end
    local good, now = pin.verify(1, apdu.data)
    if good then return nil end
    return nil, 0x63C0 | now
  elseif apdu.ins == 0xB0 then
    if not pin.verified(1) then card.throw(0x6982) end
    local off = offset(apdu)
    if off >= SIZE then card.throw(0x6B00) end
    return fs.read(0x0101, off, math.min(apdu.le or 256, SIZE - off))
  elseif apdu.ins == 0xD6 then
    if not pin.verified(1) then card.throw(0x6982) end
    local off = offset(apdu)
    if #apdu.data == 0 then card.throw(0x6700) end
    if off + #apdu.data > SIZE then card.throw(0x6B00) end
    fs.write(0x0101, off, apdu.data)
    return nil
  end
  card.throw(0x6D00)
end

return M
)lua";

class LuaAppletTest : public AppManagementTest {
 protected:
  void SetUp() override {
    AppManagementTest::SetUp();
    card_->set_diagnostics([this](std::string_view m) { diagnostics_.emplace_back(m); });
    AddAdmin();
  }

  // Installs `source` as application `aid` by a signed installation file: E1, C7 {02,
  // package}, [C9 params], [EF system]; the last status word.
  std::string InstallApplet(const std::string& aid, const std::string& source,
                            const Bytes& params = {}, const Bytes& system = {},
                            const std::string& module_aid = kModuleAid) {
    return InstallCode(aid, Concat(Bytes{0x02}, Package(source, module_aid)), params, system);
  }
  std::string InstallCode(const std::string& aid, const Bytes& code, const Bytes& params = {},
                          const Bytes& system = {}) {
    Fields f;
    f.aid = aid;
    f.name = "APPLET";
    Bytes inner = Record(f, &admin_key_);
    Append(inner, EncodeTlv(0xC7, code));
    if (!params.empty()) Append(inner, EncodeTlv(0xC9, params));
    if (!system.empty()) Append(inner, EncodeTlv(0xEF, system));
    auto isd = Issuer();
    return Upload(*isd, SignedFile(inner, &admin_key_));
  }
  static Bytes Concat(Bytes a, const Bytes& b) {
    Append(a, b);
    return a;
  }
  // Installs `process_body` as the body of process(apdu) and selects it.
  void Applet(const std::string& process_body, const Bytes& system = {}) {
    const std::string src = "return { process = function(apdu)\n" + process_body + "\nend }";
    ASSERT_EQ(InstallApplet(kApplet, src, {}, system), "9000") << Diagnostics();
    ASSERT_EQ(Sw(SelectCmd(kApplet)), "9000");
  }
  std::string Diagnostics() const {
    std::string all;
    for (const std::string& d : diagnostics_) all += d + "\n";
    return all;
  }
  bool Diagnosed(const std::string& part) const {
    return std::any_of(diagnostics_.begin(), diagnostics_.end(),
                       [&](const std::string& d) { return d.find(part) != std::string::npos; });
  }
  std::vector<std::string> diagnostics_;
};

TEST_F(LuaAppletTest, AnAppletMirroringTheDataStoreAnswersAsTheBuiltInModule) {
  TlvBuilder p;
  p.Add(0x80, ToBytes("hello")).Add(0x81, ToBytes("1234"));
  const Bytes params = p.Take();
  ASSERT_EQ(InstallDataStore(kBuiltIn, "hello"), "9000");
  ASSERT_EQ(InstallApplet(kApplet, kDataStoreApplet, params), "9000") << Diagnostics();
  const std::vector<std::string> script = {
      "00B0000005",          // before VERIFY: 6982
      "00D600000101",        // 6982
      "002000800431313131",  // wrong PIN: 63C2
      "0020008000",          // status: 63C2
      "002000810431323334",  // wrong P2: 6A86
      "002000800431323334",  // right: 9000
      "0020008000",          // verified: 9000
      "00B0000005",          // hello
      "00B0810003",          // by SFI 1
      "00B0820000",          // SFI 2: 6A82
      "00B0020000",          // offset 512: 6B00
      "00B001FE00",          // the last 2 bytes
      "00B0000000",          // Le 00: 256 bytes
      "00D6000003AABBCC",    // update
      "00B0000004",          // AABBCC6C
      "00D60000",            // no data: 6700
      "00D601FF02AABB",      // past the end: 6B00
      "00D601FE02DDEE",      // the last 2 bytes
      "00B001FE02",          // DDEE
      "00B000000000010000",  // extended Le: up to the end
      "002000800431313131",  // wrong: 63C2
      "002000800431313131",  // 63C1
      "00B0000001",          // no longer verified: 6982
      "002000800431313131",  // 63C0
      "002000800431323334",  // blocked: 6983
      "0020008000",          // 63C0
  };
  auto run = [&](const std::string& aid) {
    std::vector<std::string> out;
    out.push_back(Sw(SelectCmd(aid)));  // the FCIs differ: AID and name
    for (const std::string& c : script) out.push_back(Tx(c));
    Reboot();  // what was written survives; nothing verified does
    out.push_back(Sw(SelectCmd(aid)));
    out.push_back(Tx("0020008000"));
    return out;
  };
  const auto builtin = run(kBuiltIn);
  const auto applet = run(kApplet);
  ASSERT_EQ(builtin.size(), applet.size());
  for (size_t i = 0; i < builtin.size(); ++i) {
    EXPECT_EQ(applet[i], builtin[i])
        << "command " << i << ": " << (i == 0 || i > script.size() ? "SELECT" : script[i - 1]);
  }
  EXPECT_EQ(builtin[8], "68656C6C6F9000");  // the oracle itself answered
  EXPECT_TRUE(diagnostics_.empty()) << Diagnostics();
}

TEST_F(LuaAppletTest, TheSandboxOffersOnlyTheSafeLibraries) {
  Applet(R"lua(
    local absent = {}
    for _, name in ipairs{"io", "os", "debug", "package", "require", "dofile", "loadfile",
                          "print", "collectgarbage"} do
      if _G[name] ~= nil then absent[#absent + 1] = name end
    end
    for _, name in ipairs{"dump", "match", "gmatch", "gsub"} do
      if string[name] ~= nil then absent[#absent + 1] = "string." .. name end
    end
    if math.randomseed ~= nil then absent[#absent + 1] = "math.randomseed" end
    -- Bytecode never loads, whatever the mode asked for.
    local f, err = pcall(load, string.char(27) .. "LuaT\0", "x", "b")
    if f then absent[#absent + 1] = "load b" end
    local g = load(string.char(27) .. "LuaT\0")
    if g ~= nil then absent[#absent + 1] = "load bytecode" end
    -- Text loads, in the environment given.
    local h = load("return x", "chunk", "t", {x = 42})
    if h() ~= 42 then absent[#absent + 1] = "load text" end
    -- find is plain: a pattern is only characters.
    if ("a.c"):find(".", 1) ~= 2 then absent[#absent + 1] = "plain find" end
    local r = math.random(1, 6)
    if r < 1 or r > 6 then absent[#absent + 1] = "random" end
    return table.concat(absent, ",") .. "|" .. #card.random(16)
  )lua");
  EXPECT_EQ(Tx("8000000000"), ToHex(ToBytes("|16")) + "9000");
}

TEST_F(LuaAppletTest, ARunawayAppletHitsItsInstructionLimitAndTheCardCarriesOn) {
  Applet(R"lua(
    if apdu.p1 == 1 then while true do end end
    if apdu.p1 == 2 then  -- a pcall that catches the limit cannot keep it running
      while true do pcall(function() while true do end end) end
    end
    if apdu.p1 == 3 then  -- nor a coroutine
      local co = coroutine.wrap(function() while true do coroutine.yield() end end)
      while true do pcall(co) end
    end
    if apdu.p1 == 4 then  -- nor an error handler
      while true do xpcall(function() while true do end end, function() while true do end end) end
    end
    return "ok"
  )lua",
         HexOrDie("DF210400002710"));  // 10,000 instructions
  for (const char* cmd : {"8000010000", "8000020000", "8000030000", "8000040000"}) {
    EXPECT_EQ(Tx(cmd), "6F00") << cmd;
    EXPECT_TRUE(Diagnosed("instruction limit")) << Diagnostics();
    diagnostics_.clear();
    EXPECT_EQ(Tx("8000000000"), ToHex(ToBytes("ok")) + "9000") << "after " << cmd;
  }
  // The rest of the card is unaffected.
  EXPECT_EQ(Sw(SelectCmd(kMgmtAid)), "9000");
}

TEST_F(LuaAppletTest, TheHeapLimitRefusesAllocationsPastIt) {
  Applet(R"lua(
    local function grow()
      local t = {}
      for i = 1, 1e7 do t[i] = string.rep("x", 100) .. i end
    end
    if apdu.p1 == 1 then grow() end
    local ok = pcall(grow)
    return ok and "grew" or "caught"
  )lua",
         HexOrDie("C60400008000"));  // 32 KiB
  EXPECT_EQ(Tx("8000010000"), "6F00");
  EXPECT_TRUE(Diagnosed("heap limit") || Diagnosed("not enough memory")) << Diagnostics();
  EXPECT_EQ(Tx("8000000000"), ToHex(ToBytes("caught")) + "9000");
}

TEST_F(LuaAppletTest, AFailedCommandChangesNothingAndAThrownWarningCommits) {
  const std::string src = R"lua(
    return {
      install = function() fs.create{fid = 0x0101, size = 4}; store.set("n", "0") end,
      process = function(apdu)
        if apdu.ins == 0xB0 then return fs.read(0x0101, 0, 4) .. store.get("n") end
        fs.write(0x0101, 0, apdu.data)
        store.set("n", tostring(tonumber(store.get("n")) + 1))
        if apdu.p1 == 1 then error("after the writes") end
        if apdu.p1 == 2 then card.throw(0x6A80) end
        if apdu.p1 == 3 then card.throw(0x6283) end
        if apdu.p1 == 4 then fs.read(0x0102, 0, 1) end  -- misuse: no such file
        if apdu.p1 == 5 then return nil, 0x6A82 end
        return nil
      end }
  )lua";
  ASSERT_EQ(InstallApplet(kApplet, src), "9000") << Diagnostics();
  ASSERT_EQ(Sw(SelectCmd(kApplet)), "9000");
  EXPECT_EQ(Tx("00B0000000"), "00000000309000");
  EXPECT_EQ(Tx("80D6010004AAAAAAAA"), "6F00");
  EXPECT_TRUE(Diagnosed("MIRROR:8: after the writes")) << Diagnostics();
  EXPECT_EQ(Tx("80D6020004BBBBBBBB"), "6A80");
  EXPECT_EQ(Tx("80D6040004CCCCCCCC"), "6F00");
  EXPECT_TRUE(Diagnosed("no such file")) << Diagnostics();
  EXPECT_EQ(Tx("80D6050004DDDDDDDD"), "6A82");
  EXPECT_EQ(Tx("00B0000000"), "00000000309000");  // none of them wrote anything
  EXPECT_EQ(Tx("80D6030004EEEEEEEE"), "6283");    // a warning commits
  EXPECT_EQ(Tx("80D6000004FFFFFFFF"), "9000");
  EXPECT_EQ(Tx("00B0000000"), "FFFFFFFF329000");
  // No Lua message ever reaches a response.
  for (const char* cmd : {"80D6010004AAAAAAAA", "80D6040004AAAAAAAA"}) {
    EXPECT_EQ(Tx(cmd).size(), 4u);
  }
}

TEST_F(LuaAppletTest, TransientStateLivesPerChannelUntilDeselectionOrReset) {
  Applet(R"lua(
    count = (count or 0) + 1
    return tostring(count)
  )lua");
  EXPECT_EQ(Tx("8000000000"), ToHex(ToBytes("1")) + "9000");
  EXPECT_EQ(Tx("8000000000"), ToHex(ToBytes("2")) + "9000");
  // Channel 1 has an interpreter of its own.
  EXPECT_EQ(Tx("0070000001"), "019000");
  EXPECT_EQ(Sw("01A40400" + Lc(kApplet.size() / 2) + kApplet + "00"), "9000");
  EXPECT_EQ(Tx("8100000000"), ToHex(ToBytes("1")) + "9000");
  EXPECT_EQ(Tx("8000000000"), ToHex(ToBytes("3")) + "9000");
  // Selecting something else and back, and a reset, start afresh.
  EXPECT_EQ(Sw(SelectCmd(kMgmtAid)), "9000");
  EXPECT_EQ(Sw(SelectCmd(kApplet)), "9000");
  EXPECT_EQ(Tx("8000000000"), ToHex(ToBytes("1")) + "9000");
  Reboot();
  EXPECT_EQ(Sw(SelectCmd(kApplet)), "9000");
  EXPECT_EQ(Tx("8000000000"), ToHex(ToBytes("1")) + "9000");
}

TEST_F(LuaAppletTest, AnErrorInDeselectIsOnlyDiagnosed) {
  const std::string src = R"lua(
    return {
      deselect = function() store.set("x", "1") error("deselect fails") end,
      process = function() return store.get("x") or "clean" end }
  )lua";
  ASSERT_EQ(InstallApplet(kApplet, src), "9000") << Diagnostics();
  ASSERT_EQ(Sw(SelectCmd(kApplet)), "9000");
  EXPECT_EQ(Tx("8000000000"), ToHex(ToBytes("clean")) + "9000");
  EXPECT_EQ(Sw(SelectCmd(kMgmtAid)), "9000");  // deselects the applet: its deselect() fails
  EXPECT_TRUE(Diagnosed("no persistent writes in deselect()")) << Diagnostics();
  EXPECT_EQ(Sw(SelectCmd(kApplet)), "9000");
  EXPECT_EQ(Tx("8000000000"), ToHex(ToBytes("clean")) + "9000");  // it wrote nothing
}

TEST_F(LuaAppletTest, ALockedAppletsCodeNeverRuns) {
  Applet(R"lua(
    store.set("runs", tostring(tonumber(store.get("runs") or "0") + 1))
    return store.get("runs")
  )lua");
  EXPECT_EQ(Tx("8000000000"), ToHex(ToBytes("1")) + "9000");
  {
    auto isd = Issuer();
    ASSERT_EQ(SecSw(*isd, "80F04080" + Lc(kApplet.size() / 2) + kApplet), "9000");  // lock
  }
  EXPECT_EQ(Sw(SelectCmd(kApplet)), "6283");
  EXPECT_EQ(Sw("8000000000"), "6985");
  {
    auto isd = Issuer();
    ASSERT_EQ(SecSw(*isd, "80F04000" + Lc(kApplet.size() / 2) + kApplet), "9000");  // unlock
  }
  EXPECT_EQ(Sw(SelectCmd(kApplet)), "9000");
  EXPECT_EQ(Tx("8000000000"), ToHex(ToBytes("2")) + "9000");  // it never ran while locked
}

TEST_F(LuaAppletTest, SelectAndInstallEntryPointsAndTheirRefusals) {
  const std::string src = R"lua(
    return {
      install = function(params) if params == "no" then card.throw(0x6A80) end end,
      select = function() return store.get("closed") == nil end,
      process = function(apdu) store.set("closed", "1") return "bye" end }
  )lua";
  EXPECT_EQ(InstallApplet(kApplet, src, ToBytes("no")), "6A80");
  EXPECT_EQ(Sw(SelectCmd(kApplet)), "6A82");  // nothing of it was installed
  ASSERT_EQ(InstallApplet(kApplet, src, ToBytes("yes")), "9000");
  EXPECT_EQ(Sw(SelectCmd(kApplet)), "9000");
  EXPECT_EQ(Tx("8000000000"), ToHex(ToBytes("bye")) + "9000");
  EXPECT_EQ(Sw(SelectCmd(kApplet)), "6999");  // select() said no
}

TEST_F(LuaAppletTest, PackagesThatAreNotSourceOrDoNotLoadAreRefused) {
  // Bytecode, however it is dressed.
  EXPECT_EQ(InstallApplet(kApplet, std::string("\x1bLuaT\0\x19\x93", 8)), "6A80");
  EXPECT_EQ(InstallApplet(kApplet, "return {process = "), "6A80");  // does not compile
  EXPECT_TRUE(Diagnosed("does not compile")) << Diagnostics();
  EXPECT_EQ(InstallApplet(kApplet, "return {}"), "6A80");  // no process
  EXPECT_EQ(InstallApplet(kApplet, "return 1"), "6A80");
  EXPECT_EQ(InstallApplet(kApplet, "error('boom')"), "6F00");
  // A module AID under a reserved prefix; limits out of range; an unknown code format.
  EXPECT_EQ(
      InstallApplet(kApplet, "return {process = function() end}", {}, {}, "F0544553534552414D01"),
      "6A80");
  EXPECT_EQ(
      InstallApplet(kApplet, "return {process = function() end}", {}, HexOrDie("DF210400000001")),
      "6A80");
  EXPECT_EQ(InstallCode(kApplet, Concat(Bytes{0x03}, Package("return {}"))), "6A81");
  // A built-in module takes no system parameters.
  {
    Fields f;
    f.aid = kApplet2;
    Bytes inner = FileContent(f, &admin_key_, kDataStoreModuleAid, {});
    Append(inner, EncodeTlv(0xEF, HexOrDie("C60400008000")));
    auto isd = Issuer();
    EXPECT_EQ(Upload(*isd, SignedFile(inner, &admin_key_)), "6A80");
  }
  EXPECT_EQ(Sw(SelectCmd(kApplet)), "6A82");
  // The file signature covers the code: one byte of the source changed after signing.
  {
    Fields f;
    f.aid = kApplet;
    Bytes inner = Record(f, &admin_key_);
    Append(inner, EncodeTlv(0xC7, Concat(Bytes{0x02}, Package("return {process=function() "
                                                              "return 'a' end}"))));
    Bytes file = SignedFile(inner, &admin_key_);
    auto at = std::search(file.begin(), file.end(), std::begin("'a'"), std::end("'a'") - 1);
    ASSERT_NE(at, file.end());
    at[1] = 'b';
    auto isd = Issuer();
    EXPECT_EQ(Upload(*isd, file), "6982");
  }
  EXPECT_EQ(Sw(SelectCmd(kApplet)), "6A82");
}

// What an attacker tried (each a way around the limits): every command ends with a status
// word, the card carries on, and the image stays sound.
TEST_F(LuaAppletTest, HostileAppletsEndWithAStatusWordAndTheCardCarriesOn) {
  Applet(R"lua(
    local i = apdu.ins
    if i == 0x01 then string.rep("", math.maxinteger) end
    if i == 0x02 then table.move({}, 1, math.maxinteger - 1, 2) end
    if i == 0x03 then
      table.remove(setmetatable({}, {__len = function() return math.maxinteger end}), 1)
    end
    if i == 0x04 then
      local s, p = string.rep("a", 20000), string.rep("a", 10000) .. "b"
      for _ = 1, 200000 do s:find(p, 1, true) end
    end
    if i == 0x05 then
      local s = string.rep("x", 60000)
      while true do s:upper() end
    end
    if i == 0x06 then setmetatable({}, {__gc = function() while true do end end}) end
    if i == 0x07 then fs.create{fid = 1, size = 4}; return fs.read(1, 1, math.maxinteger) end
    if i == 0x08 then fs.create{fid = 1, size = 4}; fs.write(1, math.maxinteger, "x") end
    if i == 0x09 then  -- a PIN made and tried in one command that then fails
      pin.create(1, "1234", 3)
      pin.verify(1, "0000")
      error("after the try")
    end
    if i == 0x0A then error("forged\ncard: applet F054\27[31m") end
    if i == 0x0B then fs.create{fid = 0x100 + apdu.p2, size = 1} end
    if i == 0x0C then
      local a, b = ("abcb"):find("b")
      local c = select("#", ("abc"):find("c", 1, false, "extra", "args"))
      return tostring(a) .. tostring(b) .. tostring(c)
    end
    if i == 0x0D then return tostring(math.random(0) ~= nil) end
    if i == 0x0F then  -- deep recursion
      local function r(n) return r(n + 1) + 1 end
      r(1)
    end
    if i == 0x10 then  -- a huge string.format
      local s = string.rep("x", 100000)
      while true do s = string.format("%s%s", s, s) end
    end
    if i == 0x0E then  -- copies no count sees: the CPU-time backstop ends them
      local s = string.rep("x", 60000)
      while true do local t = s .. s end
    end
    return "alive"
  )lua",
         // A quota of 65,536 bytes (the file count binds first), a heap of 256 KiB.
         HexOrDie("C70400010000C60400040000"));
  for (const char* cmd : {"8001000000", "8002000000", "8003000000", "8004000000", "8005000000",
                          "8006000000", "8007000000", "8008000000", "8009000000", "800A000000",
                          "800E000000", "800F000000", "8010000000"}) {
    const std::string r = Tx(cmd);
    EXPECT_TRUE(r == "6F00" || r == "6A84") << cmd << " answered " << r;
    EXPECT_EQ(Tx("8000000000"), ToHex(ToBytes("alive")) + "9000") << "after " << cmd;
  }
  // 32 files at most (fs.create of 0x0101 and 0x0102 failed above: their commands rolled back).
  for (int n = 1; n <= 32; ++n) {
    char cmd[16];
    std::snprintf(cmd, sizeof cmd, "800B00%02X00", n);
    ASSERT_EQ(Tx(cmd), ToHex(ToBytes("alive")) + "9000") << n;
  }
  EXPECT_EQ(Tx("800B002100"), "6A84");
  EXPECT_TRUE(Diagnosed("32 files")) << Diagnostics();
  EXPECT_TRUE(Diagnosed("no __gc")) << Diagnostics();
  EXPECT_TRUE(Diagnosed("forged\\x0Acard: applet F054\\x1B[31m")) << Diagnostics();
  EXPECT_EQ(Tx("800C000000"), ToHex(ToBytes("222")) + "9000");  // find: start, end; 2 values
  EXPECT_EQ(Tx("800D000000"), ToHex(ToBytes("true")) + "9000");
  // Nothing of the failed commands is left in NVM (the PIN's early-committed try included).
  EXPECT_TRUE(nvm::InspectImage(ram_->device(), card_->store().layout()).ok());
  EXPECT_TRUE(card::InspectCard(card_->store()).ok());
  // The image is sound, and the application deletes (its files all in one commit).
  auto isd = Issuer();
  ASSERT_EQ(SecSw(*isd, "80E40000" + Lc(2 + kApplet.size() / 2) + "4F" + Lc(kApplet.size() / 2) +
                            kApplet),
            "9000");
  isd.reset();
  EXPECT_EQ(Sw(SelectCmd(kApplet)), "6A82");
  Reboot();
  EXPECT_EQ(Sw(SelectCmd(kMgmtAid)), "9000");
}

// What a review found: coroutines that each run fewer instructions than the hook's step, a
// __len that answers differently to the library's loop, select() seeing the previous
// application's session, an uninstall() that blocks its deletion, a process that removes
// itself, a package whose module takes another package's AID.
TEST_F(LuaAppletTest, ReviewFindingsStayFixed) {
  const std::string src = R"lua(
    local M = {}
    function M.select() if card.secured() or pin.verified(1) then error("not mine") end end
    function M.uninstall() for n = 1, 40 do fs.create{fid = 0x200 + n, size = 1} end end
    function M.process(apdu)
      if apdu.ins == 0x01 then
        local function f(d)
          if d > 0 then for _ = 1, 40 do coroutine.wrap(f)(d - 1) end end
        end
        f(12)
      end
      if apdu.ins == 0x02 then
        local n = 0
        table.remove(setmetatable({}, {__len = function()
          n = n + 1
          return n == 1 and 0 or math.maxinteger
        end}), 1)
      end
      if apdu.ins == 0x03 then M.process = nil end
      return "ok"
    end
    return M
  )lua";
  ASSERT_EQ(InstallApplet(kApplet, src), "9000") << Diagnostics();
  {
    // SELECT inside the issuer's session on this channel: select() must not see it as its own.
    auto isd = Issuer();
    ASSERT_NE(isd, nullptr);
    EXPECT_EQ(SecSw(*isd, SelectCmd(kApplet)), "9000") << Diagnostics();
  }
  EXPECT_EQ(Sw(SelectCmd(kApplet)), "9000");
  EXPECT_EQ(Tx("8001000000"), "6F00");
  EXPECT_EQ(Tx("8002000000"), "6F00");
  EXPECT_TRUE(Diagnosed("no table with __len")) << Diagnostics();
  EXPECT_EQ(Tx("8000000000"), ToHex(ToBytes("ok")) + "9000");
  EXPECT_EQ(Tx("8003000000"), ToHex(ToBytes("ok")) + "9000");  // removes process
  EXPECT_EQ(Tx("8000000000"), "6F00");
  // Deletion goes through whatever uninstall() does (its writes rolled back).
  auto isd = Issuer();
  EXPECT_EQ(SecSw(*isd, "80E40000" + Lc(2 + kApplet.size() / 2) + "4F" + Lc(kApplet.size() / 2) +
                            kApplet),
            "9000");
  EXPECT_TRUE(card::InspectCard(card_->store()).ok());
  // A package whose module AID is another package's AID.
  auto load = [&](const std::string& pkg, const std::string& module) {
    TlvBuilder b;
    b.Open(0xA0).Add(0x4F, HexOrDie(pkg)).Add(0xC2, HexOrDie("0100"));
    b.Open(0xA1).Add(0x4F, HexOrDie(module)).Add(0x50, ToBytes("M"));
    b.Add(0xC6, ToBytes("return {process = function() end}")).Close().Close();
    const Bytes c4 = EncodeTlv(0xC4, b.Take());
    const std::string for_load = Lc(pkg.size() / 2) + pkg + "00000000";
    std::string sw = SecSw(*isd, "80E60200" + Lc(for_load.size() / 2) + for_load);
    if (sw != "9000") return sw;
    return SecSw(*isd, "80E88000" + Lc(c4.size()) + ToHex(c4));
  };
  EXPECT_EQ(load("F0000000C0", "F0000000C001"), "9000");
  EXPECT_EQ(load("F0000000C1", "F0000000C0"), "6A89");
  EXPECT_EQ(load("F0000000C2", "F0000000C001"), "6A89");
}

TEST_F(LuaAppletTest, AFailingSelectAnswers6999AndATerminatedAppletsUninstallNeverRuns) {
  const std::string src = R"lua(
    return {
      select = function() if store.get("x") then error("select fails") end end,
      process = function(apdu) store.set("x", "1") return "ok" end,
      uninstall = function() card.log("uninstall ran") end }
  )lua";
  ASSERT_EQ(InstallApplet(kApplet, src), "9000") << Diagnostics();
  EXPECT_EQ(Sw(SelectCmd(kApplet)), "9000");
  EXPECT_EQ(Tx("8000000000"), ToHex(ToBytes("ok")) + "9000");
  EXPECT_EQ(Sw(SelectCmd(kApplet)), "6999");
  EXPECT_TRUE(Diagnosed("select fails")) << Diagnostics();
  auto sc = Manager(0x21, AdminKeys());
  ASSERT_NE(sc, nullptr);
  Fields f;
  f.aid = kApplet;
  f.name = "APPLET";
  f.status = 2;
  ASSERT_EQ(Update(*sc, kApplet, Record(f, &admin_key_)), "9000");
  sc.reset();
  auto isd = Issuer();
  ASSERT_EQ(SecSw(*isd, "80E40000" + Lc(2 + kApplet.size() / 2) + "4F" + Lc(kApplet.size() / 2) +
                            kApplet),
            "9000");
  EXPECT_FALSE(Diagnosed("uninstall ran")) << Diagnostics();
}

TEST_F(LuaAppletTest, APackageAtItsLimitInstallsThroughBothDoors) {
  // 12,288 bytes encoded: a source padded with a comment.
  std::string src = "return {process = function() return 'big' end}\n--";
  src += std::string(format::kMaxPackageSize - 200, 'x');
  while (Package(src).size() < format::kMaxPackageSize) src += "x";
  ASSERT_EQ(Package(src).size(), format::kMaxPackageSize);
  EXPECT_EQ(InstallApplet(kApplet, src), "9000") << Diagnostics();
  EXPECT_EQ(Sw(SelectCmd(kApplet)), "9000");
  EXPECT_EQ(Tx("8000000000"), ToHex(ToBytes("big")) + "9000");
  EXPECT_EQ(InstallApplet(kApplet2, src + "x", {}, {}, "F0000000AA02"), "6A80");  // one over
}

TEST_F(LuaAppletTest, PersistentBytesStayInsideTheQuota) {
  Applet(R"lua(
    fs.create{fid = apdu.p2, size = 1000}
    return nil
  )lua",
         HexOrDie("C70400000C00"));  // 3,072 bytes: two files of 1,000 (a node and 4 blocks)
  EXPECT_EQ(Sw("80000001"), "9000");
  EXPECT_EQ(Sw("80000002"), "9000");
  EXPECT_EQ(Sw("80000003"), "6A84");  // 2 x 1,280 bytes of blocks taken, 1,280 more asked for
  EXPECT_TRUE(Diagnosed("over the persistent quota")) << Diagnostics();
  EXPECT_EQ(Sw("80000001"), "6F00");  // the FID exists: misuse
}

TEST_F(LuaAppletTest, DeletionWipesTheCodeAndTheData) {
  const std::string marker = "MARKER-7f3a9c";
  const std::string src = "local m = '" + marker +
                          "'\nreturn {install = function() "
                          "fs.create{fid=1, size=16}; fs.write(1, 0, 'DATA-5e2b11cc') end, "
                          "process = function() return m end}";
  ASSERT_EQ(InstallApplet(kApplet, src), "9000") << Diagnostics();
  ASSERT_EQ(Sw(SelectCmd(kApplet)), "9000");
  EXPECT_EQ(Tx("8000000000"), ToHex(ToBytes(marker)) + "9000");
  auto contains = [&](const std::string& s) {
    const Bytes& cells = ram_->cells();
    return std::search(cells.begin(), cells.end(), s.begin(), s.end()) != cells.end();
  };
  EXPECT_TRUE(contains(marker));
  EXPECT_TRUE(contains("DATA-5e2b11cc"));
  {
    auto isd = Issuer();
    ASSERT_EQ(SecSw(*isd, "80E40000" + Lc(2 + kApplet.size() / 2) + "4F" + Lc(kApplet.size() / 2) +
                              kApplet),
              "9000");
  }
  EXPECT_EQ(Sw(SelectCmd(kApplet)), "6A82");
  EXPECT_FALSE(contains(marker));
  EXPECT_FALSE(contains("DATA-5e2b11cc"));
}

TEST_F(LuaAppletTest, TheApiReachesOnlyTheAppletsOwnFiles) {
  Applet(R"lua(
    local results = {}
    for _, fid in ipairs{0xC0DE, 0xC0DF, 0xC0E1, 0x3F00, 0x2F00, 0x0101} do
      local ok = pcall(fs.read, fid, 0, 1)
      results[#results + 1] = ok and "open" or "closed"
    end
    return table.concat(results, ",")
  )lua");
  EXPECT_EQ(Tx("8000000000"), ToHex(ToBytes("closed,closed,closed,closed,closed,closed")) + "9000");
  // Terminated, its files read through the OS; its code is nobody's.
  auto sc = Manager(0x21, AdminKeys());
  ASSERT_NE(sc, nullptr);
  Fields f;
  f.aid = kApplet;
  f.name = "APPLET";
  f.status = 2;
  ASSERT_EQ(Update(*sc, kApplet, Record(f, &admin_key_)), "9000");
  EXPECT_EQ(Sw(SelectCmd(kApplet)), "6285");
  EXPECT_EQ(Sw("00A4000C02C0DE"), "6285");
  EXPECT_EQ(Sw("00B0000001"), "6982");
  EXPECT_EQ(Sw("8000000000"), "6985");  // the code never runs again
}

// The card inspector (image check) knows an applet's code: damaged code, written through the
// file system so that every NVM check still holds, is named.
TEST_F(LuaAppletTest, TheInspectorChecksAnAppletsCode) {
  Applet("return 'x'");
  EXPECT_TRUE(card::InspectCard(card_->store()).ok());
  // The code EF of the applet's DF: overwrite its header's version byte.
  auto root = card_->root();
  ASSERT_TRUE(root.ok());
  auto mf = card_->fs().Load(root->mf);
  ASSERT_TRUE(mf.ok());
  auto dfs = card_->fs().DfsByName(root->mf, HexOrDie(kApplet));
  ASSERT_TRUE(dfs.ok() && dfs->size() == 1);
  auto code = card_->fs().ChildByFid((*dfs)[0], 0xC0DE);
  ASSERT_TRUE(code.ok());
  ASSERT_TRUE(card_->store().Begin().ok());
  ASSERT_TRUE(card_->fs().WriteData(*code, 0, Bytes{0x07}).ok());
  ASSERT_TRUE(card_->store().Commit().ok());
  const card::CardReport report = card::InspectCard(card_->store());
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.damage.front().message.find("C0DE"), std::string::npos)
      << report.damage.front().message;
  // And the card refuses to run it rather than run something else.
  EXPECT_NE(Sw(SelectCmd(kApplet)), "9000");
}

TEST_F(LuaAppletTest, CryptographyAgreesWithKnownAnswers) {
  Applet(R"lua(
    local k = string.rep("\11", 20)
    local mac = card.hmac_sha256(k, "Hi There")
    local d = card.sha256("abc")
    local key = string.rep("\0", 16)
    local e = card.aes_ecb(key, string.rep("\0", 16), true)
    local back = card.aes_ecb(key, e, false)
    local priv, pub = card.ecdsa_generate()
    local sig = card.ecdsa_sign(priv, "message")
    local good = card.ecdsa_verify(pub, "message", sig)
    local bad = card.ecdsa_verify(pub, "messagf", sig)
    return mac .. d .. e .. (back == string.rep("\0", 16) and "B" or "b") ..
           (good and "G" or "g") .. (bad and "X" or "x") .. #priv .. #pub .. #sig ..
           #card.aes_cmac(key, "")
  )lua");
  const std::string r = Tx("8000000000");
  EXPECT_EQ(r.substr(0, 64), "B0344C61D8DB38535CA8AFCEAF0BF12B881DC200C9833DA726E9376C2E32CFF7");
  EXPECT_EQ(r.substr(64, 64), "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD");
  EXPECT_EQ(r.substr(128, 32), "66E94BD4EF8A2C3B884CFA59CA342B2E");  // AES-128 of zeros
  EXPECT_EQ(r.substr(160), ToHex(ToBytes("BGx32656416")) + "9000");
}

}  // namespace
}  // namespace tessera::apps

namespace tessera::apps {
namespace {

std::string Lv(const std::string& hex) {
  return Lc(hex.size() / 2) + hex;
}

std::string InstallForInstall(const std::string& elf, const std::string& module,
                              const std::string& app, const std::string& params = "C900") {
  const std::string data = Lv(elf) + Lv(module) + Lv(app) + Lv("00") + Lv(params) + "00";
  return "80E60C00" + Lc(data.size() / 2) + data;
}

TEST_F(LuaAppletTest, GlobalPlatformLoadInstallsAndDeletesAPackage) {
  // Two modules: a counter and a greeter.
  TlvBuilder b;
  b.Open(0xA0).Add(0x4F, HexOrDie(kPackageAid)).Add(0xC2, HexOrDie("0203"));
  b.Open(0xA1).Add(0x4F, HexOrDie(kModuleAid)).Add(0x50, ToBytes("COUNTER"));
  b.Add(0xC6, ToBytes("return {process = function() n = (n or 0) + 1 return tostring(n) end}"));
  b.Close();
  b.Open(0xA1).Add(0x4F, HexOrDie("F0000000AA02")).Add(0x50, ToBytes("HELLO"));
  b.Add(0xC6, ToBytes("return {process = function() return 'hello' end}")).Close().Close();
  const Bytes load = EncodeTlv(0xC4, b.Take());
  // LOAD of `load` in blocks of `block` bytes; the last status word.
  auto LoadBlocks = [](crypto::scp03::SecureChannel& sc, const Bytes& data, size_t block) {
    std::string sw;
    for (size_t off = 0, n = 0; off < data.size(); off += block, ++n) {
      const size_t len = std::min(block, data.size() - off);
      char head[16];
      std::snprintf(head, sizeof head, "80E8%02X%02X", off + len == data.size() ? 0x80 : 0x00,
                    static_cast<unsigned>(n));
      sw = SecSw(sc, head + Lc(len) + ToHex(ByteView(data).subspan(off, len)));
      if (sw != "9000") return sw;
    }
    return sw;
  };
  auto isd = Issuer();
  ASSERT_NE(isd, nullptr);
  // LOAD before INSTALL [for load]; a block out of sequence drops the load.
  EXPECT_EQ(SecSw(*isd, "80E880000100"), "6985");
  auto ForLoad = [](const std::string& aid) {
    const std::string data = Lv(aid) + "00000000";  // no SD, hash, parameters, token
    return "80E60200" + Lc(data.size() / 2) + data;
  };
  const std::string for_load = ForLoad(kPackageAid);
  EXPECT_EQ(SecSw(*isd, for_load), "9000");
  EXPECT_EQ(SecSw(*isd, "80E80001" + Lc(4) + ToHex(ByteView(load).subspan(0, 4))), "6A86");
  EXPECT_EQ(SecSw(*isd, "80E880000100"), "6985");
  // A load whose package names another AID than INSTALL [for load] did.
  EXPECT_EQ(SecSw(*isd, ForLoad("F0000000BB01")), "9000");
  EXPECT_EQ(LoadBlocks(*isd, load, 100), "6A80");
  // The load itself, in blocks.
  EXPECT_EQ(SecSw(*isd, for_load), "9000");
  EXPECT_EQ(LoadBlocks(*isd, load, 64), "9000");
  EXPECT_EQ(SecSw(*isd, for_load), "6A89");  // it is there now
  // GET STATUS lists it, with its modules.
  const std::string elfs = Sec(*isd, "80F22002024F0000");
  EXPECT_NE(elfs.find("E30B4F05" + kPackageAid + "9F700101"), std::string::npos) << elfs;
  const std::string mods = Sec(*isd, "80F21002024F0000");
  EXPECT_NE(mods.find("4F05" + kPackageAid + "9F700101" + "8406" + kModuleAid + "8406F0000000AA02"),
            std::string::npos)
      << mods;
  // Instances of both modules.
  EXPECT_EQ(SecSw(*isd, InstallForInstall(kPackageAid, kModuleAid, kApplet)), "9000");
  EXPECT_EQ(SecSw(*isd, InstallForInstall(kPackageAid, "F0000000AA02", kApplet2)), "9000");
  EXPECT_EQ(SecSw(*isd, InstallForInstall(kPackageAid, "F0000000AA03", "F0000000AA12")), "6A88");
  EXPECT_EQ(SecSw(*isd, InstallForInstall("F0000000CC", kModuleAid, "F0000000AA12")), "6A88");
  const std::string apps = Sec(*isd, "80F24002024F0000");
  EXPECT_NE(apps.find("4F06" + kApplet + "9F700107C503000000C406" + kModuleAid), std::string::npos)
      << apps;
  isd.reset();
  EXPECT_EQ(Tx(SelectCmd(kApplet)), "6F138406" + kApplet +
                                        "A5095007434F554E544552"
                                        "9000");
  EXPECT_EQ(Tx("8000000000"), ToHex(ToBytes("1")) + "9000");
  EXPECT_EQ(Sw(SelectCmd(kApplet2)), "9000");
  EXPECT_EQ(Tx("8000000000"), ToHex(ToBytes("hello")) + "9000");
  auto contains = [&](const std::string& s) {
    const Bytes& cells = ram_->cells();
    return std::search(cells.begin(), cells.end(), s.begin(), s.end()) != cells.end();
  };
  EXPECT_TRUE(contains("return 'hello'"));
  // DELETE of the load file: refused while instances exist, unless related objects go too.
  isd = Issuer();
  const std::string del = "80E400" + std::string("00") + Lc(7) + "4F05" + kPackageAid;
  EXPECT_EQ(SecSw(*isd, del), "6985");
  EXPECT_EQ(SecSw(*isd, "80E40080" + Lc(7) + "4F05" + kPackageAid), "9000");
  EXPECT_EQ(SecSw(*isd, "80F22002024F0000").find(kPackageAid), std::string::npos);
  EXPECT_EQ(SecSw(*isd, "80F24002" + Lc(8) + "4F06" + kApplet + "00"), "6A88");
  isd.reset();
  EXPECT_EQ(Sw(SelectCmd(kApplet)), "6A82");
  EXPECT_EQ(Sw(SelectCmd(kApplet2)), "6A82");
  EXPECT_FALSE(contains("return 'hello'"));
  EXPECT_FALSE(contains("COUNTER"));
  // Loaded again, deleted without instances.
  isd = Issuer();
  EXPECT_EQ(SecSw(*isd, for_load), "9000");
  EXPECT_EQ(LoadBlocks(*isd, load, 255), "9000");
  EXPECT_EQ(SecSw(*isd, del), "9000");
}

}  // namespace
}  // namespace tessera::apps

namespace tessera::apps {
namespace {

std::string ReadSource(const std::string& relative) {
  std::ifstream in(std::string(TESSERA_SOURCE_DIR) + "/" + relative);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The example purse applet (profiles/applets/purse.lua) and the built-in PURSE answer one long
// transcript alike: credits in SCP03 sessions with the purse, debits under the PIN, the log
// and the state read as the OS reads the built-in's files.
TEST_F(LuaAppletTest, TheLuaPurseAnswersATranscriptAsTheBuiltInPurse) {
  const std::string source = ReadSource("profiles/applets/purse.lua");
  ASSERT_FALSE(source.empty());
  TlvBuilder p;
  p.Add(0x80, HexOrDie("00000064")).Add(0x81, ToBytes("9999")).Add(0x83, HexOrDie("00002710"));
  const Bytes params = p.Take();
  {
    auto isd = Issuer();
    ASSERT_EQ(Upload(*isd, EncodeTlv(0xDF72, HexOrDie("261204"))), "9000");  // the log's date
    Fields f;
    f.aid = kBuiltIn;
    f.name = "PURSE";
    ASSERT_EQ(Upload(*isd, InstallFile(f, &admin_key_, kPurseModuleAid, params)), "9000");
    f.aid = kApplet;
    Bytes inner = Record(f, &admin_key_);
    Append(inner, EncodeTlv(0xC7, Concat(Bytes{0x02}, Package(source))));
    Append(inner, EncodeTlv(0xC5, HexOrDie("800000")));  // a security domain: CREDIT sessions
    Append(inner, EncodeTlv(0xC9, params));
    ASSERT_EQ(Upload(*isd, SignedFile(inner, &admin_key_)), "9000") << Diagnostics();
  }
  // "S:" sends the command in an SCP03 session opened with the purse (its administrator's keys).
  const std::vector<std::string> transcript = {
      "805C000004",           "805C000000",         "805C000002",         "805C0000",
      "805C010004",           "005C000004",
      "80540000040000000A",    // debit before VERIFY: 6982
      "002000800431313131",    // wrong PIN
      "0020008000",            // tries left
      "002000800439393939",    // right
      "80540000040000000A",    // debit 10
      "805400000300000A",      // wrong length
      "805400000400000000",    // zero
      "80540100040000000A",    // P1
      "8054000004000003E8",    // more than the balance
      "8052000004000003E8",    // credit outside a session: 6982
      "S:8052000004000003E8",  // credit 1000 in a session
      "S:805200000400002710",  // over the limit
      "S:805200000400000000",  // zero
      "S:805C000004",          // balance, in the session
      "805C000004",           "00B081000C",         "00B0810000",         "00B0810C01",
      "00B0810504",           "00B0820000",         "00B0830000",
      "00B0A10000",  // (without an SFI the OS reads the current EF: the applet has none)
      "00B2011400",           "00B2021400",         "00B2031400",         "00B2011410",
      "00B2011408",           "00B2010C00",         "00B2011C00",
      "00540000040000000A",  // debit with an interindustry class: 6D00
      "80AA000000",          // an unknown proprietary INS
      "80540000040000001E",  // debit 30
      "00B2011400",           "00B2021400",         "00B2031400",         "00B2041400",
      "002000800431313131",   "002000800431313131", "002000800431313131",  // blocked
      "002000800439393939",   "0020008000",         "80540000040000000A",
  };
  auto run = [&](const std::string& aid) {
    std::vector<std::string> out;
    out.push_back(Sw(SelectCmd(aid)));
    for (const std::string& c : transcript) {
      if (c.rfind("S:", 0) == 0) {
        auto sc = Open(aid, 0x21, AdminKeys());
        EXPECT_NE(sc, nullptr) << aid;
        out.push_back(sc ? Sec(*sc, c.substr(2)) : "no session");
        continue;
      }
      out.push_back(Tx(c));
    }
    Reboot();
    out.push_back(Sw(SelectCmd(aid)));
    out.push_back(Tx("805C000004"));
    out.push_back(Tx("00B2011400"));
    return out;
  };
  const auto builtin = run(kBuiltIn);
  const auto applet = run(kApplet);
  ASSERT_EQ(builtin.size(), applet.size());
  for (size_t i = 0; i < builtin.size(); ++i) {
    const std::string what = i == 0 || i > transcript.size() ? "after" : transcript[i - 1];
    EXPECT_EQ(applet[i], builtin[i]) << "step " << i << ": " << what;
  }
  EXPECT_EQ(builtin[1], "000000649000");  // the oracle answered: balance 100
  EXPECT_TRUE(diagnostics_.empty()) << Diagnostics();
}

}  // namespace
}  // namespace tessera::apps
