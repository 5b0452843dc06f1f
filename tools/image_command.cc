#include "image_command.h"

#include <sys/random.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <optional>

#include "card/check/card_inspector.h"
#include "card/fs/file_node.h"
#include "card/kernel/profile.h"
#include "card_text.h"
#include "cli_args.h"
#include "crypto/scp03_host.h"
#include "host/app_record.h"
#include "host/card_keys.h"
#include "issue_commands.h"
#include "json_writer.h"
#include "nvm/image_file.h"
#include "nvm/image_inspector.h"

namespace tessera::tools {

// The host library (src/host) is what this front-end calls.
using namespace host;  // NOLINT(google-build-using-namespace)
namespace {

using card::CardReport;
using nvm::Geometry;
using nvm::ImageFile;
using nvm::ImageReport;
using nvm::ImageSnapshot;

constexpr const char* kImageUsage =
    "usage: tessera image init PATH [--size SIZE] [--page-size N] [--journal SIZE]\n"
    "                              [--block-size N] [--min-security-level LEVEL]\n"
    "                              [--scp03-keys FILE] [--serial HEX16] [--blank] [--force]\n"
    "                              [--json]\n"
    "       tessera image show PATH [--json]\n"
    "       tessera image check PATH [--json]\n"
    "       tessera image ls PATH [--json]\n"
    "       tessera image write-group IMAGE GROUP --function N [--version V] [--target AID]\n"
    "                                 [--policy XX] [--scp03 KEYS] [--install-app] [--json]\n"
    "\n"
    "  init    create a card image holding the default profile (docs/card-format.md):\n"
    "          MF, EF.DIR, the EMV PSE 1PAY.SYS.DDF01 and a PIN-protected demo DF.\n"
    "          SIZE accepts K and M suffixes.\n"
    "          --size        NVM size (default 1M)\n"
    "          --page-size   program unit in bytes: a power of two 32..4096 (default 64).\n"
    "                        Every one works; from 512 up the block size and the root area\n"
    "                        default to the page size, since both are whole pages\n"
    "          --journal     commit capacity: the most one command may change (default 16K,\n"
    "                        8 pages with 4K pages; a multiple of the page size). Too small\n"
    "                        for the default profile\n"
    "                        is refused with the least that works for the geometry\n"
    "          --block-size  allocation unit: a multiple of the page size, at least 256 for a\n"
    "                        card (default: 256 or the page size, whichever is larger)\n"
    "          --min-security-level LEVEL  the SCP03 security level administrative commands\n"
    "                        need once the card is SECURED: 01 C-MAC (default), 03 C-MAC and\n"
    "                        C-DECRYPTION, 11 C-MAC and R-MAC, 13 C-MAC, C-DECRYPTION and\n"
    "                        R-MAC, 33 all four. 'image show' prints it\n"
    "          --scp03-keys FILE  the issuer's SCP03 key set (KVN 30): enc=, mac=, dek= lines\n"
    "                        in hex. Without it the card gets the well-known test keys\n"
    "                        404142..4F, as development cards do (a warning says so).\n"
    "          --serial HEX16  the card serial (GET DATA CF, the CPLC, the issuance manager's\n"
    "                        state files); default: 8 random bytes\n"
    "          --blank       an empty NVM store without a card file system (no card options)\n"
    "          --force       replace an existing file (atomically: the new image is written\n"
    "                        beside it and renamed over it). Refused while a running card\n"
    "                        (tessera-card, tessera --image) holds the file: stop it first\n"
    "  show    print geometry, block usage, journal state, wear (program counts per page) and\n"
    "          the card: state, GlobalPlatform life cycle, minimum security level, files,\n"
    "          PINs (never their values) and key sets (never their keys)\n"
    "  check   verify the header, the journal, the allocator invariants and the CRC-32\n"
    "          of every allocator table page, root area page and block (docs/nvm-format.md\n"
    "          §6; a failing block is named with what it holds), then the card's: the root\n"
    "          record, the MF and a reachable, acyclic file tree, every USED block owned by\n"
    "          exactly one file node, data block, key set or the PUT DATA block, sizes and\n"
    "          record counts that fit\n"
    "          their blocks, well-formed PINs and key sets (docs/card-format.md §5). Exits 1\n"
    "          and names the damage (file by FID path, e.g. 3F00/1000/1001, field and NVM\n"
    "          offset; file offset = NVM offset + 4096). Pending recovery work (a committed\n"
    "          journal, an unfinished wipe) is reported but is not damage: the check sees the\n"
    "          state the next power-on recovers to.\n"
    "  ls      list the card's file tree: FIDs, DF names (hex and text), types, sizes and\n"
    "          record counts, SFIs, life cycle status and access conditions (FCP 8C decoded:\n"
    "          e.g. 'read, update: PIN 81; others: always')\n"
    "\n"
    "  write-group  the memory path of self-issuance (docs/self-issuance.md §6.7): write a\n"
    "          card function's command group (text or compiled) into the image's issuance\n"
    "          application offline, as 'tessera --image IMAGE issue load-group' does: the\n"
    "          card runs in this process, the upload travels in an SCP03 session with the\n"
    "          issuer's keys (--scp03 KEYS, default 'test' with a warning). --install-app\n"
    "          installs the issuance application first if the image has none.\n"
    "          'tessera image write-group --help' has the details\n"
    "\n"
    "  --json        machine-readable output on stdout (every subcommand; also as\n"
    "                'tessera --json image ...'); always valid UTF-8\n"
    "  -h, --help    this text\n"
    "\n"
    "show, check and ls only read the file: read permission is enough, and they work while a\n"
    "card serves the image. They read a copy into memory without the card's lock, and read it\n"
    "again until no page program happened while it was read (the wear table counts every\n"
    "one): the copy is then the state a power cut at that moment would leave, so a command\n"
    "the card was running shows as pending recovery work, never as damage. A card that keeps\n"
    "writing all along makes them fail with 'in use by a running card': try again, or stop\n"
    "the card for a view that cannot change. Recovery itself runs when a card powers on.\n"
    "\n"
    "Exit codes: 0 success, 1 failure or damaged image (check, ls), 2 usage error.\n";

struct Options {
  std::string verb;
  std::string path;
  bool json = false;
  bool force = false;
  bool blank = false;
  bool block_size_given = false;
  bool journal_given = false;
  bool level_given = false;
  uint8_t min_level = card::kDefaultAdminLevel;
  std::string keys_file;
  std::optional<uint64_t> serial;  // nullopt: a random one
  Geometry geometry;
};

// A card's serial when none is given: 8 random bytes, never 0 (0 means "no serial"), so that
// two cards made on one desk never share an identity (the issue state files are keyed by it).
// nullopt when the OS's random source fails.
std::optional<uint64_t> RandomSerial() {
  for (int attempt = 0; attempt < 8; ++attempt) {
    uint64_t v = 0;
    if (::getrandom(&v, sizeof v, 0) == static_cast<ssize_t>(sizeof v) && v != 0) return v;
  }
  return std::nullopt;
}

int Usage(const std::string& message) {
  std::fprintf(stderr, "tessera image: %s\n\n%s", message.c_str(), kImageUsage);
  return 2;
}

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

int Fail(const Options& o, const Status& s) {
  if (o.json) {
    JsonWriter w;
    w.BeginObject()
        .String("path", o.path)
        .Bool("ok", false)
        .String("error", s.ToString())
        .EndObject();
    std::printf("%s\n", w.Take().c_str());
  }
  std::fprintf(stderr, "tessera image %s: %s\n", o.verb.c_str(), s.ToString().c_str());
  return 1;
}

// Everything the read-only subcommands report about one snapshot.
struct Inspection {
  const ImageSnapshot* snap = nullptr;
  ImageReport nvm;
  CardReport card;
  std::vector<std::string> notes;   // the snapshot's, the store's and the card's
  std::vector<std::string> errors;  // NVM damage, then card damage, as sentences

