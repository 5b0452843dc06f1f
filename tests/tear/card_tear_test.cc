// Every card command that changes NVM, with power cut at every program operation, in both tear
// modes (plus a second cut during the recovery that follows): after power-on the card's whole
// data area must equal its state before the APDU the cut fell into or after it (plus, for PIN
// and key checks, the state with the retry counter spent), the NVM invariants must hold, the
// card must power on, and no old PIN or key may be left anywhere in the raw image.
#include <gtest/gtest.h>
#include "device/virtual_card.h"

#include <algorithm>
#include <cstdio>

#include "card/gp/key_store.h"
#include "card/kernel/card.h"
#include "card/kernel/card_root.h"
#include "card/kernel/identifiers.h"
#include "card/kernel/profile.h"
#include "crypto/aes.h"
#include "crypto/scp03.h"
#include "nvm/image_inspector.h"
#include "nvm/nvm_store.h"
#include "support/integrity_oracle.h"
#include "support/tear_harness.h"

namespace tessera::card {
namespace {

using testing::RunAtEveryCutPoint;
using testing::SpendCounter;
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

size_t Count(ByteView haystack, ByteView needle) {
  if (needle.empty()) return 0;
  size_t n = 0;
  for (auto it = haystack.begin();
       (it = std::search(it, haystack.end(), needle.begin(), needle.end())) != haystack.end();
       ++it) {
    ++n;
  }
  return n;
}

// A secret that a scenario keeps, replaces or adds: after every cut and power-on, the raw image
// (journal and free space included) holds the old value exactly at its homes and the new one
// nowhere (the old state), or the old one nowhere and the new one exactly at its homes (the
// new state). The counts are what the card's format says, not what a run produced. A PIN is
// matched with its length byte.
struct Secret {
  Bytes old_value, new_value;
  size_t old_count = 1, new_count = 1;  // homes: a PIN has one, a key set's key one per slot
};
std::vector<Secret> DefaultSecrets();

Result<Bytes> ObserveData(nvm::NvmDevice& device, const std::vector<Secret>& secrets) {
  auto card_owned = device::MakeCard(device, Geometry(), TestPlatform());
  card::Card& card = *card_owned;
  auto atr = card.PowerOn();
  if (!atr.ok()) return atr.status();
  const nvm::Layout& l = card.store().layout();
  nvm::ImageReport report = nvm::InspectImage(device, l);
  if (!report.ok()) return Corruption("invariant broken: " + report.errors.front());
  for (const Secret& s : secrets) {
    const size_t o = Count(device.cells(), s.old_value), n = Count(device.cells(), s.new_value);
    if (!((o == s.old_count && n == 0) || (o == 0 && n == s.new_count))) {
      return Corruption("secret " + ToHex(s.old_value) + " -> " + ToHex(s.new_value) + " found " +
                        std::to_string(o) + " / " + std::to_string(n) +
                        " times in the raw image (expected " + std::to_string(s.old_count) +
                        " / 0 or 0 / " + std::to_string(s.new_count) + ")");
    }
  }
  Bytes state(l.end() - l.table_offset);
  TESSERA_RETURN_IF_ERROR(card.store().Read(l.table_offset, state));
  return state;
}

Result<Bytes> ObserveCard(nvm::NvmDevice& device) {
  return ObserveData(device, DefaultSecrets());
}

struct Step {
  std::string apdu;
  std::string expected_sw;  // checked in the uncut run
  // Retry counters this command may commit early (Counter values): a cut may also leave the
  // state before it with one of these counters spent.
  std::vector<int> spends = {};
};

// Registers what a scenario needs on the card (test commands and applications).
using CardSetup = std::function<void(Card&)>;

std::function<Status(nvm::NvmDevice&, const std::function<void()>&)> RunSteps(
    std::vector<Step> steps, CardSetup setup = nullptr) {
  return [steps, setup](nvm::NvmDevice& device, const std::function<void()>& step_done) -> Status {
    auto card_owned = device::MakeCard(device, Geometry(), TestPlatform());
    card::Card& card = *card_owned;
    if (setup) setup(card);
    TESSERA_RETURN_IF_ERROR(card.PowerOn().status());
    for (const Step& s : steps) {
      Bytes r = card.Transmit(HexOrDie(s.apdu));
      if (!card.powered() || !device.powered()) return PowerLost("cut during " + s.apdu);
      const std::string sw = ToHex(ByteView(r).last(2));
      if (sw != s.expected_sw) {
        return FailedPrecondition(s.apdu.substr(0, 16) + "... answered " + sw + ", expected " +
                                  s.expected_sw);
      }
      step_done();
    }
    return Status::Ok();
  };
}

// The retry counters of the default profile: PIN slots 0..7, and the issuer key set's.
// (Resolved to offsets only when a test runs: the profile's constants are not ready during
// static initialisation.)
constexpr int kIssuerKeyCounter = 100;

// Offsets (into the observed data area) of the retry counters in the default profile.
uint32_t PinCounter(size_t slot) {
  auto ram = nvm::RamNvm::CopyOf(ProfileImage());
  auto store = nvm::NvmStore::Mount(ram->device(), Geometry());
  return PinTriesOffset(**store, slot) - (*store)->layout().table_offset;
}
uint32_t IssuerKeyCounter() {
  auto ram = nvm::RamNvm::CopyOf(ProfileImage());
  auto store = nvm::NvmStore::Mount(ram->device(), Geometry());
  auto root = LoadRoot(**store);
  auto set = FindKeySet(**store, *root, 0x30);
  return FailuresLeftOffset(**store, *set) - (*store)->layout().table_offset;
}

std::function<std::vector<Bytes>(size_t, const Bytes&)> SpentCounters(
    const std::vector<Step>& steps) {
  return [steps](size_t step, const Bytes& before) {
    std::vector<Bytes> out;
    if (step >= steps.size()) return out;
    for (int counter : steps[step].spends) {
      const uint32_t at = counter == kIssuerKeyCounter ? IssuerKeyCounter()
                                                       : PinCounter(static_cast<size_t>(counter));
      Bytes spent = before;
      SpendCounter(spent, *nvm::ComputeLayout(Geometry()), at);
      out.push_back(std::move(spent));
    }
    return out;
  };
}

const Step kSelectDemo{"00A4040C09F05445535345524110", "9000"};
const Step kVerifyUser{"002000810431323334", "9000", {0}};
const Step kVerifyAdmin{"00200082083837363534333231", "9000", {1}};

std::string Repeat(const std::string& hex, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += hex;
  return s;
}

struct Case {
  const char* name;
  std::vector<Step> steps;
  // Secrets the scenario changes; every other secret of the profile must stay exactly at its
  // home (DefaultSecrets).
  std::vector<Secret> secrets = {};
};

Secret PinSecret(std::string_view old_value, std::string_view new_value) {
  Secret s;
  s.old_value.push_back(static_cast<uint8_t>(old_value.size()));
  Append(s.old_value, ToBytes(old_value));
  if (!new_value.empty()) {
    s.new_value.push_back(static_cast<uint8_t>(new_value.size()));
    Append(s.new_value, ToBytes(new_value));
  }
  return s;
}

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
      {"DELETE FILE (a DF and its EFs)", {kVerifyAdmin, {"00E40000025000", "9000"}}},
      {"DEACTIVATE FILE", {kVerifyAdmin, {"00A4000C022F01", "9000"}, {"00040000", "9000"}}},
      {"TERMINATE EF", {kVerifyAdmin, {"00E80000022F01", "9000"}}},
      {"ACTIVATE FILE",
       {kVerifyAdmin, {"00A4000C022F01", "9000"}, {"00040000", "9000"}, {"00440000", "9000"}}},
      {"TERMINATE DF", {kVerifyAdmin, {"00E60000025000", "9000"}}},
      {"TERMINATE CARD USAGE", {kVerifyAdmin, {"00FE0000", "9000"}}},
      {"VERIFY (wrong PIN)", {{"002000810439393939", "63C2", {0}}}, {PinSecret("1234", "")}},
      {"VERIFY (right PIN after a wrong one)",
       {{"002000810439393939", "63C2", {0}}, kVerifyUser},
       {PinSecret("1234", "")}},
      {"CHANGE REFERENCE DATA",
       {{"002400810831323334"
         "35363738",
         "9000",
         {0}}},
       {PinSecret("1234", "5678")}},
      {"RESET RETRY COUNTER",
       {{"002C00810C"
         "3132333435363738"
         "39393939",
         "9000",
         {2}}},
       {PinSecret("1234", "9999"), PinSecret("12345678", "")}},
      {"PUT DATA", {kVerifyAdmin, {"00DA00420401020304", "9000"}}},
      // Copy-on-write: an 8 KiB EF written whole (more than the 8 KiB commit capacity), then
      // 4 KiB at an unaligned offset (whole blocks copy-on-write, the ends journaled).
      {"UPDATE BINARY (bulk, copy-on-write)",
       {kVerifyAdmin,
        {"00E000000D620B82010183022F1080022000", "9000"},
        {"00D6000000"
         "2000" +
             Repeat("5A", 8192),
         "9000"},
        {"00D6001000"
         "1000" +
             Repeat("C3", 4096),
         "9000"}}},
  };
}

