// The card OS through its APDU interface: dispatch, channels, chaining, GET RESPONSE, and every
// command group with its error paths.
#include <algorithm>

#include "support/card_fixture.h"

namespace tessera::card {
namespace {

const std::string kSelectDemo = "00A4040009F05445535345524110";
const std::string kVerifyUser = "002000810431323334";

TEST_F(CardTest, AtrIsT1WithCorrectCheckByte) {
  Bytes atr = Card::Atr();
  EXPECT_EQ(atr[0], 0x3B);
  uint8_t x = 0;
  for (size_t i = 1; i < atr.size(); ++i) x ^= atr[i];
  EXPECT_EQ(x, 0);
  EXPECT_EQ(atr.size(), 4u + 13u + 1u);
  EXPECT_NE(ToHex(atr).find("54455353455241"), std::string::npos);  // "TESSERA"
}

TEST_F(CardTest, MalformedAndUnknownCommandsGetStatusWords) {
  EXPECT_EQ(Tx(""), "6700");
  EXPECT_EQ(Tx("00A4"), "6700");
  EXPECT_EQ(Tx("00A4040002A0"), "6700");
  EXPECT_EQ(Tx("FFA40000"), "6E00");
  EXPECT_EQ(Tx("20A40000"), "6E00");
  EXPECT_EQ(Tx("00FF0000"), "6D00");
  EXPECT_EQ(Tx("01A40000"), "6881");  // channel 1 not open
  EXPECT_EQ(Tx("0CA40000"), "6882");  // secure messaging: no SCP03 session on this channel
}

TEST_F(CardTest, SelectMfByFidPathAndName) {
  std::string r = Tx("00A40004023F0000");
  EXPECT_EQ(r.substr(0, 2), "62");
  EXPECT_EQ(r.substr(r.size() - 4), "9000");
  EXPECT_NE(r.find("83023F00"), std::string::npos);
  EXPECT_EQ(Tx("00A4000C023F00"), "9000");
  EXPECT_EQ(Tx("00A4000C00"), "9000");          // no data: the MF
  EXPECT_EQ(Tx("00A4080C0410001001"), "9000");  // path from the MF
  EXPECT_EQ(Tx("00A4030C"), "9000");            // parent of the current DF
  EXPECT_EQ(Tx("00A4090C0410001002"), "9000");  // path from the current DF (the MF)
  EXPECT_EQ(Tx("00A4090C021003"), "9000");      // path from the current DF (the demo DF)
  EXPECT_EQ(Tx("00A4000C027777"), "6A82");
  EXPECT_EQ(Tx("00A4000C03112233"), "6A80");
  EXPECT_EQ(Tx("00A4070C023F00"), "6A86");
  EXPECT_EQ(Tx("00A400F0023F00"), "6A86");
}

TEST_F(CardTest, SelectByNameReturnsFciAndSupportsNextOccurrence) {
  std::string r = Tx(kSelectDemo + "00");
  EXPECT_EQ(r.substr(0, 4), "6F0B");
  EXPECT_EQ(r.substr(r.size() - 4), "9000");
  // Partial name: the demo DF ("F0544553...10") and the management application's DF
  // ("F0544553...01") match "F054"; no other.
  EXPECT_EQ(Sw("00A4040002F05400"), "9000");
  EXPECT_EQ(Sw("00A4040202F05400"), "9000");  // next occurrence: the other one
  EXPECT_EQ(Sw("00A4040202F05400"), "6A82");  // and then none
  EXPECT_EQ(Sw("00A4040002AABB00"), "6A82");
}

TEST_F(CardTest, SelectPseReturnsEmvFci) {
  std::string r = Tx("00A404000E315041592E5359532E444446303100");
  // 6F {84 0E name, A5 {88 01 01, 5F2D 02 "en"}}
  EXPECT_EQ(r,
            "6F1A840E315041592E5359532E4444463031A508880101"
            "5F2D02656E9000");
}

TEST_F(CardTest, CaseThreeSelectAnnouncesDataForGetResponse) {
  EXPECT_EQ(Tx("00A40400"
               "0E315041592E5359532E4444463031"),
            "611C");
  EXPECT_EQ(Tx("00C0000010"),
            "6F1A840E315041592E5359532E444446"
            "610C");
  EXPECT_EQ(Tx("00C000000C"), "3031A5088801015F2D02656E9000");
  EXPECT_EQ(Tx("00C0000010"), "6985");  // nothing pending
  EXPECT_EQ(Tx("00C0010010"), "6A86");
}

TEST_F(CardTest, ReadBinaryNeedsThePinAndReportsEndOfFile) {
  EXPECT_EQ(Tx(kSelectDemo), "610D");
  EXPECT_EQ(Sw("00B0810000"), "6982");  // SFI 1 read needs the user PIN
  EXPECT_EQ(Tx(kVerifyUser), "9000");
  std::string r = Tx("00B0810004");
  EXPECT_EQ(r, ToHex(ToBytes("demo")) + "9000");
  EXPECT_EQ(Sw("00B0007E04"), "6282");  // 2 bytes left, 4 asked
  EXPECT_EQ(Sw("00B0008000"), "6282");  // at the end
  EXPECT_EQ(Sw("00B0008100"), "6B00");  // beyond the end
  r = Tx("00B0000000");                 // Le=00: the whole file, no warning
  EXPECT_EQ(r.size(), 2u * 128 + 4);
  EXPECT_EQ(r.substr(r.size() - 4), "9000");
  EXPECT_EQ(Sw("00B08100"), "6700");    // no Le
  EXPECT_EQ(Sw("00B0E10000"), "6A86");  // b7-b6 of P1 set
}

TEST_F(CardTest, ReadBinaryWithoutCurrentEfOrOnRecordFile) {
  EXPECT_EQ(Sw("00B0000010"), "6986");
  EXPECT_EQ(Tx(kSelectDemo), "610D");
  EXPECT_EQ(Tx(kVerifyUser), "9000");
  EXPECT_EQ(Sw("00B0820010"), "6981");  // SFI 2 is a record file
  EXPECT_EQ(Sw("00B0850010"), "6A82");  // no SFI 5
}

TEST_F(CardTest, UpdateAndEraseBinaryPersistAcrossPowerCycles) {
  Tx(kSelectDemo);
  EXPECT_EQ(Sw("00D6810003414243"), "6982");
  Tx(kVerifyUser);
  EXPECT_EQ(Tx("00D6810003414243"), "9000");
  EXPECT_EQ(Sw("00D6007F0241"), "6700");  // past the end
  EXPECT_EQ(Tx("00D6007F0142"), "9000");  // the last byte
  Reboot();
  Tx(kSelectDemo);
  Tx(kVerifyUser);
  EXPECT_EQ(Tx("00B0810003"), "4142439000");
  EXPECT_EQ(Tx("00B0007F01"), "429000");
  EXPECT_EQ(Tx("000E0000020002"), "9000");  // erase [0, 2)
  EXPECT_EQ(Tx("00B0000003"), "0000439000");
  EXPECT_EQ(Tx("000E0002"), "9000");  // erase from 2 to the end
  EXPECT_EQ(Tx("00B0007F01"), "009000");
}

TEST_F(CardTest, RecordsReadUpdateAppendSearchErase) {
  Tx(kSelectDemo);
  Tx(kVerifyUser);
  // Linear fixed SFI 2: 5 records of 16 bytes, record i starts with i.
  std::string r = Tx("00B2021400");
  EXPECT_EQ(r.substr(0, 2), "02");
  EXPECT_EQ(r.size(), 2u * 16 + 4);
  EXPECT_EQ(Sw("00B2061400"), "6A83");  // record 6
  EXPECT_EQ(Sw("00B2011408"), "6C10");  // wrong Le: exact length
  EXPECT_EQ(Sw("00DC0114"
               "02AABB"),
            "6700");  // fixed length mismatch
  EXPECT_EQ(Tx("00DC011410" + std::string(32, 'A')), "9000");
  EXPECT_EQ(Tx("00B2011410"), std::string(32, 'A') + "9000");
  EXPECT_EQ(Sw("00E2001005"
               "0102030405"),
            "6700");  // append to fixed: wrong length
  EXPECT_EQ(Sw("00E20010"
               "10" +
               std::string(32, '0')),
            "6A84");  // full
  EXPECT_EQ(Sw("00E2011010" + std::string(32, '0')), "6A86");
  // Linear variable SFI 4: two records.
  EXPECT_EQ(Tx("00B2012400"), ToHex(ToBytes("first record")) + "9000");
  EXPECT_EQ(Tx("00E2002003"
               "414243"),
            "9000");
  EXPECT_EQ(Tx("00B2032400"), "4142439000");
  EXPECT_EQ(Tx("00B2012500"),
            ToHex(ToBytes("first recordsecond record")) + "4142439000");    // 1 to last
  EXPECT_EQ(Tx("00A2012404" + ToHex(ToBytes("cord")) + "00"), "01029000");  // search forward
  EXPECT_EQ(Sw("00A2012403"
               "5A5A5A"),
            "6A83");
  EXPECT_EQ(Tx("000C0124"), "9000");  // erase record 1
  EXPECT_EQ(Tx("00B2012400"), ToHex(ToBytes("second record")) + "9000");
  EXPECT_EQ(Tx("000C0125"), "9000");  // 1 to last
  EXPECT_EQ(Sw("00B2012400"), "6A83");
  EXPECT_EQ(Sw("00B2010C00"), "6981");  // SFI 1 is a transparent EF
}

TEST_F(CardTest, CyclicFileKeepsTheNewestRecordsFirst) {
  Tx(kSelectDemo);
  Tx(kVerifyUser);
  for (int i = 1; i <= 12; ++i) {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%02X00000000000000", i);
    EXPECT_EQ(Tx("00E2001808" + std::string(hex)), "9000");
  }
  EXPECT_EQ(Tx("00B2011C08"), "0C000000000000009000");  // record 1 = the newest (12)
  EXPECT_EQ(Tx("00B2021C08"), "0B000000000000009000");
  EXPECT_EQ(Tx("00B20A1C08"), "03000000000000009000");  // 10 kept: 12..3
  EXPECT_EQ(Sw("00B20B1C08"), "6A83");
  EXPECT_EQ(Sw("000C011C"), "6981");
}

TEST_F(CardTest, PinRetryCounterBlocksAndPukUnblocks) {
  EXPECT_EQ(Tx("00200081"), "63C3");
  EXPECT_EQ(Tx("002000810439393939"), "63C2");
  EXPECT_EQ(Tx("002000810439393939"), "63C1");
  Reboot();  // the counter is persistent
  EXPECT_EQ(Tx("00200081"), "63C1");
  EXPECT_EQ(Tx("002000810439393939"), "63C0");
  EXPECT_EQ(Tx(kVerifyUser), "6983");
  EXPECT_EQ(Tx("00200099"), "6A88");
  // Unblock with the PUK and set a new PIN.
  EXPECT_EQ(Tx("002C0081"
               "0C" +
               ToHex(ToBytes("12345678")) + ToHex(ToBytes("4321"))),
            "9000");
  EXPECT_EQ(Tx(kVerifyUser), "63C2");
  EXPECT_EQ(Tx("00200081"
               "04" +
               ToHex(ToBytes("4321"))),
            "9000");
  EXPECT_EQ(Tx("00200081"), "9000");
  EXPECT_EQ(Tx("0020FF81"), "9000");  // forget
  EXPECT_EQ(Tx("00200081"), "63C3");
}

TEST_F(CardTest, NoCopyOfAnOldPinRemainsInNvm) {
  EXPECT_EQ(Tx("002000810439393939"), "63C2");  // an early commit of the counter
  EXPECT_EQ(Tx("00240081"
               "08" +
               ToHex(ToBytes("12345678"))),
            "9000");  // "1234" -> "5678"
  const Bytes& cells = ram_->cells();
  const Bytes old_pin = ToBytes("1234");
  size_t copies = 0;
  for (auto it = cells.begin();
       (it = std::search(it, cells.end(), old_pin.begin(), old_pin.end())) != cells.end(); ++it) {
    ++copies;
  }
  // "1234" is still the prefix of the PUK "12345678" in the PIN table, and nowhere else.
  EXPECT_EQ(copies, 1u);
}

TEST_F(CardTest, ChangeReferenceData) {
  EXPECT_EQ(Tx("00240081"
               "08" +
               ToHex(ToBytes("12345678"))),
            "9000");  // old "1234", new "5678"
  EXPECT_EQ(Tx(kVerifyUser), "63C2");
  EXPECT_EQ(Tx("00200081"
               "04" +
               ToHex(ToBytes("5678"))),
            "9000");
  EXPECT_EQ(Tx("00240181"
               "02" +
               ToHex(ToBytes("99"))),
            "9000");  // verified: new only
  EXPECT_EQ(Tx("00200081"
               "02" +
               ToHex(ToBytes("99"))),
            "9000");
  EXPECT_EQ(Sw("00240281"
               "02" +
               ToHex(ToBytes("99"))),
            "6A86");
}

TEST_F(CardTest, CreateAndDeleteFilesNeedTheAdministrator) {
  const std::string fcp =
      "6213"
      "820101"
      "83020301"
      "800200 20"
      "8A0105"
      "8C03031111";
  std::string compact;
  for (char c : fcp)
    if (c != ' ') compact += c;
  const std::string create =
      "00E00000" + ToHex(Bytes{static_cast<uint8_t>(compact.size() / 2)}) + compact;
  EXPECT_EQ(Sw(create), "6982");
  EXPECT_EQ(Tx("00200082"
               "08" +
               ToHex(ToBytes("87654321"))),
            "9000");
  EXPECT_EQ(Tx(create), "9000");
  EXPECT_EQ(Sw(create), "6A89");  // exists (the MF is current again? no: the new EF is current)
  EXPECT_EQ(Tx("00A4000C020301"), "9000");
  EXPECT_EQ(Sw("00B0000010"), "6982");
  EXPECT_EQ(Tx(kVerifyUser), "9000");
  EXPECT_EQ(Tx("00D6000002CAFE"), "9000");
  EXPECT_EQ(Tx("00B0000002"), "CAFE9000");
  EXPECT_EQ(Tx("00A4000C023F00"), "9000");
  EXPECT_EQ(Tx("00E4000002"
               "0301"),
            "9000");
  EXPECT_EQ(Sw("00A4000C020301"), "6A82");
  EXPECT_EQ(Sw("00E0000003620100"), "6A80");  // FCP without FDB and FID
  EXPECT_EQ(Sw("00E4000002"
               "3F00"),
            "6985");  // the MF cannot be deleted
}

TEST_F(CardTest, DeactivateActivateTerminate) {
  EXPECT_EQ(Tx("00200082"
               "08" +
               ToHex(ToBytes("87654321"))),
            "9000");
  EXPECT_EQ(Tx("00A4000C022F01"), "9000");
  EXPECT_EQ(Tx("00040000"), "9000");  // the administrator may deactivate it
  EXPECT_EQ(Sw("00A40004022F0100"), "6283");
  EXPECT_EQ(Sw("00B0000004"), "6985");
  EXPECT_EQ(Tx("00440000"), "9000");
  EXPECT_EQ(Tx("00B0000004"), ToHex(ToBytes("Tess")) + "9000");
  EXPECT_EQ(Tx("00E8000002"
               "2F01"),
            "9000");
  EXPECT_EQ(Sw("00A40004022F0100"), "6285");
  EXPECT_EQ(Sw("00B0000004"), "6985");
  EXPECT_EQ(Sw("00440000"), "6985");  // irreversible
  EXPECT_EQ(Sw("00E6000002"
               "2F00"),
            "6981");  // TERMINATE DF on an EF
}

TEST_F(CardTest, LogicalChannelsKeepTheirOwnSelectionAndSecurity) {
  EXPECT_EQ(Tx("0070000001"), "019000");
  EXPECT_EQ(Tx("0070000001"), "029000");
  EXPECT_EQ(Tx("00700003"), "9000");  // explicit channel 3
  EXPECT_EQ(Sw("00700003"), "6985");  // already open
  EXPECT_EQ(Tx("01A4040C09F05445535345524110"), "9000");
  EXPECT_EQ(Tx("012000810431323334"), "9000");  // PIN verified on channel 1 only
  EXPECT_EQ(Sw("01B0810004"), "9000");
  EXPECT_EQ(Tx(kSelectDemo.substr(0, 6) + "0C" + kSelectDemo.substr(8)), "9000");
  EXPECT_EQ(Sw("00B0810004"), "6982");  // channel 0: not verified
  EXPECT_EQ(Tx("00708001"), "9000");    // close 1
  EXPECT_EQ(Sw("01B0810004"), "6881");
  EXPECT_EQ(Sw("00708000"), "6A86");  // the basic channel stays
  EXPECT_EQ(Sw("00708005"), "6881");
  EXPECT_EQ(Tx("00700013"), "9000");        // channel 19
  EXPECT_EQ(Tx("4FA4000C023F00"), "9000");  // further interindustry CLA
  EXPECT_EQ(Sw("00700014"), "6881");        // channel 20 does not exist
}

TEST_F(CardTest, CommandChainingCollectsData) {
  Tx(kSelectDemo);
  Tx(kVerifyUser);
  EXPECT_EQ(Tx("10D6810002"
               "4142"),
            "9000");
  EXPECT_EQ(Tx("00D6810002"
               "4344"),
            "9000");
  EXPECT_EQ(Tx("00B0810004"), "414243449000");
  EXPECT_EQ(Tx("10D6810001"
               "41"),
            "9000");
  EXPECT_EQ(Tx("00B0810004"), "6883");  // a different command inside a chain
}

TEST_F(CardTest, ExtendedLengthRoundTrip) {
  Tx(kSelectDemo);
  Tx(kVerifyUser);
  Bytes cmd = HexOrDie("00D68100000080");
  cmd.resize(cmd.size() + 128, 0x5A);
  EXPECT_EQ(ToHex(card_->Transmit(cmd)), "9000");
  std::string r = Tx("00B08100000000");
  EXPECT_EQ(r.size(), 2u * 128 + 4);
  EXPECT_EQ(r.substr(0, 4), "5A5A");
}

TEST_F(CardTest, GetChallengeGetDataPutData) {
  std::string a = Tx("0084000008");
  std::string b = Tx("0084000008");
  EXPECT_EQ(a.size(), 20u);
  EXPECT_NE(a, b);
  EXPECT_EQ(Sw("00840000"), "6700");
  EXPECT_EQ(Tx("00CA5F5200").substr(0, 4), "5F52");
  EXPECT_EQ(Sw("00CA004200"), "6A88");
  EXPECT_EQ(Sw("00DA004203010203"), "6982");
  EXPECT_EQ(Tx("00200082"
               "08" +
               ToHex(ToBytes("87654321"))),
            "9000");
  EXPECT_EQ(Tx("00DA004203010203"), "9000");
  Reboot();
  EXPECT_EQ(Tx("00CA004200"), "42030102039000");
  EXPECT_EQ(Sw("00CA004202"), "6C05");
  EXPECT_EQ(Sw("00CA000100"), "6A86");
}

TEST_F(CardTest, ResetClearsVolatileState) {
  Tx("0070000001");
  Tx(kSelectDemo);
  Tx(kVerifyUser);
  Reboot();
  EXPECT_EQ(Sw("01A4000C023F00"), "6881");
  EXPECT_EQ(Sw("00B0810004"), "6A82");  // the MF is current: no SFI 1 there
}

TEST_F(CardTest, ExternalCommandsRefusedWhileClosedInternalOnesRun) {
  card_->set_external_closed(true);
  EXPECT_EQ(Tx("00A4000C023F00"), "6985");
  auto r = card_->ExecuteInternal(*CommandApdu::Parse(HexOrDie("00A4000C023F00")));
  EXPECT_EQ(r.sw, 0x9000);
  card_->set_external_closed(false);
  EXPECT_EQ(Tx("00A4000C023F00"), "9000");
}

TEST_F(CardTest, InternalCommandsHaveTheirOwnChannelAndWholeResponses) {
  // Channel 0 verifies the user PIN and selects the demo application; the internal channel
  // sees none of it.
  Tx(kSelectDemo);
  Tx(kVerifyUser);
  card_->ResetInternalChannel();
  auto internal = [&](const std::string& hex) {
    return card_->ExecuteInternal(*CommandApdu::Parse(HexOrDie(hex)));
  };
  EXPECT_EQ(internal("00B0810010").sw, 0x6A82);  // the MF is current there: no SFI 1
  EXPECT_EQ(internal(kSelectDemo).sw, 0x9000);
  EXPECT_EQ(internal("00B0810010").sw, 0x6982);  // the PIN was verified on channel 0 only
  EXPECT_EQ(internal(kVerifyUser).sw, 0x9000);
  // A response longer than Le comes back whole, never as 61xx pieces, and leaves nothing
  // pending on channel 0.
  auto r = internal("00A4040009F0544553534552411001");  // the FCI, with Le = 1
  EXPECT_EQ(r.sw, 0x9000);
  EXPECT_GT(r.data.size(), 1u);
  EXPECT_EQ(r.data[0], 0x6F);
  EXPECT_EQ(Sw("00C0000010"), "6985");
  // Chaining and secure messaging are refused; channel 0 is untouched.
  EXPECT_EQ(internal("10D6810001AA").sw, 0x6884);
  EXPECT_EQ(internal("04B0810010").sw, 0x6882);
  EXPECT_EQ(Tx("00B0810004").size(), 12u);  // channel 0 still has its PIN and selection
}

TEST_F(CardTest, ExecuteInsideAHandlersTransactionCommitsWithTheStagedWrite) {
  Tx(kVerifyUser);
  ASSERT_TRUE(card_->store().Begin().ok());  // the handler's own transaction
  card_->ResetInternalChannel();
  int hook_calls = 0;
  auto hook = [&](const CardResult<Response>& r) -> CardStatus {
    ++hook_calls;
    EXPECT_EQ(r.ok(), hook_calls == 1) << hook_calls;  // the SELECT passes, the UPDATE fails
    return Ok{};
  };
  EXPECT_EQ(card_->ExecuteInternal(*CommandApdu::Parse(HexOrDie(kSelectDemo)), hook).sw, 0x9000);
  // A failing command: its writes are rolled back, the hook still runs, the caller's
  // transaction is open again afterwards.
  EXPECT_EQ(card_->ExecuteInternal(*CommandApdu::Parse(HexOrDie("00D6810001AA")), hook).sw, 0x6982);
  EXPECT_TRUE(card_->store().in_transaction());
  card_->store().Abort();
  EXPECT_EQ(hook_calls, 2);
}

TEST_F(CardTest, BulkUpdateBinaryLargerThanTheJournal) {
  // A 16 KiB EF (the largest) written whole by one extended UPDATE BINARY, on an 8 KiB journal:
  // copy-on-write takes the whole blocks around the journal.
  ASSERT_EQ(geometry_.journal_capacity, 8u * 1024);
  Tx("00200082083837363534333231");
  EXPECT_EQ(Tx("00E000000D620B82010183022F2080024000"), "9000");
  const uint32_t free_before = card_->store().CountBlocks(nvm::BlockState::kFree);
  Bytes data(16384);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7 + 3);
  Bytes apdu = HexOrDie(
      "00D6000000"
      "4000");
  Append(apdu, data);
  EXPECT_EQ(ToHex(card_->Transmit(apdu)), "9000");
  // The old blocks were wiped and freed: the EF holds as many blocks as before.
  EXPECT_EQ(card_->store().CountBlocks(nvm::BlockState::kFree), free_before);
  Reboot();
  EXPECT_EQ(Tx("00A4000C022F20"), "9000");
  Bytes read = card_->Transmit(HexOrDie("00B00000000000"));
  ASSERT_EQ(read.size(), 16386u);
  EXPECT_TRUE(std::equal(data.begin(), data.end(), read.begin()));
}

CardResult<Response> HandleForgetfulRun(Card& card, ChannelState&, const CommandApdu&) {
  card.set_external_closed(true);  // enters privileged mode and returns without leaving it
  return Response{};
}

TEST_F(CardTest, PrivilegedModeEndsWithTheCommandThatEnteredIt) {
  ASSERT_TRUE(card_->AddCommand({0x3A, HandleForgetfulRun}));
  EXPECT_EQ(Tx("003A0000"), "9000");
  EXPECT_FALSE(card_->external_closed());
  EXPECT_EQ(Tx("00A4000C023F00"), "9000");
}

TEST_F(CardTest, TerminateCardUsageIsIrreversible) {
  EXPECT_EQ(Sw("00FE0000"), "6982");
  EXPECT_EQ(Tx("00200082"
               "08" +
               ToHex(ToBytes("87654321"))),
            "9000");
  EXPECT_EQ(Tx("00FE0000"), "9000");
  EXPECT_EQ(Sw("00A4000C023F00"), "6A81");
  Reboot();
  EXPECT_EQ(Sw("00A4000C023F00"), "6A81");
}

}  // namespace
}  // namespace tessera::card

