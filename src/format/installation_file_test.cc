// The installation-file codec against files written out by hand from docs/applications.md §5.2.
#include "format/installation_file.h"

#include <gtest/gtest.h>

#include <string>

namespace tessera::format {
namespace {

std::string Tlv(const std::string& tag, const std::string& value_hex) {
  return tag + HexByte(static_cast<uint8_t>(value_hex.size() / 2)) + value_hex;
}
// A minimal record: AID A000000001, name "a", administrator "x" 01, no dates, active.
const std::string kRecord = Tlv("E1",
                                "4F05A000000001"
                                "500161"
                                "C00178"
                                "C10101"
                                "5F2503000000"
                                "5F2403000000"
                                "C20100");
const std::string kModule = Tlv("C4", "F0544553534552414D01");
const std::string kSignature = Tlv("9E", std::string(128, 'B'));

Bytes File(const std::string& value) {
  return HexOrDie("BF70" + HexByte(static_cast<uint8_t>(value.size() / 2)) + value);
}

TEST(InstallationFile, TheSignatureCoversEveryByteBeforeIt) {
  const std::string signed_part = kRecord + kModule + Tlv("C5", "000000") + Tlv("C9", "820103");
  auto p = ParseInstallationFile(File(signed_part + kSignature));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(ToHex(p->signed_part), signed_part);
  EXPECT_EQ(ToHex(p->file.record.aid), "A000000001");
  EXPECT_EQ(ToHex(p->file.module_aid), "F0544553534552414D01");
  EXPECT_EQ(ToHex(*p->file.params), "820103");
  EXPECT_EQ(p->file.signature, Bytes(64, 0xBB));
  EXPECT_EQ(ToHex(SignedPart(p->file)), signed_part);
  EXPECT_EQ(EncodeInstallationFile(p->file), File(signed_part + kSignature));
}

TEST(InstallationFile, OptionalObjectsMayBeLeftOutButNotReordered) {
  EXPECT_TRUE(ParseInstallationFile(File(kRecord + kModule)).ok());  // unsigned: the card's call
  EXPECT_TRUE(ParseInstallationFile(File(kRecord + Tlv("C7", "00") + kSignature)).ok());
  auto refused = [](const std::string& value) {
    auto p = ParseInstallationFile(File(value));
    return p.ok() ? std::string("accepted") : p.status().message();
  };
  EXPECT_NE(refused(kModule + kRecord).find("first object is not the E1"), std::string::npos);
  EXPECT_NE(refused(kRecord + Tlv("C5", "000000")).find("no code"), std::string::npos);
  EXPECT_NE(refused(kRecord + kModule + Tlv("C9", "") + Tlv("C5", "000000")).find("order"),
            std::string::npos);
  EXPECT_NE(refused(kRecord + kModule + kModule).find("order"), std::string::npos);
  EXPECT_NE(refused(kRecord + kModule + kSignature + Tlv("C9", "")).find("after the file"),
            std::string::npos);
  EXPECT_NE(refused(kRecord + Tlv("C4", "01020304")).find("C4"), std::string::npos);
  EXPECT_NE(refused(kRecord + kModule + Tlv("C5", "0000")).find("C5"), std::string::npos);
  EXPECT_NE(refused(kRecord + kModule + Tlv("9E", "00")).find("9E"), std::string::npos);
  EXPECT_NE(refused(kRecord + kModule + Tlv("CA", "00")).find("unknown"), std::string::npos);
  Bytes trailing = File(kRecord + kModule);
  trailing.push_back(0x00);
  EXPECT_FALSE(ParseInstallationFile(trailing).ok());
}

TEST(InstallationFile, SystemParametersStandAfterTheDataAndAreSigned) {
  const std::string ef = Tlv("EF", "C60400010000");
  const std::string signed_part = kRecord + Tlv("C7", "02A000") + Tlv("C9", "01") + ef;
  auto p = ParseInstallationFile(File(signed_part + kSignature));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(ToHex(*p->file.system), "C60400010000");
  EXPECT_EQ(ToHex(*p->file.code), "02A000");
  EXPECT_EQ(ToHex(p->signed_part), signed_part);
  EXPECT_EQ(ToHex(SignedPart(p->file)), signed_part);
  // Before C9, or after the signature: out of order.
  EXPECT_FALSE(ParseInstallationFile(File(kRecord + kModule + ef + Tlv("C9", "01"))).ok());
  EXPECT_FALSE(ParseInstallationFile(File(kRecord + kModule + kSignature + ef)).ok());
}

}  // namespace
}  // namespace tessera::format
