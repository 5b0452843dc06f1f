// The host's card operations against a scripted card: every command the host sends is compared
// with the bytes the standards fix (written out here by hand: GlobalPlatform GET DATA, ISO 7816-4
// SELECT), and the card's answers are scripted, refusals included.
#include "host/app_operations.h"

#include <gtest/gtest.h>

#include <deque>
#include <utility>

#include "host/issuance_client.h"

namespace tessera::host {
namespace {

// A card that expects exactly these commands, in order, and gives these answers.
class ScriptedLink final : public CardLink {
 public:
  explicit ScriptedLink(std::deque<std::pair<std::string, std::string>> script)
      : script_(std::move(script)) {}
  ~ScriptedLink() override { EXPECT_TRUE(script_.empty()) << script_.size() << " not sent"; }
  Result<Bytes> Transmit(ByteView command) override {
    if (script_.empty()) {
      ADD_FAILURE() << "unexpected command " << ToHex(command);
      return IOError("script ended");
    }
    auto [want, answer] = script_.front();
    script_.pop_front();
    EXPECT_EQ(ToHex(command), want);
    return *FromHex(answer);
  }
  Result<Bytes> Reset() override { return *FromHex("3B00"); }
  Result<Bytes> Atr() override { return *FromHex("3B00"); }
  std::string Describe() const override { return "scripted"; }

 private:
  std::deque<std::pair<std::string, std::string>> script_;
};

std::unique_ptr<CardSession> Card(std::deque<std::pair<std::string, std::string>> script) {
  return CardSession::Over(std::make_unique<ScriptedLink>(std::move(script)), LinkOptions{});
}

// SELECT by AID of the ISD (A000000151000000), with Le 00.
constexpr const char* kSelectIsd = "00A4040008A00000015100000000";

TEST(ReadCardDate, GetDataDf72OfTheIsd) {
  auto s = Card({{kSelectIsd, "9000"}, {"80CADF7200", "DF72032601159000"}});
  auto date = ReadCardDate(*s);
  ASSERT_TRUE(date.ok()) << date.status().ToString();
  ASSERT_TRUE(date->has_value());
  EXPECT_EQ(ToHex(**date), "260115");
}

TEST(ReadCardDate, NoneIs6A88) {
  auto s = Card({{kSelectIsd, "9000"}, {"80CADF7200", "6A88"}});
  auto date = ReadCardDate(*s);
  ASSERT_TRUE(date.ok());
  EXPECT_FALSE(date->has_value());
}

TEST(ReadCardDate, ARefusalCarriesItsStatusWord) {
  auto s = Card({{kSelectIsd, "9000"}, {"80CADF7200", "6985"}});
  auto date = ReadCardDate(*s);
  ASSERT_FALSE(date.ok());
  EXPECT_TRUE(date.status().has_card_sw());
  EXPECT_EQ(date.status().card_sw(), 0x6985);
  EXPECT_NE(date.status().message().find("GET DATA DF72"), std::string::npos);
}

TEST(ReadCardDate, AnObjectOfTheWrongLengthIsMalformed) {
  auto s = Card({{kSelectIsd, "9000"},
                 {"80CADF7200",
                  "DF72022601"
                  "9000"}});
  auto date = ReadCardDate(*s);
  ASSERT_FALSE(date.ok());
  EXPECT_EQ(date.status().code(), ErrorCode::kMalformed);
  EXPECT_FALSE(date.status().has_card_sw());
}

TEST(ReadCardSerial, GetDataCfIsZeroZeroThenTheSerial) {
  auto s = Card({{kSelectIsd, "9000"}, {"80CA00CF00", "CF0A00000123456789ABCDEF9000"}});
  auto serial = ReadCardSerial(*s);
  ASSERT_TRUE(serial.ok()) << serial.status().ToString();
  EXPECT_EQ(*serial, "0123456789ABCDEF");
}

TEST(ReadCardSerial, ACardInPrivilegedModeRefusesTheSelect) {
  auto s = Card({{kSelectIsd, "6985"}});
  bool privileged = false;
  auto serial = ReadCardSerial(*s, &privileged);
  EXPECT_FALSE(serial.ok());
  EXPECT_TRUE(privileged);
}

TEST(SelectIssuanceApp, ItsAidAndItsRefusal) {
  // F054455353455241 02: the issuance application (docs/self-issuance.md).
  auto s = Card({{"00A4040009F0544553534552410200", "6A82"}});
  Status st = SelectIssuanceApp(*s);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.card_sw(), 0x6A82);
  EXPECT_NE(st.message().find("no issuance application"), std::string::npos);
}

}  // namespace
}  // namespace tessera::host
