#include "card/kernel/profile.h"

#include "card/fs/file_system.h"
#include "card/gp/key_store.h"
#include "card/kernel/card_root.h"
#include "card/kernel/identifiers.h"
#include "card/registry/app_lifecycle.h"
#include "card/registry/app_registry.h"
#include "card/registry/application_list.h"
#include "core/tlv.h"
#include "nvm/nvm_store.h"

namespace tessera::card {
namespace {

const Bytes kPseName = ToBytes("1PAY.SYS.DDF01");
const Bytes kDemoAid = HexOrDie("F05445535345524110");
const std::string kDemoLabel = "TESSERA DEMO";

// 8C values (ISO/IEC 7816-4 §5.3.3.2, compact format): AM byte, then one SC byte for each AM
// bit set, from b7 down to b1. SC 12 = the administrator PIN (82), 11 = the user PIN (81),
// FF = never; an access mode whose AM bit is clear is always allowed, so every DF and EF of
// the profile names its life-cycle modes (deactivate, activate, terminate, delete self)
// explicitly: nobody changes a file's life cycle without the administrator.
// DFs: AM 7F: delete self never; terminate, activate, deactivate, create DF, create EF and
// delete child: administrator.
const Bytes kMfSecurity = HexOrDie("7FFF121212121212");
// EFs: AM 7E (read: always): delete self, terminate, activate, deactivate, write/append and
// update: administrator.
const Bytes kAdminUpdate = HexOrDie("7E121212121212");
// AM 7F: life cycle administrator; write/append, update/erase and read: user (no mode of the
// user's files is left open, whatever commands their structure takes).
const Bytes kUserReadUpdate = HexOrDie("7F12121212111111");
const Bytes kUserReadAppend = kUserReadUpdate;
// AM 7E (read: always): life cycle administrator; write/append and update: user.
const Bytes kUserUpdate = HexOrDie("7E121212121111");

Status Fail(const char* what) {
  return Corruption(std::string("default profile: ") + what);
}

FileNode Df(uint16_t fid, Bytes name, Bytes security, Bytes fci = {}) {
  FileNode n;
  n.kind = FileKind::kDf;
  n.fdb = 0x38;
  n.fid = fid;
  n.df_name = std::move(name);
  n.security = std::move(security);
  n.fci_proprietary = std::move(fci);
  return n;
}

FileNode Ef(uint16_t fid, uint8_t sfi, EfStructure s, uint16_t size, uint16_t records,
            Bytes security) {
  FileNode n;
  n.kind = FileKind::kEf;
  n.fdb = static_cast<uint8_t>(s);
  n.fid = fid;
  n.sfi = sfi;
  n.size = size;
  n.max_records = records;
  n.security = std::move(security);
  return n;
}

class Builder {
 public:
  explicit Builder(nvm::NvmStore& store) : store_(store), fs_(store) {}

  Status Begin() { return store_.Begin(); }
  Status Commit() { return store_.Commit(); }

  Result<FileNode> Create(const FileNode& parent, FileNode spec) {
    TESSERA_RETURN_IF_ERROR(store_.Begin());
    auto n = fs_.Create(parent, std::move(spec), mf_);
    if (!n.ok()) {
      store_.Abort();
      return Fail("cannot create a file (NVM too small?)");
    }
    TESSERA_RETURN_IF_ERROR(store_.Commit());
    return *n;
  }

  Status Records(FileNode ef, const std::vector<Bytes>& records) {
    TESSERA_RETURN_IF_ERROR(store_.Begin());
    for (const Bytes& r : records) {
      if (ef.record_count >= ef.max_records || !fs_.WriteSlot(ef, ef.record_count, r).ok()) {
        store_.Abort();
        return Fail("cannot write a record");
      }
      ++ef.record_count;
    }
    if (ef.structure() == EfStructure::kCyclic && ef.record_count > 0) {
      ef.cyclic_head = static_cast<uint16_t>(ef.record_count - 1);
    }
    if (!fs_.Save(ef).ok()) {
      store_.Abort();
      return Fail("cannot save a file");
    }
    return store_.Commit();
  }

  Status Data(FileNode ef, ByteView data) {
    TESSERA_RETURN_IF_ERROR(store_.Begin());
    if (!fs_.WriteData(ef, 0, data).ok()) {
      store_.Abort();
      return Fail("cannot write data");
    }
    return store_.Commit();
  }

  // The well-known test key set (ENC = MAC = DEK = 404142..4F, KVN 30), as on development cards.
  Status IssuerKeys(const crypto::scp03::StaticKeys* issuer_keys) {
    TESSERA_RETURN_IF_ERROR(store_.Begin());
    auto root = LoadRoot(store_);
    if (!root.ok()) return Fail("no root");
    KeySet set;
    set.kvn = kTestKeyVersion;
    const Bytes test = HexOrDie("404142434445464748494A4B4C4D4E4F");
    set.keys.enc = crypto::MakeSecure(test);
    set.keys.mac = crypto::MakeSecure(test);
    set.keys.dek = crypto::MakeSecure(test);
    if (issuer_keys != nullptr) set.keys = *issuer_keys;
    if (!SaveKeySet(store_, *root, set).ok()) {
      store_.Abort();
      return Fail("cannot write the issuer key set");
    }
    store_.MarkSensitive();
    return store_.Commit();
  }

