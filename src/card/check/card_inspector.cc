#include "card/check/card_inspector.h"

#include <set>

#include "card/kernel/identifiers.h"
#include "card/registry/admin_registry.h"
#include "card/registry/app_registry.h"
#include "card/registry/application_list.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>

#include "card/gp/key_store.h"
#include "card/iso/access_control.h"
#include "core/tlv.h"
#include "format/applet_package.h"
#include "nvm/integrity.h"

namespace tessera::card {
namespace {

std::string Block(uint32_t b) {
  return "block " + std::to_string(b);
}

bool ValidLcs(uint8_t lcs) {
  return lcs == kLcsCreation || lcs == kLcsInitialisation || (lcs >= 0x04 && lcs <= 0x07) ||
         (lcs >= 0x0C && lcs <= 0x0F);
}
bool ValidGpLifeCycle(uint8_t v) {
  return v == kGpOpReady || v == kGpInitialized || v == kGpSecured || v == kGpCardLocked ||
         v == kGpTerminated;
}
bool ValidAdminLevel(uint8_t v) {
  return v == 0x01 || v == 0x03 || v == 0x11 || v == 0x13 || v == 0x33;
}

class Inspector {
 public:
  explicit Inspector(const nvm::NvmStore& store) : store_(store), layout_(store.layout()) {}

  CardReport Run() {
    {
      // The records are judged as the card OS's loaders read them, damaged or not; the
      // integrity checks come after, on their own.
      const nvm::NvmStore::UncheckedReads unchecked(store_);
      Records();
    }
    CheckIntegrity();
    r_.block_owners = owner_;
    return std::move(r_);
  }

 private:
  void Records() {
    for (uint32_t b = 0; b < layout_.block_count; ++b) {
      auto s = State(b);
      if (s.ok() && *s == nvm::BlockState::kUsed) ++r_.blocks_used;
    }
    if (!CheckRoot()) return;
    CheckPins();
    CheckKeySets();
    CheckDataObjects();
    CheckRegistry();
    CheckAdministrators();
    WalkTree();
    CheckApplications();
    CheckLeaks();
  }

  // I5 (docs/nvm-format.md §3.1), named by what each unit holds; and whether the card can
  // power on through its checked reads (the root record and the MF's node).
  void CheckIntegrity() {
    if (!r_.card_present) return;
    for (uint32_t u = 0; u < layout_.check_units; ++u) {
      Status s = store_.VerifyUnit(u);
      if (s.ok()) continue;
      const nvm::CheckUnit unit = nvm::UnitAt(layout_, u);
      std::string where = nvm::UnitName(layout_, u);
      std::string effect = "the card answers 6581 (memory failure) to what reads it";
      if (unit.kind == nvm::UnitKind::kBlock) {
        if (auto o = owner_.find(unit.number); o != owner_.end()) where = o->second;
        if (r_.root && unit.number == r_.root->mf) effect = "the card cannot power on";
      } else if (unit.kind == nvm::UnitKind::kRootPage) {
        where = unit.number == 0 ? "root record" : "PIN table";
        if (unit.number == 0) effect = "the card cannot power on";
      } else {
        where = "allocator table";
        effect = "the card answers 6581 (memory failure) to what allocates or writes there";
      }
      Damage(where, "integrity check", unit.offset,
             nvm::UnitName(layout_, u) + " fails its integrity check (" +
                 s.message().substr(s.message().find("the CRC-32")) + "): " + effect);
    }
    if (r_.mountable) {
      auto root = LoadRoot(store_);
      r_.mountable = root.ok() && root->mf < layout_.block_count &&
                     store_.VerifyUnit(nvm::BlockUnit(layout_, root->mf)).ok();
    }
  }

  void Damage(std::string where, std::string field, uint32_t offset, std::string message) {
    r_.damage.push_back({std::move(where), std::move(field), std::move(message), offset});
  }
  Bytes Read(uint32_t offset, size_t n) {
    Bytes b(n, 0);
    // Unverified: integrity failures are the NVM inspector's to report (I5); here the bytes
    // are judged as the card OS's records, so that damage is named by field as well.
    if (!store_.ReadUnverified(offset, b).ok()) b.assign(n, 0);
    return b;
  }
  Result<nvm::BlockState> State(uint32_t block) const {
    uint8_t b = 0;
    TESSERA_RETURN_IF_ERROR(
        store_.ReadUnverified(layout_.table_offset + block, std::span<uint8_t>(&b, 1)));
    if (b > static_cast<uint8_t>(nvm::BlockState::kWiping)) return Corruption("bad state");
    return static_cast<nvm::BlockState>(b);
  }
  uint32_t BlockOffset(uint32_t b) const { return layout_.BlockOffset(b); }
  bool InRange(uint32_t b) const { return b < layout_.block_count; }
  std::string OutOfRange(uint32_t b) const {
    return "points at " + Block(b) + ", outside the blocks area (blocks 0.." +
           std::to_string(layout_.block_count - 1) + ")";
  }

