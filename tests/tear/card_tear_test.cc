// Every card command that changes NVM, with power cut at every program operation, in both tear
// modes (plus a second cut during the recovery that follows): after power-on the card's whole
// data area must equal the last durable state before the cut or the one being committed, the
// NVM invariants must hold, and the card must power on.
#include <gtest/gtest.h>

#include <cstdio>

#include "card/card.h"
#include "card/profile.h"
#include "nvm/image_inspector.h"
#include "nvm/nvm_store.h"
#include "support/tear_harness.h"

namespace tessera::card {
namespace {

using testing::RunAtEveryCutPoint;
using testing::TearOptions;
using testing::TearScenario;

nvm::Geometry Geometry() {
  nvm::Geometry g;
  g.nvm_size = 96 * 1024;
  g.journal_capacity = 8 * 1024;
  return g;
}

const nvm::NvmDevice& ProfileImage() {
  static nvm::RamNvm* image = [] {
    auto* ram = new nvm::RamNvm(Geometry().nvm_size, Geometry().page_size);
    if (!InstallDefaultProfile(ram->device(), Geometry()).ok()) std::abort();
    return ram;
  }();
  return image->device();
}

Platform& TestPlatform() {
  static auto p = DrbgPlatform::FromSeed(Bytes(48, 3), 1700000000);
  return *p;
}

Result<Bytes> ObserveCard(nvm::NvmDevice& device) {
  Card card(device, Geometry(), TestPlatform());
  auto atr = card.PowerOn();
  if (!atr.ok()) return atr.status();
  const nvm::Layout& l = card.store().layout();
  nvm::ImageReport report = nvm::InspectImage(device, l);
  if (!report.ok()) return Corruption("invariant broken: " + report.errors.front());
  Bytes state(l.end() - l.table_offset);
  TESSERA_RETURN_IF_ERROR(card.store().Read(l.table_offset, state));
  return state;
}

struct Step {
  std::string apdu;
  std::string expected_sw;  // checked in the uncut run
};

std::function<Status(nvm::NvmDevice&)> RunSteps(std::vector<Step> steps) {
  return [steps](nvm::NvmDevice& device) -> Status {
    Card card(device, Geometry(), TestPlatform());
    TESSERA_RETURN_IF_ERROR(card.PowerOn().status());
    for (const Step& s : steps) {
      Bytes r = card.Transmit(HexOrDie(s.apdu));
      if (!card.powered() || !device.powered()) return PowerLost("cut during " + s.apdu);
      const std::string sw = ToHex(ByteView(r).last(2));
      if (sw != s.expected_sw) {
        return FailedPrecondition(s.apdu + " answered " + sw + ", expected " + s.expected_sw);
      }
    }
    return Status::Ok();
  };
}

const Step kSelectDemo{"00A4040C09F05445535345524110", "9000"};
const Step kVerifyUser{"002000810431323334", "9000"};
const Step kVerifyAdmin{"00200082083837363534333231", "9000"};

std::string Repeat(const std::string& hex, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += hex;
  return s;
}

struct Case {
  const char* name;
  std::vector<Step> steps;
};

std::vector<Case> Cases() {
  return {
      {"UPDATE BINARY", {kSelectDemo, kVerifyUser, {"00D6810080" + Repeat("A5", 128), "9000"}}},
      {"ERASE BINARY", {kSelectDemo, kVerifyUser, {"000E8100", "9000"}}},
      {"UPDATE RECORD", {kSelectDemo, kVerifyUser, {"00DC031410" + Repeat("3C", 16), "9000"}}},
      {"APPEND RECORD (linear)",
       {kSelectDemo,
        kVerifyUser,
        {"00E2002005"
         "0102030405",
         "9000"}}},
      {"APPEND RECORD (cyclic)",
       {kSelectDemo,
        kVerifyUser,
        {"00E2001808"
         "1122334455667788",
         "9000"},
        {"00E2001808"
         "8877665544332211",
         "9000"}}},
      {"ERASE RECORD", {kSelectDemo, kVerifyUser, {"000C0124", "9000"}}},
      {"CREATE FILE",
       {kVerifyAdmin,
        {"00E0000015"
         "6213820101830203018002004"
         "08A01058C03031111",
         "9000"}}},
      {"DELETE FILE (a DF and its EFs)", {kVerifyAdmin, {"00E40000021000", "9000"}}},
      {"DEACTIVATE FILE", {{"00A4000C022F01", "9000"}, {"00040000", "9000"}}},
      {"TERMINATE EF", {{"00E80000022F01", "9000"}}},
      {"TERMINATE CARD USAGE", {kVerifyAdmin, {"00FE0000", "9000"}}},
      {"VERIFY (wrong PIN)", {{"002000810439393939", "63C2"}}},
      {"VERIFY (right PIN after a wrong one)",
       {{"002000810439393939", "63C2"}, {"002000810431323334", "9000"}}},
      {"CHANGE REFERENCE DATA",
       {{"002400810831323334"
         "35363738",
         "9000"}}},
      {"RESET RETRY COUNTER",
       {{"002C00810C"
         "3132333435363738"
         "39393939",
         "9000"}}},
      {"PUT DATA", {kVerifyAdmin, {"00DA00420401020304", "9000"}}},
  };
}

TEST(CardTear, EveryNvmChangingCommandAtEveryCutPoint) {
  uint64_t cuts = 0, recovery_cuts = 0, scenarios = 0;
  for (const Case& c : Cases()) {
    for (nvm::TearMode mode : {nvm::TearMode::kNormal, nvm::TearMode::kHarsh}) {
      TearScenario s{c.name, &ProfileImage(), RunSteps(c.steps), ObserveCard};
      auto stats = RunAtEveryCutPoint(s, TearOptions{mode, 42 + scenarios, true});
      ASSERT_TRUE(stats.ok()) << stats.status().ToString();
      EXPECT_GT(stats->durable_points, 0u) << c.name << " changed nothing";
      cuts += stats->cut_points;
      recovery_cuts += stats->recovery_cut_points;
      ++scenarios;
    }
  }
  std::printf(
      "card tear: %llu cut points over %llu command scenarios, plus %llu cuts during recovery\n",
      static_cast<unsigned long long>(cuts), static_cast<unsigned long long>(scenarios),
      static_cast<unsigned long long>(recovery_cuts));
}

}  // namespace
}  // namespace tessera::card