const Bytes kTestKey = HexOrDie("404142434445464748494A4B4C4D4E4F");

// The profile's PINs and issuer keys (ENC = MAC = DEK: three homes), unchanged.
std::vector<Secret> DefaultSecrets() {
  std::vector<Secret> out;
  for (const char* pin : {"1234", "87654321", "12345678"}) out.push_back(PinSecret(pin, ""));
  out.push_back(Secret{kTestKey, {}, 3, 0});
  return out;
}

// A 16-byte key no other bytes of an image resemble.
Bytes DistinctKey(uint8_t k) {
  Bytes key(16);
  for (size_t j = 0; j < key.size(); ++j) key[j] = static_cast<uint8_t>(0x9D * (k + 1) + 0x3B * j);
  return key;
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
                     "9000",
                     {kIssuerKeyCounter}});
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
  for (uint8_t k = 1; k <= 3; ++k) Append(put, wrap_key(DistinctKey(k)));
  Bytes replace{0x30};
  for (uint8_t k = 4; k <= 6; ++k) Append(replace, wrap_key(DistinctKey(k)));
  return {
      {"INITIALIZE UPDATE (sequence counter)",
       {{"00A4040000", "9000"}, {"8050300008000102030405060700", "9000"}}},
      {"EXTERNAL AUTHENTICATE (wrong cryptogram: the failure counter)",
       {{"00A4040000", "9000"},
        {"8050300008000102030405060700", "9000"},
        {"8482010010"
         "0000000000000000"
         "0000000000000000",
         "6982",
         {kIssuerKeyCounter}}}},
      {"EXTERNAL AUTHENTICATE", wrapped({})},
      {"SET STATUS", wrapped({"80F08007"})},
      {"PUT KEY (add)",
       wrapped({"80D80081" + ToHex(Bytes{static_cast<uint8_t>(put.size())}) + ToHex(put) + "00"}),
       {Secret{{}, DistinctKey(1), 0, 1}, Secret{{}, DistinctKey(2), 0, 1},
        Secret{{}, DistinctKey(3), 0, 1}}},
      {"PUT KEY (replace)",
       wrapped({"80D83081" + ToHex(Bytes{static_cast<uint8_t>(replace.size())}) + ToHex(replace) +
                "00"}),
       {Secret{test, DistinctKey(4), 3, 1}, Secret{{}, DistinctKey(5), 0, 1},
        Secret{{}, DistinctKey(6), 0, 1}}},
  };
}

