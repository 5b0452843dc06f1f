// The administrator objects against bytes written out by hand from docs/applications.md §5.3.
#include "format/administrator.h"

#include <gtest/gtest.h>

namespace tessera::format {
namespace {

const std::string kKey = "04" + std::string(128, '5');  // 65 bytes (not checked as a point here)

TEST(Administrator, UploadFieldsEachOnce) {
  AdministratorUpload u;
  u.id = 2;
  u.name = "ab";
  u.public_key = HexOrDie(kKey);
  u.key_set = HexOrDie("31AA");
  const std::string value =
      "C10102"
      "C0026162"
      "8641" +
      kKey + "D80231AA";
  EXPECT_EQ(ToHex(EncodeAdministratorUpload(u)), "BF714E" + value);
  auto back = ParseAdministratorUpload(HexOrDie(value));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->id, 2);
  EXPECT_EQ(back->name, "ab");
  EXPECT_EQ(ToHex(*back->key_set), "31AA");
  auto refused = [](const std::string& hex) {
    return !ParseAdministratorUpload(HexOrDie(hex)).ok();
  };
  EXPECT_FALSE(
      refused("C10102C0026162"
              "8641" +
              kKey));  // no key set: fine
  EXPECT_TRUE(
      refused("C10180C0026162"
              "8641" +
              kKey));  // id above 7F
  EXPECT_TRUE(
      refused("C10102C10103C0026162"
              "8641" +
              kKey));  // C1 twice
  EXPECT_TRUE(
      refused("C10102"
              "8641" +
              kKey));                      // no name
  EXPECT_TRUE(refused("C10102C0026162"));  // no public key
  EXPECT_TRUE(
      refused("C10102C0026162"
              "8641" +
              kKey + "D800"));  // an empty key set
  EXPECT_TRUE(
      refused("C10102C0026162"
              "8641" +
              kKey + "C30100"));                                              // an unknown field
  EXPECT_TRUE(refused("C10102C021" + std::string(66, '6') + "8641" + kKey));  // a 33-byte name
}

TEST(Administrator, ListOfEntries) {
  std::vector<AdministratorEntry> list = {{0, "issuer", {}, std::nullopt},
                                          {2, "ab", HexOrDie("0401"), 0x31}};
  const std::string hex =
      "BF711D"
      "E20B"
      "C10100"
      "C006697373756572"
      "E20E"
      "C10102"
      "C0026162"
      "86020401"
      "D20131";
  EXPECT_EQ(ToHex(EncodeAdministratorList(list)), hex);
  auto back = ParseAdministratorList(HexOrDie(hex));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[1].kvn, 0x31);
  EXPECT_FALSE((*back)[0].kvn.has_value());
  EXPECT_TRUE(ParseAdministratorList(HexOrDie("BF7100")).ok());
  EXPECT_FALSE(ParseAdministratorList(HexOrDie("BF7000")).ok());
  EXPECT_FALSE(ParseAdministratorList(HexOrDie("BF710000")).ok());
}

}  // namespace
}  // namespace tessera::format
