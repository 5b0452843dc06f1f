#include "card/check/card_inspector.h"
#include "device/virtual_card.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "card/gp/key_store.h"
#include "card/iso/access_control.h"
#include "card/kernel/card.h"
#include "card/kernel/profile.h"
#include "support/card_fixture.h"

namespace tessera::card {
namespace {

namespace nf = node_field;

std::string Describe(const CardReport& r) {
  std::string s;
  for (const auto& d : r.damage) s += "  " + d.ToString() + "\n";
  return s.empty() ? "  (no damage)\n" : s;
}

// A fresh default-profile card on RAM NVM, with helpers to damage its bytes directly.
class CardInspectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ram_ = std::make_unique<nvm::RamNvm>(g_.nvm_size, g_.page_size);
    ASSERT_TRUE(InstallDefaultProfile(ram_->device(), g_).ok());
    layout_ = *nvm::ComputeLayout(g_);
    const CardReport r = Inspect();
    ASSERT_TRUE(r.ok()) << Describe(r);
    for (const auto& f : r.files) files_[f.path] = f.node;
    ASSERT_TRUE(files_.count("3F00/1000/1001")) << "the default profile has EF 1001 in DF 1000";
  }

  CardReport Inspect() const { return InspectCardImage(ram_->device(), g_); }
  uint8_t* Cells(uint32_t offset) { return &ram_->cells()[offset]; }
  const FileNode& File(const std::string& path) const { return files_.at(path); }
  uint32_t NodeAt(const std::string& path) const { return layout_.BlockOffset(File(path).id); }
  uint32_t TableByte(uint32_t block) const { return layout_.table_offset + block; }
  uint32_t PinEntry(size_t slot) const {
    return layout_.root_offset + root_field::kPins +
           static_cast<uint32_t>(slot * root_field::kPinEntry);
  }
  uint32_t KeySetAt() {
    auto root = RootOf();
    return layout_.BlockOffset(root.key_sets[0]);
  }
  CardRoot RootOf() {
    auto store = nvm::NvmStore::Mount(ram_->device(), g_);
    EXPECT_TRUE(store.ok());
    auto root = LoadRoot(**store);
    EXPECT_TRUE(root.ok());
    return *root;
  }
  uint32_t FreeBlock() const {
    for (uint32_t b = layout_.block_count; b-- > 0;) {
      if (ram_->cells()[TableByte(b)] == 0) return b;
    }
    ADD_FAILURE() << "no free block";
    return 0;
  }
  // Runs `fn` inside a transaction of a store mounted on the card's NVM.
  template <typename Fn>
  void Transaction(Fn fn) {
    auto store = nvm::NvmStore::Mount(ram_->device(), g_);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Begin().ok());
    fn(**store);
    ASSERT_TRUE((*store)->Commit().ok());
  }

  // The damage at `where` with `field`, if the report names it.
  static std::optional<CardDamage> Find(const CardReport& r, const std::string& where,
                                        const std::string& field) {
    for (const auto& d : r.damage) {
      if (d.where == where && d.field == field) return d;
    }
    return std::nullopt;
  }
  static ::testing::AssertionResult Names(const CardReport& r, const std::string& where,
                                          const std::string& field,
                                          std::optional<uint32_t> offset = std::nullopt,
                                          const std::string& words = "") {
    auto d = Find(r, where, field);
    if (!d) {
      return ::testing::AssertionFailure() << "no damage '" << where << ": " << field << "' in\n"
                                           << Describe(r);
    }
    if (offset && d->nvm_offset != *offset) {
      return ::testing::AssertionFailure()
             << d->ToString() << ": expected NVM offset 0x" << std::hex << *offset;
    }
    if (!words.empty() && d->message.find(words) == std::string::npos) {
      return ::testing::AssertionFailure() << d->ToString() << ": expected '" << words << "'";
    }
    return ::testing::AssertionSuccess();
  }

  nvm::Geometry g_ = TestCardGeometry();
  nvm::Layout layout_;
  std::unique_ptr<nvm::RamNvm> ram_;
  std::map<std::string, FileNode> files_;
};