TEST(CardTear, EveryNvmChangingCommandAtEveryCutPoint) {
  uint64_t cuts = 0, recovery_cuts = 0, scenarios = 0;
  std::vector<Case> all = Cases();
  for (Case& c : SecureChannelCases()) all.push_back(std::move(c));
  for (Case& c : all) {
    for (const Secret& d : DefaultSecrets()) {
      const bool changed = std::any_of(c.secrets.begin(), c.secrets.end(),
                                       [&](const Secret& s) { return s.old_value == d.old_value; });
      if (!changed) c.secrets.push_back(d);
    }
    auto observe = [secrets = c.secrets](nvm::NvmDevice& d) { return ObserveData(d, secrets); };
    for (nvm::TearMode mode : {nvm::TearMode::kNormal, nvm::TearMode::kHarsh}) {
      TearScenario s{c.name, &ProfileImage(), RunSteps(c.steps), observe, SpentCounters(c.steps)};
      auto stats = RunAtEveryCutPoint(s, TearOptions{mode, 42 + scenarios, true});
      ASSERT_TRUE(stats.ok()) << stats.status().ToString();
      EXPECT_TRUE(std::any_of(stats->states.begin(), stats->states.end(),
                              [&](const Bytes& st) { return st != stats->states.front(); }))
          << c.name << " changed nothing";
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

namespace tessera::card {
namespace {

using testing::SpendCounter;

// The negative control: a command that (deliberately) commits its two writes separately. The
// harness must reject it: a cut between the commits leaves a state that is neither the one
// before the APDU nor the one after.
CardResult<Response> HandleSplitWrite(Card& card, ChannelState&, const CommandApdu&) {
  CARD_ASSIGN(CardRoot root, card.root());
  CARD_ASSIGN(FileNode mf, card.fs().Load(root.mf));
  CARD_ASSIGN(FileNode hello, card.fs().ChildByFid(mf, 0x2F01));
  CARD_TRY(card.fs().WriteData(hello, 0, ToBytes("A")));
  CARD_TRY_STATUS(card.store().CommitAndContinue());  // the bug under test
  CARD_TRY(card.fs().WriteData(hello, 1, ToBytes("B")));
  return Response{};
}

TEST(CardTear, HarnessRejectsACommandSplitIntoTwoCommits) {
  auto setup = [](Card& card) { ASSERT_TRUE(card.AddCommand({0x3C, HandleSplitWrite})); };
  TearScenario s{"split write (negative control)", &ProfileImage(),
                 RunSteps({{"003C0000", "9000"}}, setup), ObserveCard, nullptr};
  auto stats = RunAtEveryCutPoint(s, TearOptions{nvm::TearMode::kNormal, 7, false});
  ASSERT_FALSE(stats.ok()) << "the harness accepted a non-atomic command";
  EXPECT_NE(stats.status().message().find("neither old nor new"), std::string::npos)
      << stats.status().ToString();
}

// Internal execution: a test application (registered from outside the dispatcher, as
// the src/apps/ modules are) runs stored commands through Card::ExecuteInternal
// inside its own command's transaction, staging a journal bit with each: byte i of EF 2F01
// becomes 01 in the same commit as stored command i. The step boundaries are the stored
// commands, so a cut must leave each one old-or-new, its bit with it.
const std::vector<std::string> kStored = {
    "00A4040C09F05445535345524110",       // SELECT the demo application
    "002000810431323334",                 // VERIFY (early commit of the retry counter)
    "00D6810010" + std::string(32, 'A'),  // UPDATE BINARY
    "00DC031410" + std::string(32, 'C'),  // UPDATE RECORD
    "00E20020050102030405",               // APPEND RECORD
};
const std::function<void()>* g_step_done = nullptr;

CardResult<Response> HandleRunStored(Card& card, ChannelState&, const CommandApdu&) {
  card.ResetInternalChannel();
  card.set_external_closed(true);
  for (size_t i = 0; i < kStored.size(); ++i) {
    auto cmd = CommandApdu::Parse(HexOrDie(kStored[i]));
    if (!cmd.ok()) return Error::kWrongData;
    auto bit = [&](const CardResult<Response>& r) -> CardStatus {
      if (!r.ok()) return Ok{};
      CARD_ASSIGN(CardRoot root, card.root());
      CARD_ASSIGN(FileNode mf, card.fs().Load(root.mf));
      CARD_ASSIGN(FileNode journal, card.fs().ChildByFid(mf, 0x2F01));
      const uint8_t one = 0x01;
      return card.fs().WriteData(journal, static_cast<uint32_t>(i), ByteView(&one, 1));
    };
    ResponseApdu r = card.ExecuteInternal(*cmd, bit);
    if (!card.powered()) return Error::kPowerLost;
    if (r.sw != 0x9000) return Error::kConditionsNotSatisfied;
    if (g_step_done != nullptr) (*g_step_done)();
  }
  card.set_external_closed(false);
  return Response{};
}

class RunStoredApplication final : public Application {
 public:
  ByteView aid() const override { return kAid; }
  CardResult<Response> Select(Card&, ChannelState&, const CommandApdu&) override {
    return Response{};
  }
  std::span<const Route> commands() const override { return kRoutes; }

 private:
  static constexpr uint8_t kAid[] = {0xF0, 0x54, 0x45, 0x53, 0x54, 0x52, 0x55, 0x4E};
  static constexpr Route kRoutes[] = {{0x1A, HandleRunStored}};
};

// The observed state: the data area with the journal bytes (2F01[0..8)) zeroed, followed by
// those bytes.
Result<Bytes> ObserveWithJournal(nvm::NvmDevice& device) {
  TESSERA_ASSIGN_OR_RETURN(Bytes state, ObserveCard(device));
  auto card_owned = device::MakeCard(device, Geometry(), TestPlatform());
  card::Card& card = *card_owned;
  TESSERA_RETURN_IF_ERROR(card.PowerOn().status());
  auto root = card.root();
  auto mf = card.fs().Load(root->mf);
  auto ef = card.fs().ChildByFid(*mf, 0x2F01);
  if (!ef.ok()) return Corruption("no EF 2F01");
  const uint32_t at =
      card.store().layout().BlockOffset(ef->data_blocks[0]) - card.store().layout().table_offset;
  Bytes bits(state.begin() + at, state.begin() + at + 8);
  std::fill(state.begin() + at, state.begin() + at + 8, 0);
  // The block's check entry depends on the bits too (ObserveCard verified it): zero it with
  // them, so that the rest compares with a card that has no bits.
  const nvm::Layout& l = card.store().layout();
  const uint32_t entry =
      testing::UnitHolding(l, l.BlockOffset(ef->data_blocks[0])).entry - l.table_offset;
  std::fill(state.begin() + entry, state.begin() + entry + 4, 0);
  Append(state, bits);
  return state;
}

TEST(CardTear, StoredCommandsExecutedInsideAHandlerAreEachOldOrNew) {
  auto setup = [](Card& card) { card.AddApplication(std::make_shared<RunStoredApplication>()); };
  // The independent oracle: the same commands sent one by one from outside, on a card without
  // the test application, observed after each.
  std::vector<Bytes> expected;
  {
    auto ram = nvm::RamNvm::CopyOf(ProfileImage());
    auto card_owned = device::MakeCard(ram->device(), Geometry(), TestPlatform());
    card::Card& card = *card_owned;
    ASSERT_TRUE(card.PowerOn().ok());
    auto snapshot = [&] {
      auto copy = nvm::RamNvm::CopyOf(ram->device());
      auto st = ObserveWithJournal(copy->device());
      ASSERT_TRUE(st.ok()) << st.status().ToString();
      expected.push_back(*st);
    };
    snapshot();
    for (const std::string& apdu : kStored) {
      ASSERT_EQ(ToHex(card.Transmit(HexOrDie(apdu))), "9000") << apdu;
      snapshot();
    }
  }
  // Steps: the SELECT, the stored commands (marked by the handler), then the outer APDU.
  auto run = [setup](nvm::NvmDevice& device, const std::function<void()>& step_done) -> Status {
    auto card_owned = device::MakeCard(device, Geometry(), TestPlatform());
    card::Card& card = *card_owned;
    setup(card);
    TESSERA_RETURN_IF_ERROR(card.PowerOn().status());
    for (const char* apdu : {"00A4040C08F05445535452554E", "801A0000"}) {
      g_step_done = &step_done;
      Bytes r = card.Transmit(HexOrDie(apdu));
      g_step_done = nullptr;
      if (!card.powered() || !device.powered()) return PowerLost("cut");
      if (ToHex(r) != "9000") return FailedPrecondition(std::string(apdu) + ": " + ToHex(r));
      // Privileged mode ends with the run.
      if (card.external_closed()) return FailedPrecondition("still closed after the run");
      step_done();
    }
    return Status::Ok();
  };
  // The VERIFY (stored command 1, step 2) may leave its retry counter spent.
  auto spent = [](size_t step, const Bytes& before) {
    std::vector<Bytes> out;
    if (step == 2) {
      Bytes b = before;
      SpendCounter(b, *nvm::ComputeLayout(Geometry()), PinCounter(0));
      out.push_back(std::move(b));
    }
    return out;
  };
  uint64_t cuts = 0;
  for (nvm::TearMode mode : {nvm::TearMode::kNormal, nvm::TearMode::kHarsh}) {
    TearScenario s{"stored commands with journal bits", &ProfileImage(), run, ObserveWithJournal,
                   spent};
    auto stats = RunAtEveryCutPoint(s, TearOptions{mode, 99, true});
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    cuts += stats->cut_points;
    // The boundary states are those of the independent oracle, each with its journal bits.
    ASSERT_EQ(stats->states.size(), kStored.size() + 3);
    for (size_t k = 0; k <= kStored.size(); ++k) {
      Bytes want = expected[k];
      for (size_t i = 0; i < k; ++i) want[want.size() - 8 + i] = 0x01;
      EXPECT_EQ(stats->states[k + 1], want) << "after stored command " << k;
    }
  }
  std::printf("card tear: %llu cut points over stored commands run by a handler\n",
              static_cast<unsigned long long>(cuts));
}

TEST(CardTear, PrivilegedModeNeverSurvivesAPowerCut) {
  auto ram = nvm::RamNvm::CopyOf(ProfileImage());
  auto card_owned = device::MakeCard(ram->device(), Geometry(), TestPlatform());
  card::Card& card = *card_owned;
  card.AddApplication(std::make_shared<RunStoredApplication>());
  ASSERT_TRUE(card.PowerOn().ok());
  ASSERT_EQ(ToHex(card.Transmit(HexOrDie("00A4040C08F05445535452554E"))), "9000");
  ram->device().ScheduleCut(ram->device().programs() + 20, nvm::TearMode::kNormal, 1);
  (void)card.Transmit(HexOrDie("801A0000"));
  ASSERT_FALSE(card.powered());
  ram->device().CancelCut();
  ram->device().PowerOn();
  ASSERT_TRUE(card.PowerOn().ok());
  EXPECT_FALSE(card.external_closed());
  EXPECT_EQ(ToHex(card.Transmit(HexOrDie("00A4000C023F00"))), "9000");
}

}  // namespace
}  // namespace tessera::card
