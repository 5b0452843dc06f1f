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
#include "image_report.h"
#include "issue_commands.h"
#include "json_output.h"
#include "nvm/image_file.h"
#include "nvm/image_inspector.h"
#include "reporter.h"

namespace tessera::tools {

// The host library (src/host) is what this front-end calls.
using namespace host;  // NOLINT(google-build-using-namespace)
namespace {

using card::CardReport;
using nvm::Geometry;
using nvm::ImageFile;
using nvm::ImageReport;
using nvm::ImageSnapshot;

constexpr const char* kImageDescription =
    "Card image files: create one with the default profile (docs/card-format.md), describe,\n"
    "verify and list it, or write a command group into it offline.\n"
    "\n"
    "show, check and ls only read the file: read permission is enough, and they work while a\n"
    "card serves the image. They read a copy into memory without the card's lock, and read it\n"
    "again until no page program happened while it was read (the wear table counts every\n"
    "one): the copy is then the state a power cut at that moment would leave, so a command\n"
    "the card was running shows as pending recovery work, never as damage. A card that keeps\n"
    "writing all along makes them fail with 'in use by a running card': try again, or stop\n"
    "the card for a view that cannot change. Recovery itself runs when a card powers on.";

constexpr const char* kImageFooter =
    "Exit codes: 0 success, 1 failure or damaged image (check, ls), 2 usage error.";

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

// The image (or a file init reads) cannot be used.
int FailFile(const Options& o, const Status& s) {
  return Reporter("image " + o.verb, o.json).FailFile(s);
}

int Fail(const Options& o, const Status& s) {
  return Reporter("image " + o.verb, o.json).Fail(s);
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
    if (!loaded.ok()) return FailFile(o, loaded.status());
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
  // The file is to blame when it exists, is held by a running card or cannot be written.
  if (!s.ok() && (s.code() == ErrorCode::kFailedPrecondition || s.code() == ErrorCode::kBusy ||
                  s.code() == ErrorCode::kIOError)) {
    return FailFile(o, s);
  }
  if (!s.ok()) return Fail(o, s);
  auto snap = ImageSnapshot::Read(o.path);
  if (!snap.ok()) return FailFile(o, snap.status());
  const Inspection in = Inspect(**snap);
  if (o.json) {
    PrintReportJson(in, o.path, true);
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

int ReadOnlyCommand(const Options& o) {
  auto snap = ImageSnapshot::Read(o.path);
  if (!snap.ok()) return FailFile(o, snap.status());
  const Inspection in = Inspect(**snap);
  if (o.verb == "show") {
    o.json ? PrintReportJson(in, o.path, true) : PrintReportText(in, o.path);
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
    PrintReportJson(in, o.path, in.ok());
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

namespace {

// "" or the usage error: the options of `init` read into `o`.
std::string ReadInitOptions(const Args& a, Options* o) {
  auto size = [&](const char* name, uint32_t* out, const char* what) -> std::string {
    if (!a.has(name)) return "";
    auto v = ParseSize(a.value(name), 0xFFFFFFFFull);
    if (!v) return std::string(name) + " '" + a.value(name) + "': " + what;
    *out = static_cast<uint32_t>(*v);
    return "";
  };
  for (auto [name, out, what] :
       {std::tuple{"--size", &o->geometry.nvm_size, "give a size such as 1M or 65536"},
        std::tuple{"--page-size", &o->geometry.page_size, "give a number of bytes"},
        std::tuple{"--journal", &o->geometry.journal_capacity, "give a size"},
        std::tuple{"--block-size", &o->geometry.block_size, "give a number of bytes"}}) {
    if (auto e = size(name, out, what); !e.empty()) return e;
  }
  o->journal_given = a.has("--journal");
  o->block_size_given = a.has("--block-size");
  o->force = a.has("--force");
  o->blank = a.has("--blank");
  o->keys_file = a.value("--scp03-keys");
  if (a.has("--min-security-level")) {
    const std::string v = a.value("--min-security-level");
    auto parsed = ParseHexArg(v, 1);
    if (!parsed.ok() || (parsed->at(0) != 0x01 && parsed->at(0) != 0x03 && parsed->at(0) != 0x11 &&
                         parsed->at(0) != 0x13 && parsed->at(0) != 0x33)) {
      return "--min-security-level needs 01, 03, 11, 13 or 33 (hex), not '" + v + "'";
    }
    o->min_level = parsed->at(0);
    o->level_given = true;
  }
  if (a.has("--serial")) {
    const std::string v = a.value("--serial");
    auto parsed = ParseHexArg(v, 8);
    if (!parsed.ok() || GetU64(parsed->data()) == 0) {
      return "--serial needs 16 hex digits, not all zero, not '" + v + "'";
    }
    o->serial = GetU64(parsed->data());
  }
  if (o->blank && (o->level_given || !o->keys_file.empty())) {
    return "--blank makes no card: --min-security-level and --scp03-keys do not apply";
  }
  return "";
}

// The image commands work on a file, not on a card: card options given with them would be
// silently ignored. `scp03`: write-group, which opens an SCP03 session with the in-process card.
std::string CardOptionsGiven(const LinkOptions& link, bool scp03) {
  if (!link.image.empty() || !link.connect.empty() || !link.reader.empty() ||
      link.power_cut_after || link.raw || link.trace) {
    return "the image commands take the image as an operand: --image, --connect, --reader, "
           "--power-cut-after, --raw and --trace do not apply";
  }
  if (!scp03 && (!link.scp03.empty() || link.scp03_tuned)) {
    return "--scp03, --kvn, --level and --s16 apply only to 'image write-group'";
  }
  return "";
}

}  // namespace

int CheckImage(const std::string& path) {
  Options o;
  o.verb = "check";
  o.path = path;
  return ReadOnlyCommand(o);
}

void AddImageCommands(CommandTree& tree, const LinkOptions& link) {
  Command& image = tree.Add(nullptr, "image", "create, show, check and list card image files",
                            kImageDescription, kImageFooter);
  image.app->require_subcommand(1);

  auto run = [&link](const std::string& verb) {
    return [&link, verb](const Args& a) {
      Options o;
      o.verb = verb;
      o.json = link.json;
      o.path = a.operands.at(0);
      if (auto e = CardOptionsGiven(link, false); !e.empty())
        return Reporter("image " + verb, o.json).Usage(e);
      if (verb == "init") {
        if (auto e = ReadInitOptions(a, &o); !e.empty())
          return Reporter("image " + verb, o.json).Usage(e);
        return Init(o);
      }
      return ReadOnlyCommand(o);
    };
  };

  Command& init = tree.Add(
      image.app, "init", "create a card image with the default profile",
      "Creates a card image holding the default profile (docs/card-format.md): MF, EF.DIR, the\n"
      "EMV PSE 1PAY.SYS.DDF01 and a PIN-protected demo DF.");
  init.Operand("PATH", "the image file to create")
      .Value("--size", "SIZE", "NVM size (default 1M; K and M suffixes)")
      .Value("--page-size", "N",
             "program unit in bytes: a power of two 32..4096 (default 64). Every one works; "
             "from 512 up the block size and the root area default to the page size, since "
             "both are whole pages")
      .Value("--journal", "SIZE",
             "commit capacity: the most one command may change (default 16K, 8 pages with 4K "
             "pages; a multiple of the page size). Too small for the default profile is "
             "refused with the least that works for the geometry")
      .Value("--block-size", "N",
             "allocation unit: a multiple of the page size, at least 256 for a card (default: "
             "256 or the page size, whichever is larger)")
      .Value("--min-security-level", "LEVEL",
             "the SCP03 security level administrative commands need once the card is SECURED: "
             "01 C-MAC (default), 03 C-MAC and C-DECRYPTION, 11 C-MAC and R-MAC, 13 C-MAC, "
             "C-DECRYPTION and R-MAC, 33 all four. 'image show' prints it")
      .Value("--scp03-keys", "FILE",
             "the issuer's SCP03 key set (KVN 30): enc=, mac=, dek= lines in hex. Without it "
             "the card gets the well-known test keys 404142..4F, as development cards do (a "
             "warning says so)")
      .Value("--serial", "HEX16",
             "the card serial (GET DATA CF, the CPLC, the issuance manager's state files); "
             "default: 8 random bytes")
      .Flag("--blank", "an empty NVM store without a card file system (no card options)")
      .Flag("--force",
            "replace an existing file (atomically: the new image is written beside it and "
            "renamed over it). Refused while a running card (tessera-card, tessera --image) "
            "holds the file: stop it first");
  init.run = run("init");

  Command& show = tree.Add(
      image.app, "show", "geometry, usage, journal state, wear and the card",
      "Prints geometry, block usage, journal state, wear (program counts per page) and the\n"
      "card: state, GlobalPlatform life cycle, minimum security level, files, PINs (never\n"
      "their values) and key sets (never their keys).");
  show.Operand("PATH", "the image file");
  show.run = run("show");

  Command& check = tree.Add(
      image.app, "check", "verify the NVM invariants and the card's",
      "Verifies the header, the journal, the allocator invariants and the CRC-32 of every\n"
      "allocator table page, root area page and block (docs/nvm-format.md §6; a failing block\n"
      "is named with what it holds), then the card's: the root record, the MF and a reachable,\n"
      "acyclic file tree, every USED block owned by exactly one file node, data block, key set\n"
      "or the PUT DATA block, sizes and record counts that fit their blocks, well-formed PINs\n"
      "and key sets (docs/card-format.md §5). Exits 1 and names the damage (file by FID path,\n"
      "e.g. 3F00/1000/1001, field and NVM offset; file offset = NVM offset + 4096). Pending\n"
      "recovery work (a committed journal, an unfinished wipe) is reported but is not damage:\n"
      "the check sees the state the next power-on recovers to.");
  check.Operand("PATH", "the image file");
  check.run = run("check");

  Command& ls = tree.Add(
      image.app, "ls", "the card's file tree",
      "Lists the card's file tree: FIDs, DF names (hex and text), types, sizes and record\n"
      "counts, SFIs, life cycle status and access conditions (FCP 8C decoded: e.g. 'read,\n"
      "update: PIN 81; others: always').");
  ls.Operand("PATH", "the image file");
  ls.run = run("ls");

  AddImageWriteGroup(tree, image.app, link);
}

}  // namespace tessera::tools