  // One transaction per entry, then the registry: each fits the smallest journal a geometry
  // with 4 KiB pages allows.
  Status Registry(std::vector<RegistryEntry*> entries) {
    card::Registry registry;
    for (RegistryEntry* e : entries) {
      TESSERA_RETURN_IF_ERROR(store_.Begin());
      if (!SaveEntry(store_, *e).ok()) {
        store_.Abort();
        return Fail("cannot write the application registry");
      }
      TESSERA_RETURN_IF_ERROR(store_.Commit());
      registry.entries.push_back(e->block);
    }
    TESSERA_RETURN_IF_ERROR(store_.Begin());
    auto root = LoadRoot(store_);
    if (!root.ok()) return Fail("no root");
    if (!SaveRegistry(store_, *root, registry).ok()) {
      store_.Abort();
      return Fail("cannot write the application registry");
    }
    return store_.Commit();
  }

  Result<FileNode> CreateMf(const CardRoot& root_template, const PinTable& pins) {
    TESSERA_RETURN_IF_ERROR(store_.Begin());
    TESSERA_ASSIGN_OR_RETURN(uint32_t block, store_.AllocateBlock());
    FileNode mf = Df(kMfFid, {}, kMfSecurity);
    mf.id = static_cast<uint16_t>(block);
    mf_ = mf.id;
    CardRoot root = root_template;
    root.mf = mf.id;
    if (!fs_.Save(mf).ok() || !SaveRoot(store_, root).ok() || !SavePins(store_, pins).ok()) {
      store_.Abort();
      return Fail("cannot write the MF");
    }
    TESSERA_RETURN_IF_ERROR(store_.Commit());
    return mf;
  }

