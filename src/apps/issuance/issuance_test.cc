// Self-issuance on one card (docs/self-issuance.md): command groups loaded into the issuance
// application, run by one EXECUTE ISSUANCE, failures at every index and retry, replays,
// acknowledgement, privileged mode, and power cuts at every program of a run followed by a
// resume. A test command (INS 3A, P1 = its index) adds one to byte P1 of EF 2F01 in NVM, so a
// command that ran twice shows in the card's content; it can be told to fail once.
#include <gtest/gtest.h>

#include "card/fs/file_system.h"
#include "card/kernel/card.h"
#include "card/kernel/identifiers.h"
#include "core/tlv.h"
#include "device/virtual_card.h"
#include "support/app_management_fixture.h"
#include "transport/card_service.h"

namespace tessera::apps {
namespace {

const std::string kIssuanceAid = "F05445535345524102";
const std::string kIssuanceModule = "F0544553534552414D04";
const Bytes kRunA = HexOrDie("0102030405060708");
const Bytes kRunB = HexOrDie("1112131415161718");

int g_fail_once = -1;          // index whose next execution fails (6581), then succeeds
int g_flood = 0;               // outside APDUs to send during each execution
int g_executions[64];          // successful executions per index (volatile: this process)
bool g_closed_seen = true;     // privileged mode held during every execution
card::Card* g_card = nullptr;  // to probe outside access during a run
transport::CardService* g_service = nullptr;  // to probe other connections during a run
uint64_t g_other_session = 0;                 // a connection that does not own the card

card::CardResult<card::Response> HandleCount(card::Card& c, card::ChannelState&,
                                             const CommandApdu& cmd) {
  if (!c.external_closed()) g_closed_seen = false;
  // From outside, during the run: refused at once, on any channel.
  if (g_card != nullptr && ToHex(g_card->Transmit(HexOrDie("01B0000001"))) != "6985") {
    g_closed_seen = false;
  }
  // A flood from outside during the run: every one refused, none reaches a handler.
  for (int i = 0; g_card != nullptr && i < g_flood; ++i) {
    const uint8_t channel = static_cast<uint8_t>(1 + i % 3);
    const Bytes probe{channel, 0xB0, 0x00, 0x00, 0x01};
    const Bytes counted{static_cast<uint8_t>(0x80 | channel), 0x3A, 0x3F, 0x00};
    if (ToHex(g_card->Transmit(i % 2 ? probe : counted)) != "6985") g_closed_seen = false;
  }
  // The same flood from other connections of a multi-interface tessera-card: a sessionless
  // source (the vpcd link) and a socket connection that does not own the card.
  for (int i = 0; g_service != nullptr && i < g_flood; ++i) {
    const Bytes counted{0x80, 0x3A, 0x3F, 0x00};
    const Bytes select{0x00, 0xA4, 0x00, 0x0C, 0x02, 0x3F, 0x00};
    auto r = i % 2 ? g_service->Handle("vpcd", i % 4 == 1 ? select : counted)
                   : g_service->Handle("socket-B", counted, g_other_session);
    if (!r || ToHex(*r) != "6985") g_closed_seen = false;
  }
  if (g_fail_once == cmd.p1) {
    g_fail_once = -1;
    return card::Error::kMemoryFailure;
  }
  auto root = c.root();
  auto mf = c.fs().Load(root->mf);
  auto ef = c.fs().ChildByFid(*mf, 0x2F01);
  uint8_t b = 0;
  if (!c.fs().ReadData(*ef, cmd.p1, std::span<uint8_t>(&b, 1)).ok())
    return card::Error::kMemoryFailure;
  ++b;
  CARD_TRY(c.fs().WriteData(*ef, cmd.p1, ByteView(&b, 1)));
  ++g_executions[cmd.p1];
  return card::Response{};
}

// A test command (INS 3B) that fills the open transaction: it stages one byte into every page
// of EF 2F0F (made by INS 3C beforehand) until the commit capacity is reached, and succeeds.
// Its journal bit then no longer fits into its commit.
card::CardResult<card::Response> HandleFill(card::Card& c, card::ChannelState&,
                                            const CommandApdu&) {
  CARD_ASSIGN(card::CardRoot root, c.root());
  CARD_ASSIGN(card::FileNode mf, c.fs().Load(root.mf));
  CARD_ASSIGN(card::FileNode ef, c.fs().ChildByFid(mf, 0x2F0F));
  const uint8_t one = 0x5A;
  for (uint32_t at = 0; at < ef.size; at += 64) {
    if (!c.fs().WriteData(ef, at, ByteView(&one, 1)).ok()) break;  // full: the rest stays
  }
  return card::Response{};
}
// INS 3C: creates EF 2F0F (16 KiB, transparent) under the MF.
card::CardResult<card::Response> HandleMakeScratch(card::Card& c, card::ChannelState&,
                                                   const CommandApdu&) {
  CARD_ASSIGN(card::CardRoot root, c.root());
  CARD_ASSIGN(card::FileNode mf, c.fs().Load(root.mf));
  card::FileNode n;
  n.kind = card::FileKind::kEf;
  n.fdb = static_cast<uint8_t>(card::EfStructure::kTransparent);
  n.fid = 0x2F0F;
  n.size = 16 * 1024;
  CARD_ASSIGN(card::FileNode made, c.fs().Create(mf, n, root.mf));
  (void)made;
  return card::Response{};
}

// A group of `apdus` (hex), each with `flags`.
Bytes GroupOf(const std::vector<std::pair<std::string, uint8_t>>& apdus) {
  Bytes g{'G', 0x01, 0x00, static_cast<uint8_t>(apdus.size())};
  for (const auto& [hex, flags] : apdus) {
    const Bytes apdu = HexOrDie(hex);
    Append(g, Bytes{flags, 0x00});
    AppendU16(g, static_cast<uint16_t>(apdu.size()));
    Append(g, apdu);
  }
  return g;
}

// A group of `n` counting commands; with `select` first a harmless SELECT of the MF.
Bytes Group(int n) {
  Bytes g{'G', 0x01, 0x00, static_cast<uint8_t>(n)};
  for (int i = 0; i < n; ++i) {
    const Bytes apdu{0x80, 0x3A, static_cast<uint8_t>(i), 0x00};
    Append(g, Bytes{0x00, 0x00, 0x00, static_cast<uint8_t>(apdu.size())});
    Append(g, apdu);
  }
  return g;
}

class IssuanceTest : public AppManagementTest {
 protected:
  void SetUp() override {
    AppManagementTest::SetUp();
    ASSERT_TRUE(card_->AddCommand({0x3A, HandleCount, card::ClassRange::kProprietary}));
    ASSERT_TRUE(card_->AddCommand({0x3B, HandleFill, card::ClassRange::kProprietary}));
    ASSERT_TRUE(card_->AddCommand({0x3C, HandleMakeScratch, card::ClassRange::kProprietary}));
    std::fill(std::begin(g_executions), std::end(g_executions), 0);
    g_fail_once = -1;
    g_closed_seen = true;
    g_card = nullptr;
    auto isd = Issuer();
    ASSERT_EQ(Sec(*isd, "80E60C00" + Lc(11 + 11 + 10 + 4 + 3 + 1) + "0A" + kIssuanceModule + "0A" +
                            kIssuanceModule + "09" + kIssuanceAid + "03800000" + "02C900" + "00"),
              "9000");
  }
  // Loads `group` as function 01 in an issuer session with the issuance application.
  // Policy 03: stop on the first error, partial retry allowed.
  std::string Load(const Bytes& group, uint8_t policy = 0x03,
                   const std::string& target = "F05445535345524110") {
    auto sc = Open(kIssuanceAid, 0x30, crypto::scp03::TestKeys());
    if (!sc) return "no session";
    TlvBuilder b;
    b.Open(0xBF73).AddByte(0xC1, 0x01).AddByte(0xC3, 1).Add(0x4F, HexOrDie(target));
    b.AddByte(0xC5, policy).Add(0xC6, group).Close();
    return Upload(*sc, b.Take());
  }
  // EXECUTE ISSUANCE with P1 on function 01 (plain: the policy asks for no channel).
  std::string Execute(uint8_t p1, const Bytes& run) {
    Tx("00A40400" + Lc(9) + kIssuanceAid + "00");
    Bytes data = HexOrDie("C10101");
    if (!run.empty()) Append(data, EncodeTlv(0xC8, run));
    char head[16];
    std::snprintf(head, sizeof head, "80EA%02X00", p1);
    return Tx(head + Lc(data.size()) + ToHex(data) + "00");
  }
  static std::string SwOf(const std::string& r) { return r.substr(r.size() - 4); }
  // A field of the response template.
  static std::string Field(const std::string& r, TlvTag tag) {
    Bytes b = HexOrDie(r.substr(0, r.size() - 4));
    auto t = FindTlv(b, tag);
    return t.ok() && *t ? ToHex((*t)->value) : "";
  }
  std::string Counters(int n) {
    Tx("00A4000C023F00");
    Tx("00A4000C022F01");
    char cmd[16];
    std::snprintf(cmd, sizeof cmd, "00B00000%02X", n);
    std::string r = Tx(cmd);
    return r.substr(0, r.size() - 4);
  }
};

TEST_F(IssuanceTest, OneRequestRunsTheWholeGroupInPrivilegedMode) {
  ASSERT_EQ(Load(Group(5)), "9000");
  const Bytes before = HexOrDie(Counters(5));
  g_card = card_.get();
  ASSERT_EQ(Sw("0070000101"), "9000");  // channel 1, for the probe from outside
  const std::string r = Execute(0x00, kRunA);
  g_card = nullptr;
  EXPECT_EQ(SwOf(r), "9000");
  EXPECT_EQ(Field(r, 0x80), "03");    // done
  EXPECT_EQ(Field(r, 0x82), "0005");  // all succeeded
  EXPECT_EQ(Field(r, 0x83).substr(0, 2), "1F");
  EXPECT_EQ(Field(r, 0xC8), ToHex(kRunA));
  EXPECT_TRUE(g_closed_seen) << "an outside command got through during the run";
  EXPECT_FALSE(card_->external_closed());
  const Bytes after = HexOrDie(Counters(5));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(after[i], before[i] + 1) << i;
  // A replay with the same run id runs nothing; a new run id waits for the acknowledgement.
  EXPECT_EQ(SwOf(Execute(0x00, kRunA)), "9000");
  EXPECT_EQ(SwOf(Execute(0x00, kRunB)), "6985");
  EXPECT_EQ(SwOf(Execute(0x04, kRunA)), "9000");
  EXPECT_EQ(SwOf(Execute(0x00, kRunB)), "9000");
  for (int i = 0; i < 5; ++i) EXPECT_EQ(g_executions[i], 2) << i;
}

TEST_F(IssuanceTest, AFailureAtEveryIndexNamesWhatSucceededAndRetryCompletesIt) {
  const int n = 6;
  ASSERT_EQ(Load(Group(n)), "9000");
  Bytes run = kRunA;
  for (int k = 0; k < n; ++k) {
    std::fill(std::begin(g_executions), std::end(g_executions), 0);
    ++run[7];
    g_fail_once = k;
    std::string r = Execute(0x00, run);
    EXPECT_EQ(SwOf(r), k == 0 ? "6400" : "6300") << k;
    EXPECT_EQ(Field(r, 0x80), "04") << k;  // partial
    char idx[8];
    std::snprintf(idx, sizeof idx, "%04X", k);
    EXPECT_EQ(Field(r, 0x84), idx) << k;
    EXPECT_EQ(Field(r, 0x85), "6581") << k;
    EXPECT_EQ(Field(r, 0x82), idx) << k;  // k commands succeeded: exactly 0..k-1
    const Bytes bitmap = HexOrDie(Field(r, 0x83));
    for (int i = 0; i < n; ++i) EXPECT_EQ((bitmap[0] >> i) & 1, i < k ? 1 : 0) << k << " " << i;
    // Half issued: the function's target (the demo application) is not selectable from outside.
    EXPECT_EQ(Sw("00A4040C09F05445535345524110"), "6985") << k;
    // Retry the failed ones: each command ran exactly once in all.
    r = Execute(0x02, run);
    EXPECT_EQ(Sw("00A4040C09F05445535345524110"), "9000") << k;
    EXPECT_EQ(SwOf(r), "9000") << k;
    for (int i = 0; i < n; ++i) EXPECT_EQ(g_executions[i], 1) << k << " " << i;
    EXPECT_EQ(SwOf(Execute(0x04, run)), "9000");
  }
}

TEST_F(IssuanceTest, TheDigestAndTheRequestAreChecked) {
  ASSERT_EQ(Load(Group(3)), "9000");
  // A changed group file: its digest no longer matches, nothing runs.
  auto root = card_->root();
  auto df = card_->fs().DfsByName(root->mf, HexOrDie(kIssuanceAid));
  auto group = card_->fs().ChildByFid(df->front(), 0x0301);
  ASSERT_TRUE(group.ok());
  // Rewritten through the file system, so that nothing but the digest can tell.
  auto rewrite = [&](uint8_t flip) {
    ASSERT_TRUE(card_->store().Begin().ok());
    uint8_t b = 0;
    ASSERT_TRUE(card_->fs().ReadData(*group, 8, std::span<uint8_t>(&b, 1)).ok());
    b ^= flip;
    ASSERT_TRUE(card_->fs().WriteData(*group, 8, ByteView(&b, 1)).ok());
    ASSERT_TRUE(card_->store().Commit().ok());
  };
  rewrite(0x01);
  EXPECT_EQ(SwOf(Execute(0x00, kRunA)), "6A80");
  EXPECT_EQ(g_executions[0], 0);
  rewrite(0x01);
  // Unknown function, bad P1, missing run id, resume of nothing.
  Tx("00A40400" + Lc(9) + kIssuanceAid + "00");
  EXPECT_EQ(SwOf(Tx("80EA000003C1010100")), "6A80");  // no run id
  EXPECT_EQ(SwOf(Tx("80EA00000DC10107C808" + ToHex(kRunA) + "00")), "6A88");
  EXPECT_EQ(SwOf(Tx("80EA07000DC10101C808" + ToHex(kRunA) + "00")), "6A86");
  EXPECT_EQ(SwOf(Execute(0x01, kRunA)), "6985");
  EXPECT_EQ(Field(Execute(0x03, {}), 0x80), "00");  // idle
  // A policy that needs the secure channel.
  ASSERT_EQ(Load(Group(3), 0x05), "9000");
  EXPECT_EQ(SwOf(Execute(0x00, kRunA)), "6982");
}

// The journal's record of a command equals its effect: a command whose commit fails after it
// ran (its writes and its journal bit exceed the commit capacity) was rolled back, and is the
// failed command of a partial run with the status word that says why (6A84), never "done".
TEST_F(IssuanceTest, ACommandWhoseCommitFailsIsTheFailedCommandNotASuccess) {
  Tx("00A4000C023F00");
  ASSERT_EQ(Sw("803C0000"), "9000");
  ASSERT_EQ(Load(GroupOf({{"803A0000", 0}, {"803B0000", 0}, {"803A0200", 0}})), "9000");
  const std::string r = Execute(0x00, kRunA);
  EXPECT_EQ(SwOf(r), "6300") << r;
  EXPECT_EQ(Field(r, 0x80), "04");    // partial
  EXPECT_EQ(Field(r, 0x82), "0001");  // only command 0 succeeded
  EXPECT_EQ(Field(r, 0x84), "0001");
  EXPECT_EQ(Field(r, 0x85), "6A84");
  EXPECT_EQ(Field(r, 0x83).substr(0, 2), "01");
  EXPECT_EQ(g_executions[2], 0);
  // Nothing of the filling command stayed.
  Tx("00A4000C023F00");
  Tx("00A4000C022F0F");
  EXPECT_EQ(Tx("00B0000001"), "009000");
  // What the card says after a power cycle is what it said: partial at command 1.
  card_->PowerOff();
  ASSERT_TRUE(card_->PowerOn().ok());
  const std::string status = Execute(0x03, {});
  EXPECT_EQ(Field(status, 0x80), "04");
  EXPECT_EQ(Field(status, 0x84), "0001");
  EXPECT_EQ(Field(status, 0x85), "6A84");
}

// A stored GP DELETE of the issuance application itself cannot take its journal away: it is
// refused (6985) and the run is partial; the acknowledgement then works.
TEST_F(IssuanceTest, AStoredDeleteOfTheIssuanceApplicationIsRefused) {
  ASSERT_EQ(Load(GroupOf({{"00A4040008A000000151000000", 1},
                          {"80E40000" + Lc(11) + "4F09" + kIssuanceAid, 0},
                          {"803A0000", 0}})),
            "9000");
  const std::string r = Execute(0x00, kRunA);
  EXPECT_EQ(Field(r, 0x80), "04") << r;
  EXPECT_EQ(Field(r, 0x84), "0001");
  EXPECT_EQ(Field(r, 0x85), "6985");
  EXPECT_EQ(g_executions[0], 0);
  EXPECT_EQ(Sw("00A40400" + Lc(9) + kIssuanceAid + "00"), "9000");
  EXPECT_EQ(SwOf(Execute(0x04, kRunA)), "9000");
  // So is a stored lock of it through SET STATUS.
  ASSERT_EQ(
      Load(GroupOf({{"00A4040008A000000151000000", 1}, {"80F04083" + Lc(9) + kIssuanceAid, 0}})),
      "9000");
  const std::string lock = Execute(0x00, kRunB);
  EXPECT_EQ(Field(lock, 0x85), "6985") << lock;
  EXPECT_EQ(Sw("00A40400" + Lc(9) + kIssuanceAid + "00"), "9000");
}

// No stored command changes the card's life cycle or its key sets: terminated or locked, the
// card would refuse even the acknowledgement of the run.
TEST_F(IssuanceTest, StoredCommandsCannotLockTheCardOrTakeItsKeys) {
  uint8_t n = 0;
  for (const char* bad : {"80F080FF00", "80F0807F00", "80E4000003D20130", "00FE0000"}) {
    ASSERT_EQ(Load(GroupOf({{"00A4040008A000000151000000", 1}, {bad, 0}})), "9000") << bad;
    Bytes run = kRunA;
    run[7] = ++n;
    const std::string r = Execute(0x00, run);
    // 6985 (or, for TERMINATE CARD USAGE, the MF's access condition first: 6982).
    const std::string why = Field(r, 0x85);
    EXPECT_TRUE(why == "6985" || (why == "6982" && std::string(bad) == "00FE0000"))
        << bad << ": " << r;
    EXPECT_EQ(SwOf(Execute(0x04, run)), "9000") << bad;  // the card still answers
    EXPECT_EQ(Sw("00A4040008A00000015100000000"), "9000") << bad;
  }
}

// Commands the card will not run from a group are refused when the group is loaded (6A80),
// so that no stored command can wedge a function in "running".
TEST_F(IssuanceTest, GroupsWithCommandsTheCardWillNotRunAreRefused) {
  for (const char* bad :
       {"00C0000000", "0070000001", "0070800100", "84B0000000", "10B0000000", "01B0000000"}) {
    EXPECT_EQ(Load(GroupOf({{"803A0000", 0}, {bad, 0}})), "6A80") << bad;
  }
  EXPECT_EQ(SwOf(Execute(0x03, {})), "6A88");  // nothing was loaded
}

// Every group the host's limits allow loads: one of exactly 16,384 bytes (the largest) does,
// one byte more does not (6A80).
TEST_F(IssuanceTest, TheLargestGroupLoads) {
  auto sized = [](size_t total) {
    // 64 commands of 5 + Lc bytes; the last one's data takes what is left.
    std::vector<std::pair<std::string, uint8_t>> cmds;
    size_t used = 4;
    for (int i = 0; i < 63; ++i) {
      cmds.push_back({"803A0000F8" + std::string(2 * 248, 'A'), 0});
      used += 4 + 5 + 248;
    }
    const size_t last = total - used - 4 - 7;  // extended: 4 + 00 LcLc
    char head[32];
    std::snprintf(head, sizeof head, "803A000000%04zX", last);
    cmds.push_back({head + std::string(2 * last, 'B'), 0});
    return GroupOf(cmds);
  };
  ASSERT_EQ(sized(16384).size(), 16384u);
  EXPECT_EQ(Load(sized(16384)), "9000");
  EXPECT_EQ(Load(sized(16385)), "6A80");
}

// No function may target the issuance application or the issuer security domain: a half-issued
// function would make them unselectable, and with them every way out.
// The upload's fields are what the docs say, each once: undefined policy bits, an AID that is
// no AID and a field given twice are refused.
TEST_F(IssuanceTest, TheGroupUploadIsChecked) {
  EXPECT_EQ(Load(Group(2), 0x0B), "6A80");
  EXPECT_EQ(Load(Group(2), 0x03, "F054"), "6A80");
  auto sc = Open(kIssuanceAid, 0x30, crypto::scp03::TestKeys());
  ASSERT_TRUE(sc);
  TlvBuilder b;
  b.Open(0xBF73).AddByte(0xC1, 0x01).AddByte(0xC1, 0x02).AddByte(0xC5, 0x03).Add(0xC6, Group(2));
  b.Close();
  EXPECT_EQ(Upload(*sc, b.Take()), "6A80");
  EXPECT_EQ(Load(Group(2), 0x07), "9000");
}

TEST_F(IssuanceTest, TheCardsOwnDoorsCannotBeTargets) {
  EXPECT_EQ(Load(Group(2), 0x03, kIssuanceAid), "6A80");
  EXPECT_EQ(Load(Group(2), 0x03, "A000000151000000"), "6A80");
  EXPECT_EQ(Load(Group(2), 0x03, "F05445535345524110"), "9000");
}

// Policy b2 decides whether a partial run's failed commands may be retried.
TEST_F(IssuanceTest, RetryOfAPartialRunFollowsPolicyB2) {
  for (const uint8_t policy : {uint8_t{0x01}, uint8_t{0x03}}) {
    std::fill(std::begin(g_executions), std::end(g_executions), 0);
    ASSERT_EQ(Load(Group(3), policy), "9000");
    Bytes run = kRunA;
    run[0] = policy;
    g_fail_once = 1;
    EXPECT_EQ(Field(Execute(0x00, run), 0x80), "04");
    const std::string r = Execute(0x02, run);
    if (policy & 0x02) {
      EXPECT_EQ(SwOf(r), "9000") << r;
      EXPECT_EQ(g_executions[2], 1);
    } else {
      EXPECT_EQ(SwOf(r), "6985") << r;
      // Nor by resume, or a start with the same run id.
      EXPECT_EQ(SwOf(Execute(0x01, run)), "6985");
      EXPECT_EQ(SwOf(Execute(0x00, run)), "6985");
      EXPECT_EQ(g_executions[1] + g_executions[2], 0);
      EXPECT_EQ(Field(Execute(0x03, {}), 0x80), "04");  // still partial, nothing ran
    }
    EXPECT_EQ(SwOf(Execute(0x04, run)), "9000");
  }
}

// A group's commands carry secrets (PINs, keys): no APDU outside the issuer's session reads
// them, and a function whose target is deleted is forgotten, its group wiped from NVM.
TEST_F(IssuanceTest, StoredCommandsAreNotReadableAndAreWipedWithTheirTarget) {
  const std::string secret = "803A00000A5345435245542D50494E";  // "SECRET-PIN"
  ASSERT_EQ(Load(GroupOf({{secret, 0}})), "9000");
  Tx("00A40400" + Lc(9) + kIssuanceAid + "00");
  EXPECT_EQ(Sw("00A4020C020301"), "9000");
  EXPECT_EQ(Sw("00B0000000"), "6982");  // the group file: never readable
  EXPECT_EQ(Sw("00B2010C00"), "6982");  // the table (its digest): only in the session
  EXPECT_EQ(Sw("00B2011400"), "9000");  // the journal: no command data
  {
    auto sc = Open(kIssuanceAid, 0x30, crypto::scp03::TestKeys());
    ASSERT_TRUE(sc);
    EXPECT_EQ(SecSw(*sc, "00B2010C00"), "9000");
  }
  const Bytes needle = HexOrDie("5345435245542D50494E");
  auto in_nvm = [&] {
    const auto& cells = ram_->cells();
    return std::search(cells.begin(), cells.end(), needle.begin(), needle.end()) != cells.end();
  };
  EXPECT_TRUE(in_nvm());
  auto isd = Issuer();
  ASSERT_EQ(SecSw(*isd, "80E40000" + Lc(11) + "4F09F05445535345524110"), "9000");
  EXPECT_FALSE(in_nvm()) << "the deleted target's group is still in NVM";
  EXPECT_EQ(SwOf(Execute(0x03, {})), "6A88");  // the function is gone
  // Deleted by another function's stored command: forgotten too. Function 1 (the secret)
  // targets a purse that function 2 installs and deletes.
  const std::string purse = "F05445535345524150";
  const std::string params = "C90C800400000000810431323334";
  ASSERT_EQ(Load(GroupOf({{secret, 0}}), 0x03, purse), "9000");
  {
    auto sc = Open(kIssuanceAid, 0x30, crypto::scp03::TestKeys());
    ASSERT_TRUE(sc);
    TlvBuilder b;
    b.Open(0xBF73).AddByte(0xC1, 0x02).AddByte(0xC3, 1).Add(0x4F, HexOrDie("F0544553534552415A"));
    b.AddByte(0xC5, 0x03)
        .Add(0xC6, GroupOf({{"00A4040008A000000151000000", 1},
                            {"80E60C00" + Lc(11 + 11 + 10 + 2 + 1 + params.size() / 2 + 1) + "0A" +
                                 kPurseModuleAid + "0A" + kPurseModuleAid + "09" + purse + "0100" +
                                 Lc(params.size() / 2) + params + "00",
                             0},
                            {"80E40000" + Lc(11) + "4F09" + purse, 0}}))
        .Close();
    ASSERT_EQ(Upload(*sc, b.Take()), "9000");
  }
  Tx("00A40400" + Lc(9) + kIssuanceAid + "00");
  ASSERT_EQ(SwOf(Tx("80EA00000DC10102C808" + ToHex(kRunB) + "00")), "9000");
  EXPECT_FALSE(in_nvm()) << "a group whose target a run deleted is still in NVM";
  EXPECT_EQ(SwOf(Execute(0x03, {})), "6A88");
}

// A card function that means something (an e-money purse): the group installs a PURSE through
// GlobalPlatform INSTALL, personalises it and loads value, all as stored commands; afterwards the
// purse is in the application list, the GP registry and the PSE like any other application.
TEST_F(IssuanceTest, AnEMoneyFunctionInstallsAndPersonalisesAPurse) {
  const std::string purse = "F05445535345524150";
  const std::string params =
      "C90C"
      "800400000000"
      "810431323334";  // balance 0, PIN 1234
  const std::vector<std::pair<std::string, uint8_t>> cmds = {
      {"00A4040008A000000151000000", 0x01},
      {"80E60C00" + Lc(11 + 11 + 10 + 2 + 1 + params.size() / 2 + 1) + "0A" + kPurseModuleAid +
           "0A" + kPurseModuleAid + "09" + purse + "0100" + Lc(params.size() / 2) + params + "00",
       0x00},
      {"00A40400" + Lc(9) + purse, 0x01},
      {"805200000400002710", 0x00},  // credit 10000 (the run counts as the issuer)
  };
  Bytes g{'G', 0x01, 0x00, static_cast<uint8_t>(cmds.size())};
  for (const auto& [hex, flags] : cmds) {
    const Bytes apdu = HexOrDie(hex);
    Append(g, Bytes{flags, 0x00, 0x00, static_cast<uint8_t>(apdu.size())});
    Append(g, apdu);
  }
  ASSERT_EQ(Load(g), "9000");
  const std::string r = Execute(0x00, kRunA);
  ASSERT_EQ(SwOf(r), "9000") << r << " failed " << Field(r, 0x84) << " with " << Field(r, 0x85);
  EXPECT_EQ(Sw("00A40400" + Lc(9) + purse + "00"), "9000");
  EXPECT_EQ(Tx("805C000004"), "000027109000");
  EXPECT_EQ(RecordStatus(purse), 0);
  EXPECT_NE(std::find(Pse().begin(), Pse().end(), purse), Pse().end());
  auto isd = Issuer();
  EXPECT_NE(Sec(*isd, "80F24002" + Lc(11) + "4F09" + purse + "00").find("9F700107"),
            std::string::npos);
  // From outside, a plain CREDIT is still refused: only the run counted as the issuer.
  EXPECT_EQ(Sw("00A40400" + Lc(9) + purse + "00"), "9000");
  EXPECT_EQ(Sw("805200000400000001"), "6982");
}

TEST_F(IssuanceTest, TenThousandOutsideApdusDuringARunReachNothing) {
  ASSERT_EQ(Load(Group(4)), "9000");
  for (int ch = 1; ch <= 3; ++ch)
    ASSERT_EQ(Sw("00700000"
                 "01"),
              "9000");
  g_card = card_.get();
  g_flood = 2500;  // 4 commands x 2500
  const std::string r = Execute(0x00, kRunA);
  g_card = nullptr;
  g_flood = 0;
  EXPECT_EQ(SwOf(r), "9000");
  EXPECT_TRUE(g_closed_seen);
  EXPECT_EQ(g_executions[0x3F], 0);  // the counting command sent from outside never ran
  for (int i = 0; i < 4; ++i) EXPECT_EQ(g_executions[i], 1);
}

TEST_F(IssuanceTest, TenThousandApdusFromOtherConnectionsDuringARunReachNothing) {
  ASSERT_EQ(Load(Group(4)), "9000");
  transport::CardService service(*card_, nullptr, {std::chrono::milliseconds(50)});
  // Connection A runs the issuance; B is another connection (its session never owned the
  // card), "vpcd" the PC/SC interface.
  const auto a = service.BeginSession("socket-A");
  ASSERT_TRUE(a.has_value());
  g_other_session = *a + 1000;
  auto send = [&](const std::string& hex) {
    auto r = service.Handle("socket-A", HexOrDie(hex), *a);
    return r ? ToHex(*r) : std::string("none");
  };
  ASSERT_EQ(SwOf(send("00A40400" + Lc(9) + kIssuanceAid + "00")), "9000");
  g_service = &service;
  g_flood = 2500;  // 4 commands x 2500
  const std::string r = send("80EA00000DC10101C808" + ToHex(kRunA) + "00");
  g_service = nullptr;
  g_flood = 0;
  EXPECT_EQ(SwOf(r), "9000") << r;
  EXPECT_TRUE(g_closed_seen);
  EXPECT_EQ(g_executions[0x3F], 0);  // the counting command from other connections never ran
  for (int i = 0; i < 4; ++i) EXPECT_EQ(g_executions[i], 1);
  // After the run the other interface is served again.
  auto after = service.Handle("vpcd", HexOrDie("00A4000C023F00"));
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(ToHex(*after), "6985") << "A still owns the card: others are refused";
  service.EndSession(*a);
  EXPECT_EQ(ToHex(*service.Handle("vpcd", HexOrDie("00A4000C023F00"))), "9000");
}

// A power cut at every program of a whole run, then the host resumes with the same run id (or
// starts it, if the cut fell before anything was recorded): the card's content equals that of
// an uninterrupted run, so no command ran twice and none was lost.
TEST_F(IssuanceTest, APowerCutAtEveryProgramThenResumeEqualsAnUninterruptedRun) {
  const int n = 4;
  ASSERT_EQ(Load(Group(n)), "9000");
  const auto base = nvm::RamNvm::CopyOf(ram_->device());
  auto data_area = [&](nvm::RamNvm& ram) {
    const uint32_t from = card_->store().layout().table_offset;
    return Bytes(ram.cells().begin() + from, ram.cells().end());
  };
  auto run_on = [&](nvm::RamNvm& ram, const std::function<void(card::Card&)>& steps) {
    auto platform = card::DrbgPlatform::FromSeed(Bytes(48, 7), 1700000000);
    auto card_owned = device::MakeCard(ram.device(), geometry_, *platform);
    card::Card& card = *card_owned;
    (void)card.AddCommand({0x3A, HandleCount, card::ClassRange::kProprietary});
    if (!card.PowerOn().ok()) return;
    steps(card);
  };
  auto exec = [&](card::Card& card, uint8_t p1) {
    card.Transmit(HexOrDie("00A40400" + Lc(9) + kIssuanceAid + "00"));
    char head[16];
    std::snprintf(head, sizeof head, "80EA%02X00", p1);
    return ToHex(card.Transmit(HexOrDie(std::string(head) + "0DC10101C808" + ToHex(kRunA) + "00")));
  };
  // The reference: one uninterrupted run.
  auto ref = nvm::RamNvm::CopyOf(base->device());
  const uint64_t start = ref->device().programs();
  run_on(*ref, [&](card::Card& card) { ASSERT_EQ(SwOf(exec(card, 0x00)), "9000"); });
  const uint64_t programs = ref->device().programs() - start;
  const Bytes want = data_area(*ref);
  ASSERT_GT(programs, 10u);
  for (uint64_t run = 0; run < 2 * programs; ++run) {
    // Every program cut in both modes: normal (the torn page keeps old or new bytes per
    // word) and harsh (arbitrary bytes).
    const uint64_t k = run % programs;
    const nvm::TearMode mode = run < programs ? nvm::TearMode::kNormal : nvm::TearMode::kHarsh;
    auto cut = nvm::RamNvm::CopyOf(base->device());
    cut->device().ScheduleCut(cut->device().programs() + k, mode, k);
    run_on(*cut, [&](card::Card& card) { (void)exec(card, 0x00); });
    cut->device().CancelCut();
    cut->device().PowerOn();
    // The host asks for the status, then resumes (or starts, when nothing was recorded).
    std::string status;
    run_on(*cut, [&](card::Card& card) {
      status = exec(card, 0x03);
      const std::string state = Field(status, 0x80);
      const std::string r = exec(card, state == "00" ? 0x00 : 0x01);
      EXPECT_EQ(SwOf(r), "9000") << "cut " << k << " (state " << state << "): " << r;
    });
    ASSERT_TRUE(data_area(*cut) == want)
        << (mode == nvm::TearMode::kHarsh ? "harsh" : "normal") << " cut at program " << k << " of "
        << programs << ": the content differs from an uninterrupted run";
  }
}

// Every pair of cut points for one group: a cut during the run, another during the resume that
// follows, then a last resume: the content equals an uninterrupted run.
TEST_F(IssuanceTest, EveryPairOfCutsThenResumeEqualsAnUninterruptedRun) {
  ASSERT_EQ(Load(Group(2)), "9000");
  const auto base = nvm::RamNvm::CopyOf(ram_->device());
  auto data_area = [&](nvm::RamNvm& ram) {
    const uint32_t from = card_->store().layout().table_offset;
    return Bytes(ram.cells().begin() + from, ram.cells().end());
  };
  auto run_on = [&](nvm::RamNvm& ram, const std::function<void(card::Card&)>& steps) {
    auto platform = card::DrbgPlatform::FromSeed(Bytes(48, 7), 1700000000);
    auto card_owned = device::MakeCard(ram.device(), geometry_, *platform);
    card::Card& card = *card_owned;
    (void)card.AddCommand({0x3A, HandleCount, card::ClassRange::kProprietary});
    if (!card.PowerOn().ok()) return;
    steps(card);
  };
  auto exec = [&](card::Card& card, uint8_t p1) {
    card.Transmit(HexOrDie("00A40400" + Lc(9) + kIssuanceAid + "00"));
    char head[16];
    std::snprintf(head, sizeof head, "80EA%02X00", p1);
    return ToHex(card.Transmit(HexOrDie(std::string(head) + "0DC10101C808" + ToHex(kRunA) + "00")));
  };
  // The host's step after power-on: status, then start (nothing recorded) or resume.
  auto host_step = [&](card::Card& card) {
    const std::string state = Field(exec(card, 0x03), 0x80);
    return exec(card, state == "00" ? 0x00 : 0x01);
  };
  auto ref = nvm::RamNvm::CopyOf(base->device());
  uint64_t programs = 0;
  {
    const uint64_t start = ref->device().programs();
    run_on(*ref, [&](card::Card& card) { ASSERT_EQ(SwOf(exec(card, 0x00)), "9000"); });
    programs = ref->device().programs() - start;
  }
  const Bytes want = data_area(*ref);
  uint64_t pairs = 0;
  for (uint64_t k1 = 0; k1 < programs; ++k1) {
    auto first = nvm::RamNvm::CopyOf(base->device());
    first->device().ScheduleCut(first->device().programs() + k1, nvm::TearMode::kNormal, k1);
    run_on(*first, [&](card::Card& card) { (void)exec(card, 0x00); });
    first->device().CancelCut();
    first->device().PowerOn();
    // How many programs the resume takes from here.
    auto probe = nvm::RamNvm::CopyOf(first->device());
    const uint64_t p0 = probe->device().programs();
    run_on(*probe, [&](card::Card& card) { (void)host_step(card); });
    const uint64_t m = probe->device().programs() - p0;
    for (uint64_t k2 = 0; k2 < m; ++k2) {
      auto second = nvm::RamNvm::CopyOf(first->device());
      second->device().ScheduleCut(second->device().programs() + k2, nvm::TearMode::kNormal,
                                   k1 * 1000 + k2);
      run_on(*second, [&](card::Card& card) { (void)host_step(card); });
      second->device().CancelCut();
      second->device().PowerOn();
      run_on(*second, [&](card::Card& card) {
        const std::string r = host_step(card);
        EXPECT_EQ(SwOf(r), "9000") << "cuts " << k1 << ", " << k2 << ": " << r;
      });
      ASSERT_TRUE(data_area(*second) == want) << "cuts " << k1 << ", " << k2;
      ++pairs;
    }
  }
  EXPECT_GT(pairs, 50u);
}

}  // namespace
}  // namespace tessera::apps
