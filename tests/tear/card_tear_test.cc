// Every card command that changes NVM, with power cut at every program operation, in both tear
// modes (plus a second cut during the recovery that follows): after power-on the card's whole
// data area must equal the last durable state before the cut or the one being committed, the
// NVM invariants must hold, and the card must power on.
#include <gtest/gtest.h>

#include <cstdio>

#include "card/card.h"
#include "card/profile.h"
#include "crypto/aes.h"
#include "crypto/scp03.h"
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
      {"ACTIVATE FILE",
       {{"00A4000C022F01", "9000"}, {"00040000", "9000"}, {"00440000", "9000"}}},
      {"TERMINATE DF", {kVerifyAdmin, {"00E60000021000", "9000"}}},
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

// SCP03 on a fresh card is deterministic (sequence counter 1, fixed host challenge), so the
// wrapped commands can be computed once with the host-side session.
std::vector<Case> SecureChannelCases() {
  namespace scp03 = crypto::scp03;
  const Bytes test = HexOrDie("404142434445464748494A4B4C4D4E4F");
  scp03::StaticKeys keys{crypto::MakeSecure(test), crypto::MakeSecure(test),
                         crypto::MakeSecure(test)};
  const Bytes context = HexOrDie("000102030405060786C8BD65FA1044EE");
  auto session_keys = *scp03::DeriveSessionKeys(keys, context);
  const Bytes host_cryptogram =
      *scp03::Cryptogram(session_keys, scp03::kDeriveHostCryptogram, context, 8);
  auto wrapped = [&](const std::vector<std::string>& plain) {
    scp03::Session s(session_keys, 8);
    std::vector<Step> steps{{"00A4040000", "9000"}, {"8050300008000102030405060700", "9000"}};
    steps.push_back({ToHex(s.WrapExternalAuthenticate(
                                CommandApdu{0x80, 0x82, 0x03, 0, host_cryptogram, 0, false})
                               ->Serialize()),
                     "9000"});
    s.set_level(0x03);
    for (const auto& p : plain) {
      steps.push_back(
          {ToHex(s.WrapCommand(*CommandApdu::Parse(HexOrDie(p)))->Serialize()), "9000"});
    }
    return steps;
  };
  auto wrap_key = [&](ByteView key) {
    Bytes out{0x88, 0x11, 0x10};
    Append(out, *crypto::AesCbcEncrypt(test, Bytes(16, 0), key));
    out.push_back(0x03);
    Append(out, *scp03::KeyCheckValue(key));
    return out;
  };
  Bytes put{0x31};
  for (uint8_t k = 1; k <= 3; ++k) Append(put, wrap_key(Bytes(16, k)));
  Bytes replace{0x30};
  for (uint8_t k = 4; k <= 6; ++k) Append(replace, wrap_key(Bytes(16, k)));
  return {
      {"INITIALIZE UPDATE (sequence counter)",
       {{"00A4040000", "9000"}, {"8050300008000102030405060700", "9000"}}},
      {"EXTERNAL AUTHENTICATE (wrong cryptogram: the failure counter)",
       {{"00A4040000", "9000"},
        {"8050300008000102030405060700", "9000"},
        {"8482010010"
         "0000000000000000"
         "0000000000000000",
         "6982"}}},
      {"EXTERNAL AUTHENTICATE", wrapped({})},
      {"SET STATUS", wrapped({"80F08007"})},
      {"PUT KEY (add)",
       wrapped({"80D80081" + ToHex(Bytes{static_cast<uint8_t>(put.size())}) + ToHex(put) + "00"})},
      {"PUT KEY (replace)",
       wrapped({"80D83081" + ToHex(Bytes{static_cast<uint8_t>(replace.size())}) + ToHex(replace) +
                "00"})},
  };
}

TEST(CardTear, EveryNvmChangingCommandAtEveryCutPoint) {
  uint64_t cuts = 0, recovery_cuts = 0, scenarios = 0;
  std::vector<Case> all = Cases();
  for (Case& c : SecureChannelCases()) all.push_back(std::move(c));
  for (const Case& c : all) {
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