TEST_F(CardInspectorTest, AFreshDefaultProfileHoldsEveryInvariant) {
  const CardReport r = Inspect();
  EXPECT_TRUE(r.ok()) << Describe(r);
  EXPECT_TRUE(r.card_present);
  EXPECT_TRUE(r.mountable);
  // The tree of docs/card-format.md §4, depth first from the MF.
  ASSERT_FALSE(r.files.empty());
  EXPECT_EQ(r.files[0].path, "3F00");
  EXPECT_EQ(r.files[0].depth, 0);
  for (const char* p : {"3F00/2F00", "3F00/2F01", "3F00/5000", "3F00/5000/5001", "3F00/1000",
                        "3F00/1000/1001", "3F00/1000/1002", "3F00/1000/1003", "3F00/1000/1004"}) {
    EXPECT_TRUE(files_.count(p)) << p;
  }
  EXPECT_EQ(r.files.size(), files_.size());
  for (const auto& f : r.files) {  // a child comes after its DF
    const auto slash = f.path.rfind('/');
    if (slash == std::string::npos) continue;
    bool parent_before = false;
    for (const auto& e : r.files) {
      if (&e == &f) break;
      parent_before |= e.path == f.path.substr(0, slash);
    }
    EXPECT_TRUE(parent_before) << f.path;
  }
  EXPECT_EQ(r.blocks_owned, r.blocks_used);
  EXPECT_GT(r.blocks_used, 0u);
  EXPECT_EQ(r.pins.size(), 3u);
  ASSERT_EQ(r.key_sets.size(), 1u);
  EXPECT_EQ(r.key_sets[0].kvn, kTestKeyVersion);
  ASSERT_TRUE(r.root.has_value());
  EXPECT_EQ(r.root->admin_level, kDefaultAdminLevel);
}

TEST_F(CardInspectorTest, MinimumSecurityLevelOfTheProfileIsInTheRoot) {
  for (uint8_t level :
       {uint8_t{0x01}, uint8_t{0x03}, uint8_t{0x11}, uint8_t{0x13}, uint8_t{0x33}}) {
    nvm::RamNvm ram(g_.nvm_size, g_.page_size);
    ASSERT_TRUE(InstallDefaultProfile(ram.device(), g_, nullptr, level).ok());
    const CardReport r = InspectCardImage(ram.device(), g_);
    EXPECT_TRUE(r.ok()) << Describe(r);
    ASSERT_TRUE(r.root.has_value());
    EXPECT_EQ(r.root->admin_level, level);
  }
}