 private:
  nvm::NvmStore& store_;
  FileSystem fs_;
  uint16_t mf_ = kNoNode;
};

PinRecord MakePin(uint8_t ref, std::string_view value, uint8_t tries, uint8_t puk) {
  PinRecord p;
  p.reference = ref;
  p.max_tries = p.tries_left = tries;
  p.value.assign(value.begin(), value.end());
  p.puk_reference = puk;
  return p;
}

Bytes DirRecord(ByteView aid, std::string_view label) {
  TlvBuilder b;
  b.Open(0x61).Add(0x4F, aid).Add(0x50, ToBytes(label)).Close();
  return b.Take();
}

Bytes PseRecord(ByteView aid, std::string_view label, uint8_t priority) {
  TlvBuilder b;
  b.Open(0x70).Open(0x61).Add(0x4F, aid).Add(0x50, ToBytes(label)).AddByte(0x87, priority);
  b.Close().Close();
  return b.Take();
}

}  // namespace

Status InstallDefaultProfile(nvm::NvmDevice& device, const nvm::Geometry& geometry,
                             const crypto::scp03::StaticKeys* issuer_keys, uint8_t admin_level,
                             uint64_t serial) {
  if (admin_level != 0x01 && admin_level != 0x03 && admin_level != 0x11 && admin_level != 0x13 &&
      admin_level != 0x33) {
    return InvalidArgument("the minimum security level must be 01, 03, 11, 13 or 33");
  }
  if (geometry.block_size < kNodeSize) {
    return InvalidArgument("the card OS needs a block size of at least 256 bytes");
  }
  TESSERA_RETURN_IF_ERROR(nvm::NvmStore::Format(device, geometry));
  TESSERA_ASSIGN_OR_RETURN(auto store, nvm::NvmStore::Mount(device, geometry));
  Builder b(*store);

  CardRoot root;
  root.admin_level = admin_level;
  PinTable pins;
  pins.pins[0] = MakePin(kUserPin, "1234", 3, kPuk);
  pins.pins[1] = MakePin(kAdminPin, "87654321", 3, 0);
  pins.pins[2] = MakePin(kPuk, "12345678", 10, 0);
  TESSERA_ASSIGN_OR_RETURN(FileNode mf, b.CreateMf(root, pins));
  TESSERA_RETURN_IF_ERROR(b.IssuerKeys(issuer_keys));

  TESSERA_ASSIGN_OR_RETURN(FileNode dir, b.Create(mf, Ef(0x2F00, 30, EfStructure::kLinearVariable,
                                                         64, kMaxApplications, kAdminUpdate)));
  TESSERA_RETURN_IF_ERROR(b.Records(dir, {DirRecord(kDemoAid, kDemoLabel)}));

  TESSERA_ASSIGN_OR_RETURN(
      FileNode hello, b.Create(mf, Ef(0x2F01, 0, EfStructure::kTransparent, 64, 0, kAdminUpdate)));
  TESSERA_RETURN_IF_ERROR(b.Data(hello, ToBytes("Tessera virtual card - software secure element")));

  TlvBuilder fci;
  fci.AddByte(0x88, 0x01).Add(0x5F2D, ToBytes("en"));
  TESSERA_ASSIGN_OR_RETURN(FileNode pse,
                           b.Create(mf, Df(0x5000, kPseName, kMfSecurity, fci.Take())));
  TESSERA_ASSIGN_OR_RETURN(FileNode pse_dir,
                           b.Create(pse, Ef(0x5001, 1, EfStructure::kLinearVariable, 128,
                                            kMaxApplications, kAdminUpdate)));
  TESSERA_RETURN_IF_ERROR(b.Records(pse_dir, {PseRecord(kDemoAid, kDemoLabel, 1)}));

  TESSERA_ASSIGN_OR_RETURN(FileNode demo, b.Create(mf, Df(0x1000, kDemoAid, kMfSecurity)));
  TESSERA_ASSIGN_OR_RETURN(FileNode data, b.Create(demo, Ef(0x1001, 1, EfStructure::kTransparent,
                                                            128, 0, kUserReadUpdate)));
  TESSERA_RETURN_IF_ERROR(b.Data(data, ToBytes("demo transparent EF, readable after VERIFY 81")));
  TESSERA_ASSIGN_OR_RETURN(FileNode fixed, b.Create(demo, Ef(0x1002, 2, EfStructure::kLinearFixed,
                                                             16, 5, kUserReadUpdate)));
  std::vector<Bytes> fixed_records;
  for (int i = 1; i <= 5; ++i) {
    Bytes r(16, 0);
    r[0] = static_cast<uint8_t>(i);
    fixed_records.push_back(r);
  }
  TESSERA_RETURN_IF_ERROR(b.Records(fixed, fixed_records));
  TESSERA_ASSIGN_OR_RETURN(
      FileNode cyclic, b.Create(demo, Ef(0x1003, 3, EfStructure::kCyclic, 8, 10, kUserReadAppend)));
  (void)cyclic;
  TESSERA_ASSIGN_OR_RETURN(FileNode var, b.Create(demo, Ef(0x1004, 4, EfStructure::kLinearVariable,
                                                           64, 10, kUserUpdate)));
  TESSERA_RETURN_IF_ERROR(b.Records(var, {ToBytes("first record"), ToBytes("second record")}));

  // The management application, as its module's installation makes it (its list EF), and the
  // registry: the demo application (a plain file application) and the management application,
  // with the demo's record, unsigned (docs/applications.md §1).
  TESSERA_ASSIGN_OR_RETURN(FileNode mgmt_df,
                           b.Create(mf, Df(0x4100,
                                           Bytes(std::begin(aid::kManagementApplication),
                                                 std::end(aid::kManagementApplication)),
                                           kApplicationDfSecurity)));
  TESSERA_ASSIGN_OR_RETURN(
      FileNode list, b.Create(mgmt_df, Ef(kApplicationListFid, kApplicationListSfi,
                                          EfStructure::kLinearVariable, kApplicationListRecordSize,
                                          kMaxApplications, kApplicationListSecurity)));
  AppRecord demo_record;
  demo_record.aid = kDemoAid;
  demo_record.name = kDemoLabel;
  demo_record.admin_name = "ISSUER";
  TESSERA_RETURN_IF_ERROR(b.Records(list, {EncodeRecord(demo_record)}));
  RegistryEntry demo_entry;
  demo_entry.aid = kDemoAid;
  demo_entry.module_aid.assign(std::begin(aid::kFilesModule), std::end(aid::kFilesModule));
  demo_entry.df = demo.id;
  demo_entry.name = kDemoLabel;
  RegistryEntry mgmt_entry;
  mgmt_entry.aid.assign(std::begin(aid::kManagementApplication),
                        std::end(aid::kManagementApplication));
  mgmt_entry.module_aid.assign(std::begin(aid::kManagementModule),
                               std::end(aid::kManagementModule));
  mgmt_entry.privileges = Bytes{0x80, 0x00, 0x00};
  mgmt_entry.df = mgmt_df.id;
  mgmt_entry.name = "MANAGEMENT";
  TESSERA_RETURN_IF_ERROR(b.Registry({&demo_entry, &mgmt_entry}));
  if (serial != 0) {
    TESSERA_RETURN_IF_ERROR(store->Begin());
    if (!SaveCardSerial(*store, serial).ok()) {
      store->Abort();
      return Fail("card serial");
    }
    TESSERA_RETURN_IF_ERROR(store->Commit());
  }
  return Status::Ok();
}

}  // namespace tessera::card