  // Records that `owner` owns `block`, referenced from (where, field) at NVM offset `ref`.
  // Damage: outside the blocks area, already owned, or not USED. False if not claimed.
  bool Claim(uint32_t block, const std::string& owner, const std::string& where,
             const std::string& field, uint32_t ref) {
    if (!InRange(block)) {
      Damage(where, field, ref, OutOfRange(block));
      return false;
    }
    auto it = owner_.find(block);
    if (it != owner_.end()) {
      Damage(where, field, ref,
             "points at " + Block(block) + ", which is already " + it->second +
                 " (a block is owned by one thing only)");
      return false;
    }
    owner_[block] = owner;
    auto state = State(block);
    if (!state.ok() || *state != nvm::BlockState::kUsed) {
      const bool free = state.ok() && *state == nvm::BlockState::kFree;
      Damage(where, field, ref,
             "points at " + Block(block) + ", which the allocator marks " +
                 (free ? "FREE" : "not USED") + " (its table byte is at NVM offset " +
                 HexOffset(layout_.table_offset + block) + ")");
    }
    return true;
  }
  static std::string HexOffset(uint32_t v) {
    char s[16];
    std::snprintf(s, sizeof s, "0x%X", v);
    return s;
  }

  // C1. False when there is no card to inspect further.
  bool CheckRoot() {
    const uint32_t base = layout_.root_offset;
    const Bytes raw = Read(base, root_field::kPins);
    auto root = LoadRoot(store_);
    if (!root.ok()) {
      const Bytes area = Read(base, layout_.geometry.root_size);
      const bool blank = std::all_of(area.begin(), area.end(), [](uint8_t b) { return b == 0; });
      if (blank && r_.blocks_used == 0) {
        r_.notes.push_back("no card file system: a blank NVM store (tessera image init makes one)");
        return false;
      }
      r_.card_present = true;
      if (std::memcmp(raw.data(), "TCOS", 4) != 0) {
        Damage("root record", "magic", base + root_field::kMagic,
               "is " + ToHex(ByteView(raw).first(4)) +
                   ", not 54434F53 (\"TCOS\"): the card cannot power on");
      } else {
        Damage("root record", "version", base + root_field::kVersion,
               "is " + HexByte(raw[root_field::kVersion]) +
                   ", not 01 or 02: the card cannot power on");
      }
      return false;
    }
    r_.card_present = true;
    r_.root = *root;
    const CardRoot& rt = *root;
    if (rt.card_state != kCardOperational && rt.card_state != kCardTerminated) {
      Damage("root record", "card state", base + root_field::kCardState,
             "is " + HexByte(rt.card_state) + ": neither 05 (operational) nor 0C (terminated)");
    } else if (rt.card_state == kCardTerminated) {
      r_.notes.push_back("the card is terminated (TERMINATE CARD USAGE): it answers 6A81");
    }
    if (!ValidGpLifeCycle(rt.gp_life_cycle)) {
      Damage("root record", "GlobalPlatform life cycle", base + root_field::kLifeCycle,
             "is " + HexByte(rt.gp_life_cycle) + ": not one of 01, 07, 0F, 7F, FF");
    }
    if (!ValidAdminLevel(rt.admin_level)) {
      Damage("root record", "minimum security level", base + root_field::kAdminLevel,
             "is " + HexByte(rt.admin_level) + ": not one of 01, 03, 11, 13, 33");
    }
    for (uint32_t i = root_field::kReserved; i < root_field::kPins; ++i) {
      if (raw[i] != 0) {
        Damage("root record", "reserved bytes", base + i,
               "byte " + std::to_string(i) + " is " + HexByte(raw[i]) + ", not 00");
        break;
      }
    }
    return true;
  }