TEST_F(CardInspectorTest, FieldOffsetsAreTheEncodersOffsets) {
  FileNode n;
  n.kind = FileKind::kEf;
  n.fdb = 0x02;
  n.fid = 0xA1B2;
  n.sfi = 7;
  n.lcs = 0x04;
  n.security = {0x03, 0x11, 0x12};
  n.parent = 0x0102;
  n.first_child = 0x0304;
  n.next_sibling = 0x0506;
  n.size = 0x0708;
  n.max_records = 0x090A;
  n.record_count = 0x0B0C;
  n.cyclic_head = 0x0D0E;
  n.data_blocks = {0x1112, 0x1314};
  const Bytes b = EncodeNode(n);
  EXPECT_EQ(b[nf::kMagic], 'N');
  EXPECT_EQ(b[nf::kKind], 2);
  EXPECT_EQ(b[nf::kFdb], 0x02);
  EXPECT_EQ(GetU16(&b[nf::kFid]), 0xA1B2);
  EXPECT_EQ(b[nf::kSfi], 7);
  EXPECT_EQ(b[nf::kLcs], 0x04);
  EXPECT_EQ(b[nf::kSecurityLength], 3);
  EXPECT_EQ(b[nf::kSecurity + 2], 0x12);
  EXPECT_EQ(GetU16(&b[nf::kParent]), 0x0102);
  EXPECT_EQ(GetU16(&b[nf::kFirstChild]), 0x0304);
  EXPECT_EQ(GetU16(&b[nf::kNextSibling]), 0x0506);
  EXPECT_EQ(GetU16(&b[nf::kSize]), 0x0708);
  EXPECT_EQ(GetU16(&b[nf::kMaxRecords]), 0x090A);
  EXPECT_EQ(GetU16(&b[nf::kRecordCount]), 0x0B0C);
  EXPECT_EQ(GetU16(&b[nf::kCyclicHead]), 0x0D0E);
  EXPECT_EQ(b[nf::kBlockCount], 2);
  EXPECT_EQ(GetU16(&b[nf::kBlocks + 2]), 0x1314);
  FileNode df;
  df.kind = FileKind::kDf;
  df.df_name = {0xAA, 0xBB};
  df.fci_proprietary = {0x88, 0x01, 0x01};
  const Bytes d = EncodeNode(df);
  EXPECT_EQ(d[nf::kNameLength], 2);
  EXPECT_EQ(d[nf::kName + 1], 0xBB);
  EXPECT_EQ(d[nf::kFciLength], 3);

  CardRoot root;
  root.card_state = 0x0C;
  root.gp_life_cycle = 0x0F;
  root.admin_level = 0x13;
  root.registry = 0x1112;
  root.administrators = 0x1314;
  root.mf = 0x0A0B;
  root.data_objects = 0x0C0D;
  root.key_sets[1] = 0x0E0F;
  PinTable pins;
  pins.pins[1].reference = 0x82;
  pins.pins[1].max_tries = 9;
  pins.pins[1].tries_left = 4;
  pins.pins[1].value = SecureBytes{1, 2, 3, 4, 5};
  pins.pins[1].puk_reference = 0x83;
  Transaction([&](nvm::NvmStore& store) {
    ASSERT_TRUE(SaveRoot(store, root).ok());
    ASSERT_TRUE(SavePins(store, pins).ok());
  });
  const uint8_t* r = Cells(layout_.root_offset);
  EXPECT_EQ(std::string(r + root_field::kMagic, r + root_field::kMagic + 4), "TCOS");
  EXPECT_EQ(r[root_field::kVersion], 2);
  EXPECT_EQ(r[root_field::kCardState], 0x0C);
  EXPECT_EQ(GetU16(r + root_field::kMf), 0x0A0B);
  EXPECT_EQ(GetU16(r + root_field::kDataObjects), 0x0C0D);
  EXPECT_EQ(GetU16(r + root_field::kKeySets + 2), 0x0E0F);
  EXPECT_EQ(r[root_field::kLifeCycle], 0x0F);
  EXPECT_EQ(r[root_field::kAdminLevel], 0x13);
  EXPECT_EQ(GetU16(r + root_field::kRegistry), 0x1112);
  EXPECT_EQ(GetU16(r + root_field::kAdministrators), 0x1314);
  const uint8_t* p = Cells(PinEntry(1));
  EXPECT_EQ(p[root_field::kPinReference], 0x82);
  EXPECT_EQ(p[root_field::kPinMaxTries], 9);
  EXPECT_EQ(p[root_field::kPinTriesLeft], 4);
  EXPECT_EQ(p[root_field::kPinLength], 5);
  EXPECT_EQ(p[root_field::kPinPuk], 0x83);

  SetUp();  // a fresh card again, for its key set
  const uint8_t* k = Cells(KeySetAt());
  EXPECT_EQ(k[key_field::kMagic], 'K');
  EXPECT_EQ(k[key_field::kKvn], kTestKeyVersion);
  EXPECT_EQ(k[key_field::kKeyLength], 16);
  EXPECT_EQ(k[key_field::kMaxFailures], kDefaultMaxFailures);
  EXPECT_EQ(k[key_field::kFailuresLeft], kDefaultMaxFailures);
}

TEST_F(CardInspectorTest, ACycleInTheTreeIsNamed) {
  const uint32_t at = NodeAt("3F00/1000") + nf::kFirstChild;
  PutU16(Cells(at), File("3F00").id);
  const CardReport r = Inspect();
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(Names(r, "3F00/1000", "first child", at, "cycle"));
}

