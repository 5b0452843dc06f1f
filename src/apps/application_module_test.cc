// Applications registered from above the card OS (as the src/apps/ modules are):
// a module and its commands reach the dispatcher without any change to it; commands that ISO
// and GlobalPlatform share reach the handler of what is selected; a module with the
// security-domain privilege opens SCP03 sessions with its own key sets; and a session ends
// exactly where secure_channel_service.h says.
#include <memory>

#include "card/gp/key_store.h"
#include "card/gp/secure_channel_service.h"
#include "card/kernel/application.h"
#include "card/kernel/identifiers.h"
#include "crypto/scp03_host.h"
#include "support/card_fixture.h"

namespace tessera::apps {
namespace {

using card::Application;
using card::Card;
using card::CardResult;
using card::CardStatus;
using card::ChannelState;
using card::Error;
using card::KeySet;
using card::Response;
using card::Route;
namespace scp03 = crypto::scp03;

constexpr uint8_t kModuleAid[] = {0xF0, 0x54, 0x45, 0x53, 0x54, 0x4D, 0x4F, 0x44};  // "TESTMOD"
constexpr uint8_t kDomainAid[] = {0xF0, 0x54, 0x45, 0x53, 0x54, 0x53, 0x44};        // "TESTSD"

// A module with a command of its own (INS 30) and one that shares E2 with APPEND RECORD.
CardResult<Response> HandleEcho(Card&, ChannelState& ch, const CommandApdu& cmd) {
  Response r;
  r.data = {0xEC, static_cast<uint8_t>(ch.command_secured ? 1 : 0)};
  Append(r.data, cmd.data);
  return r;
}
CardResult<Response> HandleModuleE2(Card&, ChannelState&, const CommandApdu&) {
  return Response{{0xE2}};
}

class EchoModule final : public Application {
 public:
  ByteView aid() const override { return kModuleAid; }
  CardResult<Response> Select(Card&, ChannelState&, const CommandApdu&) override {
    return Response{};
  }
  std::span<const Route> commands() const override { return kRoutes; }

 private:
  static constexpr Route kRoutes[] = {{0x30, HandleEcho}, {0xE2, HandleModuleE2}};
};

// Its administrator's command: only inside a session of this domain.
CardResult<Response> HandleAdminEcho(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  if (!ch.SecuredBy(ch.selected_app)) return Error::kSecurityNotSatisfied;
  (void)card;
  return HandleEcho(card, ch, cmd);
}

// A security domain with its own key set list (kept by the test: the module decides where).
class TestDomain final : public Application, public card::SecurityDomain {
 public:
  ByteView aid() const override { return kDomainAid; }
  CardResult<Response> Select(Card&, ChannelState&, const CommandApdu&) override {
    return Response{};
  }
  std::span<const Route> commands() const override { return kRoutes; }
  card::SecurityDomain* security_domain() override { return this; }
  CardResult<std::vector<KeySet>> KeySets(Card& card) override {
    std::vector<KeySet> out;
    for (uint16_t b : blocks) {
      CARD_ASSIGN(KeySet k, card::LoadKeySet(card.store(), b));
      out.push_back(std::move(k));
    }
    return out;
  }
  CardStatus SaveKeySet(Card& card, KeySet& set) override {
    const bool added = set.block == 0xFFFF;
    CARD_TRY(card::WriteKeySet(card.store(), set));
    if (added) blocks.push_back(set.block);
    return card::Ok{};
  }
  std::vector<uint16_t> blocks;