  // C5, PINs.
  void CheckPins() {
    const uint32_t base = layout_.root_offset + root_field::kPins;
    const Bytes raw = Read(base, kMaxPins * root_field::kPinEntry);
    std::map<uint8_t, size_t> slot_of;
    for (size_t i = 0; i < kMaxPins; ++i) {
      const uint8_t* e = &raw[i * root_field::kPinEntry];
      const uint32_t at = base + static_cast<uint32_t>(i * root_field::kPinEntry);
      const uint8_t ref = e[root_field::kPinReference];
      if (ref == 0) continue;
      const std::string where = "PIN " + HexByte(ref);
      if (!slot_of.emplace(ref, i).second) {
        Damage(where, "reference", at + root_field::kPinReference,
               "slot " + std::to_string(i) + " repeats the reference of slot " +
                   std::to_string(slot_of[ref]) + " (references are unique)");
      }
      const uint8_t len = e[root_field::kPinLength];
      if (len == 0 || len > kMaxPinLength) {
        Damage(where, "value length", at + root_field::kPinLength,
               "is " + std::to_string(len) + ": a PIN has 1.." + std::to_string(kMaxPinLength) +
                   " bytes");
      }
      if (e[root_field::kPinTriesLeft] > e[root_field::kPinMaxTries]) {
        Damage(where, "tries left", at + root_field::kPinTriesLeft,
               "is " + std::to_string(e[root_field::kPinTriesLeft]) + ", more than the maximum " +
                   std::to_string(e[root_field::kPinMaxTries]));
      }
      r_.pins.push_back(
          {ref, e[root_field::kPinMaxTries], e[root_field::kPinTriesLeft], e[root_field::kPinPuk]});
    }
    for (size_t i = 0; i < r_.pins.size(); ++i) {
      const PinSummary& p = r_.pins[i];
      if (p.puk_reference != 0 && !slot_of.count(p.puk_reference)) {
        Damage("PIN " + HexByte(p.reference), "PUK reference",
               base + static_cast<uint32_t>(slot_of[p.reference] * root_field::kPinEntry +
                                            root_field::kPinPuk),
               "names PIN " + HexByte(p.puk_reference) + ", which the PIN table does not hold");
      }
    }
  }

  // C5, key sets.
  void CheckKeySets() {
    std::map<uint8_t, uint16_t> block_of_kvn;
    for (size_t i = 0; i < kMaxKeySets; ++i) {
      const uint16_t b = r_.root->key_sets[i];
      if (b == kNoNode) continue;
      const uint32_t ptr =
          layout_.root_offset + root_field::kKeySets + static_cast<uint32_t>(2 * i);
      const std::string slot = "key set pointer " + std::to_string(i);
      if (!Claim(b, "key set slot " + std::to_string(i), "root record", slot, ptr)) continue;
      const uint32_t at = BlockOffset(b);
      const Bytes head = Read(at, 8);
      auto set = LoadKeySet(store_, b);
      if (!set.ok()) {
        const std::string where = "key set in " + Block(b);
        if (head[key_field::kMagic] != 'K') {
          Damage(where, "magic", at + key_field::kMagic,
                 "is " + HexByte(head[key_field::kMagic]) + ", not 4B ('K'): not a key set");
        } else {
          Damage(where, "key length", at + key_field::kKeyLength,
                 "is " + std::to_string(head[key_field::kKeyLength]) + ": not 16, 24 or 32");
        }
        continue;
      }
      const std::string where = "key set " + HexByte(set->kvn);
      owner_[b] = where;
      auto [it, fresh] = block_of_kvn.emplace(set->kvn, b);
      if (!fresh) {
        Damage(where, "KVN", at + key_field::kKvn,
               "the key set in " + Block(b) + " repeats the KVN of the one in " +
                   Block(it->second) + " (KVNs are unique)");
      }
      if (set->failures_left > set->max_failures) {
        Damage(where, "failures left", at + key_field::kFailuresLeft,
               "is " + std::to_string(set->failures_left) + ", more than the maximum " +
                   std::to_string(set->max_failures));
      }
      r_.key_sets.push_back(
          {b, set->kvn, head[key_field::kKeyLength], set->max_failures, set->failures_left});
    }
  }

  // The application registry (docs/applications.md §3): its block and its entries' blocks.
  void CheckRegistry() {
    const uint16_t b = r_.root->registry;
    if (b == kNoNode) return;
    if (!Claim(b, "the application registry", "root record", "registry pointer",
               layout_.root_offset + root_field::kRegistry)) {
      return;
    }
    auto registry = LoadRegistry(store_, *r_.root);
    if (!registry.ok()) {
      Damage("application registry", "content", BlockOffset(b),
             "is not a registry block (magic 52 'R', version 01, at most 16 entries)");
      return;
    }
    for (size_t i = 0; i < registry->entries.size(); ++i) {
      const uint16_t e = registry->entries[i];
      const std::string slot = "entry " + std::to_string(i);
      if (!Claim(e, "registry " + slot, "application registry", slot,
                 BlockOffset(b) + 6 + static_cast<uint32_t>(2 * i))) {
        continue;
      }
      if (!LoadEntry(store_, e).ok()) {
        Damage("registry " + slot, "content", BlockOffset(e),
               "is not an application entry (magic 41 'A', version 01, state 00..03)");
      }
    }
  }