TEST_F(CardInspectorTest, ALoopInAListOfChildrenIsNamed) {
  // The children of 1000 in link order: the last one's next sibling back to the first.
  const FileNode& df = File("3F00/1000");
  std::string last;
  for (const auto& [path, node] : files_) {
    if (node.parent == df.id && node.next_sibling == kNoNode) last = path;
  }
  ASSERT_FALSE(last.empty());
  const uint32_t at = NodeAt(last) + nf::kNextSibling;
  PutU16(Cells(at), df.first_child);
  const CardReport r = Inspect();
  EXPECT_TRUE(Names(r, last, "next sibling", at, "loops"));
}

TEST_F(CardInspectorTest, ANodeLinkedFromTwoDfsIsNamed) {
  const uint32_t at = NodeAt("3F00/5000") + nf::kFirstChild;
  PutU16(Cells(at), File("3F00/1000/1001").id);
  const CardReport r = Inspect();
  EXPECT_TRUE(Names(r, "3F00/5000", "first child", at, "already linked"));
  // 5001 is no longer reachable: its node and data blocks leak.
  bool leak = false;
  for (const auto& d : r.damage)
    leak |= d.where == "block " + std::to_string(File("3F00/5000/5001").id);
  EXPECT_TRUE(leak) << Describe(r);
}

TEST_F(CardInspectorTest, ADataBlockOwnedByTwoFilesIsNamed) {
  const uint32_t at = NodeAt("3F00/1000/1002") + nf::kBlocks;
  PutU16(Cells(at), File("3F00/1000/1001").data_blocks[0]);
  const CardReport r = Inspect();
  EXPECT_FALSE(r.ok());
  // Whichever of the two is reached second is named, with the other as the owner.
  bool named = false;
  for (const auto& d : r.damage) {
    named |= (d.where == "3F00/1000/1002" && d.field == "data block 0" &&
              d.message.find("3F00/1000/1001") != std::string::npos) ||
             (d.where == "3F00/1000/1001" && d.field == "data block 0" &&
              d.message.find("3F00/1000/1002") != std::string::npos);
  }
  EXPECT_TRUE(named) << Describe(r);
}

TEST_F(CardInspectorTest, ANodeInAFreeBlockIsNamed) {
  const uint16_t block = File("3F00/1000/1003").id;
  *Cells(TableByte(block)) = 0x00;  // FREE
  const CardReport r = Inspect();
  bool named = false;
  for (const auto& d : r.damage) {
    named |=
        d.message.find("points at block " + std::to_string(block) + ",") != std::string::npos &&
        d.message.find("FREE") != std::string::npos &&
        (d.field == "first child" || d.field == "next sibling");
  }
  EXPECT_TRUE(named) << Describe(r);
}

TEST_F(CardInspectorTest, AFreeDataBlockIsNamed) {
  const FileNode& ef = File("3F00/1000/1001");
  *Cells(TableByte(ef.data_blocks[0])) = 0x00;
  const CardReport r = Inspect();
  EXPECT_TRUE(
      Names(r, "3F00/1000/1001", "data block 0", NodeAt("3F00/1000/1001") + nf::kBlocks, "FREE"));
}

TEST_F(CardInspectorTest, ADataBlockOutsideTheBlocksAreaIsNamed) {
  const uint32_t at = NodeAt("3F00/2F01") + nf::kBlocks;
  PutU16(Cells(at), static_cast<uint16_t>(layout_.block_count + 3));
  const CardReport r = Inspect();
  EXPECT_TRUE(Names(r, "3F00/2F01", "data block 0", at, "outside the blocks area"));
}

TEST_F(CardInspectorTest, AUsedBlockNothingOwnsIsALeak) {
  const uint32_t b = FreeBlock();
  *Cells(TableByte(b)) = 0x01;
  const CardReport r = Inspect();
  EXPECT_TRUE(Names(r, "block " + std::to_string(b), "allocator", TableByte(b), "leaked"));
}

