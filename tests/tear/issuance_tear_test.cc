// Self-issuance under power cuts (docs/self-issuance.md §4-§5): one EXECUTE ISSUANCE of a group
// of stored commands, cut at every program operation and at every pair of them (one during the
// run, one during the resume that follows), in both tear modes. The oracle is taken at APDU
// boundaries, independently of the issuance application: the same commands sent one by one
// from outside on the same card, observed after each. After any cut the card must hold exactly
// the state after some prefix of the group, and its journal must record exactly that prefix
// (the record of a command equals its effect); after the host's status and resume it must hold
// the state after the whole group.
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <optional>

#include "card/kernel/card.h"
#include "card/kernel/profile.h"
#include "core/tlv.h"
#include "crypto/scp03_host.h"
#include "device/virtual_card.h"
#include "nvm/nvm_device.h"
#include "support/integrity_oracle.h"

namespace tessera::card {
namespace {

const std::string kIssuanceAid = "F05445535345524102";
const std::string kIssuanceModule = "F0544553534552414D04";
const Bytes kRun = HexOrDie("0A0B0C0D0E0F1011");
const std::string kWrongVerify = "002000810439393939";

// The group: the demo application's PIN-protected files, written the ways a personalisation
// writes them. SELECT and VERIFY are harmless (they run again on resume).
struct Stored {
  std::string apdu;
  bool harmless = false;
};
const std::vector<Stored> kGroup = {
    {"00A4040C09F05445535345524110", true},  // SELECT the demo application
    {"002000810431323334", true},            // VERIFY PIN 81 (its counter: an early commit)
    {"00D6810010" + std::string(32, 'A')},   // UPDATE BINARY (EF 1001)
    {"00DC031410" + std::string(32, 'C')},   // UPDATE RECORD 3 (EF 1002)
    {"00E20020050102030405"},                // APPEND RECORD (EF 1004)
    {"00D6810008" + std::string(16, 'B')},   // UPDATE BINARY again, a part of it
    {"00E200200406070809"},                  // APPEND RECORD
    {"00DC031410" + std::string(32, 'D')},   // UPDATE RECORD 3 again
    {"00D6814020" + std::string(64, 'E')},   // UPDATE BINARY at 64
    {"00DC011410" + std::string(32, 'F')},   // UPDATE RECORD 1
    {"00E2001808" + std::string(16, '1')},   // APPEND RECORD (EF 1003, cyclic)
    {"00D6817010" + std::string(32, '2')},   // UPDATE BINARY at 112
    {"00E2002003ABCDEF"},                    // APPEND RECORD
    {"00DC051410" + std::string(32, '3')},   // UPDATE RECORD 5
    {"00E2001808" + std::string(16, '4')},   // APPEND RECORD (cyclic)
    {"00D6812010" + std::string(32, '5')},   // UPDATE BINARY at 32
};

nvm::Geometry Geometry() {
  nvm::Geometry g;
  g.nvm_size = 96 * 1024;
  g.journal_capacity = 8 * 1024;
  return g;
}

Platform& TestPlatform() {
  static auto p = DrbgPlatform::FromSeed(Bytes(48, 5), 1700000000);
  return *p;
}

std::string Lc(size_t n) {
  char b[8];
  std::snprintf(b, sizeof b, "%02zX", n);
  return b;
}

std::string SwOf(const Bytes& r) {
  return ToHex(ByteView(r).last(2));
}

// The card at its first power-on after `device` was written: modules registered.
struct PoweredCard {
  explicit PoweredCard(nvm::NvmDevice& device)
      : owned(device::MakeCard(device, Geometry(), TestPlatform())), card(*owned) {
    ok = card.PowerOn().ok();
  }
  std::unique_ptr<Card> owned;
  Card& card;
  bool ok = false;
};

std::unique_ptr<crypto::scp03::SecureChannel> Session(Card& card, const std::string& domain) {
  crypto::scp03::ChannelOptions o;
  o.keys = crypto::scp03::TestKeys();
  o.kvn = 0x30;
  o.level = crypto::scp03::kCMac;
  o.security_domain = HexOrDie(domain);
  auto sc = crypto::scp03::SecureChannel::Open(
      [&card](ByteView c) -> Result<Bytes> { return card.Transmit(c); }, o);
  return sc.ok() ? std::move(*sc) : nullptr;
}

// The default profile, the issuance application, and kGroup loaded as function 01 (policy
// 03, target the demo application).
const nvm::NvmDevice& BaseImage() {
  static nvm::RamNvm* image = [] {
    auto* ram = new nvm::RamNvm(Geometry().nvm_size, Geometry().page_size);
    if (!InstallDefaultProfile(ram->device(), Geometry()).ok()) std::abort();
    PoweredCard c(ram->device());
    auto isd = Session(c.card, "A000000151000000");
    if (!c.ok || !isd) std::abort();
    auto install =
        isd->Transmit(HexOrDie("80E60C0028"
                               "0A" +
                               kIssuanceModule + "0A" + kIssuanceModule + "09" + kIssuanceAid +
                               "03800000"
                               "02C900"
                               "00"));
    if (!install.ok() || SwOf(*install) != "9000") std::abort();
    Bytes group{'G', 0x01};
    AppendU16(group, static_cast<uint16_t>(kGroup.size()));
    for (const Stored& s : kGroup) {
      const Bytes apdu = HexOrDie(s.apdu);
      group.push_back(s.harmless ? 0x01 : 0x00);
      group.push_back(0x00);
      AppendU16(group, static_cast<uint16_t>(apdu.size()));
      Append(group, apdu);
    }
    TlvBuilder b;
    b.Open(0xBF73).AddByte(0xC1, 0x01).AddByte(0xC3, 1).Add(0x4F, HexOrDie("F05445535345524110"));
    b.AddByte(0xC5, 0x03).Add(0xC6, group).Close();
    const Bytes upload = b.Take();
    auto sc = Session(c.card, kIssuanceAid);
    if (!sc) std::abort();
    for (size_t off = 0, block = 0; off < upload.size(); off += 200, ++block) {
      const size_t n = std::min<size_t>(200, upload.size() - off);
      char head[16];
      std::snprintf(head, sizeof head, "80E2%02X%02zX", off + n == upload.size() ? 0x90 : 0x10,
                    block);
      auto r = sc->Transmit(HexOrDie(head + Lc(n) + ToHex(ByteView(upload).subspan(off, n))));
      if (!r.ok() || SwOf(*r) != "9000") std::abort();
    }
    return ram;
  }();
  return image->device();
}

// What a cut may leave: the data area with the function's journal record (and its block's
// check entry) zeroed, followed by the journal's account of the run: succeeded count and the
// first bitmap byte. The journal record is found through the file system and checked to be
// where the raw bytes are, so the projection cannot hide anything else.
Result<Bytes> Observe(nvm::NvmDevice& device) {
  PoweredCard c(device);
  if (!c.ok) return Corruption("no power-on");
  Card& card = c.card;
  const nvm::Layout& l = card.store().layout();
  Bytes state(l.end() - l.table_offset);
  TESSERA_RETURN_IF_ERROR(card.store().Read(l.table_offset, state));
  auto root = card.root();
  if (!root.ok()) return Corruption("no root");
  auto dfs = card.fs().DfsByName(root->mf, HexOrDie(kIssuanceAid));
  if (!dfs.ok() || dfs->empty()) return Corruption("no issuance DF");
  auto journal = card.fs().ChildByFid(dfs->front(), 0x0202);
  if (!journal.ok()) return Corruption("no journal");
  auto record = card.fs().ReadSlot(*journal, 0);
  if (!record.ok() || record->size() != 64) return Corruption("no journal record");
  // Slot 0: a length byte, then the record (src/card/fs: records are length-prefixed slots).
  const uint32_t at = l.BlockOffset(journal->data_blocks[0]);
  const auto slot = state.begin() + (at - l.table_offset);
  if (slot[0] != 64 || !std::equal(record->begin(), record->end(), slot + 1)) {
    return Corruption("the journal record is not the first slot of its block");
  }
  std::fill(slot + 1, slot + 65, 0);
  const uint32_t entry = testing::UnitHolding(l, at).entry - l.table_offset;
  std::fill(state.begin() + entry, state.begin() + entry + 4, 0);
  // The rest of the record must agree with that account: no command of this group fails, so
  // nothing is recorded as failed, the first unanswered command is the next one, and a run
  // under way carries the host's run id.
  const ByteView r(*record);
  const uint16_t succeeded = GetU16(&r[17]);
  if (GetU16(&r[13]) != 0xFFFF || GetU16(&r[15]) != 0) return Corruption("a failure recorded");
  if (GetU16(&r[11]) != succeeded) return Corruption("first unanswered is not the next command");
  if (r[1] != 0 && !std::equal(kRun.begin(), kRun.end(), r.begin() + 2)) {
    return Corruption("another run id");
  }
  state.push_back(r[18]);  // succeeded (low byte)
  state.push_back(r[19]);  // bitmap, commands 0-7
  state.push_back(r[20]);  // bitmap, commands 8-15
  state.push_back(r[1]);   // the journal state
  return state;
}

// The oracle: from the base image, the group's commands sent from outside one by one; the
// state after each prefix j, with the journal account a run of j commands must show, and the
// same with the demo PIN's counter spent once or twice (a cut inside a VERIFY, after its early
// commit, spends a try until a VERIFY succeeds; two cuts, two tries; made by wrong VERIFYs
// from outside).
struct Oracle {
  std::vector<Bytes> states[3];  // [tries spent]: allowed after a cut
  Bytes final_state;
};
const Oracle& TheOracle() {
  static const Oracle* oracle = [] {
    auto* o = new Oracle;
    auto ram = nvm::RamNvm::CopyOf(BaseImage());
    // The state byte is left out of the comparison (Allowed checks it on its own).
    auto account = [](Bytes s, size_t j) {
      const uint32_t bits = (1u << j) - 1;
      s[s.size() - 4] = static_cast<uint8_t>(j);
      s[s.size() - 3] = static_cast<uint8_t>(bits);
      s[s.size() - 2] = static_cast<uint8_t>(bits >> 8);
      s.pop_back();
      return s;
    };
    auto fail = [](const std::string& what) {
      std::fprintf(stderr, "issuance tear oracle: %s\n", what.c_str());
      std::abort();
    };
    for (size_t j = 0; j <= kGroup.size(); ++j) {
      {
        PoweredCard c(ram->device());
        for (size_t i = 0; i < j; ++i) {
          const Bytes r = c.card.Transmit(HexOrDie(kGroup[i].apdu));
          if (SwOf(r) != "9000") fail(kGroup[i].apdu + " answered " + SwOf(r));
        }
      }
      auto plain = Observe(ram->device());
      if (!plain.ok()) fail(plain.status().ToString());
      o->states[0].push_back(account(*plain, j));
      if (j == kGroup.size()) o->final_state = o->states[0].back();
      auto spent = nvm::RamNvm::CopyOf(ram->device());
      for (int tries = 1; tries <= 2; ++tries) {
        {
          PoweredCard c(spent->device());
          c.card.Transmit(HexOrDie(kGroup[0].apdu));
          const std::string sw = SwOf(c.card.Transmit(HexOrDie(kWrongVerify)));
          if (sw.substr(0, 3) != "63C") fail("a wrong VERIFY answered " + sw);
        }
        auto st = Observe(spent->device());
        if (!st.ok()) fail(st.status().ToString());
        o->states[tries].push_back(account(*st, j));
      }
      ram = nvm::RamNvm::CopyOf(BaseImage());  // the next prefix from the start
    }
    return o;
  }();
  return *oracle;
}

// One host request on a powered card: SELECT the issuance application, then EXECUTE ISSUANCE
// with P1 for function 01 and kRun. Returns the response (empty when the card lost power).
Bytes Execute(Card& card, uint8_t p1) {
  card.Transmit(HexOrDie("00A40400" + Lc(9) + kIssuanceAid + "00"));
  if (!card.powered()) return {};
  char head[16];
  std::snprintf(head, sizeof head, "80EA%02X00", p1);
  return card.Transmit(HexOrDie(std::string(head) + "0DC10101C808" + ToHex(kRun) + "00"));
}

// The host's step after a power-on: status, then start (nothing recorded) or resume.
Bytes HostStep(Card& card) {
  const Bytes status = Execute(card, 0x03);
  if (status.size() < 2) return {};
  auto t = FindTlv(ByteView(status).first(status.size() - 2), 0xE5);
  uint8_t state = 0;
  if (t.ok() && *t) {
    auto s = FindTlv((*t)->value, 0x80);
    if (s.ok() && *s && !(*s)->value.empty()) state = (*s)->value[0];
  }
  return Execute(card, state == 0x00 ? 0x00 : 0x01);
}

// `observed` is a prefix state with its journal account, with at most `cuts` tries spent, and
// the journal's state fits the prefix: idle before the first command committed (the running
// state commits with it), running after, running or done after the last.
bool Allowed(const Bytes& observed, int cuts) {
  const uint8_t state = observed.back();
  const size_t j = observed[observed.size() - 4];
  const bool fits = j == 0 ? state == 0 : (state == 1 || (j == kGroup.size() && state == 3));
  if (!fits) return false;
  const Bytes account(observed.begin(), observed.end() - 1);
  for (int tries = 0; tries <= cuts; ++tries) {
    for (const Bytes& s : TheOracle().states[tries]) {
      if (s == account) return true;
    }
  }
  return false;
}

// Runs `step` on a card on `device` with power cut at program `k` from now (nullopt: no cut).
void RunCut(nvm::RamNvm& ram, std::optional<uint64_t> k, nvm::TearMode mode, uint64_t seed,
            const std::function<void(Card&)>& step) {
  if (k) ram.device().ScheduleCut(ram.device().programs() + *k, mode, seed);
  {
    PoweredCard c(ram.device());
    if (c.ok) step(c.card);
  }
  ram.device().CancelCut();
  ram.device().PowerOn();
}

uint64_t ProgramsOf(const nvm::NvmDevice& from, const std::function<void(Card&)>& step) {
  auto probe = nvm::RamNvm::CopyOf(from);
  const uint64_t p0 = probe->device().programs();
  RunCut(*probe, std::nullopt, nvm::TearMode::kNormal, 0, step);
  return probe->device().programs() - p0;
}

const char* Name(nvm::TearMode mode) {
  return mode == nvm::TearMode::kHarsh ? "harsh" : "normal";
}

TEST(IssuanceTear, TheOracleIsTheGroupSentFromOutside) {
  const Oracle& o = TheOracle();
  for (const auto& by_tries : o.states) ASSERT_EQ(by_tries.size(), kGroup.size() + 1);
  // An uninterrupted run ends where the commands sent from outside end, its journal done.
  auto ram = nvm::RamNvm::CopyOf(BaseImage());
  RunCut(*ram, std::nullopt, nvm::TearMode::kNormal, 0,
         [](Card& card) { ASSERT_EQ(SwOf(Execute(card, 0x00)), "9000"); });
  auto after = Observe(ram->device());
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->back(), 3);  // done
  EXPECT_TRUE(Bytes(after->begin(), after->end() - 1) == o.final_state);
  // Every prefix state differs from the next: the oracle can tell them apart.
  for (size_t j = 0; j + 1 < o.states[0].size(); ++j)
    EXPECT_NE(o.states[0][j], o.states[0][j + 1]) << j;
  EXPECT_NE(o.states[0][1], o.states[1][1]);  // a spent try shows
}

// Every cut of the run, in both modes: the card holds a prefix and its journal says which;
// the host's status and resume then finish the group.
TEST(IssuanceTear, EveryCutOfARunLeavesAPrefixAndResumeFinishesIt) {
  const auto start = [](Card& card) { (void)Execute(card, 0x00); };
  const uint64_t programs = ProgramsOf(BaseImage(), start);
  ASSERT_GT(programs, 20u);
  uint64_t cuts = 0;
  for (nvm::TearMode mode : {nvm::TearMode::kNormal, nvm::TearMode::kHarsh}) {
    for (uint64_t k = 0; k <= programs; ++k) {
      auto ram = nvm::RamNvm::CopyOf(BaseImage());
      RunCut(*ram, k, mode, k, start);
      auto cut = Observe(ram->device());
      ASSERT_TRUE(cut.ok()) << Name(mode) << " cut " << k << ": " << cut.status().ToString();
      ASSERT_TRUE(Allowed(*cut, 1)) << Name(mode) << " cut " << k
                                    << ": the card holds no prefix of the group, or its journal "
                                       "does not record the prefix it holds";
      RunCut(*ram, std::nullopt, mode, 0, [&](Card& card) {
        EXPECT_EQ(SwOf(HostStep(card)), "9000") << Name(mode) << " cut " << k;
      });
      auto done = Observe(ram->device());
      ASSERT_TRUE(done.ok());
      ASSERT_TRUE(done->back() == 3 &&
                  Bytes(done->begin(), done->end() - 1) == TheOracle().final_state)
          << Name(mode) << " cut " << k;
      ++cuts;
    }
  }
  std::printf("issuance tear: %llu cut points of one EXECUTE ISSUANCE, then resume\n",
              static_cast<unsigned long long>(cuts));
}

// Every pair of cuts: one during the run, one during the resume that follows; after each the
// card holds a prefix its journal records (with at most two tries of the PIN spent), and a
// last resume finishes the group.
TEST(IssuanceTear, EveryPairOfCutsLeavesAPrefixAndResumeFinishesIt) {
  const auto start = [](Card& card) { (void)Execute(card, 0x00); };
  const auto step = [](Card& card) { (void)HostStep(card); };
  const uint64_t programs = ProgramsOf(BaseImage(), start);
  uint64_t pairs = 0;
  for (nvm::TearMode mode : {nvm::TearMode::kNormal, nvm::TearMode::kHarsh}) {
    // Harsh pairs (arbitrary torn bytes) for every eighth first cut: the normal ones cover
    // every pair, and the harsh singles every cut.
    const uint64_t stride = mode == nvm::TearMode::kHarsh ? 8 : 1;
    for (uint64_t k1 = 0; k1 < programs; k1 += stride) {
      auto first = nvm::RamNvm::CopyOf(BaseImage());
      RunCut(*first, k1, mode, k1, start);
      const uint64_t m = ProgramsOf(first->device(), step);
      for (uint64_t k2 = 0; k2 < m; ++k2) {
        auto second = nvm::RamNvm::CopyOf(first->device());
        RunCut(*second, k2, mode, k1 * 1000 + k2, step);
        auto cut = Observe(second->device());
        ASSERT_TRUE(cut.ok()) << Name(mode) << " cuts " << k1 << ", " << k2;
        ASSERT_TRUE(Allowed(*cut, 2)) << Name(mode) << " cuts " << k1 << ", " << k2;
        RunCut(*second, std::nullopt, mode, 0, [&](Card& card) {
          EXPECT_EQ(SwOf(HostStep(card)), "9000") << Name(mode) << " cuts " << k1 << ", " << k2;
        });
        auto done = Observe(second->device());
        ASSERT_TRUE(done.ok());
        ASSERT_TRUE(done->back() == 3 &&
                    Bytes(done->begin(), done->end() - 1) == TheOracle().final_state)
            << Name(mode) << " cuts " << k1 << ", " << k2;
        ++pairs;
      }
    }
  }
  EXPECT_GT(pairs, 1000u);
  std::printf("issuance tear: %llu pairs of cut points (run, then resume)\n",
              static_cast<unsigned long long>(pairs));
}

}  // namespace
}  // namespace tessera::card