  // Bytes of an EF's data (the blocks in the node's list, in order).
  Bytes ReadEf(const FileNode& node, uint32_t offset, uint32_t n) {
    Bytes out(n, 0);
    const uint32_t bs = layout_.geometry.block_size;
    for (uint32_t i = 0; i < n; ++i) {
      const uint32_t at = offset + i, block = at / bs;
      if (block >= node.data_blocks.size()) break;
      out[i] = Read(BlockOffset(node.data_blocks[block]) + at % bs, 1)[0];
    }
    return out;
  }

  // Registry, file tree and application list agree (docs/applications.md §1): each entry's DF
  // is a DF under the MF named by its AID, AIDs are unique, and with the management
  // application installed every other application has exactly one record, whose status is its
  // state.
  // An application's code (docs/applets.md §5): a built-in module's AID (01), or an applet
  // package (02) in EF C0DE of its DF whose module is the one the entry names.
  void CheckCode(const RegistryEntry& e, const std::string& where) {
    const uint32_t at = BlockOffset(e.block) + 25;
    if (e.code_format == kCodeBuiltIn) return;
    if (e.code_format != format::kCodeFormatLuaPackage) {
      Damage(where, "code format", at, HexByte(e.code_format) + " is no code format");
      return;
    }
    auto code = std::find_if(r_.files.begin(), r_.files.end(), [&](const FileEntry& f) {
      return f.node.parent == e.df && f.node.fid == 0xC0DE && f.node.is_ef();
    });
    if (code == r_.files.end()) {
      Damage(where, "code", at, "an applet without its code (EF C0DE in its DF)");
      return;
    }
    const Bytes bytes = ReadEf(code->node, 0, code->node.size);
    auto stored = format::ParseStoredApplet(bytes);
    if (!stored.ok()) {
      Damage(where, "code", BlockOffset(code->node.id), stored.status().message());
      return;
    }
    auto package = format::ParseAppletPackage(stored->package);
    if (!package.ok() || package->modules[stored->module_index].aid != e.module_aid) {
      Damage(where, "module AID", at + 1, "is not the module its code holds");
    }
  }

  void CheckApplications() {
    if (!r_.root || r_.root->registry == kNoNode) return;
    auto registry = LoadRegistry(store_, *r_.root);
    if (!registry.ok()) return;  // reported by CheckRegistry
    std::map<std::string, RegistryEntry> by_aid;
    const RegistryEntry* mgmt = nullptr;
    for (uint16_t b : registry->entries) {
      auto e = LoadEntry(store_, b);
      if (!e.ok()) continue;
      const std::string aid = ToHex(e->aid);
      const std::string where = "application " + aid;
      if (!by_aid.emplace(aid, *e).second) {
        Damage(where, "AID", BlockOffset(b) + 8, "is registered twice");
        continue;
      }
      auto file = std::find_if(r_.files.begin(), r_.files.end(),
                               [&](const FileEntry& f) { return f.node.id == e->df; });
      if (file == r_.files.end() || !file->node.is_df() || file->depth != 1 ||
          file->node.df_name != e->aid) {
        Damage(where, "DF", BlockOffset(b) + 43,
               "names " + Block(e->df) + ", which is not a DF under the MF named by the AID");
      }
      if (e->aid ==
          Bytes(std::begin(aid::kManagementApplication), std::end(aid::kManagementApplication))) {
        mgmt = &by_aid.at(aid);
      }
      CheckCode(*e, where);
    }
    if (mgmt == nullptr) return;
    auto list = std::find_if(r_.files.begin(), r_.files.end(), [&](const FileEntry& f) {
      return f.node.parent == mgmt->df && f.node.sfi == kApplicationListSfi &&
             f.node.is_record_ef();
    });
    if (list == r_.files.end()) {
      Damage("management application", "application list", BlockOffset(mgmt->df),
             "its DF holds no record EF with SFI 1");
      return;
    }
    std::set<std::string> recorded;
    for (uint16_t i = 0; i < list->node.record_count; ++i) {
      const Bytes slot = ReadEf(list->node, i * list->node.slot_size(), list->node.slot_size());
      if (slot.empty()) break;
      auto rec = ParseRecord(ByteView(slot).subspan(1, std::min<size_t>(slot[0], slot.size() - 1)));
      const std::string where = "application list record " + std::to_string(i + 1);
      if (!rec.ok()) {
        Damage(where, "content", BlockOffset(list->node.id), "is not an E1 record");
        continue;
      }
      const std::string aid = ToHex(rec->aid);
      auto it = by_aid.find(aid);
      if (it == by_aid.end()) {
        Damage(where, "AID", BlockOffset(list->node.id),
               aid + " has a record but no application (an orphan record)");
      } else if (!recorded.insert(aid).second) {
        Damage(where, "AID", BlockOffset(list->node.id), aid + " has two records");
      } else if (rec->status != it->second.state) {
        Damage(where, "status", BlockOffset(list->node.id),
               "is " + HexByte(static_cast<uint8_t>(rec->status)) + ", the application's state " +
                   HexByte(static_cast<uint8_t>(it->second.state)));
      }
    }
    for (const auto& [aid, e] : by_aid) {
      if (&e != mgmt && !recorded.count(aid)) {
        Damage("application " + aid, "record", BlockOffset(e.block),
               "has no record in the application list (an orphan application)");
      }
    }
  }