TEST_F(CardInspectorTest, AnUnreachableSubtreeLeaksItsBlocks) {
  // The MF's first child (DF 4100, the management application) is skipped: the MF points at its
  // next sibling.
  const FileNode& mf = File("3F00");
  ASSERT_EQ(mf.first_child, File("3F00/4100").id);
  PutU16(Cells(NodeAt("3F00") + nf::kFirstChild), File("3F00/4100").next_sibling);
  const CardReport r = Inspect();
  const std::string where = "block " + std::to_string(File("3F00/4100").id);
  EXPECT_TRUE(Names(r, where, "allocator", TableByte(File("3F00/4100").id), "FID 4100"));
  EXPECT_TRUE(
      Names(r, "block " + std::to_string(File("3F00/4100/0101").data_blocks[0]), "allocator"));
}

TEST_F(CardInspectorTest, RecordCountAboveTheMaximumIsNamed) {
  const FileNode& ef = File("3F00/1000/1002");
  const uint32_t at = NodeAt("3F00/1000/1002") + nf::kRecordCount;
  PutU16(Cells(at), static_cast<uint16_t>(ef.max_records + 1));
  const CardReport r = Inspect();
  EXPECT_TRUE(Names(r, "3F00/1000/1002", "record count", at, std::to_string(ef.max_records)));
}

TEST_F(CardInspectorTest, DataBlocksThatDoNotCoverTheSizeAreNamed) {
  const uint32_t at = NodeAt("3F00/1000/1001");
  PutU16(Cells(at + nf::kSize), static_cast<uint16_t>(3 * g_.block_size));
  const CardReport r = Inspect();
  EXPECT_TRUE(Names(r, "3F00/1000/1001", "data block count", at + nf::kBlockCount, "need 3"));
}

TEST_F(CardInspectorTest, RecordSlotsThatDoNotFitTheirBlocksAreNamed) {
  const uint32_t at = NodeAt("3F00/1000/1004");
  PutU16(Cells(at + nf::kMaxRecords), 200);  // 200 slots of 65 bytes: far more than its blocks
  const CardReport r = Inspect();
  EXPECT_TRUE(Names(r, "3F00/1000/1004", "data block count", at + nf::kBlockCount));
}

TEST_F(CardInspectorTest, MoreThanSixtyFourDataBlocksAreNamed) {
  const uint32_t at = NodeAt("3F00/1000/1001") + nf::kBlockCount;
  *Cells(at) = kMaxDataBlocks + 1;
  const CardReport r = Inspect();
  EXPECT_TRUE(Names(r, "3F00/1000/1001", "data block count", at, "at most 64"));
}

TEST_F(CardInspectorTest, ARecordLongerThanItsSlotIsNamed) {
  const FileNode& ef = File("3F00/1000/1004");
  const uint32_t at = layout_.BlockOffset(ef.data_blocks[0]);  // slot 0's length byte
  *Cells(at) = static_cast<uint8_t>(ef.size + 1);
  const CardReport r = Inspect();
  EXPECT_TRUE(Names(r, "3F00/1000/1004", "record slot 0", at));
}

TEST_F(CardInspectorTest, ACyclicHeadOutsideTheSlotsIsNamed) {
  const FileNode& ef = File("3F00/1000/1003");
  const uint32_t at = NodeAt("3F00/1000/1003") + nf::kCyclicHead;
  PutU16(Cells(at), ef.max_records);
  EXPECT_TRUE(Names(Inspect(), "3F00/1000/1003", "cyclic head", at));
}

TEST_F(CardInspectorTest, NodeFieldsAreNamed) {
  const uint32_t at = NodeAt("3F00/1000/1001");
  *Cells(at + nf::kLcs) = 0x42;
  PutU16(Cells(at + nf::kParent), File("3F00").id);
  *Cells(at + nf::kSfi) = 31;
  const CardReport r = Inspect();
  EXPECT_TRUE(Names(r, "3F00/1000/1001", "life cycle status", at + nf::kLcs));
  EXPECT_TRUE(Names(r, "3F00/1000/1001", "parent", at + nf::kParent));
  EXPECT_TRUE(Names(r, "3F00/1000/1001", "SFI", at + nf::kSfi));
}

