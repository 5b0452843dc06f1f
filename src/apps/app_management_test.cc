// Record-driven application management end to end on one card (docs/applications.md): the
// installation file, the record door (UPDATE/ERASE RECORD in a session with the management
// application), the GlobalPlatform door, the state table, the directories, collection and the
// validity window.
#include <algorithm>
#include <map>

#include "card/check/card_inspector.h"
#include "card/registry/admin_registry.h"
#include "card/registry/app_registry.h"
#include "nvm/integrity.h"
#include "support/app_management_fixture.h"

namespace tessera::apps {
namespace {

const std::string kApp = "F05445535345524120";
const std::string kApp2 = "F05445535345524121";

std::string SelectCmd(const std::string& aid) {
  return "00A40400" + Lc(aid.size() / 2) + aid + "00";
}

TEST_F(AppManagementTest, TheDefaultCardListsItsApplicationsThroughBothDoors) {
  // The record view: the demo application, unsigned, active.
  auto list = List();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_NE(ToHex(list[0]).find("4F09F05445535345524110"), std::string::npos);
  EXPECT_EQ(ToHex(list[0]).find("9E40"), std::string::npos);  // unsigned
  // The GlobalPlatform view: demo and management application, SELECTABLE.
  auto isd = Issuer();
  ASSERT_NE(isd, nullptr);
  std::string apps = Sec(*isd, "80F24002024F0000");
  EXPECT_EQ(apps.substr(apps.size() - 4), "9000");
  EXPECT_NE(apps.find("4F09F05445535345524110"
                      "9F700107C503000000C40AF0544553534552414D03"),
            std::string::npos)
      << apps;
  EXPECT_NE(apps.find("4F09F05445535345524101"
                      "9F700107C503800000"),
            std::string::npos)
      << apps;
  std::string elfs = Sec(*isd, "80F21002024F0000");
  EXPECT_NE(elfs.find("E31C4F0AF0544553534552414D019F700101840AF0544553534552414D01"),
            std::string::npos)
      << elfs;
  EXPECT_EQ(SecSw(*isd, "80F22002024F00"), "9000");
  // A search that matches nothing.
  EXPECT_EQ(SecSw(*isd, "80F24002054F03AABBCC00"), "6A88");
  // The tag list keeps only the tags asked for.
  std::string only = Sec(*isd, "80F24002074F005C034F9F7000");
  EXPECT_EQ(only.substr(0, 32),
            "E30F4F09F05445535345524110"
            "9F7001");
  EXPECT_EQ(Pse(), std::vector<std::string>{"F05445535345524110"});
}

TEST_F(AppManagementTest, AnInstallationFileInstallsCodeDataAndRecordTogether) {
  AddAdmin();
  ASSERT_EQ(InstallDataStore(kApp, "hello"), "9000");
  // The record, signed by ACME, active; the GP view; the PSE; the application itself.
  EXPECT_EQ(RecordStatus(kApp), 0);
  EXPECT_NE(ToHex(List()[RecordOf(kApp) - 1]).find("9E40"), std::string::npos);
  auto isd = Issuer();
  EXPECT_NE(
      Sec(*isd, "80F24002" + Lc(2 + kApp.size() / 2) + "4F" + Lc(kApp.size() / 2) + kApp + "00")
          .find("9F700107"),
      std::string::npos);
  EXPECT_EQ(Pse(), (std::vector<std::string>{"F05445535345524110", kApp}));
  EXPECT_EQ(Sw(SelectCmd(kApp)), "9000");
  EXPECT_EQ(Sw("00B0000005"), "6982");  // the module's PIN first
  EXPECT_EQ(Sw("002000800431313131"), "63C2");
  EXPECT_EQ(Sw("002000800431323334"), "9000");
  EXPECT_EQ(Tx("00B0000005"), "68656C6C6F9000");
  EXPECT_EQ(Sw("00D600000401020304"), "9000");
  EXPECT_EQ(Tx("00B0000004"), "010203049000");
}

TEST_F(AppManagementTest, InstallationRefusals) {
  AddAdmin();
  ASSERT_EQ(InstallDataStore(kApp), "9000");
  auto isd = Issuer();
  Fields f;
  f.aid = kApp;
  // Duplicate AID.
  EXPECT_EQ(Upload(*isd, InstallFile(f, &admin_key_, kDataStoreModuleAid, {})), "6A89");
  f.aid = kApp2;
  // Unknown module.
  EXPECT_EQ(Upload(*isd, InstallFile(f, &admin_key_, "F0544553534552414D7F", {})), "6A88");
  // Signed by someone else, or not at all.
  EXPECT_EQ(Upload(*isd, InstallFile(f, &other_key_, kDataStoreModuleAid, {})), "6982");
  EXPECT_EQ(Upload(*isd, InstallFile(f, nullptr, kDataStoreModuleAid, {})), "6982");
  // The signature covers the AID: a file whose AID was changed after signing.
  {
    Fields signed_for = f;
    signed_for.aid = "F05445535345524199";
    auto sig = crypto::EcdsaP256Sign(admin_key_.private_key, SignedPart(signed_for));
    Bytes rec = SignedPart(f);
    Append(rec, HexOrDie("C20100"));
    Append(rec, EncodeTlv(0x9E, *sig));
    Bytes file = EncodeTlv(0xE1, rec);
    Append(file, EncodeTlv(0xC4, HexOrDie(kDataStoreModuleAid)));
    // The file signature holds: the record's own must too.
    EXPECT_EQ(Upload(*isd, SignedFile(file, &admin_key_)), "6982");
  }
  // An administrator the card does not know.
  Fields stranger = f;
  stranger.admin_id = 7;
  EXPECT_EQ(Upload(*isd, InstallFile(stranger, &admin_key_, kDataStoreModuleAid, {})), "6A88");
  // Code bytes: no format runs here.
  {
    Bytes file = Record(f, &admin_key_);
    Append(file, EncodeTlv(0xC7, HexOrDie("01AABBCC")));
    EXPECT_EQ(Upload(*isd, SignedFile(file, &admin_key_)), "6A81");
  }
  // ... whatever follows the code bytes (here privileges of the wrong length).
  {
    Bytes file = Record(f, &admin_key_);
    Append(file, EncodeTlv(0xC7, HexOrDie("01AABBCC")));
    Append(file, EncodeTlv(0xC5, HexOrDie("00")));
    EXPECT_EQ(Upload(*isd, SignedFile(file, &admin_key_)), "6A81");
  }
  // Bad module parameters, a reserved AID.
  EXPECT_EQ(Upload(*isd, InstallFile(f, &admin_key_, kDataStoreModuleAid, HexOrDie("810112"))),
            "6A80");
  Fields reserved = f;
  reserved.aid = "F0544553534552414D01";
  EXPECT_EQ(Upload(*isd, InstallFile(reserved, &admin_key_, kDataStoreModuleAid, {})), "6A80");
  // Blocks out of sequence: the upload is dropped.
  const Bytes file = InstallFile(f, &admin_key_, kDataStoreModuleAid, {});
  EXPECT_EQ(SecSw(*isd, "80E21000" + Lc(10) + ToHex(ByteView(file).first(10))), "9000");
  EXPECT_EQ(SecSw(*isd, "80E29002" + Lc(file.size() - 10) + ToHex(ByteView(file).subspan(10))),
            "6A86");
  EXPECT_EQ(SecSw(*isd, "80E29001" + Lc(file.size() - 10) + ToHex(ByteView(file).subspan(10))),
            "6A86");  // nothing to continue
  // No session: refused.
  EXPECT_EQ(Sw("00A4040000"), "9000");
  EXPECT_EQ(Sw("80E290000401020304"), "6982");
  // Nothing of the refused files exists.
  EXPECT_EQ(RecordOf(kApp2), 0);
  EXPECT_EQ(Sw(SelectCmd(kApp2)), "6A82");
  EXPECT_EQ(List().size(), 2u);
}

// The file signature (docs/applications.md §5.2) covers every byte the file makes the card act
// on: a file changed anywhere after signing is refused, even where the record's own signature
// still holds (C2, C4, C5, C9 are outside it).
TEST_F(AppManagementTest, TheFileSignatureCoversEverythingTheFileMakesTheCardDo) {
  AddAdmin();
  auto isd = Issuer();
  Fields f;
  f.aid = kApp;
  f.name = "SIGNED";
  f.start = "260101";
  f.expiry = "301231";
  TlvBuilder p;
  p.Add(0x80, ToBytes("signed data")).Add(0x81, ToBytes("1234"));
  const Bytes params = p.Take();
  // content(fields, module, privileges, params): E1 (record signed anew), C4, C5, C9.
  auto content = [&](const Fields& rf, const std::string& module, const std::string& privs,
                     const Bytes& c9) {
    Bytes inner = Record(rf, &admin_key_);
    Append(inner, EncodeTlv(0xC4, HexOrDie(module)));
    Append(inner, EncodeTlv(0xC5, HexOrDie(privs)));
    Append(inner, EncodeTlv(0xC9, c9));
    return inner;
  };
  const Bytes good = content(f, kDataStoreModuleAid, "000000", params);
  const Bytes file_sig = *crypto::EcdsaP256Sign(admin_key_.private_key, good);
  // `inner` with the signature made over `good`: what a file changed after signing carries.
  auto resigned = [&](const Bytes& inner) {
    Bytes v = inner;
    Append(v, EncodeTlv(0x9E, file_sig));
    return EncodeTlv(0xBF70, v);
  };
  TlvBuilder other_pin;
  other_pin.Add(0x80, ToBytes("signed data")).Add(0x81, ToBytes("9999"));
  const Bytes changed_pin = other_pin.Take();
  struct Change {
    const char* what;
    Bytes inner;
  };
  std::vector<Change> changes = {
      {"C5: security domain privileges", content(f, kDataStoreModuleAid, "800000", params)},
      {"C9: another PIN", content(f, kDataStoreModuleAid, "000000", changed_pin)},
      {"C4: another module", content(f, kPurseModuleAid, "000000", HexOrDie("810439393939"))},
  };
  // Every record field, the record re-signed so that its own signature holds.
  for (int field = 0; field < 5; ++field) {
    Fields g = f;
    const char* what = "";
    switch (field) {
      case 0:
        g.aid = kApp2, what = "4F: another AID";
        break;
      case 1:
        g.name = "CHANGED", what = "50: another name";
        break;
      case 2:
        g.start = "250101", what = "5F25: an earlier start";
        break;
      case 3:
        g.expiry = "991231", what = "5F24: a later expiry";
        break;
      case 4:
        g.status = 1, what = "C2: locked (outside the record's signature)";
        break;
    }
    changes.push_back({what, content(g, kDataStoreModuleAid, "000000", params)});
  }
  for (const Change& c : changes) {
    EXPECT_EQ(Upload(*isd, resigned(c.inner)), "6982") << c.what;
  }
  // The record's signature alone (an unsigned file), the file signed by someone else, or
  // anything after the file signature.
  EXPECT_EQ(Upload(*isd, EncodeTlv(0xBF70, good)), "6982");
  EXPECT_EQ(Upload(*isd, SignedFile(good, &other_key_)), "6982");
  {
    Bytes v = good;
    Append(v, EncodeTlv(0x9E, file_sig));
    Append(v, EncodeTlv(0xC9, params));
    EXPECT_EQ(Upload(*isd, EncodeTlv(0xBF70, v)), "6A80");
    // The objects out of their order (C9 before C5), though signed.
    Bytes swapped = Record(f, &admin_key_);
    Append(swapped, EncodeTlv(0xC4, HexOrDie(kDataStoreModuleAid)));
    Append(swapped, EncodeTlv(0xC9, params));
    Append(swapped, EncodeTlv(0xC5, HexOrDie("000000")));
    EXPECT_EQ(Upload(*isd, SignedFile(swapped, &admin_key_)), "6A80");
  }
  EXPECT_EQ(RecordOf(kApp), 0);
  EXPECT_EQ(RecordOf(kApp2), 0);
  // Signed as it is: installed, with its own privileges and PIN.
  isd = Issuer();  // reading the list selected the management application
  ASSERT_EQ(Upload(*isd, resigned(good)), "9000");
  EXPECT_EQ(RecordStatus(kApp), 0);
  isd = Issuer();
  EXPECT_NE(Sec(*isd, "80F24002" + Lc(11) + "4F09" + kApp + "00").find("9F700107C503000000"),
            std::string::npos);
  EXPECT_EQ(Sw(SelectCmd(kApp)), "9000");
  EXPECT_EQ(Sw("002000800439393939"), "63C2");
  EXPECT_EQ(Sw("002000800431323334"), "9000");
}

TEST_F(AppManagementTest, RecordStatusChangesDriveTheApplication) {
  AddAdmin();
  ASSERT_EQ(InstallDataStore(kApp, "kept"), "9000");
  Fields f;
  f.aid = kApp;
  f.name = "STORE 20";
  auto sc = Manager(0x21, AdminKeys());
  ASSERT_NE(sc, nullptr);
  // Lock: SELECT warns, every command is refused, the PSE drops it, GP shows LOCKED.
  f.status = 1;
  EXPECT_EQ(Update(*sc, kApp, Record(f, &admin_key_)), "9000");
  EXPECT_EQ(RecordStatus(kApp), 1);
  EXPECT_EQ(Pse(), std::vector<std::string>{"F05445535345524110"});
  EXPECT_EQ(Sw(SelectCmd(kApp)), "6283");
  EXPECT_EQ(Sw("002000800431323334"), "6985");
  EXPECT_EQ(Sw("00B0000004"), "6985");
  {
    auto isd = Issuer();
    EXPECT_NE(Sec(*isd, "80F24002" + Lc(11) + "4F09" + kApp + "00").find("9F700183"),
              std::string::npos);
  }
  // Unlock.
  sc = Manager(0x21, AdminKeys());
  f.status = 0;
  EXPECT_EQ(Update(*sc, kApp, Record(f, &admin_key_)), "9000");
  EXPECT_EQ(Sw(SelectCmd(kApp)), "9000");
  EXPECT_EQ(Sw("002000800431323334"), "9000");
  // Terminate: the data reads through the OS, the code never runs again.
  sc = Manager(0x21, AdminKeys());
  f.status = 2;
  EXPECT_EQ(Update(*sc, kApp, Record(f, &admin_key_)), "9000");
  EXPECT_EQ(Sw(SelectCmd(kApp)), "6285");
  EXPECT_EQ(Tx("00B0810004"), "6B6570749000");  // "kept", no PIN: the OS reads it
  EXPECT_EQ(Sw("002000800431323334"), "6985");
  // The module's PIN file is nobody's through the OS.
  EXPECT_EQ(Sw("00A4000C0201FF"), "6285");
  EXPECT_EQ(Sw("00B0000001"), "6982");
  EXPECT_EQ(Sw("00D600000401020304"), "6985");
  // Terminated is final.
  sc = Manager(0x21, AdminKeys());
  for (uint8_t to : {uint8_t{0}, uint8_t{1}, uint8_t{3}}) {
    f.status = to;
    EXPECT_EQ(Update(*sc, kApp, Record(f, &admin_key_)), "6985");
  }
  EXPECT_EQ(RecordStatus(kApp), 2);
}

TEST_F(AppManagementTest, EraseHidesAndRestoreBringsBack) {
  AddAdmin();
  ASSERT_EQ(InstallDataStore(kApp, "kept"), "9000");
  Fields f;
  f.aid = kApp;
  f.name = "STORE 20";
  auto sc = Manager(0x21, AdminKeys());
  f.status = 3;
  EXPECT_EQ(Update(*sc, kApp, Record(f, &admin_key_)), "9000");
  EXPECT_EQ(Sw(SelectCmd(kApp)), "6A82");
  // Not even by FID: no back door to an erased application's files.
  EXPECT_EQ(Sw("00A4000C024101"), "6A82");
  {
    auto isd = Issuer();
    EXPECT_EQ(SecSw(*isd, "80F24002" + Lc(11) + "4F09" + kApp + "00"), "6A88");
    EXPECT_EQ(SecSw(*isd, "80F04080" + Lc(9) + kApp), "6A88");
  }
  EXPECT_EQ(RecordStatus(kApp), 3);  // the record is still readable
  sc = Manager(0x21, AdminKeys());
  f.status = 0;
  EXPECT_EQ(Update(*sc, kApp, Record(f, &admin_key_)), "9000");
  EXPECT_EQ(Sw(SelectCmd(kApp)), "9000");
  EXPECT_EQ(Sw("002000800431323334"), "9000");
  EXPECT_EQ(Tx("00B0000004"), "6B6570749000");
}

TEST_F(AppManagementTest, WhoMayChangeARecord) {
  AddAdmin();
  {
    // A second administrator with its own keys (KVN 22).
    auto isd = Issuer();
    scp03::StaticKeys keys = AdminKeys();
    keys.enc = crypto::MakeSecure(HexOrDie("D1D2D3D4D5D6D7D8D9DADBDCDDDEDFD0"));
    ASSERT_EQ(Upload(*isd, AdminObject(2, "OTHER", other_key_.public_key, 0x22, &keys)), "9000");
  }
  ASSERT_EQ(InstallDataStore(kApp), "9000");
  Fields f;
  f.aid = kApp;
  f.name = "STORE 20";
  f.status = 1;
  const Bytes lock = Record(f, &admin_key_);
  // Unauthenticated.
  ASSERT_EQ(Sw(SelectCmd(kMgmtAid)), "9000");
  EXPECT_EQ(Sw("00DC010C" + Lc(lock.size()) + ToHex(lock)), "6982");
  EXPECT_EQ(Sw("000C010C"), "6982");
  // Another administrator.
  scp03::StaticKeys other = AdminKeys();
  other.enc = crypto::MakeSecure(HexOrDie("D1D2D3D4D5D6D7D8D9DADBDCDDDEDFD0"));
  auto sc = Manager(0x22, other);
  ASSERT_NE(sc, nullptr);
  // From here every refusal must leave NVM exactly as it was (sessions are open already).
  const Bytes unchanged = ram_->cells();
  EXPECT_EQ(Update(*sc, kApp, lock), "6982");
  EXPECT_EQ(SecSw(*sc, "840C" + std::string(RecordOf(kApp) == 2 ? "02" : "01") + "0C"), "6982");
  // Its own administrator, but with a broken signature, a changed AID, or none.
  sc = Manager(0x21, AdminKeys());
  Bytes bad = lock;
  bad[bad.size() - 1] ^= 1;
  EXPECT_EQ(Update(*sc, kApp, bad), "6982");
  EXPECT_EQ(Update(*sc, kApp, Record(f, nullptr)), "6982");
  Fields moved = f;
  moved.aid = kApp2;
  EXPECT_EQ(Update(*sc, kApp, Record(moved, &admin_key_)), "6A80");
  Fields taken = f;
  taken.admin_id = 2;
  EXPECT_EQ(Update(*sc, kApp, Record(taken, &other_key_)), "6982");
  // (The second session's INITIALIZE UPDATE moved its key set's sequence counter: compare
  // everything but that key set's block.)
  {
    auto root = card::LoadRoot(card_->store());
    auto admin = card::FindAdministrator(card_->store(), *root, 1);
    const uint32_t at = card_->store().layout().BlockOffset((*admin)->key_set);
    // The journal's own pages change with every commit: compare the data area (allocator
    // table, root, blocks), as the tear tests do.
    const uint32_t from = card_->store().layout().table_offset;
    Bytes now(ram_->cells().begin() + from, ram_->cells().end());
    Bytes before(unchanged.begin() + from, unchanged.end());
    std::fill(now.begin() + (at - from), now.begin() + (at - from) + 256, 0);
    std::fill(before.begin() + (at - from), before.begin() + (at - from) + 256, 0);
    // And that block's integrity check entry (docs/nvm-format.md §3.1).
    const nvm::Layout& l = card_->store().layout();
    const uint32_t entry = nvm::CheckEntryOffset(l, nvm::BlockUnit(l, (*admin)->key_set)) - from;
    std::fill(now.begin() + entry, now.begin() + entry + 4, 0);
    std::fill(before.begin() + entry, before.begin() + entry + 4, 0);
    EXPECT_TRUE(now == before) << "a refused command changed NVM";
  }
  // An illegal transition changes nothing either.
  {
    Fields erased = f;
    erased.status = 3;
    ASSERT_EQ(Update(*sc, kApp, Record(erased, &admin_key_)), "9000");
    sc = Manager(0x21, AdminKeys());
    const uint32_t from = card_->store().layout().table_offset;
    const Bytes before(ram_->cells().begin() + from, ram_->cells().end());
    Fields terminated = f;
    terminated.status = 2;
    EXPECT_EQ(Update(*sc, kApp, Record(terminated, &admin_key_)), "6985");
    EXPECT_TRUE(Bytes(ram_->cells().begin() + from, ram_->cells().end()) == before)
        << "a refused transition changed NVM";
    Fields restored = f;
    restored.status = 0;
    ASSERT_EQ(Update(*sc, kApp, Record(restored, &admin_key_)), "9000");
    sc = Manager(0x21, AdminKeys());
  }
  EXPECT_EQ(RecordStatus(kApp), 0);
  EXPECT_EQ(Sw(SelectCmd(kApp)), "9000");
  // The issuer may act on every record.
  auto issuer = Manager(0x30, crypto::scp03::TestKeys());
  ASSERT_NE(issuer, nullptr);
  EXPECT_EQ(Update(*issuer, kApp, lock), "9000");
  EXPECT_EQ(RecordStatus(kApp), 1);
}

TEST_F(AppManagementTest, ErasingARecordDeletesAndWipesTheApplication) {
  AddAdmin();
  const std::string secret = "WIPE-ME-0123456789-ABCDEFGHIJ";
  ASSERT_EQ(InstallDataStore(kApp, secret), "9000");
  ASSERT_EQ(Sw(SelectCmd(kApp)), "9000");
  ASSERT_EQ(Sw("002000800431323334"), "9000");
  const std::string more = "SECOND-SECRET-abcdefghijklmnop";
  ASSERT_EQ(Sw("00D60040" + Lc(more.size()) + ToHex(ToBytes(more))), "9000");
  auto count = [&](const std::string& s) {
    const Bytes& image = ram_->cells();
    const Bytes needle = ToBytes(s);
    size_t n = 0;
    for (auto it = image.begin();
         (it = std::search(it, image.end(), needle.begin(), needle.end())) != image.end(); ++it) {
      ++n;
    }
    return n;
  };
  EXPECT_GE(count(secret), 1u);
  auto sc = Manager(0x21, AdminKeys());
  const int n = RecordOf(kApp);
  char cmd[16];
  std::snprintf(cmd, sizeof cmd, "840C%02X0C", n);
  EXPECT_EQ(SecSw(*sc, cmd), "9000");
  EXPECT_EQ(RecordOf(kApp), 0);
  EXPECT_EQ(Sw(SelectCmd(kApp)), "6A82");
  EXPECT_EQ(count(secret), 0u);
  EXPECT_EQ(count(more), 0u);
  auto isd = Issuer();
  EXPECT_EQ(SecSw(*isd, "80F24002" + Lc(11) + "4F09" + kApp + "00"), "6A88");
  EXPECT_EQ(Pse(), std::vector<std::string>{"F05445535345524110"});
}

TEST_F(AppManagementTest, TheGlobalPlatformDoorActsOnTheSameRegistry) {
  auto isd = Issuer();
  ASSERT_NE(isd, nullptr);
  // INSTALL [for install and make selectable] of a DATA STORE, as GP hosts send it (no Le).
  const std::string install = "80E60C00" + Lc(38) + "0A" + kDataStoreModuleAid + "0A" +
                              kDataStoreModuleAid + "09" + kApp + "0100" + "02C900" + "00";
  EXPECT_EQ(Sec(*isd, install), "9000");
  EXPECT_EQ(RecordStatus(kApp), 0);  // the record view sees it (unsigned)
  isd = Issuer();
  EXPECT_EQ(SecSw(*isd, "80F04080" + Lc(9) + kApp), "9000");  // lock
  EXPECT_EQ(RecordStatus(kApp), 1);
  EXPECT_EQ(Sw(SelectCmd(kApp)), "6283");
  isd = Issuer();
  EXPECT_EQ(SecSw(*isd, "80F04000" + Lc(9) + kApp), "9000");  // unlock
  EXPECT_EQ(SecSw(*isd, "80F04000" + Lc(9) + kApp), "9000");  // unlocking again: no change
  EXPECT_EQ(RecordStatus(kApp), 0);
  isd = Issuer();
  // Personalization: STORE DATA goes to the application.
  EXPECT_EQ(Sec(*isd, "80E62000" + Lc(3 + 9 + 3) + "0000" + "09" + kApp + "000000"), "9000");
  EXPECT_EQ(SecSw(*isd, "80E28000" + Lc(11) + "8104353637388003414243"), "9000");
  EXPECT_EQ(Sw(SelectCmd(kApp)), "9000");
  EXPECT_EQ(Sw("002000800435363738"), "9000");
  EXPECT_EQ(Tx("00B0000003"), "4142439000");
  // DELETE: record and application go.
  isd = Issuer();
  EXPECT_EQ(Sec(*isd, "80E40000" + Lc(11) + "4F09" + kApp), "9000");
  EXPECT_EQ(RecordOf(kApp), 0);
  EXPECT_EQ(Sw(SelectCmd(kApp)), "6A82");
  isd = Issuer();
  EXPECT_EQ(SecSw(*isd, "80E40000" + Lc(11) + "4F09" + kApp), "6A88");
  // Built-in code and the ISD stay; no load file takes a built-in module's AID, and LOAD
  // follows INSTALL [for load] (docs/applets.md §2; lua_runtime_test.cc loads packages).
  EXPECT_EQ(SecSw(*isd, "80E40080" + Lc(12) + "4F0A" + kDataStoreModuleAid), "6985");
  EXPECT_EQ(SecSw(*isd, "80E40000" + Lc(10) + "4F08A000000151000000"), "6985");
  EXPECT_EQ(SecSw(*isd, "80E60200" + Lc(15) + "0A" + kDataStoreModuleAid + "00000000"), "6A80");
  EXPECT_EQ(SecSw(*isd, "80E8800001AA"), "6985");
}

// The issuer's records (administrator 00) through both doors, alternating on one application:
// the issuer's session is enough for the record door too, no signing key needed
// (docs/applications.md §4).
TEST_F(AppManagementTest, TheIssuerUsesBothDoorsOnItsOwnRecords) {
  AddAdmin();
  auto isd = Issuer();
  ASSERT_NE(isd, nullptr);
  const std::string install = "80E60C00" + Lc(38) + "0A" + kDataStoreModuleAid + "0A" +
                              kDataStoreModuleAid + "09" + kApp + "0100" + "02C900" + "00";
  ASSERT_EQ(Sec(*isd, install), "9000");
  // The GP life cycle (9F70) GET STATUS gives, "" when not listed.
  auto gp_state = [&] {
    auto s = Issuer();
    const std::string r = Sec(*s, "80F24002" + Lc(11) + "4F09" + kApp + "00");
    const size_t at = r.find("9F7001");
    return at == std::string::npos ? r.substr(r.size() - 4) : r.substr(at + 6, 2);
  };
  // The record as the card holds it (unsigned, administrator 00), with status `to`.
  auto with_status = [&](uint8_t to) {
    Bytes rec = List()[RecordOf(kApp) - 1];
    const std::string hex = ToHex(rec);
    EXPECT_NE(hex.find("C10100"), std::string::npos) << hex;  // the issuer's
    EXPECT_EQ(hex.find("9E40"), std::string::npos) << hex;    // unsigned
    const size_t at = hex.find("C201");
    EXPECT_EQ(at % 2, 0u) << hex;
    rec[at / 2 + 2] = to;
    return rec;
  };
  auto record_door = [&](uint8_t to) {
    const Bytes record = with_status(to);
    auto sc = Manager(0x30, crypto::scp03::TestKeys());  // the issuer's key set
    EXPECT_NE(sc, nullptr);
    return Update(*sc, kApp, record);
  };
  EXPECT_EQ(RecordStatus(kApp), 0);
  EXPECT_EQ(gp_state(), "07");
  // Record door: lock.
  EXPECT_EQ(record_door(1), "9000");
  EXPECT_EQ(RecordStatus(kApp), 1);
  EXPECT_EQ(gp_state(), "83");
  EXPECT_EQ(Sw(SelectCmd(kApp)), "6283");
  // GP door: unlock.
  isd = Issuer();
  EXPECT_EQ(SecSw(*isd, "80F04000" + Lc(9) + kApp), "9000");
  EXPECT_EQ(RecordStatus(kApp), 0);
  EXPECT_EQ(gp_state(), "07");
  EXPECT_EQ(Sw(SelectCmd(kApp)), "9000");
  // GP door: lock; record door: unlock.
  isd = Issuer();
  EXPECT_EQ(SecSw(*isd, "80F04080" + Lc(9) + kApp), "9000");
  EXPECT_EQ(gp_state(), "83");
  EXPECT_EQ(record_door(0), "9000");
  EXPECT_EQ(RecordStatus(kApp), 0);
  EXPECT_EQ(gp_state(), "07");
  // Not for anyone else: an administrator's session never acts on the issuer's records, and
  // a signature that is there must verify, also from the issuer.
  {
    auto acme = Manager(0x21, AdminKeys());
    ASSERT_NE(acme, nullptr);
    EXPECT_EQ(Update(*acme, kApp, with_status(1)), "6982");
    auto sc = Manager(0x30, crypto::scp03::TestKeys());
    Bytes forged = with_status(1);
    Bytes inner(forged.begin() + 2, forged.end());
    Append(inner, EncodeTlv(0x9E, Bytes(64, 0x5A)));
    EXPECT_EQ(Update(*sc, kApp, EncodeTlv(0xE1, inner)), "6982");
    EXPECT_EQ(RecordStatus(kApp), 0);
  }
  // Record door: terminate; GP can no longer change it.
  EXPECT_EQ(record_door(2), "9000");
  EXPECT_EQ(RecordStatus(kApp), 2);
  EXPECT_EQ(gp_state(), "0F");
  EXPECT_EQ(Sw(SelectCmd(kApp)), "6285");
  isd = Issuer();
  EXPECT_EQ(SecSw(*isd, "80F04000" + Lc(9) + kApp), "6985");
  EXPECT_EQ(record_door(0), "6985");
  // Record door: delete.
  {
    auto sc = Manager(0x30, crypto::scp03::TestKeys());
    char cmd[16];
    std::snprintf(cmd, sizeof cmd, "840C%02X0C", RecordOf(kApp));
    EXPECT_EQ(SecSw(*sc, cmd), "9000");
  }
  EXPECT_EQ(RecordOf(kApp), 0);
  EXPECT_EQ(gp_state(), "6A88");
}

// The issuer's session does not stand in for another administrator's signature.
TEST_F(AppManagementTest, TheIssuerStillNeedsAnAdministratorsSignatureOnItsRecords) {
  AddAdmin();
  auto isd = Issuer();
  ASSERT_NE(isd, nullptr);
  // Collected unsigned: administrator 01's record without a signature.
  EXPECT_EQ(Sec(*isd, "80E40000" + Lc(11) + "4F09" + kMgmtAid), "9000");
  ASSERT_EQ(InstallDataStore(kApp), "9000");
  isd = Issuer();
  ASSERT_EQ(
      Sec(*isd, "80E60C00" + Lc(11 + 11 + 10 + 4 + 3 + 1) + "0A" + "F0544553534552414D00" + "0A" +
                    "F0544553534552414D00" + "09" + kMgmtAid + "03800000" + "02C900" + "00"),
      "9000");
  Fields f;
  f.aid = kApp;
  f.name = "STORE 20";
  f.status = 1;
  auto issuer = Manager(0x30, crypto::scp03::TestKeys());
  ASSERT_NE(issuer, nullptr);
  EXPECT_EQ(Update(*issuer, kApp, Record(f, nullptr)), "6982");
  EXPECT_EQ(RecordStatus(kApp), 0);
  EXPECT_EQ(Update(*issuer, kApp, Record(f, &admin_key_)), "9000");
  EXPECT_EQ(RecordStatus(kApp), 1);
}

TEST_F(AppManagementTest, GetStatusContinuesWith6310) {
  auto isd = Issuer();
  std::vector<std::string> aids;
  for (int i = 0; i < 8; ++i) {
    char aid[40];
    std::snprintf(aid, sizeof aid, "F054455353455241303132333435%02X", i);
    aids.push_back(aid);
    const std::string a = aid;
    EXPECT_EQ(
        Sec(*isd, "80E60C00" + Lc(11 + 11 + 16 + 2 + 3 + 1) + "0A" + kDataStoreModuleAid + "0A" +
                      kDataStoreModuleAid + Lc(a.size() / 2) + a + "0100" + "02C900" + "00"),
        "9000");
  }
  std::string first = Sec(*isd, "80F24002024F0000");
  ASSERT_EQ(first.substr(first.size() - 4), "6310");
  EXPECT_LE(first.size() / 2 - 2, 240u);
  std::string all = first.substr(0, first.size() - 4);
  for (int i = 0; i < 5; ++i) {
    std::string next = Sec(*isd, "80F24003024F0000");
    all += next.substr(0, next.size() - 4);
    if (next.substr(next.size() - 4) == "9000") break;
    ASSERT_EQ(next.substr(next.size() - 4), "6310");
  }
  for (const std::string& a : aids) {
    const std::string tag = "4F" + Lc(a.size() / 2) + a;
    EXPECT_NE(all.find(tag), std::string::npos) << a;
    EXPECT_EQ(all.find(tag), all.rfind(tag)) << a << " listed twice";
  }
  // A continuation without a pending query.
  EXPECT_EQ(SecSw(*isd, "80F24003024F0000"), "6A88");
  // 16 applications at most.
  EXPECT_EQ(
      Sec(*isd, "80E60C00" + Lc(11 + 11 + 10 + 2 + 3 + 1) + "0A" + kDataStoreModuleAid + "0A" +
                    kDataStoreModuleAid + "09F05445535345524177" + "0100" + "02C900" + "00"),
      "9000");
}

TEST_F(AppManagementTest, PurseCreditsUnderTheAdministratorsChannelAndDebitsUnderPin) {
  AddAdmin();
  auto isd = Issuer();
  Fields f;
  f.aid = kApp2;
  f.name = "PURSE";
  TlvBuilder p;
  p.Add(0x80, HexOrDie("00000064")).Add(0x81, ToBytes("9999"));
  ASSERT_EQ(Upload(*isd, InstallFile(f, &admin_key_, kPurseModuleAid, p.Take())), "9000");
  EXPECT_EQ(Sw(SelectCmd(kApp2)), "9000");
  EXPECT_EQ(Tx("805C000004"), "000000649000");
  EXPECT_EQ(Sw("8052000004000000C8"), "6982");  // credit: no channel
  EXPECT_EQ(Sw("8054000004000000C8"), "6982");  // debit: no PIN
  auto purse = Open(kApp2, 0x21, AdminKeys());
  ASSERT_NE(purse, nullptr);
  EXPECT_EQ(SecSw(*purse, "8052000004000000C8"), "9000");  // +200
  EXPECT_EQ(Tx("805C000004"), "0000012C9000");
  EXPECT_EQ(Sw("002000800439393939"), "9000");
  EXPECT_EQ(Sw("8054000004000001F4"), "6A80");  // more than the balance
  EXPECT_EQ(Sw("805400000400000032"), "9000");  // -50
  EXPECT_EQ(Tx("805C000004"), "000000FA9000");
  // The log: newest first.
  EXPECT_EQ(Tx("00B2011400").substr(0, 18), "0200000032000000FA");
  EXPECT_EQ(Tx("00B2021400").substr(0, 18), "01000000C80000012C");
  // Terminated: the balance and the log still read through the OS; the code is gone.
  auto sc = Manager(0x21, AdminKeys());
  f.status = 2;
  EXPECT_EQ(Update(*sc, kApp2, Record(f, &admin_key_)), "9000");
  EXPECT_EQ(Sw(SelectCmd(kApp2)), "6285");
  EXPECT_EQ(Sw("805C000004"), "6985");
  EXPECT_EQ(Tx("00B0810004"), "000000FA9000");
  EXPECT_EQ(Tx("00B2011400").substr(0, 2), "02");
}

TEST_F(AppManagementTest, TheValidityWindowFollowsTheTrustedDate) {
  AddAdmin();
  auto isd = Issuer();
  Fields f;
  f.aid = kApp;
  f.name = "WINDOW";
  f.start = "270101";
  f.expiry = "271231";
  TlvBuilder p;
  p.Add(0x81, ToBytes("1234"));
  ASSERT_EQ(Upload(*isd, InstallFile(f, &admin_key_, kDataStoreModuleAid, p.Take())), "9000");
  EXPECT_EQ(Sw(SelectCmd(kApp)), "9000");  // no trusted date yet
  isd = Issuer();
  EXPECT_EQ(Upload(*isd, HexOrDie("DF7203261201")), "9000");
  EXPECT_EQ(Sw(SelectCmd(kApp)), "6A82");  // before its start
  EXPECT_EQ(RecordStatus(kApp), 0);        // its record still reads
  EXPECT_EQ(Pse(), std::vector<std::string>{"F05445535345524110"});
  isd = Issuer();
  EXPECT_EQ(Upload(*isd, HexOrDie("DF7203270615")), "9000");
  EXPECT_EQ(Sw(SelectCmd(kApp)), "9000");
  EXPECT_EQ(Pse(), (std::vector<std::string>{"F05445535345524110", kApp}));
  isd = Issuer();
  EXPECT_EQ(Upload(*isd, HexOrDie("DF7203261231")), "6985");  // never backwards
  EXPECT_EQ(Sec(*isd, "80CADF7200"), "DF72032706159000");
  EXPECT_EQ(Upload(*isd, HexOrDie("DF7203280101")), "9000");
  EXPECT_EQ(Sw(SelectCmd(kApp)), "6A82");                     // expired
  EXPECT_EQ(Upload(*isd, HexOrDie("DF7203281301")), "6A80");  // month 13
}

TEST_F(AppManagementTest, InstallingTheManagementApplicationCollectsRecords) {
  AddAdmin();
  ASSERT_EQ(InstallDataStore(kApp), "9000");
  auto isd = Issuer();
  // Without the management application there is no list.
  EXPECT_EQ(Sec(*isd, "80E40000" + Lc(11) + "4F09" + kMgmtAid), "9000");
  EXPECT_EQ(Sw(SelectCmd(kMgmtAid)), "6A82");
  isd = Issuer();
  // The demo's label and the data store's name come from the PSE; administrators from the
  // registry; nobody signed them here.
  EXPECT_EQ(
      Sec(*isd, "80E60C00" + Lc(11 + 11 + 10 + 4 + 3 + 1) + "0A" + "F0544553534552414D00" + "0A" +
                    "F0544553534552414D00" + "09" + kMgmtAid + "03800000" + "02C900" + "00"),
      "9000");
  auto list = List();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_NE(ToHex(list[0]).find(ToHex(ToBytes("TESSERA DEMO"))), std::string::npos);
  EXPECT_NE(ToHex(list[1]).find("C0" + Lc(4) + ToHex(ToBytes("ACME"))), std::string::npos);
  EXPECT_EQ(ToHex(list[1]).find("9E40"), std::string::npos);
  // Unsigned until the administrator signs it: a status change needs the signature.
  auto sc = Manager(0x21, AdminKeys());
  Fields f;
  f.aid = kApp;
  f.name = "STORE 20";
  f.status = 1;
  EXPECT_EQ(Update(*sc, kApp, Record(f, nullptr)), "6982");
  EXPECT_EQ(Update(*sc, kApp, Record(f, &admin_key_)), "9000");
  EXPECT_NE(ToHex(List()[1]).find("9E40"), std::string::npos);
  EXPECT_EQ(Sw(SelectCmd(kApp)), "6283");
}

TEST_F(AppManagementTest, AdministratorsAreListedAndUnique) {
  AddAdmin();
  auto isd = Issuer();
  std::string admins = Sec(*isd, "80CABF7100");
  EXPECT_NE(admins.find("C10101C004" + ToHex(ToBytes("ACME")) + "8641" +
                        ToHex(admin_key_.public_key) + "D20121"),
            std::string::npos)
      << admins;
  scp03::StaticKeys keys = AdminKeys();
  EXPECT_EQ(Upload(*isd, AdminObject(1, "AGAIN", admin_key_.public_key, 0x23, &keys)), "6A89");
  EXPECT_EQ(Upload(*isd, AdminObject(3, "KVN", admin_key_.public_key, 0x30, &keys)), "6985");
  EXPECT_EQ(Upload(*isd, AdminObject(4, "KVN", admin_key_.public_key, 0x21, &keys)), "6985");
  Bytes bad_kcv = AdminObject(5, "KCV", admin_key_.public_key, 0x25, &keys);
  bad_kcv[bad_kcv.size() - 1] ^= 1;
  EXPECT_EQ(Upload(*isd, bad_kcv), "9485");
  EXPECT_EQ(Upload(*isd, AdminObject(0, "ISSUER", admin_key_.public_key, 0x26, &keys)), "6A80");
  EXPECT_EQ(Upload(*isd, AdminObject(0, "ISSUER", admin_key_.public_key, 0, nullptr)), "9000");
}

// An administrator is its signing key (docs/applications.md §5.3): an object without one, or
// with 65 bytes that are no point of P-256, is refused and takes none of the 8 slots.
TEST_F(AppManagementTest, AdministratorsNeedAPointOfP256) {
  auto isd = Issuer();
  ASSERT_NE(isd, nullptr);
  Bytes off_curve = admin_key_.public_key;
  off_curve.back() ^= 0x01;  // the same X with a Y that is not one of its two
  Bytes beyond_p = admin_key_.public_key;
  std::fill(beyond_p.begin() + 1, beyond_p.begin() + 33, 0xFF);  // X >= the field prime
  Bytes compressed(admin_key_.public_key.begin(), admin_key_.public_key.begin() + 33);
  compressed[0] = static_cast<uint8_t>(0x02 | (admin_key_.public_key.back() & 1));
  const struct {
    const char* what;
    Bytes key;
  } bad[] = {
      {"no 86", {}},
      {"65 zero bytes", Bytes(65, 0)},
      {"a point off the curve", off_curve},
      {"an X beyond the field", beyond_p},
      {"a compressed point", compressed},
  };
  scp03::StaticKeys keys = AdminKeys();
  for (const auto& b : bad) {
    EXPECT_EQ(Upload(*isd, AdminObject(1, "BAD", b.key, 0, nullptr)), "6A80") << b.what;
    EXPECT_EQ(Upload(*isd, AdminObject(2, "BAD", b.key, 0x21, &keys)), "6A80") << b.what;
  }
  // A key given twice.
  {
    Bytes twice = AdminObject(1, "TWICE", admin_key_.public_key, 0, nullptr);
    Bytes value(twice.begin() + 3, twice.end());  // BF71 L: one length byte here
    ASSERT_EQ(twice[2], value.size());
    Append(value, EncodeTlv(0x86, admin_key_.public_key));
    EXPECT_EQ(Upload(*isd, EncodeTlv(0xBF71, value)), "6A80");
  }
  // None of them is registered; all 8 slots are free.
  EXPECT_EQ(Sec(*isd, "80CABF7100").find("C0"), std::string::npos);
  for (uint8_t id = 1; id <= 8; ++id) {
    EXPECT_EQ(Upload(*isd, AdminObject(id, "ADMIN", admin_key_.public_key, 0, nullptr)), "9000")
        << static_cast<int>(id);
  }
  EXPECT_EQ(Upload(*isd, AdminObject(9, "NINTH", admin_key_.public_key, 0, nullptr)), "6A84");
  // Every registered administrator is listed with its key.
  const std::string listed = Sec(*isd, "80CABF7100");
  size_t keys_listed = 0;
  for (size_t at = 0;
       (at = listed.find("8641" + ToHex(admin_key_.public_key), at)) != std::string::npos; ++at) {
    ++keys_listed;
  }
  EXPECT_EQ(keys_listed, 8u);
}

// The state table of docs/applications.md §2, cell by cell: for each state, what each class of
// command gets from a PURSE (it has interindustry and proprietary commands of its own, takes
// SCP03 sessions, and keeps readable data).
TEST_F(AppManagementTest, EveryStateAgainstEveryCommandClass) {
  AddAdmin();
  auto isd = Issuer();
  Fields f;
  f.aid = kApp2;
  f.name = "PURSE";
  TlvBuilder p;
  p.Add(0x80, HexOrDie("00000064")).Add(0x81, ToBytes("9999"));
  ASSERT_EQ(Upload(*isd, InstallFile(f, &admin_key_, kPurseModuleAid, p.Take())), "9000");
  struct Row {
    const char* what;
    std::string apdu;
    std::string active, locked, terminated, erased;
  };
  const std::vector<Row> rows = {
      // Erased: SELECT fails and the card stays at the MF, so the other commands never reach
      // the application: "MF" = what the same command gets at the MF with nothing selected.
      {"SELECT by AID", SelectCmd(kApp2), "9000", "6283", "6285", "6A82"},
      {"SELECT of its EF by FID", "00A4000C020201", "9000", "6283", "6285", "6A82"},
      {"its interindustry command (VERIFY)", "002000800439393939", "9000", "6985", "6985", "MF"},
      {"its proprietary command (GET BALANCE)", "805C000004", "9000", "6985", "6985", "MF"},
      {"OS read of its data (READ BINARY by SFI)", "00B0810004", "9000", "6985", "9000", "MF"},
      {"OS read of its log (READ RECORD by SFI)", "00B2011400", "6A83", "6985", "6A83", "MF"},
      {"OS write (UPDATE BINARY by SFI)", "00D6810001FF", "6982", "6985", "6985", "MF"},
      {"a proprietary command it does not know", "80AA000000", "6D00", "6985", "6985", "MF"},
      {"INITIALIZE UPDATE (its sessions)", "8050210008000102030405060700", "9000", "6985", "6985",
       "MF"},
  };
  std::map<std::string, std::string> at_mf;
  for (const Row& row : rows) {
    (void)Tx("00A4000C023F00");
    at_mf[row.what] = Sw(row.apdu);
  }
  EXPECT_EQ(at_mf["its proprietary command (GET BALANCE)"], "6D00");
  // active, locked, erased (from locked), then terminated (after a restore: termination is
  // final, so it comes last).
  for (int state : {0, 1, 3, 2}) {
    auto set = [&](int to) {
      auto sc = Manager(0x21, AdminKeys());
      f.status = static_cast<uint8_t>(to);
      ASSERT_EQ(Update(*sc, kApp2, Record(f, &admin_key_)), "9000") << to;
    };
    if (state == 2) set(0);
    if (state > 0) set(state);
    for (const Row& row : rows) {
      std::string want = state == 0   ? row.active
                         : state == 1 ? row.locked
                         : state == 2 ? row.terminated
                                      : row.erased;
      if (want == "MF") want = at_mf[row.what];
      // Every command starts from the MF and the application selected (as far as its state
      // allows).
      (void)Tx("00A4000C023F00");
      (void)Tx(SelectCmd(kApp2));
      EXPECT_EQ(Sw(row.apdu), want) << row.what << " in state " << state;
    }
  }
}

TEST_F(AppManagementTest, SearchRecordFindsAnApplicationsRecord) {
  AddAdmin();
  ASSERT_EQ(InstallDataStore(kApp), "9000");
  ASSERT_EQ(Sw(SelectCmd(kMgmtAid)), "9000");
  EXPECT_EQ(Tx("00A2010C0B4F09" + kApp + "00"), "029000");
  EXPECT_EQ(Sw("00A2010C054F03AABBCC00"), "6A83");
  // Nobody writes the list through the OS's commands.
  EXPECT_EQ(Sw("00E2000803E10100"), "6982");
}

TEST_F(AppManagementTest, AFullRegistryIsOutOfMemory) {
  auto isd = Issuer();
  // The default card holds two applications; 14 more fill the registry.
  for (int i = 0; i < 15; ++i) {
    char aid[32];
    std::snprintf(aid, sizeof aid, "F0544553534552415A%02X", i);
    const std::string a = aid;
    const std::string sw =
        SecSw(*isd, "80E60C00" + Lc(11 + 11 + 11 + 2 + 3 + 1) + "0A" + kDataStoreModuleAid + "0A" +
                        kDataStoreModuleAid + Lc(a.size() / 2) + a + "0100" + "02C900" + "00");
    EXPECT_EQ(sw, i < 14 ? "9000" : "6A84") << i;
  }
  EXPECT_EQ(List().size(), 15u);  // the demo's and 14 records
}

// No way around an application's state gate to its files: not by selecting the ISD (which has
// no DF) after it, not by a channel opened from its channel, not by file commands.
TEST_F(AppManagementTest, NoBackDoorToAnApplicationsFiles) {
  AddAdmin();
  ASSERT_EQ(InstallDataStore(kApp, "no back door"), "9000");
  // The ISD after the application: the MF is current, the application's EF unreachable.
  ASSERT_EQ(Sw(SelectCmd(kApp)), "9000");
  ASSERT_EQ(Sw("00A4040000"), "9000");
  EXPECT_NE(Tx("00B0810010").substr(0, 8), ToHex(ToBytes("no b")));
  EXPECT_EQ(Sw("00B0000010"), "6986");  // nothing current
  // A channel opened from the application's channel inherits the application, and so its
  // rules (its PIN is not verified there).
  ASSERT_EQ(Sw("0070000101"), "9000");
  ASSERT_EQ(Sw("01A40400" + Lc(9) + kApp + "00"), "9000");
  ASSERT_EQ(Tx("0170000001"), "029000");
  EXPECT_EQ(Sw("02B0810010"), "6982");
  EXPECT_EQ(Sw("02B0000010"), "6982");
  // Locked: nothing at all, whichever way the file is named.
  auto sc = Manager(0x21, AdminKeys());
  Fields f;
  f.aid = kApp;
  f.name = "STORE 20";
  f.status = 1;
  ASSERT_EQ(Update(*sc, kApp, Record(f, &admin_key_)), "9000");
  EXPECT_EQ(Sw("02B0810010"), "6985");
  EXPECT_EQ(Sw("00A4080C0441010101"), "6283");  // by path: the application, locked
  EXPECT_EQ(Sw("00B0000010"), "6985");
  // File life-cycle commands never act on an application's DF, even for the administrator.
  ASSERT_EQ(Sw("00A4000C023F00"), "9000");
  ASSERT_EQ(Sw("00200082083837363534333231"), "9000");
  EXPECT_EQ(Sw("00E40000024101"), "6985");  // DELETE FILE
  EXPECT_EQ(Sw("00040000024101"), "6985");  // DEACTIVATE
  EXPECT_EQ(Sw("00E60000024101"), "6985");  // TERMINATE DF
  EXPECT_EQ(Sw("00E40000024100"), "6985");  // the management application's DF
  EXPECT_EQ(RecordStatus(kApp), 1);
}

TEST_F(AppManagementTest, KeyVersionsAreUniqueAcrossIssuerAndAdministrators) {
  AddAdmin();  // KVN 21
  auto isd = Issuer();
  // PUT KEY of an issuer key set with the administrator's KVN.
  Bytes put{0x21};
  const auto dek = HexOrDie("404142434445464748494A4B4C4D4E4F");
  for (int i = 0; i < 3; ++i) {
    const Bytes key(16, static_cast<uint8_t>(0x30 + i));
    Append(put, Bytes{0x88, 0x11, 0x10});
    Append(put, *crypto::AesCbcEncrypt(dek, Bytes(16, 0), key));
    put.push_back(0x03);
    Append(put, *scp03::KeyCheckValue(key));
  }
  EXPECT_EQ(SecSw(*isd, "80D80081" + Lc(put.size()) + ToHex(put) + "00"), "6985");
}

TEST_F(AppManagementTest, PrivilegesAndNamesAreChecked) {
  AddAdmin();
  auto isd = Issuer();
  Fields f;
  f.aid = kApp;
  // DAP verification, mandated DAP, and the third byte's RFU bits: GP hosts refuse them.
  for (const char* privs : {"C00000", "C10000", "000001"}) {
    Bytes file = Record(f, &admin_key_);
    Append(file, EncodeTlv(0xC4, HexOrDie(kDataStoreModuleAid)));
    Append(file, EncodeTlv(0xC5, HexOrDie(privs)));
    EXPECT_EQ(Upload(*isd, SignedFile(file, &admin_key_)), "6A80") << privs;
  }
  EXPECT_EQ(SecSw(*isd, "80E60C00" + Lc(38) + "0A" + kDataStoreModuleAid + "0A" +
                            kDataStoreModuleAid + "09" + kApp + "01C1" + "02C900" + "00"),
            "6A80");
  // A record that names another administrator than its id's.
  Fields impostor = f;
  impostor.admin_name = "ISSUER";
  EXPECT_EQ(Upload(*isd, InstallFile(impostor, &admin_key_, kDataStoreModuleAid, {})), "6A80");
  // AIDs that a partial SELECT would confuse with the ISD or a module.
  Fields prefix = f;
  prefix.aid = "A000000151";
  EXPECT_EQ(Upload(*isd, InstallFile(prefix, &admin_key_, kDataStoreModuleAid, {})), "6A80");
  prefix.aid = "F0544553534552414D01FF";
  EXPECT_EQ(Upload(*isd, InstallFile(prefix, &admin_key_, kDataStoreModuleAid, {})), "6A80");
  EXPECT_EQ(Upload(*isd, InstallFile(f, &admin_key_, kDataStoreModuleAid, {})), "9000");
}

TEST_F(AppManagementTest, TheCardCheckerSeesRecordsAndApplicationsDisagree) {
  AddAdmin();
  ASSERT_EQ(InstallDataStore(kApp), "9000");
  auto inspect = [&] { return card::InspectCard(card_->store()); };
  ASSERT_TRUE(inspect().ok()) << inspect().damage.front().message;
  auto root = card::LoadRoot(card_->store());
  auto registry = card::LoadRegistry(card_->store(), *root);
  const uint16_t entry = registry->entries.back();
  const uint32_t state = card_->store().layout().BlockOffset(entry) + 2;
  // The entry says locked, the record active.
  ram_->cells()[state] = 0x01;
  auto r = inspect();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.damage.front().message.find("the application's state 01"), std::string::npos)
      << r.damage.front().message;
  ram_->cells()[state] = 0x00;
  // An application the registry forgot: its record is an orphan.
  const uint32_t count = card_->store().layout().BlockOffset(registry->block) + 5;
  ram_->cells()[count] = static_cast<uint8_t>(registry->entries.size() - 1);
  r = inspect();
  ASSERT_FALSE(r.ok());
  bool orphan = false;
  for (const auto& d : r.damage)
    orphan = orphan || d.message.find("orphan record") != std::string::npos;
  EXPECT_TRUE(orphan);
}

}  // namespace
}  // namespace tessera::apps
