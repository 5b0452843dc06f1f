// In-process cost per command of the card OS: the command sequence that bench/vicc_inprocess.py
// runs on Debian's Python emulator (SELECT EF 2F01, READ BINARY 16 bytes, UPDATE RECORD of 16
// bytes), on a RAM NVM with the default profile. Results: docs/performance.md.
#include <benchmark/benchmark.h>
#include "device/virtual_card.h"

#include "card/kernel/card.h"
#include "card/kernel/profile.h"
#include "crypto/scp03_host.h"

namespace tessera::card {
namespace {

struct Fixture {
  Fixture() : ram(geometry.nvm_size, geometry.page_size) {
    (void)InstallDefaultProfile(ram.device(), geometry);
    platform = DrbgPlatform::FromSeed(Bytes(48, 9));
    card = tessera::device::MakeCard(ram.device(), geometry, *platform);
    (void)card->PowerOn();
  }
  nvm::Geometry geometry;
  nvm::RamNvm ram;
  std::unique_ptr<DrbgPlatform> platform;
  std::unique_ptr<Card> card;
};

void Run(benchmark::State& state, const std::vector<std::string>& setup, const std::string& hex) {
  Fixture f;
  for (const auto& s : setup) (void)f.card->Transmit(HexOrDie(s));
  const Bytes apdu = HexOrDie(hex);
  Bytes r = f.card->Transmit(apdu);
  if (r.size() < 2 || r[r.size() - 2] != 0x90) state.SkipWithError("command failed");
  for (auto _ : state) benchmark::DoNotOptimize(f.card->Transmit(apdu));
}

void BM_Select(benchmark::State& s) {
  Run(s, {}, "00A4000C022F0100");
}
void BM_ReadBinary(benchmark::State& s) {
  Run(s, {"00A4000C022F01"}, "00B0000010");
}
void BM_UpdateRecord(benchmark::State& s) {
  Run(s, {"00A4040C09F05445535345524110", "002000810431323334"},
      "00DC011410"
      "5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A");
}
// A fully protected command (C-MAC + C-DEC + R-MAC + R-ENC, level 33) against the same command
// in plain: GET DATA 66 on the issuer security domain. The protected figure includes the host's
// wrapping and unwrapping (both sides run in this process, as with `tessera --image`).
void BM_IsdGetDataPlain(benchmark::State& s) {
  Run(s, {"00A4040000"}, "80CA006600");
}
void BM_IsdGetDataScp03Level33(benchmark::State& state) {
  Fixture f;
  crypto::scp03::ChannelOptions o;
  o.keys = crypto::scp03::TestKeys();
  o.level = 0x33;
  auto sc = crypto::scp03::SecureChannel::Open(
      [&f](ByteView c) -> Result<Bytes> { return f.card->Transmit(c); }, o);
  if (!sc.ok()) {
    state.SkipWithError("no session");
    return;
  }
  const Bytes apdu = HexOrDie("80CA006600");
  for (auto _ : state) {
    auto r = (*sc)->Transmit(apdu);
    if (!r.ok()) {
      state.SkipWithError("protected command failed");
      break;
    }
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_IsdGetDataPlain);
BENCHMARK(BM_IsdGetDataScp03Level33);
BENCHMARK(BM_Select);
BENCHMARK(BM_ReadBinary);
BENCHMARK(BM_UpdateRecord);

}  // namespace
}  // namespace tessera::card

BENCHMARK_MAIN();