TEST_F(CardInspectorTest, DuplicateFidsAndSfisAreNamed) {
  PutU16(Cells(NodeAt("3F00/1000/1002") + nf::kFid), 0x1001);
  *Cells(NodeAt("3F00/1000/1004") + nf::kSfi) = File("3F00/1000/1003").sfi;
  const CardReport r = Inspect();
  bool fid = false, sfi = false;
  for (const auto& d : r.damage) {
    fid |= d.where == "3F00/1000/1001" && d.field == "FID";
    sfi |= d.field == "SFI" && (d.where == "3F00/1000/1004" || d.where == "3F00/1000/1003");
  }
  EXPECT_TRUE(fid && sfi) << Describe(r);
}

TEST_F(CardInspectorTest, AForeignBlockInTheTreeIsNamed) {
  const uint32_t at = NodeAt("3F00/1000/1002");
  *Cells(at + nf::kMagic) = 'X';
  const CardReport r = Inspect();
  EXPECT_FALSE(r.ok());
  bool named = false;
  for (const auto& d : r.damage) {
    named |= d.field == "magic" && d.nvm_offset == at && d.where.rfind("3F00/1000/", 0) == 0;
  }
  EXPECT_TRUE(named) << Describe(r);
}

TEST_F(CardInspectorTest, PinRecordsAreChecked) {
  const uint32_t user = PinEntry(0);  // PIN 81, the profile's first
  ASSERT_EQ(*Cells(user + root_field::kPinReference), kUserPin);
  *Cells(user + root_field::kPinLength) = kMaxPinLength + 1;
  *Cells(user + root_field::kPinTriesLeft) = *Cells(user + root_field::kPinMaxTries) + 1;
  const CardReport r = Inspect();
  EXPECT_TRUE(Names(r, "PIN 81", "value length", user + root_field::kPinLength, "17"));
  EXPECT_TRUE(Names(r, "PIN 81", "tries left", user + root_field::kPinTriesLeft));

  SetUp();
  const uint32_t admin = PinEntry(1);
  *Cells(admin + root_field::kPinReference) = kUserPin;  // a second PIN 81
  *Cells(PinEntry(0) + root_field::kPinPuk) = 0x8F;      // a PUK that is no PIN
  const CardReport r2 = Inspect();
  EXPECT_TRUE(Names(r2, "PIN 81", "reference", admin + root_field::kPinReference));
  EXPECT_TRUE(Names(r2, "PIN 81", "PUK reference", PinEntry(0) + root_field::kPinPuk));
}

TEST_F(CardInspectorTest, KeySetRecordsAreChecked) {
  const uint32_t at = KeySetAt();
  const uint16_t block = RootOf().key_sets[0];
  *Cells(at + key_field::kKeyLength) = 20;
  EXPECT_TRUE(Names(Inspect(), "key set in block " + std::to_string(block), "key length",
                    at + key_field::kKeyLength));
  *Cells(at + key_field::kKeyLength) = 16;
  *Cells(at + key_field::kMagic) = 'k';
  EXPECT_TRUE(Names(Inspect(), "key set in block " + std::to_string(block), "magic",
                    at + key_field::kMagic));
  *Cells(at + key_field::kMagic) = 'K';
  *Cells(at + key_field::kFailuresLeft) = *Cells(at + key_field::kMaxFailures) + 1;
  EXPECT_TRUE(Names(Inspect(), "key set 30", "failures left", at + key_field::kFailuresLeft));
}

TEST_F(CardInspectorTest, TwoKeySetsWithOneKvnAreNamed) {
  Transaction([&](nvm::NvmStore& store) {
    auto root = LoadRoot(store);
    ASSERT_TRUE(root.ok());
    KeySet set;
    set.kvn = kTestKeyVersion;
    const Bytes k(16, 0x5A);
    set.keys = {crypto::MakeSecure(k), crypto::MakeSecure(k), crypto::MakeSecure(k)};
    ASSERT_TRUE(SaveKeySet(store, *root, set).ok());
  });
  const CardReport r = Inspect();
  EXPECT_TRUE(Names(r, "key set 30", "KVN", std::nullopt, "unique")) << Describe(r);
}