  bool ok() const { return errors.empty(); }
};

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

void CardJson(JsonWriter& w, const CardReport& c) {
  w.BeginObject("card").Bool("present", c.card_present).Bool("mountable", c.mountable);
  if (c.root) {
    const card::CardRoot& r = *c.root;
    w.String("state", CardStateName(r.card_state))
        .String("life_cycle", HexByte(r.gp_life_cycle))
        .String("life_cycle_name", GpLifeCycleName(r.gp_life_cycle))
        .String("min_security_level", HexByte(r.admin_level))
        .String("min_security_level_name", SecurityLevelName(r.admin_level));
  }
  w.Number("files", c.files.size());
  w.BeginArray("pins");
  for (const auto& p : c.pins) {
    w.BeginObject()
        .String("reference", HexByte(p.reference))
        .Number("max_tries", p.max_tries)
        .Number("tries_left", p.tries_left);
    if (p.puk_reference != 0) w.String("puk", HexByte(p.puk_reference));
    w.EndObject();
  }
  w.EndArray().BeginArray("key_sets");
  for (const auto& k : c.key_sets) {
    w.BeginObject()
        .String("kvn", HexByte(k.kvn))
        .Number("key_length", k.key_length)
        .Number("failures_left", k.failures_left)
        .Number("max_failures", k.max_failures)
        .Number("block", k.block)
        .EndObject();
  }
  w.EndArray();
  w.Number("data_objects", c.data_object_count)
      .Number("blocks_used", c.blocks_used)
      .Number("blocks_owned", c.blocks_owned);
  w.EndObject();
}

void DamageJson(JsonWriter& w, const Inspection& in) {
  w.BeginArray("errors");
  for (const auto& e : in.errors) w.String(e);
  w.EndArray().BeginArray("card_damage");
  for (const auto& d : in.card.damage) {
    w.BeginObject()
        .String("where", d.where)
        .String("field", d.field)
        .String("message", d.message)
        .Number("nvm_offset", d.nvm_offset)
        .Number("file_offset", FileOffset(d.nvm_offset))
        .EndObject();
  }
  w.EndArray().BeginArray("notes");
  for (const auto& n : in.notes) w.String(n);
  w.EndArray();
}

void SnapshotJson(JsonWriter& w, const ImageSnapshot& snap) {
  w.Bool("served", snap.served());
  if (snap.holder_pid()) w.Number("served_by_pid", static_cast<uint64_t>(*snap.holder_pid()));
}

void PrintReportJson(const Inspection& in, const std::string& path) {
  const ImageReport& r = in.nvm;
  const Geometry& g = r.layout.geometry;
  JsonWriter w;
  w.BeginObject()
      .String("path", path)
      .Bool("ok", in.ok())
      .Number("format_version", nvm::kImageFormatVersion);
  w.String("created", FormatTime(in.snap->created_unix()));
  SnapshotJson(w, *in.snap);
  w.BeginObject("geometry")
      .Number("nvm_size", g.nvm_size)
      .Number("page_size", g.page_size)
      .Number("pages", g.nvm_size / g.page_size)
      .Number("commit_capacity", g.journal_capacity)
      .Number("block_size", g.block_size)
      .Number("root_size", g.root_size)
      .EndObject();
  w.BeginObject("layout")
      .Number("nvm_file_offset", nvm::kImageHeaderRegion)
      .Number("journal_body_offset", r.layout.journal_body_offset)
      .Number("table_offset", r.layout.table_offset)
      .Number("check_offset", r.layout.check_offset)
      .Number("check_units", r.layout.check_units)
      .Number("root_offset", r.layout.root_offset)
      .Number("blocks_offset", r.layout.blocks_offset)
      .Number("block_count", r.layout.block_count)
      .EndObject();
  w.BeginObject("blocks")
      .Number("used", r.blocks_used)
      .Number("wiping", r.blocks_wiping)
      .Number("free", r.blocks_free)
      .EndObject();
  w.BeginObject("journal")
      .String("state", r.journal_state == nvm::JournalState::kIdle        ? "idle"
                       : r.journal_state == nvm::JournalState::kCommitted ? "committed"
                       : r.journal_state == nvm::JournalState::kWipeBody  ? "wipe-body"
                                                                          : "torn")
      .Number("sequence", r.journal_sequence)
      .Number("body_length", r.journal_body_length)
      .EndObject();
  w.BeginObject("wear")
      .Number("total_programs", r.total_programs)
      .Number("max_per_page", r.max_wear)
      .Number("most_worn_page", r.max_wear_page);
  w.BeginArray("regions");
  for (const auto& reg : r.wear) {
    w.BeginObject()
        .String("name", reg.name)
        .Number("first_page", reg.first_page)
        .Number("pages", reg.page_count)
        .Number("programs", reg.programs)
        .Number("max_per_page", reg.max_per_page)
        .EndObject();
  }
  w.EndArray().EndObject();
  CardJson(w, in.card);
  DamageJson(w, in);
  w.EndObject();
  std::printf("%s\n", w.Take().c_str());
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

// The least journal capacity (a multiple of the page size) with which the default profile
// installs on this geometry, found by installing it on RAM NVMs; nullopt if none does.
std::optional<uint32_t> MinimumJournal(const Geometry& geometry,
                                       const crypto::scp03::StaticKeys* issuer, uint8_t level) {
  const uint32_t page = geometry.page_size;
  auto works = [&](uint32_t journal) {
    Geometry g = geometry;
    g.journal_capacity = journal;
    if (!nvm::ComputeLayout(g).ok()) return false;
    nvm::RamNvm ram(g.nvm_size, g.page_size);
    return card::InstallDefaultProfile(ram.device(), g, issuer, level).ok();
  };
  uint32_t bad = std::max(geometry.journal_capacity, page);
  if (works(bad)) return bad;
  uint32_t good = bad;
  do {
    bad = good;
    if (good > geometry.nvm_size / 2) return std::nullopt;
    good *= 2;
  } while (!works(good));
  while (good - bad > page) {
    const uint32_t mid = bad + (good - bad) / page / 2 * page;
    (works(mid) ? good : bad) = mid;
  }
  return good;
}

int Init(Options o) {
  Geometry& g = o.geometry;
  g.root_size = std::max<uint32_t>(256, g.page_size);
  if (!o.block_size_given) g.block_size = std::max<uint32_t>(card::kNodeSize, g.page_size);
  // A command's journal holds whole pages, its check table page among them: with 4 KiB pages
  // the profile's largest command needs 5, more than the 16 KiB default holds.
  if (!o.journal_given) g.journal_capacity = std::max<uint32_t>(16 * 1024, 8 * g.page_size);
  if (auto layout = nvm::ComputeLayout(g); !layout.ok()) return Fail(o, layout.status());
  if (!o.blank && g.block_size < card::kNodeSize) {
    return Fail(o, InvalidArgument("the card OS needs a block size of at least 256 bytes (" +
                                   std::to_string(g.block_size) +
                                   " given); --blank makes an "
                                   "empty store with smaller blocks"));
  }
  crypto::scp03::StaticKeys keys;
  if (!o.keys_file.empty()) {
    auto loaded = LoadKeyFile(o.keys_file);
    if (!loaded.ok()) return Fail(o, loaded.status());
    keys = std::move(*loaded);
  }
  const crypto::scp03::StaticKeys* issuer = o.keys_file.empty() ? nullptr : &keys;
  const uint8_t level = o.min_level;
  const std::optional<uint64_t> serial = o.serial ? o.serial : RandomSerial();
  if (!serial) return Fail(o, IOError("no random serial: the OS's random source failed"));
  Status s = o.blank ? ImageFile::Create(o.path, g, o.force)
                     : ImageFile::Create(
                           o.path, g, o.force,
                           [issuer, level, serial](nvm::NvmDevice& d, const Geometry& geo) {
                             return card::InstallDefaultProfile(d, geo, issuer, level, *serial);
                           });
  if (!s.ok() && !o.blank && s.code() != ErrorCode::kBusy &&
      s.code() != ErrorCode::kFailedPrecondition && s.code() != ErrorCode::kIOError) {
    auto least = MinimumJournal(g, issuer, level);
    if (least && *least > g.journal_capacity) {
      s = InvalidArgument("a journal of " + std::to_string(g.journal_capacity) +
                          " bytes is too small for the default profile: at least " +
                          std::to_string(*least) + " bytes with this geometry (--journal " +
                          std::to_string(*least) + ")");
    } else if (s.code() == ErrorCode::kCorruption) {  // a fresh NVM: the profile does not fit
      s = InvalidArgument(s.message() + ": the default profile does not fit in " +
                          std::to_string(nvm::ComputeLayout(g)->block_count) + " blocks of " +
                          std::to_string(g.block_size) + " bytes; give a larger --size");
    }
  }
  if (s.code() == ErrorCode::kFailedPrecondition && !o.force) {
    s = FailedPrecondition(s.message() + " (use --force to overwrite it)");
  }
  if (!s.ok()) return Fail(o, s);
  auto snap = ImageSnapshot::Read(o.path);
  if (!snap.ok()) return Fail(o, snap.status());
  const Inspection in = Inspect(**snap);
  if (o.json) {
    PrintReportJson(in, o.path);
  } else {
    auto layout = nvm::ComputeLayout(g);
    std::printf("created %s: %u bytes of NVM, %u blocks of %u bytes, commit capacity %u bytes\n",
                o.path.c_str(), g.nvm_size, layout->block_count, g.block_size, g.journal_capacity);
    if (!o.blank) {
      std::printf("card: default profile, minimum security level %s (%s)\n", HexByte(level).c_str(),
                  SecurityLevelName(level).c_str());
    }
  }
  if (!o.blank && o.keys_file.empty()) {
    std::fprintf(stderr,
                 "tessera image init: warning: the issuer key set (KVN 30) is the well-known test "
                 "key set 404142..4F; use --scp03-keys FILE for a card others cannot administer\n");
  }
  return 0;
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
  return s + "; " + LifeCycleName(n.lcs);
}

void PrintLsJson(const Inspection& in, const std::string& path, uint32_t block_size) {
  JsonWriter w;
  w.BeginObject().String("path", path).Bool("ok", in.ok());
  SnapshotJson(w, *in.snap);
  w.Bool("card", in.card.card_present);
  const nvm::Layout& l = in.nvm.layout;
  w.BeginArray("files");
  for (const auto& e : in.card.files) {
    const card::FileNode& n = e.node;
    w.BeginObject()
        .String("path", e.path)
        .String("fid", HexU16(n.fid))
        .Number("depth", static_cast<uint64_t>(e.depth))
        .String("kind", n.is_df() ? (e.depth == 0 ? "MF" : "DF") : "EF")
        .String("type", FileTypeName(n))
        .String("fdb", HexByte(n.fdb))
        .String("lcs", LifeCycleName(n.lcs))
        .String("lcs_byte", HexByte(n.lcs));
    if (n.is_df()) {
      w.String("df_name_hex", ToHex(n.df_name)).String("df_name_text", Printable(n.df_name));
      if (!n.fci_proprietary.empty()) w.String("fci_proprietary", ToHex(n.fci_proprietary));
    } else {
      w.Number("sfi", n.sfi);
      if (n.is_record_ef()) {
        w.Number("record_length", n.size)
            .Number("max_records", n.max_records)
            .Number("record_count", n.record_count);
      } else {
        w.Number("size", n.size);
      }
    }
    w.String("security", ToHex(n.security)).String("access_text", DescribeAccess(n));
    w.BeginArray("access");
    for (const auto& rule : AccessRules(n)) {
      w.BeginObject().BeginArray("modes");
      for (const auto& m : rule.modes) w.String(m);
      w.EndArray().String("condition", rule.condition).EndObject();
    }
    w.EndArray();
    const uint32_t at = l.BlockOffset(n.id);
    w.Number("node_block", n.id)
        .Number("node_nvm_offset", at)
        .Number("node_file_offset", FileOffset(at));
    w.BeginArray("data_blocks");
    for (uint16_t b : n.data_blocks) w.Number({}, b);
    w.EndArray().EndObject();
  }
  w.EndArray().Number("block_size", block_size);
  DamageJson(w, in);
  w.EndObject();
  std::printf("%s\n", w.Take().c_str());
}

int ReadOnlyCommand(const Options& o) {
  auto snap = ImageSnapshot::Read(o.path);
  if (!snap.ok()) return Fail(o, snap.status());
  const Inspection in = Inspect(**snap);
  if (o.verb == "show") {
    o.json ? PrintReportJson(in, o.path) : PrintReportText(in, o.path);
    return 0;
  }
  if (o.verb == "ls") {
    if (o.json) {
      PrintLsJson(in, o.path, (*snap)->geometry().block_size);
    } else {
      for (const auto& n : in.notes) std::fprintf(stderr, "note: %s\n", n.c_str());
      for (const auto& e : in.card.files) {
        const std::string indent(2 * static_cast<size_t>(e.depth), ' ');
        std::printf("%s%s  %s\n", indent.c_str(), HexU16(e.node.fid).c_str(),
                    FileSummary(e).c_str());
        std::printf("%s      access: %s\n", indent.c_str(), DescribeAccess(e.node).c_str());
      }
    }
    for (const auto& e : in.errors)
      std::fprintf(stderr, "%s: damaged: %s\n", o.path.c_str(), e.c_str());
    if (!in.card.card_present) {
      std::fprintf(stderr, "%s: no card file system (a blank NVM store)\n", o.path.c_str());
      return 1;
    }
    return in.ok() ? 0 : 1;
  }
  if (o.json) {
    PrintReportJson(in, o.path);
  } else {
    for (const auto& n : in.notes) std::printf("note: %s\n", n.c_str());
    if (in.ok()) {
      const CardReport& c = in.card;
      std::string card_part = c.card_present
                                  ? "header, journal, allocator and card invariants hold; " +
                                        std::to_string(c.files.size()) + " files, " +
                                        std::to_string(c.pins.size()) + " PINs, " +
                                        std::to_string(c.key_sets.size()) + " key set(s)"
                                  : "header, journal and allocator invariants hold; a blank store "
                                    "without a card file system";
      std::printf("%s: OK (%s; %u of %u blocks used)\n", o.path.c_str(), card_part.c_str(),
                  in.nvm.blocks_used, in.nvm.layout.block_count);
    }
  }
  for (const auto& e : in.errors)
    std::fprintf(stderr, "%s: damaged: %s\n", o.path.c_str(), e.c_str());
  return in.ok() ? 0 : 1;
}

}  // namespace

int RunImageCommand(const std::vector<std::string>& args) {
  if (args.empty()) return Usage("missing subcommand");
  if (args[0] == "--help" || args[0] == "-h") {
    std::fputs(kImageUsage, stdout);
    return 0;
  }
  if (args[0] == "write-group") return RunImageWriteGroup(args);
  Options o;
  o.verb = args[0];
  if (o.verb != "init" && o.verb != "show" && o.verb != "check" && o.verb != "ls") {
    return Usage("unknown subcommand '" + o.verb + "'");
  }
  const bool init = o.verb == "init";
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](uint32_t& out) -> bool {
      if (i + 1 >= args.size()) return false;
      auto v = ParseSize(args[++i], 0xFFFFFFFFull);
      if (!v) return false;
      out = static_cast<uint32_t>(*v);
      return true;
    };
    const bool init_option = a == "--force" || a == "--blank" || a == "--scp03-keys" ||
                             a == "--size" || a == "--page-size" || a == "--journal" ||
                             a == "--block-size" || a == "--min-security-level" || a == "--serial";
    if (a == "--help" || a == "-h") {
      std::fputs(kImageUsage, stdout);
      return 0;
    } else if (a == "--json") {
      o.json = true;
    } else if (init_option && !init) {
      return Usage(a + " is an option of 'image init', not of '" + o.verb + "'");
    } else if (a == "--force") {
      o.force = true;
    } else if (a == "--blank") {
      o.blank = true;
    } else if (a == "--scp03-keys") {
      if (i + 1 >= args.size()) return Usage("--scp03-keys needs a key file");
      o.keys_file = args[++i];
    } else if (a == "--min-security-level") {
      const std::string v = i + 1 < args.size() ? args[++i] : "";
      auto parsed = FromHex(v);
      if (v.size() != 2 || !parsed.ok() ||
          (parsed->at(0) != 0x01 && parsed->at(0) != 0x03 && parsed->at(0) != 0x11 &&
           parsed->at(0) != 0x13 && parsed->at(0) != 0x33)) {
        return Usage("--min-security-level needs 01, 03, 11, 13 or 33 (hex), not '" + v + "'");
      }
      o.min_level = parsed->at(0);
      o.level_given = true;
    } else if (a == "--serial") {
      const std::string v = i + 1 < args.size() ? args[++i] : "";
      auto parsed = FromHex(v);
      if (v.size() != 16 || !parsed.ok() || GetU64(parsed->data()) == 0) {
        return Usage("--serial needs 16 hex digits, not all zero, not '" + v + "'");
      }
      o.serial = GetU64(parsed->data());
    } else if (a == "--size") {
      if (!value(o.geometry.nvm_size)) return Usage("--size needs a size such as 1M or 65536");
    } else if (a == "--page-size") {
      if (!value(o.geometry.page_size)) return Usage("--page-size needs a number");
    } else if (a == "--journal") {
      if (!value(o.geometry.journal_capacity)) return Usage("--journal needs a size");
      o.journal_given = true;
    } else if (a == "--block-size") {
      if (!value(o.geometry.block_size)) return Usage("--block-size needs a number");
      o.block_size_given = true;
    } else if (!a.empty() && a[0] == '-') {
      return Usage("unknown option '" + a + "' for '" + o.verb + "'");
    } else if (o.path.empty()) {
      o.path = a;
    } else {
      return Usage("unexpected argument '" + a + "'");
    }
  }
  if (o.path.empty()) return Usage("missing image PATH");
  if (o.blank && (o.level_given || !o.keys_file.empty())) {
    return Usage("--blank makes no card: --min-security-level and --scp03-keys do not apply");
  }
  return init ? Init(o) : ReadOnlyCommand(o);
}

}  // namespace tessera::tools
