// In-process cost per command of the card OS: the command sequence that bench/vicc_inprocess.py
// runs on Debian's Python emulator (SELECT EF 2F01, READ BINARY 16 bytes, UPDATE RECORD of 16
// bytes), on a RAM NVM with the default profile. Results: docs/performance.md.
#include <benchmark/benchmark.h>

#include "card/card.h"
#include "card/profile.h"

namespace tessera::card {
namespace {

struct Fixture {
  Fixture() : ram(geometry.nvm_size, geometry.page_size) {
    (void)InstallDefaultProfile(ram.device(), geometry);
    platform = DrbgPlatform::FromSeed(Bytes(48, 9));
    card = std::make_unique<Card>(ram.device(), geometry, *platform);
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
BENCHMARK(BM_Select);
BENCHMARK(BM_ReadBinary);
BENCHMARK(BM_UpdateRecord);

}  // namespace
}  // namespace tessera::card

BENCHMARK_MAIN();