TEST_F(CardInspectorTest, MalformedPutDataObjectsAreNamed) {
  Transaction([&](nvm::NvmStore& store) {
    auto root = LoadRoot(store);
    ASSERT_TRUE(root.ok());
    auto b = store.AllocateBlock();
    ASSERT_TRUE(b.ok());
    ASSERT_TRUE(store.Write(store.layout().BlockOffset(*b), Bytes{0x5F, 0x20, 0x80, 0x41}).ok());
    root->data_objects = static_cast<uint16_t>(*b);
    ASSERT_TRUE(SaveRoot(store, *root).ok());
  });
  EXPECT_TRUE(Names(Inspect(), "PUT DATA objects", "content"));
}

TEST_F(CardInspectorTest, RootRecordDamageIsNamed) {
  const uint32_t root = layout_.root_offset;
  *Cells(root + root_field::kAdminLevel) = 0x02;
  *Cells(root + root_field::kLifeCycle) = 0x55;
  *Cells(root + root_field::kCardState) = 0x07;
  const CardReport r = Inspect();
  EXPECT_TRUE(Names(r, "root record", "minimum security level", root + root_field::kAdminLevel));
  EXPECT_TRUE(Names(r, "root record", "GlobalPlatform life cycle", root + root_field::kLifeCycle));
  EXPECT_TRUE(Names(r, "root record", "card state", root + root_field::kCardState));

  SetUp();
  PutU16(Cells(root + root_field::kMf), 0xFFF0);
  const CardReport r2 = Inspect();
  EXPECT_FALSE(r2.mountable);
  EXPECT_TRUE(Names(r2, "root record", "MF pointer", root + root_field::kMf, "cannot power on"));

  SetUp();
  *Cells(root + root_field::kMagic) = 'X';
  const CardReport r3 = Inspect();
  EXPECT_FALSE(r3.mountable);
  EXPECT_TRUE(Names(r3, "root record", "magic", root, "cannot power on"));
}

TEST_F(CardInspectorTest, ABlankStoreIsNoCardAndNoDamage) {
  nvm::RamNvm ram(g_.nvm_size, g_.page_size);
  ASSERT_TRUE(nvm::NvmStore::Format(ram.device(), g_).ok());
  const CardReport r = InspectCardImage(ram.device(), g_);
  EXPECT_TRUE(r.ok()) << Describe(r);
  EXPECT_FALSE(r.card_present);
  EXPECT_FALSE(r.notes.empty());
}

TEST_F(CardInspectorTest, AStoreThatDoesNotMountIsDamage) {
  // An allocator state byte no state has: the store refuses to mount.
  *Cells(TableByte(0)) = 0x77;
  const CardReport r = Inspect();
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.mountable);
  EXPECT_TRUE(Names(r, "NVM", "store", std::nullopt, "cannot power on"));
}

// Whatever one damaged byte of the root record, the PIN table or the MF's node does, an image a
// card cannot power on is never reported OK.
TEST_F(CardInspectorTest, AnImageTheCardCannotPowerOnIsNeverOk) {
  const Bytes pristine = ram_->cells();
  std::vector<uint32_t> offsets;
  for (uint32_t i = 0; i < root_field::kPins + 3 * root_field::kPinEntry; ++i) {
    offsets.push_back(layout_.root_offset + i);
  }
  for (uint32_t i = 0; i < kNodeSize; ++i) offsets.push_back(NodeAt("3F00") + i);
  int refused = 0;
  auto platform = DrbgPlatform::FromSeed(Bytes(48, 7), 1700000000);
  for (uint32_t at : offsets) {
    for (uint8_t flip : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xFF}}) {
      ram_->cells() = pristine;
      *Cells(at) ^= flip;
      auto copy = nvm::RamNvm::CopyOf(ram_->device());
      auto card_owned = device::MakeCard(copy->device(), g_, *platform);
      card::Card& card = *card_owned;
      const bool powers_on = card.PowerOn().ok();
      const CardReport r = Inspect();
      if (!powers_on) {
        ++refused;
        EXPECT_FALSE(r.ok()) << "byte at NVM offset " << at << " ^ " << int{flip};
        EXPECT_FALSE(r.mountable);
      }
    }
  }
  EXPECT_GT(refused, 0);  // the property was exercised
}

}  // namespace
}  // namespace tessera::card