  // The administrators (docs/applications.md §3): list block, entries, their key sets.
  void CheckAdministrators() {
    const uint16_t b = r_.root->administrators;
    if (b == kNoNode) return;
    if (!Claim(b, "the administrator list", "root record", "administrator pointer",
               layout_.root_offset + root_field::kAdministrators)) {
      return;
    }
    auto admins = LoadAdministrators(store_, *r_.root);
    if (!admins.ok()) {
      Damage("administrator list", "content", BlockOffset(b),
             "is not an administrator list (magic 44 'D', version 01, at most 8 entries)");
      return;
    }
    for (const Administrator& a : *admins) {
      const std::string who = "administrator " + HexByte(a.id);
      Claim(a.block, who, "administrator list", who, BlockOffset(b));
      if (a.key_set == kNoNode) continue;
      if (Claim(a.key_set, who + "'s key set", who, "key set", BlockOffset(a.block) + 101) &&
          !LoadKeySet(store_, a.key_set).ok()) {
        Damage(who + "'s key set", "content", BlockOffset(a.key_set), "is not a key set");
      }
    }
  }

  void CheckDataObjects() {
    const uint16_t b = r_.root->data_objects;
    if (b == kNoNode) return;
    r_.has_data_objects = true;
    if (!Claim(b, "the PUT DATA block", "root record", "PUT DATA pointer",
               layout_.root_offset + root_field::kDataObjects)) {
      return;
    }
    const Bytes block = Read(BlockOffset(b), layout_.geometry.block_size);
    auto seq = ParseTlvSequence(block, {.allow_padding = true});
    if (!seq.ok()) {
      Damage("PUT DATA objects", "content", BlockOffset(b),
             "the block is not a BER-TLV sequence padded with zeros: " + seq.status().message());
      return;
    }
    r_.data_object_count = static_cast<uint32_t>(seq->size());
  }

  // Why DecodeNode refused a node block: (field, offset in the node, message).
  struct NodeFault {
    std::string field;
    uint32_t offset;
    std::string message;
  };
  static NodeFault Diagnose(ByteView raw) {
    namespace f = node_field;
    if (raw[f::kMagic] != 'N') {
      return {"magic", f::kMagic,
              "is " + HexByte(raw[f::kMagic]) + ", not 4E ('N'): not a file node"};
    }
    if (raw[f::kKind] != 1 && raw[f::kKind] != 2) {
      return {"kind", f::kKind, "is " + HexByte(raw[f::kKind]) + ": neither 1 (DF) nor 2 (EF)"};
    }
    if (raw[f::kSecurityLength] > kMaxSecurityBytes) {
      return {"security attributes length", f::kSecurityLength,
              "is " + std::to_string(raw[f::kSecurityLength]) + ": at most " +
                  std::to_string(kMaxSecurityBytes)};
    }
    if (raw[f::kNameLength] > kMaxDfName) {
      return {
          "DF name length", f::kNameLength,
          "is " + std::to_string(raw[f::kNameLength]) + ": at most " + std::to_string(kMaxDfName)};
    }
    if (raw[f::kBlockCount] > kMaxDataBlocks) {
      return {"data block count", f::kBlockCount,
              "is " + std::to_string(raw[f::kBlockCount]) + ": at most " +
                  std::to_string(kMaxDataBlocks)};
    }
    if (raw[f::kFciLength] > kMaxFciProprietary) {
      return {"FCI length", f::kFciLength,
              "is " + std::to_string(raw[f::kFciLength]) + ": at most " +
                  std::to_string(kMaxFciProprietary)};
    }
    const uint16_t count = GetU16(&raw[f::kRecordCount]), max = GetU16(&raw[f::kMaxRecords]);
    return {"record count", f::kRecordCount,
            "is " + std::to_string(count) + ", more than the maximum number of records " +
                std::to_string(max)};
  }

