// The record codec against records written out by hand from docs/applications.md §4.
#include "format/application_record.h"

#include <gtest/gtest.h>

namespace tessera::format {
namespace {

// E1 L { 4F 05 A0..01  50 02 "ab"  C0 01 "x"  C1 01 07  5F25 000000  5F24 261231  C2 01 }.
std::string Fields(const std::string& c2 = "C20101", const std::string& date = "261231") {
  return "4F05A000000001"
         "50026162"
         "C00178"
         "C10107"
         "5F2503000000"
         "5F2403" +
         date + c2;
}
Bytes Record(const std::string& fields) {
  return HexOrDie("E1" + HexByte(static_cast<uint8_t>(fields.size() / 2)) + fields);
}

TEST(ApplicationRecord, ParsesTheDocumentedFieldsAndWritesThemBack) {
  const Bytes bytes = Record(Fields());
  auto r = ParseRecord(bytes);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(ToHex(r->aid), "A000000001");
  EXPECT_EQ(r->name, "ab");
  EXPECT_EQ(r->admin_name, "x");
  EXPECT_EQ(r->admin_id, 7);
  EXPECT_EQ(ToHex(r->expiration), "261231");
  EXPECT_EQ(r->status, AppState::kLocked);
  EXPECT_TRUE(r->signature.empty());
  EXPECT_EQ(EncodeRecord(*r), bytes);
  // The signature covers everything before C2.
  EXPECT_EQ(ToHex(SignedPart(*r)), Fields().substr(0, Fields().size() - 6));
}

TEST(ApplicationRecord, KeepsTheSignatureOutsideWhatItSigns) {
  const std::string sig = "9E40" + std::string(128, 'A');
  const Bytes bytes = Record(Fields() + sig);
  auto r = ParseRecord(bytes);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->signature, Bytes(64, 0xAA));
  EXPECT_EQ(EncodeRecord(*r), bytes);
  EXPECT_EQ(ToHex(SignedPart(*r)), Fields().substr(0, Fields().size() - 6));
}

TEST(ApplicationRecord, RefusesWhatTheCardWouldNotStoreAndSaysWhich) {
  auto refused = [](const Bytes& b) {
    auto r = ParseRecord(b);
    return r.ok() ? std::string("accepted") : r.status().message();
  };
  EXPECT_NE(refused(Record(Fields("C20104"))).find("C2"), std::string::npos);  // no state 04
  EXPECT_NE(refused(Record(Fields("C20101", "261331"))).find("5F24"), std::string::npos);
  EXPECT_NE(refused(Record(Fields("C20101", "26123A"))).find("5F24"), std::string::npos);
  EXPECT_NE(refused(Record(Fields("C2020001"))).find("C2"), std::string::npos);
  EXPECT_NE(refused(Record(Fields() + "9E03010203")).find("9E"), std::string::npos);
  // C2 missing; a field out of order; bytes after the object; another outer tag.
  EXPECT_NE(refused(Record(Fields(""))).find("C2 missing"), std::string::npos);
  const std::string f = Fields();
  EXPECT_NE(refused(Record(f.substr(14, 8) + f.substr(0, 14) + f.substr(22))).find("4F"),
            std::string::npos);
  Bytes trailing = Record(f);
  trailing.push_back(0);
  EXPECT_NE(refused(trailing).find("after"), std::string::npos);
  Bytes other = Record(f);
  other[0] = 0xE2;
  EXPECT_NE(refused(other).find("not E1"), std::string::npos);
}

TEST(ApplicationRecord, DatesAreBcdWithRealMonthsAndDays) {
  EXPECT_TRUE(IsValidDate(HexOrDie("000000")));
  EXPECT_FALSE(IsValidDate(HexOrDie("000000"), /*allow_zero=*/false));
  EXPECT_TRUE(IsValidDate(HexOrDie("991231")));
  EXPECT_FALSE(IsValidDate(HexOrDie("260001")));
  EXPECT_FALSE(IsValidDate(HexOrDie("260132")));
  EXPECT_FALSE(IsValidDate(HexOrDie("2601")));
}

}  // namespace
}  // namespace tessera::format
