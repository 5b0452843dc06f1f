#include "image_report.h"

#include <cstdio>
#include <ctime>

#include "card/iso/access_control.h"
#include "card/kernel/card_root.h"
#include "card_text.h"
#include "core/bytes.h"
#include "host/app_record.h"
#include "json_output.h"
#include "nvm/image_file.h"

namespace tessera::tools {

using namespace host;  // NOLINT(google-build-using-namespace)

namespace {

using card::CardReport;
using nvm::Geometry;
using nvm::ImageReport;
using nvm::ImageSnapshot;

std::string FormatTime(uint64_t unix_time) {
  std::time_t t = static_cast<std::time_t>(unix_time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// A DF name as text: what is printable UTF-8 as it is, every other byte '?' (app_record.h).
std::string Printable(ByteView b) {
  return tools::Printable(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}
uint64_t FileOffset(uint32_t nvm_offset) {
  return uint64_t{nvm::kImageHeaderRegion} + nvm_offset;
}

}  // namespace

Inspection Inspect(const ImageSnapshot& snap) {
  Inspection in;
  in.snap = &snap;
  auto layout = nvm::ComputeLayout(snap.geometry());  // valid: the snapshot checked it
  in.nvm = nvm::InspectImage(snap.device(), *layout);
  in.card = card::InspectCardImage(snap.device(), snap.geometry());
  if (snap.served()) {
    const auto pid = snap.holder_pid();
    in.notes.push_back(
        "a running card " + (pid ? "(pid " + std::to_string(*pid) + ")" : std::string("")) +
        (pid ? " " : "") +
        "serves this image: this is a copy taken between two of its page programs, the state "
        "a power cut at that moment would leave (a command in progress shows as pending "
        "recovery work); stop the card for a view that cannot change");
  }
  for (const auto& n : in.nvm.notes) in.notes.push_back(n);
  for (const auto& n : in.card.notes) in.notes.push_back(n);
  for (const auto& e : in.nvm.errors) {
    // On a card, the card's report names every integrity failure by what the unit holds.
    const bool integrity =
        std::any_of(in.nvm.integrity.begin(), in.nvm.integrity.end(),
                    [&](const nvm::IntegrityFailure& f) { return f.message == e; });
    if (!integrity || !in.card.card_present) in.errors.push_back(e);
  }
  for (const auto& d : in.card.damage) {
    char at[64];
    std::snprintf(at, sizeof at, " (NVM offset 0x%X, file offset 0x%llX)", d.nvm_offset,
                  static_cast<unsigned long long>(FileOffset(d.nvm_offset)));
    in.errors.push_back(d.where + ": " + d.field + ": " + d.message + at);
  }
  return in;
}

std::string CardStateName(uint8_t s) {
  if (s == card::kCardOperational) return "operational";
  if (s == card::kCardTerminated) return "terminated";
  return "unknown (" + HexByte(s) + ")";
}

Json CardJson(const CardReport& c) {
  Json j{{"present", c.card_present}, {"mountable", c.mountable}};
  if (c.root) {
    const card::CardRoot& r = *c.root;
    j["state"] = CardStateName(r.card_state);
    j["life_cycle"] = HexByte(r.gp_life_cycle);
    j["life_cycle_name"] = GpLifeCycleName(r.gp_life_cycle);
    j["min_security_level"] = HexByte(r.admin_level);
    j["min_security_level_name"] = SecurityLevelName(r.admin_level);
  }
  j["file_count"] = c.files.size();
  j["pins"] = Json::array();
  for (const auto& p : c.pins) {
    Json pin{{"reference", HexByte(p.reference)},
             {"max_tries", p.max_tries},
             {"tries_left", p.tries_left}};
    if (p.puk_reference != 0) pin["puk"] = HexByte(p.puk_reference);
    j["pins"].push_back(pin);
  }
  j["key_sets"] = Json::array();
  for (const auto& k : c.key_sets) {
    j["key_sets"].push_back({{"kvn", HexByte(k.kvn)},
                             {"key_length", k.key_length},
                             {"failures_left", k.failures_left},
                             {"max_failures", k.max_failures},
                             {"block", k.block}});
  }
  j["data_objects"] = c.data_object_count;
  j["blocks_used"] = c.blocks_used;
  j["blocks_owned"] = c.blocks_owned;
  return j;
}

// What was found: damage as sentences, the card's damage with offsets, and notes.
void AddFindings(Json& j, const Inspection& in) {
  j["errors"] = in.errors;
  j["card_damage"] = Json::array();
  for (const auto& d : in.card.damage) {
    j["card_damage"].push_back({{"where", d.where},
                                {"field", d.field},
                                {"message", d.message},
                                {"nvm_offset", d.nvm_offset},
                                {"file_offset", FileOffset(d.nvm_offset)}});
  }
  j["notes"] = in.notes;
}

// "ok" and, for a failure, the error: `damaged` when the check found damage.
Json Outcome(bool ok, const Inspection& in) {
  if (ok) return Json{{"ok", true}};
  return ErrorJson(in.errors.empty() ? "damaged" : in.errors.front(), ErrorKind::kDamaged);
}

void AddSnapshot(Json& j, const ImageSnapshot& snap) {
  j["served"] = snap.served();
  if (snap.holder_pid()) j["served_by_pid"] = *snap.holder_pid();
}

// `ok`: show reports damage and succeeds; check fails on it.
void PrintReportJson(const Inspection& in, const std::string& path, bool ok) {
  const ImageReport& r = in.nvm;
  const Geometry& g = r.layout.geometry;
  Json j = Outcome(ok, in);
  j["path"] = path;
  j["format_version"] = nvm::kImageFormatVersion;
  j["created"] = FormatTime(in.snap->created_unix());
  AddSnapshot(j, *in.snap);
  j["geometry"] = {{"nvm_size", g.nvm_size},
                   {"page_size", g.page_size},
                   {"pages", g.nvm_size / g.page_size},
                   {"commit_capacity", g.journal_capacity},
                   {"block_size", g.block_size},
                   {"root_size", g.root_size}};
  j["layout"] = {{"nvm_file_offset", nvm::kImageHeaderRegion},
                 {"journal_body_offset", r.layout.journal_body_offset},
                 {"table_offset", r.layout.table_offset},
                 {"check_offset", r.layout.check_offset},
                 {"check_units", r.layout.check_units},
                 {"root_offset", r.layout.root_offset},
                 {"blocks_offset", r.layout.blocks_offset},
                 {"block_count", r.layout.block_count}};
  j["blocks"] = {{"used", r.blocks_used}, {"wiping", r.blocks_wiping}, {"free", r.blocks_free}};
  j["journal"] = {{"state", r.journal_state == nvm::JournalState::kIdle        ? "idle"
                            : r.journal_state == nvm::JournalState::kCommitted ? "committed"
                            : r.journal_state == nvm::JournalState::kWipeBody  ? "wipe-body"
                                                                               : "torn"},
                  {"sequence", r.journal_sequence},
                  {"body_length", r.journal_body_length}};
  Json regions = Json::array();
  for (const auto& reg : r.wear) {
    regions.push_back({{"name", reg.name},
                       {"first_page", reg.first_page},
                       {"pages", reg.page_count},
                       {"programs", reg.programs},
                       {"max_per_page", reg.max_per_page}});
  }
  j["wear"] = {{"total_programs", r.total_programs},
               {"max_per_page", r.max_wear},
               {"most_worn_page", r.max_wear_page},
               {"regions", regions}};
  j["card"] = CardJson(in.card);
  AddFindings(j, in);
  PrintJson(j);
}

void PrintCardText(const CardReport& c) {
  if (!c.card_present) {
    std::printf("card      none: a blank NVM store without a card file system\n");
    return;
  }
  if (!c.root) {
    std::printf("card      unreadable: the root record is damaged (see below)\n");
    return;
  }
  const card::CardRoot& r = *c.root;
  std::printf("card      %s; GlobalPlatform life cycle %s (%s)\n",
              CardStateName(r.card_state).c_str(), GpLifeCycleName(r.gp_life_cycle).c_str(),
              HexByte(r.gp_life_cycle).c_str());
  std::printf("          minimum security level %s (%s) for administration once SECURED\n",
              HexByte(r.admin_level).c_str(), SecurityLevelName(r.admin_level).c_str());
  std::string pins, keys;
  for (const auto& p : c.pins) {
    pins += (pins.empty() ? "" : ", ") + HexByte(p.reference) + " (" +
            std::to_string(p.tries_left) + "/" + std::to_string(p.max_tries) + " tries)";
  }
  for (const auto& k : c.key_sets) {
    keys += (keys.empty() ? "KVN " : ", KVN ") + HexByte(k.kvn) + " (AES-" +
            std::to_string(k.key_length * 8) + ")";
  }
  std::printf("          %zu files ('tessera image ls' lists them), %u PUT DATA object(s)\n",
              c.files.size(), c.data_object_count);
  std::printf("          PINs %s; key sets %s\n", pins.empty() ? "none" : pins.c_str(),
              keys.empty() ? "none" : keys.c_str());
}

void PrintReportText(const Inspection& in, const std::string& path) {
  const ImageReport& r = in.nvm;
  const Geometry& g = r.layout.geometry;
  const nvm::Layout& l = r.layout;
  std::printf("image     %s (format %u, created %s)\n", path.c_str(),
              static_cast<unsigned>(nvm::kImageFormatVersion),
              FormatTime(in.snap->created_unix()).c_str());
  std::printf("geometry  %u bytes of NVM in %u pages of %u bytes\n", g.nvm_size,
              g.nvm_size / g.page_size, g.page_size);
  std::printf(
      "layout    journal header 0x%X, journal body 0x%X (commit capacity %u bytes),\n"
      "          allocator table 0x%X, check table 0x%X (%u CRC-32s), root area 0x%X\n"
      "          (%u bytes), blocks 0x%X (NVM offsets; the file holds the NVM from offset 4096)\n",
      l.journal_header_offset, l.journal_body_offset, g.journal_capacity, l.table_offset,
      l.check_offset, l.check_units, l.root_offset, g.root_size, l.blocks_offset);
  const double pct = l.block_count ? 100.0 * r.blocks_used / l.block_count : 0.0;
  std::printf("blocks    %u of %u in use (%.1f%%), %u free, %u awaiting wipe; %u bytes each\n",
              r.blocks_used, l.block_count, pct, r.blocks_free, r.blocks_wiping, g.block_size);
  std::printf("journal   %s; last transaction #%llu\n",
              std::string(nvm::JournalStateName(r.journal_state)).c_str(),
              static_cast<unsigned long long>(r.journal_sequence));
  std::printf("wear      %llu page programs in all; most worn: page %u (%u programs)\n",
              static_cast<unsigned long long>(r.total_programs), r.max_wear_page, r.max_wear);
  std::printf("          %-16s %8s %10s %10s\n", "region", "pages", "programs", "max/page");
  for (const auto& reg : r.wear) {
    std::printf("          %-16s %8u %10llu %10u\n", reg.name.c_str(), reg.page_count,
                static_cast<unsigned long long>(reg.programs), reg.max_per_page);
  }
  PrintCardText(in.card);
  for (const auto& n : in.notes) std::printf("note      %s\n", n.c_str());
  for (const auto& e : in.errors) std::printf("DAMAGE    %s\n", e.c_str());
}

// What the OS keeps in a file of its own for applets (docs/applets.md §2, §5): the code, store
// and PINs in an applet's DF, and the load files GP LOAD brought; empty for any other file.
std::string FileRole(const card::FileEntry& e) {
  const card::FileNode& n = e.node;
  const bool under_load_files = e.path.find("/7FC0") != std::string::npos;
  if (n.is_df()) return e.depth == 1 && n.fid == 0x7FC0 && n.df_name.empty() ? "load files" : "";
  if (under_load_files && e.depth == 2) return "load file";
  if (e.depth != 2) return "";
  if (n.fid == 0xC0DE) return "applet code";
  if (n.fid == 0xC0DF) return "applet store";
  if (n.fid > 0xC0E0 && n.fid <= 0xC0E4) return "applet PIN";
  return "";
}

std::string FileSummary(const card::FileEntry& e) {
  const card::FileNode& n = e.node;
  std::string s;
  if (n.is_df()) {
    s = e.depth == 0 ? "MF" : "DF";
    if (!n.df_name.empty()) {
      s += ", name " + ToHex(n.df_name) + " \"" + Printable(n.df_name) + "\"";
    }
  } else {
    s = FileTypeName(n) + " EF";
    if (n.is_record_ef()) {
      s += ", " + std::to_string(n.record_count) + " of " + std::to_string(n.max_records) +
           " records, up to " + std::to_string(n.size) + " bytes each";
    } else {
      s += ", " + std::to_string(n.size) + " bytes";
    }
    if (n.sfi != 0) s += ", SFI " + std::to_string(n.sfi);
  }
  const std::string role = FileRole(e);
  return s + "; " + LifeCycleName(n.lcs) + (role.empty() ? "" : "; " + role);
}

// The listing; damage fails it (damaged), and so does a blank store (file: no card file system).
void PrintLsJson(const Inspection& in, const std::string& path, uint32_t block_size) {
  Json j = !in.card.card_present
               ? ErrorJson(path + ": no card file system (a blank NVM store)", ErrorKind::kFile)
               : Outcome(in.ok(), in);
  j["path"] = path;
  AddSnapshot(j, *in.snap);
  j["card_present"] = in.card.card_present;
  const nvm::Layout& l = in.nvm.layout;
  Json files = Json::array();
  for (const auto& e : in.card.files) {
    const card::FileNode& n = e.node;
    Json f{{"path", e.path},
           {"fid", HexU16(n.fid)},
           {"depth", e.depth},
           {"kind", n.is_df() ? (e.depth == 0 ? "MF" : "DF") : "EF"},
           {"type", FileTypeName(n)},
           {"fdb", HexByte(n.fdb)},
           {"life_cycle", HexByte(n.lcs)},
           {"life_cycle_name", LifeCycleName(n.lcs)}};
    if (n.is_df()) {
      f["df_name_hex"] = n.df_name.empty() ? Json() : Json(ToHex(n.df_name));
      f["df_name_text"] = n.df_name.empty() ? Json() : Json(Printable(n.df_name));
      if (!n.fci_proprietary.empty()) f["fci_proprietary"] = ToHex(n.fci_proprietary);
    } else {
      f["sfi"] = n.sfi;
      if (n.is_record_ef()) {
        f["record_length"] = n.size;
        f["max_records"] = n.max_records;
        f["record_count"] = n.record_count;
      } else {
        f["size"] = n.size;
      }
    }
    f["security"] = ToHex(n.security);
    f["access_text"] = DescribeAccess(n);
    f["access"] = Json::array();
    for (const auto& rule : AccessRules(n)) {
      f["access"].push_back({{"modes", rule.modes}, {"condition", rule.condition}});
    }
    const uint32_t at = l.BlockOffset(n.id);
    f["node_block"] = n.id;
    f["node_nvm_offset"] = at;
    f["node_file_offset"] = FileOffset(at);
    f["data_blocks"] = n.data_blocks;
    if (const std::string role = FileRole(e); !role.empty()) f["role"] = role;
    files.push_back(std::move(f));
  }
  j["files"] = std::move(files);
  j["block_size"] = block_size;
  AddFindings(j, in);
  PrintJson(j);
}

}  // namespace tessera::tools