  // Reads and decodes the node in `block`, a child of the DF at `parent_path` (empty for the
  // MF) linked by `link_where`. A node that does not decode is reported under its FID path
  // when its magic is intact (the FID is then where the format puts it), else by block.
  std::optional<FileNode> LoadNode(uint16_t block, const std::string& parent_path,
                                   const std::string& link_where) {
    const Bytes raw = Read(BlockOffset(block), kNodeSize);
    auto node = DecodeNode(raw, block);
    if (node.ok()) return *node;
    std::string where;
    if (raw[node_field::kMagic] == 'N') {
      where =
          (parent_path.empty() ? "" : parent_path + "/") + HexU16(GetU16(&raw[node_field::kFid]));
    } else {
      where = parent_path.empty() ? "MF" : parent_path + "/? (linked by " + link_where + ")";
    }
    NodeFault fault = Diagnose(raw);
    Damage(where, fault.field, BlockOffset(block) + fault.offset,
           fault.message + " (node in " + Block(block) + ")");
    return std::nullopt;
  }

  bool IsAncestorOrSelf(uint16_t candidate, uint16_t node) const {
    for (uint32_t steps = 0; node != kNoNode && steps <= layout_.block_count; ++steps) {
      if (node == candidate) return true;
      auto it = parent_of_.find(node);
      if (it == parent_of_.end()) return false;
      node = it->second;
    }
    return false;
  }

  // C2, C3, C4.
  void WalkTree() {
    const uint16_t mf_block = r_.root->mf;
    const uint32_t mf_ptr = layout_.root_offset + root_field::kMf;
    if (!InRange(mf_block)) {
      Damage("root record", "MF pointer", mf_ptr,
             OutOfRange(mf_block) + ": the card cannot power on");
      return;
    }
    auto mf = LoadNode(mf_block, "", "root record");
    if (!mf) {
      Damage(
          "root record", "MF pointer", mf_ptr,
          "points at " + Block(mf_block) + ", which holds no file node: the card cannot power on");
      return;
    }
    r_.mountable = true;
    const std::string mf_path = HexU16(mf->fid);
    Claim(mf_block, "the node of " + mf_path, "root record", "MF pointer", mf_ptr);
    const uint32_t mf_at = BlockOffset(mf_block);
    if (!mf->is_df()) {
      Damage(mf_path, "kind", mf_at + node_field::kKind, "the MF is an EF, not a DF");
    }
    if (mf->fid != kMfFid) {
      Damage(mf_path, "FID", mf_at + node_field::kFid, "the MF has FID " + mf_path + ", not 3F00");
    }
    if (mf->parent != kNoNode) {
      Damage(mf_path, "parent", mf_at + node_field::kParent,
             "is " + HexU16(mf->parent) + ": the MF has no parent (FFFF)");
    }
    node_path_[mf_block] = mf_path;
    std::vector<FileEntry> stack{{mf_path, 0, *mf}};
    while (!stack.empty()) {
      FileEntry e = std::move(stack.back());
      stack.pop_back();
      CheckNode(e);
      std::vector<FileEntry> children = e.node.is_df() ? Children(e) : std::vector<FileEntry>{};
      r_.files.push_back(std::move(e));
      for (auto it = children.rbegin(); it != children.rend(); ++it) stack.push_back(*it);
    }
  }

