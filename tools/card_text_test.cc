// The host's words for the card's access conditions, checked against the card's own access
// check.
#include "card_text.h"

#include <gtest/gtest.h>

#include "card/check/card_inspector.h"
#include "card/iso/access_control.h"
#include "support/card_fixture.h"

namespace tessera::tools {
namespace {

using namespace card;  // NOLINT: the card's types and constants

TEST(CardText, AccessConditionsAreDecoded) {
  FileNode ef;
  ef.security = HexOrDie("031111");  // AM: read, update; both SC 11
  EXPECT_EQ(DescribeAccess(ef), "read, update: PIN 81; others: always");
  FileNode df;
  df.kind = FileKind::kDf;
  df.security = HexOrDie("67FF12121212");  // delete self never, the rest of b6, b3-b1: PIN 82
  EXPECT_EQ(DescribeAccess(df),
            "delete child, create EF, create DF, terminate: PIN 82; delete: never; others: always");
  df.security = HexOrDie("7F00000000000000");  // every mode named, every condition "always"
  EXPECT_EQ(DescribeAccess(df), "always");
  FileNode open;
  EXPECT_EQ(DescribeAccess(open), "always");
  EXPECT_EQ(DescribeCondition(0x00), "always");
  EXPECT_EQ(DescribeCondition(0xFF), "never");
  EXPECT_EQ(DescribeCondition(0x90), "any PIN");
  EXPECT_EQ(DescribeCondition(0xD1), "secure messaging or PIN 81");
  EXPECT_EQ(DescribeCondition(0x51), "secure messaging and PIN 81");
  FileNode malformed;
  malformed.security = {0x03, 0x11};  // two modes, one SC byte
  bool flagged = false;
  for (const auto& rule : AccessRules(malformed))
    flagged |= rule.condition.find("malformed") != std::string::npos;
  EXPECT_TRUE(flagged);
}

// The decoded conditions agree with the card's own access check: "always" is granted with
// nothing verified, a mode that names PIN 81 is granted once PIN 81 is verified and not
// before, "never" is never granted.
class AccessDescriptionTest : public card::CardTest {};

TEST_F(AccessDescriptionTest, AgreesWithTheCardsAccessCheck) {
  const std::vector<Bytes> attributes = {HexOrDie("031111"),
                                         HexOrDie("67FF12121212"),
                                         HexOrDie("7F00FF110091D181"),
                                         HexOrDie("0111"),
                                         HexOrDie("05FF11"),
                                         HexOrDie("0390"),
                                         {}};
  ChannelState none, user;
  user.verified_pins = 1;  // slot 0: PIN 81 on the default profile
  const uint8_t kModes[] = {kAmRead,     kAmUpdate,    kAmWrite,     kAmDeactivate,
                            kAmActivate, kAmTerminate, kAmDeleteSelf};
  const char* kNames[] = {"read",     "update",    "write/append", "deactivate",
                          "activate", "terminate", "delete"};
  std::vector<Bytes> all = attributes;
  auto profile = InspectCardImage(ram_->device(), geometry_);  // and those of the profile's files
  for (const auto& f : profile.files) {
    if (f.node.is_ef()) all.push_back(f.node.security);
  }
  for (const Bytes& sec : all) {
    FileNode ef;
    ef.security = sec;
    const auto rules = AccessRules(ef);
    for (size_t m = 0; m < 7; ++m) {
      std::string condition;
      for (const auto& r : rules) {
        for (const auto& name : r.modes) {
          if (name == kNames[m]) condition = r.condition;
        }
      }
      ASSERT_FALSE(condition.empty()) << ToHex(sec) << " " << kNames[m];
      const bool open = CheckAccess(*card_, none, ef, kModes[m]).ok();
      const bool after_pin = CheckAccess(*card_, user, ef, kModes[m]).ok();
      EXPECT_EQ(open, condition == "always") << ToHex(sec) << " " << kNames[m] << ": " << condition;
      if (condition.find("PIN 81") != std::string::npos ||
          condition.find("any PIN") != std::string::npos) {
        EXPECT_EQ(after_pin, condition.find(" and ") == std::string::npos)
            << ToHex(sec) << " " << kNames[m] << ": " << condition;
      }
      if (condition.rfind("never", 0) == 0) {
        EXPECT_FALSE(after_pin) << ToHex(sec) << kNames[m];
      }
    }
  }
}

}  // namespace
}  // namespace tessera::tools