 private:
  static constexpr Route kRoutes[] = {{0x30, HandleAdminEcho}};
};

scp03::StaticKeys AdminKeys() {
  const Bytes k = HexOrDie("A1A2A3A4A5A6A7A8A9AAABACADAEAFB0");
  return {crypto::MakeSecure(k), crypto::MakeSecure(k), crypto::MakeSecure(k)};
}

class ApplicationModuleTest : public card::CardTest {
 protected:
  void SetUp() override {
    card::CardTest::SetUp();
    card_->AddApplication(std::make_shared<EchoModule>());
    domain_ = std::make_shared<TestDomain>();
    card_->AddApplication(domain_);
    // The administrator's key set, KVN 21, written as the domain's own.
    ASSERT_TRUE(card_->store().Begin().ok());
    KeySet set;
    set.kvn = 0x21;
    set.keys = AdminKeys();
    ASSERT_TRUE(domain_->SaveKeySet(*card_, set).ok());
    ASSERT_TRUE(card_->store().Commit().ok());
  }
  std::unique_ptr<crypto::scp03::SecureChannel> OpenDomain(uint8_t kvn, scp03::StaticKeys keys,
                                                           std::string* error = nullptr) {
    crypto::scp03::ChannelOptions o;
    o.keys = std::move(keys);
    o.kvn = kvn;
    o.level = scp03::kCMac;
    o.security_domain.assign(std::begin(kDomainAid), std::end(kDomainAid));
    auto sc = crypto::scp03::SecureChannel::Open(
        [this](ByteView c) -> Result<Bytes> { return card_->Transmit(c); }, o);
    if (!sc.ok()) {
      if (error) *error = sc.status().ToString();
      return nullptr;
    }
    return std::move(*sc);
  }
  std::string Sec(crypto::scp03::SecureChannel& sc, const std::string& hex) {
    auto r = sc.Transmit(HexOrDie(hex));
    return r.ok() ? ToHex(*r) : r.status().ToString();
  }
  std::shared_ptr<TestDomain> domain_;
};

TEST_F(ApplicationModuleTest, AModuleAndItsCommandsNeedNoChangeToTheDispatcher) {
  EXPECT_EQ(Sw("8030000002AABB00"), "6D00");  // not selected: no such command
  EXPECT_EQ(Tx("00A4040C08F054455354"
               "4D4F44"),
            "9000");
  EXPECT_EQ(Tx("8030000002AABB00"), "EC00AABB9000");
  EXPECT_EQ(Tx("80E2000000"), "E29000");  // the module's E2, not APPEND RECORD
  // A partial AID (at least 5 bytes) selects it too; the OS commands stay with the OS.
  EXPECT_EQ(Tx("00A4040C05F054455354"), "9000");
  EXPECT_EQ(Tx("8030000000"), "EC009000");
  EXPECT_EQ(Tx("00A4000C022F01"), "9000");  // a file outside the module: deselects it
  EXPECT_EQ(Sw("8030000000"), "6D00");
  // An OS-level command registered from above, reached whatever is selected.
  EXPECT_TRUE(card_->AddCommand({0x32, HandleEcho}));
  EXPECT_FALSE(card_->AddCommand({card::ins::kSelect, HandleEcho}));  // the OS keeps its own
  EXPECT_EQ(Tx("0032000001CC00"), "EC00CC9000");
}

TEST_F(ApplicationModuleTest, SharedInstructionCodesReachWhatIsSelected) {
  // E2: with the module selected, its handler; with nothing selected, APPEND RECORD (which
  // needs a current record EF: 6986 with the MF current).
  EXPECT_EQ(Tx("00A4040C08F0544553544D4F44"), "9000");
  EXPECT_EQ(Tx("00E2000000"), "E29000");
  EXPECT_EQ(Tx("00A4000C023F00"), "9000");
  EXPECT_EQ(Sw("00E2000001AA"), "6986");
  // E4: with the issuer security domain selected, a proprietary-class E4 is GlobalPlatform's
  // DELETE (of a key set; it needs the session), an interindustry one stays DELETE FILE.
  EXPECT_EQ(Sw("00A4040000"), "9000");
  EXPECT_EQ(Sw("80E4000003D20131"), "6982");  // DELETE: no session
  EXPECT_EQ(Sw("00E40000021000"), "6985");    // DELETE FILE: never of an application's DF
  EXPECT_EQ(Sw("00E40000022F01"), "6982");    // DELETE FILE: the admin PIN is missing
  // E6/E8 in the proprietary class go to the ISD's INSTALL and LOAD (which need the
  // session): never to TERMINATE DF/EF.
  EXPECT_EQ(Sw("80E60000021000"), "6982");
  EXPECT_EQ(Sw("80E80000022F01"), "6982");
  EXPECT_EQ(Tx("00A4000C022F01"), "9000");
  EXPECT_EQ(Tx("00A4040000").substr(0, 4), "6F10");
  crypto::scp03::ChannelOptions o;
  o.keys = crypto::scp03::TestKeys();
  o.level = scp03::kCMac;
  auto sc = crypto::scp03::SecureChannel::Open(
      [this](ByteView c) -> Result<Bytes> { return card_->Transmit(c); }, o);
  ASSERT_TRUE(sc.ok()) << sc.status().ToString();
  EXPECT_EQ(Sec(**sc, "80E4000003D2013100"), "6A88");  // no key set 31
  EXPECT_EQ(Sec(**sc, "80E4000003D2013000"), "6985");  // the session's own key set
}

TEST_F(ApplicationModuleTest, ASecurityDomainOpensSessionsWithItsOwnKeySets) {
  std::string error;
  // The issuer's keys are not this domain's.
  EXPECT_EQ(OpenDomain(0x30, crypto::scp03::TestKeys(), &error), nullptr);
  EXPECT_NE(error.find("6A88"), std::string::npos) << error;
  auto sc = OpenDomain(0x21, AdminKeys(), &error);
  ASSERT_NE(sc, nullptr) << error;
  EXPECT_EQ(Sec(*sc, "8030000001DD00"), "EC01DD9000");
  // The session is this domain's: the ISD's administrative commands do not accept it, and
  // selecting the ISD ends it.
  EXPECT_EQ(Sw("00A4040000"), "9000");
  EXPECT_EQ(Sec(*sc, "80F28002024F0000").substr(0, 4), "6882");
  // Without a session, the domain's command is refused.
  EXPECT_EQ(Tx("00A4040C07F05445535453"
               "44"),
            "9000");
  EXPECT_EQ(Sw("8030000000"), "6982");
}

TEST_F(ApplicationModuleTest, AnotherDomainsSessionDoesNotOpenTheIssuersFiles) {
  // An EF under the MF readable with secure messaging only (8C 01 40: read needs SM).
  ASSERT_EQ(Sw("00200082083837363534333231"), "9000");
  ASSERT_EQ(Sw("00E0000014"
               "6212"
               "820101"
               "83020307"
               "80020010"
               "880138"
               "8C020140"),
            "9000");
  ASSERT_EQ(Sw("00A4000C020307"), "9000");
  // The test domain has no DF (selecting it makes the MF current): its session is not the
  // issuer's, so EF 0307 (SFI 7) stays shut.
  auto sc = OpenDomain(0x21, AdminKeys());
  ASSERT_NE(sc, nullptr);
  EXPECT_EQ(Sec(*sc, "00B0870010"), "6982");
  // The issuer's session reads it.
  crypto::scp03::ChannelOptions o;
  o.keys = crypto::scp03::TestKeys();
  o.level = scp03::kCMac;
  auto isd = crypto::scp03::SecureChannel::Open(
      [this](ByteView c) -> Result<Bytes> { return card_->Transmit(c); }, o);
  ASSERT_TRUE(isd.ok()) << isd.status().ToString();
  EXPECT_EQ(Sec(**isd, "00B0870010"), std::string(32, '0') + "9000");
}

TEST_F(ApplicationModuleTest, WhatEndsASession) {
  auto expect_ended = [&](crypto::scp03::SecureChannel& sc, const char* what) {
    EXPECT_EQ(Sec(sc, "8030000000").substr(0, 4), "6882") << what;
  };
  {  // a new INITIALIZE UPDATE
    auto sc = OpenDomain(0x21, AdminKeys());
    ASSERT_NE(sc, nullptr);
    EXPECT_EQ(Sw("8050210008000102030405060700"), "9000");
    expect_ended(*sc, "INITIALIZE UPDATE");
  }
  {  // a MAC failure
    auto sc = OpenDomain(0x21, AdminKeys());
    ASSERT_NE(sc, nullptr);
    EXPECT_EQ(Sw("8430000008"
                 "0000000000000000"),
              "6982");
    expect_ended(*sc, "MAC failure");
  }
  {  // SELECT of another application
    auto sc = OpenDomain(0x21, AdminKeys());
    ASSERT_NE(sc, nullptr);
    EXPECT_EQ(Sw("00A4040C08F0544553544D4F44"), "9000");
    expect_ended(*sc, "another application selected");
  }
  {  // SELECT of a file outside the domain
    auto sc = OpenDomain(0x21, AdminKeys());
    ASSERT_NE(sc, nullptr);
    EXPECT_EQ(Sw("00A4000C023F00"), "9000");
    expect_ended(*sc, "MF selected");
  }
  {  // SELECT of the same domain again keeps it
    auto sc = OpenDomain(0x21, AdminKeys());
    ASSERT_NE(sc, nullptr);
    EXPECT_EQ(Sw("00A4040C07F0544553545344"), "9000");
    EXPECT_EQ(Sec(*sc, "8030000000"), "EC019000");
  }
  {  // a reset
    auto sc = OpenDomain(0x21, AdminKeys());
    ASSERT_NE(sc, nullptr);
    Reboot();
    expect_ended(*sc, "reset");
  }
}

TEST_F(ApplicationModuleTest, ADomainWithItsOwnDfKeepsItsSessionInsideIt) {
  // A DF named by the domain's AID: SELECT by AID makes it current, files inside it keep the
  // domain selected, a file outside ends the session.
  ASSERT_EQ(Sw("00200082083837363534333231"), "9000");
  ASSERT_EQ(Sw("00E0000017"
               "6215"
               "820138"
               "83024200"
               "8407F0544553545344"
               "8C03031212"),
            "9000");  // DF 4200
  ASSERT_EQ(Sw("00A4040C07F0544553545344"), "9000");
  ASSERT_EQ(Sw("00E000000D"
               "620B"
               "820101"
               "83024101"
               "80020010"),
            "9000");  // EF 4101 in it
  auto sc = OpenDomain(0x21, AdminKeys());
  ASSERT_NE(sc, nullptr);
  EXPECT_EQ(Sw("00A4000C024101"), "9000");
  EXPECT_EQ(Sec(*sc, "8030000000"), "EC019000");
  EXPECT_EQ(Sw("00A4000C022F01"), "9000");  // the MF's EF: outside the domain
  EXPECT_EQ(Sec(*sc, "8030000000").substr(0, 4), "6882");
}

}  // namespace
}  // namespace tessera::apps