  // The children of a DF, following first child / next sibling; each is checked against its
  // siblings and claimed.
  std::vector<FileEntry> Children(const FileEntry& df) {
    namespace f = node_field;
    std::vector<FileEntry> out;
    std::map<uint16_t, std::string> fids;
    std::map<uint8_t, std::string> sfis;
    uint16_t id = df.node.first_child;
    std::string link_where = df.path, link_field = "first child";
    uint32_t link_at = BlockOffset(df.node.id) + f::kFirstChild;
    while (id != kNoNode) {
      if (!InRange(id)) {
        Damage(link_where, link_field, link_at, OutOfRange(id));
        break;
      }
      if (auto seen = node_path_.find(id); seen != node_path_.end()) {
        std::string why;
        if (IsAncestorOrSelf(id, df.node.id)) {
          why = "points back at " + seen->second + " (" + Block(id) + "): a cycle";
        } else if (parent_of_.count(id) && parent_of_[id] == df.node.id) {
          why = "points at " + seen->second + " (" + Block(id) +
                ") again: the list of children of " + df.path + " loops";
        } else {
          why = "points at " + seen->second + " (" + Block(id) +
                "), which is already linked elsewhere (a node has one place in the tree)";
        }
        Damage(link_where, link_field, link_at, why);
        break;
      }
      if (auto owned = owner_.find(id); owned != owner_.end()) {
        Damage(link_where, link_field, link_at,
               "points at " + Block(id) + ", which is " + owned->second + ", not a file node");
        break;
      }
      auto node = LoadNode(id, df.path, link_where);
      if (!node) {
        // Keep what can be trusted of a node that does not decode but is one (its magic holds):
        // its data blocks and its sibling link, so that its damage does not hide the others.
        const Bytes raw = Read(BlockOffset(id), kNodeSize);
        owner_[id] = "a damaged node under " + df.path;
        parent_of_[id] = df.node.id;
        if (raw[f::kMagic] != 'N') {
          node_path_[id] = df.path + "/? (" + Block(id) + ")";
          break;
        }
        const std::string path = df.path + "/" + HexU16(GetU16(&raw[f::kFid]));
        node_path_[id] = path;
        if (raw[f::kKind] == 2 && raw[f::kBlockCount] <= kMaxDataBlocks) {
          for (uint32_t i = 0; i < raw[f::kBlockCount]; ++i) {
            const std::string field = "data block " + std::to_string(i);
            Claim(GetU16(&raw[f::kBlocks + 2 * i]), field + " of " + path, path, field,
                  BlockOffset(id) + f::kBlocks + 2 * i);
          }
        }
        link_where = path;
        link_field = "next sibling";
        link_at = BlockOffset(id) + f::kNextSibling;
        id = GetU16(&raw[f::kNextSibling]);
        continue;
      }
      const std::string path = df.path + "/" + HexU16(node->fid);
      const uint32_t at = BlockOffset(id);
      Claim(id, "the node of " + path, link_where, link_field, link_at);
      node_path_[id] = path;
      parent_of_[id] = df.node.id;
      if (node->parent != df.node.id) {
        Damage(path, "parent", at + f::kParent,
               "names " + Block(node->parent) + ", but the file is linked from " + df.path + " (" +
                   Block(df.node.id) + ")");
      }
      if (node->fid == kMfFid || node->fid == 0xFFFF || node->fid == 0x3FFF ||
          node->fid == df.node.fid) {
        Damage(path, "FID", at + f::kFid,
               HexU16(node->fid) + " is reserved (3F00, 3FFF, FFFF) or the FID of its DF");
      }
      if (auto [it, fresh] = fids.emplace(node->fid, path); !fresh) {
        Damage(path, "FID", at + f::kFid,
               "another file in " + df.path + " has FID " + HexU16(node->fid) +
                   " (FIDs are unique among siblings)");
      }
      if (node->is_ef() && node->sfi != 0) {
        if (node->sfi > 30) {
          Damage(path, "SFI", at + f::kSfi, "is " + std::to_string(node->sfi) + ": SFIs are 1..30");
        } else if (auto [it, fresh] = sfis.emplace(node->sfi, path); !fresh) {
          Damage(path, "SFI", at + f::kSfi,
                 "SFI " + std::to_string(node->sfi) + " is also the SFI of " + it->second +
                     " (SFIs are unique among the EFs of a DF)");
        }
      }
      if (node->is_df() && !node->df_name.empty()) {
        if (auto [it, fresh] = df_names_.emplace(node->df_name, path); !fresh) {
          Damage(path, "DF name", at + f::kName,
                 ToHex(node->df_name) + " is also the name of " + it->second +
                     " (DF names are unique)");
        }
      }
      link_where = path;
      link_field = "next sibling";
      link_at = at + f::kNextSibling;
      id = node->next_sibling;
      out.push_back({path, df.depth + 1, std::move(*node)});
    }
    return out;
  }

