// The applet-package codec against packages written out by hand from docs/applets.md §1.
#include "format/applet_package.h"

#include <gtest/gtest.h>

#include <string>

namespace tessera::format {
namespace {

std::string Tlv(const std::string& tag, const std::string& value_hex) {
  return tag + HexByte(static_cast<uint8_t>(value_hex.size() / 2)) + value_hex;
}
std::string Text(const std::string& s) {
  return ToHex(ToBytes(s));
}

// "return {}" as the one module F000000001 01 "M" of package F000000001.
const std::string kModule =
    Tlv("A1", Tlv("4F", "F00000000101") + Tlv("50", Text("M")) + Tlv("C6", Text("return {}")));
const std::string kHead = Tlv("4F", "F000000001") + Tlv("C2", "0102");

TEST(AppletPackage, ParsesAndEncodesTheDocumentedBytes) {
  const std::string hex = Tlv("A0", kHead + kModule);
  auto p = ParseAppletPackage(HexOrDie(hex));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(ToHex(p->aid), "F000000001");
  EXPECT_EQ(p->major, 1);
  EXPECT_EQ(p->minor, 2);
  ASSERT_EQ(p->modules.size(), 1u);
  EXPECT_EQ(ToHex(p->modules[0].aid), "F00000000101");
  EXPECT_EQ(p->modules[0].name, "M");
  EXPECT_EQ(p->modules[0].source, "return {}");
  EXPECT_EQ(ToHex(EncodeAppletPackage(*p)), hex);
}

TEST(AppletPackage, RefusesBytecodeAndMalformedPackages) {
  const std::string bytecode = Tlv(
      "A1", Tlv("4F", "F00000000101") + Tlv("50", Text("M")) + Tlv("C6", "1B4C7561540019930D0A"));
  auto b = ParseAppletPackage(HexOrDie(Tlv("A0", kHead + bytecode)));
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("bytecode"), std::string::npos);
  // No module; the version missing; a module AID equal to the package's; two equal modules;
  // five modules; a short AID; bytes after the package; another outer tag.
  EXPECT_FALSE(ParseAppletPackage(HexOrDie(Tlv("A0", kHead))).ok());
  EXPECT_FALSE(ParseAppletPackage(HexOrDie(Tlv("A0", Tlv("4F", "F000000001") + kModule))).ok());
  const std::string same =
      Tlv("A1", Tlv("4F", "F000000001") + Tlv("50", Text("M")) + Tlv("C6", Text("return {}")));
  EXPECT_FALSE(ParseAppletPackage(HexOrDie(Tlv("A0", kHead + same))).ok());
  EXPECT_FALSE(ParseAppletPackage(HexOrDie(Tlv("A0", kHead + kModule + kModule))).ok());
  std::string five;
  for (int i = 1; i <= 5; ++i) {
    five += Tlv("A1", Tlv("4F", "F0000000010" + std::to_string(i)) + Tlv("50", Text("M")) +
                          Tlv("C6", Text("return {}")));
  }
  EXPECT_FALSE(ParseAppletPackage(HexOrDie(Tlv("A0", kHead + five))).ok());
  EXPECT_FALSE(
      ParseAppletPackage(HexOrDie(Tlv("A0", Tlv("4F", "F0000001") + Tlv("C2", "0100") + kModule)))
          .ok());
  EXPECT_FALSE(ParseAppletPackage(HexOrDie(Tlv("A0", kHead + kModule) + "00")).ok());
  EXPECT_FALSE(ParseAppletPackage(HexOrDie(Tlv("A2", kHead + kModule))).ok());
}

TEST(AppletLimits, DefaultsRangesAndTags) {
  auto none = ParseAppletLimits({});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->heap, 65536u);
  EXPECT_EQ(none->persistent, 8192u);
  EXPECT_EQ(none->instructions, 1000000u);
  auto all = ParseAppletLimits(HexOrDie("C60400008000C70400000000DF210400002710"));
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->heap, 32768u);
  EXPECT_EQ(all->persistent, 0u);
  EXPECT_EQ(all->instructions, 10000u);
  EXPECT_EQ(ToHex(EncodeAppletLimits(*all)), "C60400008000C70400000000DF210400002710");
  EXPECT_FALSE(ParseAppletLimits(HexOrDie("C60400003FFF")).ok());              // heap below 16 KiB
  EXPECT_FALSE(ParseAppletLimits(HexOrDie("DF210400989681")).ok());            // 10,000,001
  EXPECT_FALSE(ParseAppletLimits(HexOrDie("C7020100")).ok());                  // not 4 bytes
  EXPECT_FALSE(ParseAppletLimits(HexOrDie("C80400000001")).ok());              // unknown tag
  EXPECT_FALSE(ParseAppletLimits(HexOrDie("C70400000001C70400000001")).ok());  // twice
}

}  // namespace
}  // namespace tessera::format
