// The issuance codecs against bytes written out by hand from docs/self-issuance.md §2, §4, §5.
#include "format/issuance_format.h"

#include <gtest/gtest.h>

namespace tessera::format {
namespace {

std::string Zeros(size_t bytes) {
  return std::string(2 * bytes, '0');
}

TEST(IssuanceFormat, TableRecordHasTheDocumentedOffsets) {
  // function 07, FID 0307, version 02, 0003 commands, digest 11.., policy 03, target A0..01.
  const std::string hex =
      "07"
      "0307"
      "02"
      "0003" +
      std::string(64, '1') +
      "03"
      "05A000000001" +
      Zeros(16 - 5) + Zeros(64 - 56);
  const Bytes record = HexOrDie(hex);
  ASSERT_EQ(record.size(), kRecordSize);
  auto e = DecodeTableEntry(record);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->function, 7);
  EXPECT_EQ(e->fid, 0x0307);
  EXPECT_EQ(e->version, 2);
  EXPECT_EQ(e->count, 3);
  EXPECT_EQ(e->digest, Bytes(32, 0x11));
  EXPECT_EQ(e->policy, 3);
  EXPECT_EQ(ToHex(e->target), "A000000001");
  EXPECT_EQ(EncodeTableEntry(*e), record);
  EXPECT_FALSE(DecodeTableEntry(Bytes(kRecordSize, 0)).has_value());  // a free record
  EXPECT_FALSE(DecodeTableEntry(ByteView(record).first(63)).has_value());
}

TEST(IssuanceFormat, JournalRecordHasTheDocumentedOffsets) {
  // function 07, partial, run 0102..08, acknowledged, first unanswered 0002, failed 0002 with
  // 6A82, 0002 succeeded, bitmap 03.
  const std::string hex =
      "07"
      "04"
      "0102030405060708"
      "01"
      "0002"
      "0002"
      "6A82"
      "0002"
      "03" +
      Zeros(31) + Zeros(64 - 51);
  const Bytes record = HexOrDie(hex);
  auto j = DecodeJournal(record);
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ(j->state, static_cast<uint8_t>(RunState::kPartial));
  EXPECT_EQ(j->run_id, (RunId{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_TRUE(j->acknowledged);
  EXPECT_EQ(record[kJournalAcknowledgedOffset], 1);
  EXPECT_EQ(j->failed, 2);
  EXPECT_EQ(j->failed_sw, 0x6A82);
  EXPECT_EQ(j->succeeded, 2);
  EXPECT_TRUE(j->done(0) && j->done(1) && !j->done(2));
  EXPECT_EQ(EncodeJournal(*j), record);
  EXPECT_FALSE(DecodeJournal(Bytes(10, 0)).has_value());
}

TEST(IssuanceFormat, RequestNamesTheFunctionAndTheRun) {
  IssueRequest r;
  r.function = 7;
  r.run_id = RunId{1, 2, 3, 4, 5, 6, 7, 8};
  EXPECT_EQ(ToHex(EncodeIssueRequest(r)), "C10107C8080102030405060708");
  auto back = ParseIssueRequest(HexOrDie("C8080102030405060708C10107"));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->function, 7);
  EXPECT_EQ(back->run_id, r.run_id);
  EXPECT_FALSE(ParseIssueRequest(HexOrDie("830203")).ok());  // not BER-TLV
  EXPECT_TRUE(ParseIssueRequest(HexOrDie("83020307")).ok());
  EXPECT_FALSE(ParseIssueRequest(HexOrDie("C80401020304")).ok());  // no function, short run id
  EXPECT_FALSE(ParseIssueRequest(HexOrDie("C10107C20100")).ok());  // an unknown field
}

TEST(IssuanceFormat, ReportOfADoneRunAndOfAnIdleFunction) {
  TableEntry e;
  e.function = 7;
  e.count = 3;
  e.target = HexOrDie("A000000001");
  Journal j;
  j.function = 7;
  j.run_id = RunId{1, 2, 3, 4, 5, 6, 7, 8};
  for (int i = 0; i < 3; ++i) j.set_done(i);
  j.succeeded = 3;
  j.first_unanswered = 3;
  const Bytes done = EncodeRunReport(MakeRunReport(e, j, static_cast<uint8_t>(RunState::kDone)));
  EXPECT_EQ(ToHex(done),
            "E54C"
            "C10107"
            "800103"
            "81020003"
            "82020003"
            "8320"
            "07" +
                Zeros(31) +
                "8402FFFF"
                "85020000"
                "C8080102030405060708"
                "860100"
                "4F05A000000001");
  auto parsed = ParseRunReport(done);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->first_pending, 0xFFFF);
  EXPECT_TRUE(parsed->done(2));
  EXPECT_EQ(EncodeRunReport(*parsed), done);
  // Idle: 84 = 0000, run id zeros.
  const RunReport idle = MakeRunReport(e, Journal{}, static_cast<uint8_t>(RunState::kIdle));
  EXPECT_EQ(idle.first_pending, 0);
  EXPECT_EQ(idle.failed_sw, 0);
  // A field missing is refused; an unknown one skipped.
  Bytes lacking = HexOrDie("E503C10107");
  EXPECT_FALSE(ParseRunReport(lacking).ok());
  Bytes extra = done;
  extra[1] = static_cast<uint8_t>(extra[1] + 3);
  Append(extra, HexOrDie("DF0100"));
  EXPECT_TRUE(ParseRunReport(extra).ok());
}

TEST(IssuanceFormat, GroupUploadFollowsTheCardsRules) {
  GroupUpload u;
  u.function = 7;
  u.version = 1;
  u.policy = 3;
  u.group = HexOrDie("0102");
  EXPECT_EQ(ToHex(EncodeGroupUpload(u)),
            "BF730D"
            "C10107"
            "C30101"
            "C50103"
            "C6020102");
  auto back = ParseGroupUpload(EncodeGroupUpload(u));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->group, u.group);
  EXPECT_TRUE(back->target.empty());
  auto refused = [](const std::string& body) {
    return !ParseGroupUpload(
                HexOrDie("BF73" + HexByte(static_cast<uint8_t>(body.size() / 2)) + body))
                .ok();
  };
  EXPECT_FALSE(refused("C10107C6020102"));
  EXPECT_TRUE(refused("C10100C6020102"));              // function 00
  EXPECT_TRUE(refused("C101FFC6020102"));              // function FF
  EXPECT_TRUE(refused("C10107C10108C6020102"));        // C1 twice
  EXPECT_TRUE(refused("C10107C50108C6020102"));        // policy b4
  EXPECT_TRUE(refused("C101074F0401020304C6020102"));  // a 4-byte target
  EXPECT_TRUE(refused("C10107"));                      // no group
  EXPECT_TRUE(refused("C10107C600"));                  // an empty group
  // Policy b1 is always set once parsed.
  auto p = ParseGroupUpload(HexOrDie("BF730AC10107C50102C6020102"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->policy, 3);
}

}  // namespace
}  // namespace tessera::format