  // The node's own fields, its data blocks and its records (C2, C3, C4).
  void CheckNode(const FileEntry& e) {
    namespace f = node_field;
    const FileNode& n = e.node;
    const uint32_t at = BlockOffset(n.id);
    const uint32_t bs = layout_.geometry.block_size;
    if (!ValidLcs(n.lcs)) {
      Damage(e.path, "life cycle status", at + f::kLcs,
             "is " + HexByte(n.lcs) + ": not an ISO/IEC 7816-4 life cycle status");
    }
    if (n.is_df()) {
      if (n.fdb != 0x38) {
        Damage(e.path, "FDB", at + f::kFdb, "is " + HexByte(n.fdb) + ": a DF's is 38");
      }
      if (!n.data_blocks.empty()) {
        Damage(e.path, "data block count", at + f::kBlockCount,
               "is " + std::to_string(n.data_blocks.size()) + ": a DF has no data blocks");
      }
      return;
    }
    const uint8_t s = n.fdb & 0x07;
    if ((n.fdb & 0xB8) != 0 || (s != 1 && s != 2 && s != 4 && s != 6)) {
      Damage(e.path, "FDB", at + f::kFdb,
             "is " + HexByte(n.fdb) +
                 ": not an EF structure (01 transparent, 02 linear fixed, 04 linear variable, "
                 "06 cyclic)");
      return;
    }
    if (n.first_child != kNoNode) {
      Damage(e.path, "first child", at + f::kFirstChild,
             "is " + HexU16(n.first_child) + ": an EF has no children (FFFF)");
    }
    bool blocks_ok = true;
    for (size_t i = 0; i < n.data_blocks.size(); ++i) {
      const std::string field = "data block " + std::to_string(i);
      if (!Claim(n.data_blocks[i], field + " of " + e.path, e.path, field,
                 at + f::kBlocks + static_cast<uint32_t>(2 * i))) {
        blocks_ok = false;
      }
    }
    uint32_t need_bytes = n.size;
    if (n.is_record_ef()) {
      if (n.size == 0 || n.size > 255) {
        Damage(e.path, "maximum record length", at + f::kSize,
               "is " + std::to_string(n.size) + ": records have 1..255 bytes");
        return;
      }
      if (n.max_records == 0 || n.max_records > 254) {
        Damage(e.path, "maximum number of records", at + f::kMaxRecords,
               "is " + std::to_string(n.max_records) + ": 1..254");
        return;
      }
      if (n.structure() == EfStructure::kCyclic && n.cyclic_head >= n.max_records) {
        Damage(e.path, "cyclic head", at + f::kCyclicHead,
               "is slot " + std::to_string(n.cyclic_head) + ", outside the " +
                   std::to_string(n.max_records) + " slots");
      }
      need_bytes = n.slot_size() * n.max_records;
    }
    const uint32_t need_blocks = (need_bytes + bs - 1) / bs;
    if (n.data_blocks.size() != need_blocks) {
      const std::string what = n.is_record_ef()
                                   ? std::to_string(n.max_records) + " records of up to " +
                                         std::to_string(n.size) + " bytes (" +
                                         std::to_string(need_bytes) + " bytes of slots)"
                                   : "a size of " + std::to_string(n.size) + " bytes";
      Damage(e.path, "data block count", at + f::kBlockCount,
             "is " + std::to_string(n.data_blocks.size()) + ", but " + what + " need " +
                 std::to_string(need_blocks) + " blocks of " + std::to_string(bs) + " bytes" +
                 (need_blocks > kMaxDataBlocks ? " (more than the 64 a file may have)" : ""));
      return;
    }
    if (!n.is_record_ef() || !blocks_ok) return;
    for (uint32_t slot = 0; slot < n.max_records; ++slot) {
      const uint32_t pos = slot * n.slot_size();
      const uint32_t where = BlockOffset(n.data_blocks[pos / bs]) + pos % bs;
      const uint8_t len = Read(where, 1)[0];
      if (len > n.size) {
        Damage(e.path, "record slot " + std::to_string(slot), where,
               "its length byte is " + std::to_string(len) +
                   ", more than the maximum record "
                   "length " +
                   std::to_string(n.size));
      }
    }
  }

  // C3: USED blocks that nothing owns.
  void CheckLeaks() {
    for (uint32_t b = 0; b < layout_.block_count; ++b) {
      auto s = State(b);
      if (!s.ok() || *s != nvm::BlockState::kUsed) continue;
      if (owner_.count(b)) {
        ++r_.blocks_owned;
        continue;
      }
      const Bytes raw = Read(BlockOffset(b), kNodeSize);
      std::string hint;
      if (auto node = DecodeNode(raw, static_cast<uint16_t>(b)); node.ok()) {
        hint = "; it holds the node of a file with FID " + HexU16(node->fid) +
               " that is not reachable from the MF";
      } else if (raw[key_field::kMagic] == 'K') {
        hint = "; it looks like a key set that the root record does not name";
      }
      Damage(Block(b), "allocator", layout_.table_offset + b,
             "is USED but nothing owns it (a leaked block)" + hint);
    }
  }

  const nvm::NvmStore& store_;
  const nvm::Layout& layout_;
  CardReport r_;
  std::map<uint32_t, std::string> owner_;
  std::map<uint16_t, std::string> node_path_;
  std::map<uint16_t, uint16_t> parent_of_;
  std::map<Bytes, std::string> df_names_;
};

}  // namespace

std::string CardDamage::ToString() const {
  char at[32];
  std::snprintf(at, sizeof at, " (NVM offset 0x%X)", nvm_offset);
  return where + ": " + field + ": " + message + at;
}

CardReport InspectCard(const nvm::NvmStore& store) {
  return Inspector(store).Run();
}

CardReport InspectCardImage(const nvm::NvmDevice& device, const nvm::Geometry& geometry) {
  auto copy = nvm::RamNvm::CopyOf(device);
  auto store = nvm::NvmStore::Mount(copy->device(), geometry);
  if (!store.ok()) {
    CardReport r;
    r.card_present = true;
    r.damage.push_back(
        {"NVM", "store",
         "does not mount (" + store.status().message() + "): the card cannot power on", 0});
    return r;
  }
  return InspectCard(**store);
}

}  // namespace tessera::card
