// In-process cost of applets (docs/applets.md) against the built-in code they mirror, measured
// side by side in one run: a CREDIT of the Lua purse (profiles/applets/purse.lua) and of the
// built-in PURSE, each inside an SCP03 session (C-MAC) opened with the purse, alternating so
// that both see the same machine; SELECT of an applet (a fresh interpreter: the sandbox, the
// compile of its ~4 KiB source, its select()) against SELECT of a built-in application; and GP
// LOAD of a package (INSTALL [for load], LOAD blocks, and the DELETE that makes room again).
// The ratio counters are Lua / built-in. Results: docs/performance.md.
#include <benchmark/benchmark.h>

#include <chrono>
#include <fstream>
#include <iterator>

#include "card/kernel/card.h"
#include "card/kernel/profile.h"
#include "core/tlv.h"
#include "crypto/scp03.h"
#include "crypto/scp03_host.h"
#include "device/virtual_card.h"

namespace tessera::card {
namespace {

namespace scp03 = crypto::scp03;
using Clock = std::chrono::steady_clock;

const std::string kBuiltInPurse = "F05445535345524150";
const std::string kLuaPurse = "F0000000AB10";
const std::string kLoyalty = "F0000000AF10";

std::string Source(const char* name) {
  std::ifstream in(std::string(TESSERA_SOURCE_DIR) + "/profiles/applets/" + name);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Bytes Package(const std::string& aid, const std::string& module, const std::string& source) {
  TlvBuilder b;
  b.Open(0xA0).Add(0x4F, HexOrDie(aid)).Add(0xC2, HexOrDie("0100"));
  b.Open(0xA1).Add(0x4F, HexOrDie(module)).Add(0x50, ToBytes("BENCH"));
  b.Add(0xC6, ToBytes(source)).Close().Close();
  return b.Take();
}

std::string Lc(size_t n) {
  char b[8];
  std::snprintf(b, sizeof b, "%02X", static_cast<unsigned>(n));
  return b;
}
std::string Lv(const std::string& hex) {
  return Lc(hex.size() / 2) + hex;
}

struct Fixture {
  Fixture() : ram(geometry.nvm_size, geometry.page_size) {
    (void)InstallDefaultProfile(ram.device(), geometry);
    platform = DrbgPlatform::FromSeed(Bytes(48, 9));
    card = tessera::device::MakeCard(ram.device(), geometry, *platform);
    (void)card->PowerOn();
    auto isd = Open("A000000151000000");
    // Both purses: balance 0, limit 100,000,000, PIN 1234; the Lua one a security domain.
    const std::string params = "C912800400000000810431323334830405F5E100";
    Must(*isd, "80E60C00",
         Lv("F0544553534552414D02") + Lv("F0544553534552414D02") + Lv(kBuiltInPurse) + Lv("00") +
             Lv(params) + "00");
    Load(*isd, "F0000000AB", Package("F0000000AB", "F0000000AB01", Source("purse.lua")));
    Must(*isd, "80E60C00",
         Lv("F0000000AB") + Lv("F0000000AB01") + Lv(kLuaPurse) + Lv("800000") + Lv(params) + "00");
    Load(*isd, "F0000000AF", Package("F0000000AF", "F0000000AF01", Source("loyalty.lua")));
    Must(*isd, "80E60C00",
         Lv("F0000000AF") + Lv("F0000000AF01") + Lv(kLoyalty) + Lv("00") + Lv("C906810431313131") +
             "00");
  }
  std::unique_ptr<crypto::scp03::SecureChannel> Open(const std::string& domain) {
    crypto::scp03::ChannelOptions o;
    o.keys = crypto::scp03::TestKeys();
    o.kvn = 0x30;
    o.level = scp03::kCMac;
    o.security_domain = HexOrDie(domain);
    auto sc = crypto::scp03::SecureChannel::Open(
        [this](ByteView c) -> Result<Bytes> { return card->Transmit(c); }, o);
    if (!sc.ok()) std::abort();
    return std::move(*sc);
  }
  static void Must(crypto::scp03::SecureChannel& sc, const std::string& head,
                   const std::string& data) {
    auto r = sc.Transmit(HexOrDie(head + Lc(data.size() / 2) + data));
    if (!r.ok() || r->size() < 2 || (*r)[r->size() - 2] != 0x90) std::abort();
  }
  static void Load(crypto::scp03::SecureChannel& isd, const std::string& aid, const Bytes& pkg) {
    Must(isd, "80E60200", Lv(aid) + "00000000");
    const Bytes load = EncodeTlv(0xC4, pkg);
    for (size_t off = 0, n = 0; off < load.size(); off += 200, ++n) {
      const size_t len = std::min<size_t>(200, load.size() - off);
      char head[16];
      std::snprintf(head, sizeof head, "80E8%02X%02X", off + len == load.size() ? 0x80 : 0x00,
                    static_cast<unsigned>(n));
      Must(isd, head, ToHex(ByteView(load).subspan(off, len)));
    }
  }
  nvm::Geometry geometry;
  nvm::RamNvm ram;
  std::unique_ptr<DrbgPlatform> platform;
  std::unique_ptr<Card> card;
};

// CREDIT of 1 in a session with each purse, alternating; the time of each side.
void BM_CreditLuaVsBuiltIn(benchmark::State& state) {
  Fixture f;
  double lua_ns = 0, builtin_ns = 0;
  const Bytes credit = HexOrDie(
      "8052000004"
      "00000001");
  for (auto _ : state) {
    // Each session lives on the basic channel: opening one ends the other, so each side opens
    // its own outside the timed part.
    state.PauseTiming();
    auto a = f.Open(kBuiltInPurse);
    state.ResumeTiming();
    auto t0 = Clock::now();
    auto r1 = a->Transmit(credit);
    auto t1 = Clock::now();
    state.PauseTiming();
    auto b = f.Open(kLuaPurse);
    state.ResumeTiming();
    auto t2 = Clock::now();
    auto r2 = b->Transmit(credit);
    auto t3 = Clock::now();
    if (!r1.ok() || !r2.ok() || (*r1)[0] != 0x90 || (*r2)[0] != 0x90) {
      state.SkipWithError("a CREDIT failed");
      break;
    }
    builtin_ns += std::chrono::duration<double, std::nano>(t1 - t0).count();
    lua_ns += std::chrono::duration<double, std::nano>(t3 - t2).count();
  }
  const double n = static_cast<double>(state.iterations());
  state.counters["builtin_us"] = builtin_ns / n / 1000;
  state.counters["lua_us"] = lua_ns / n / 1000;
  state.counters["ratio"] = lua_ns / builtin_ns;
}

// SELECT of the loyalty applet (3.5 KiB of Lua: a fresh interpreter each time) against SELECT of
// the built-in purse, alternating.
void BM_SelectLuaVsBuiltIn(benchmark::State& state) {
  Fixture f;
  const Bytes sel_lua = HexOrDie("00A4040C06" + kLoyalty);
  const Bytes sel_builtin = HexOrDie("00A4040C09" + kBuiltInPurse);
  double lua_ns = 0, builtin_ns = 0;
  for (auto _ : state) {
    auto t0 = Clock::now();
    Bytes r1 = f.card->Transmit(sel_builtin);
    auto t1 = Clock::now();
    Bytes r2 = f.card->Transmit(sel_lua);
    auto t2 = Clock::now();
    if (r1[0] != 0x90 || r2[0] != 0x90) {
      state.SkipWithError("a SELECT failed");
      break;
    }
    builtin_ns += std::chrono::duration<double, std::nano>(t1 - t0).count();
    lua_ns += std::chrono::duration<double, std::nano>(t2 - t1).count();
  }
  const double n = static_cast<double>(state.iterations());
  state.counters["builtin_us"] = builtin_ns / n / 1000;
  state.counters["lua_us"] = lua_ns / n / 1000;
  state.counters["ratio"] = lua_ns / builtin_ns;
}

// GP LOAD of the purse package (6.2 KiB of source) and, untimed, its DELETE.
void BM_LoadPackage(benchmark::State& state) {
  Fixture f;
  auto isd = f.Open("A000000151000000");
  const Bytes pkg = Package("F0000000AC", "F0000000AC01", Source("purse.lua"));
  for (auto _ : state) {
    Fixture::Load(*isd, "F0000000AC", pkg);
    state.PauseTiming();
    Fixture::Must(*isd, "80E40000", "4F05F0000000AC");
    state.ResumeTiming();
  }
  state.counters["packages/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

BENCHMARK(BM_CreditLuaVsBuiltIn);
BENCHMARK(BM_SelectLuaVsBuiltIn);
BENCHMARK(BM_LoadPackage);

}  // namespace
}  // namespace tessera::card

BENCHMARK_MAIN();