namespace tessera::card {
namespace {

TEST_F(CardTest, LifeCycleOfTheDefaultFilesNeedsTheAdministrator) {
  // Without the administrator PIN nobody deactivates, activates or terminates the MF or the
  // demo files (one unauthenticated APDU used to make SELECT MF answer 6283 for good).
  EXPECT_EQ(Sw("00040000"), "6982");  // DEACTIVATE the MF
  EXPECT_EQ(Sw("00E60000"), "6982");  // TERMINATE DF (the MF)
  EXPECT_EQ(Sw("00A4000C022F01"), "9000");
  EXPECT_EQ(Sw("00040000"), "6982");  // DEACTIVATE EF 2F01
  EXPECT_EQ(Sw("00E80000"), "6982");  // TERMINATE EF 2F01
  EXPECT_EQ(Sw("00A4040C09F05445535345524110"), "9000");
  EXPECT_EQ(Sw("00040000"), "6985");        // DEACTIVATE the demo DF: an application's life cycle
                                            // is its state in the registry, not the DF's
  EXPECT_EQ(Sw("00E80000021001"), "6982");  // TERMINATE EF 1001
  EXPECT_EQ(Sw("00E20010050102030405"), "6982");        // APPEND RECORD to EF 1002 (SFI 2)
  EXPECT_EQ(Sw("00DC0118080102030405060708"), "6982");  // UPDATE RECORD in the cyclic EF
  EXPECT_EQ(Tx("002000810431323334"), "9000");          // the user PIN is not enough
  EXPECT_EQ(Sw("00E80000021001"), "6982");
  EXPECT_EQ(Tx("00A4000C023F00"), "9000");              // the MF is still operational
  EXPECT_EQ(Tx("00200082083837363534333231"), "9000");  // the administrator may
  EXPECT_EQ(Tx("00A4000C022F01"), "9000");
  EXPECT_EQ(Tx("00040000"), "9000");
  EXPECT_EQ(Tx("00A4000C022F01"), "6283");
  EXPECT_EQ(Tx("00440000"), "9000");
}

}  // namespace
}  // namespace tessera::card

namespace tessera::card {
namespace {

TEST_F(CardTest, ResponsesNeverExceedOneFrame) {
  // GET CHALLENGE with an extended Le of 65,536: 65,533 bytes and 6103, then the rest.
  Bytes r = card_->Transmit(HexOrDie("00840000000000"));
  ASSERT_EQ(r.size(), 65535u);
  EXPECT_EQ(ToHex(ByteView(r).last(2)), "6103");
  EXPECT_EQ(Tx("00C0000003").size(), 2u * 5);
  // A 65,533-byte Le fits exactly.
  r = card_->Transmit(HexOrDie("0084000000FFFD"));
  ASSERT_EQ(r.size(), 65535u);
  EXPECT_EQ(ToHex(ByteView(r).last(2)), "9000");
}

}  // namespace
}  // namespace tessera::card
