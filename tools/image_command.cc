#include "image_command.h"

#include <cstdio>
#include <ctime>
#include <optional>

#include "card/profile.h"
#include "host/secure_channel.h"
#include "json_writer.h"
#include "nvm/image_file.h"
#include "nvm/image_inspector.h"

namespace tessera::tools {
namespace {

using nvm::Geometry;
using nvm::ImageFile;
using nvm::ImageReport;

constexpr const char* kImageUsage =
    "usage: tessera image init PATH [--size SIZE] [--page-size N] [--journal SIZE]\n"
    "                              [--block-size N] [--blank] [--force] [--json]\n"
    "       tessera image show PATH [--json]\n"
    "       tessera image check PATH [--json]\n"
    "\n"
    "  init    create a card image holding the default profile (docs/card-format.md):\n"
    "          MF, EF.DIR, the EMV PSE 1PAY.SYS.DDF01 and a PIN-protected demo DF.\n"
    "          SIZE accepts K and M suffixes.\n"
    "          --size        NVM size (default 1M)\n"
    "          --page-size   program unit in bytes, a power of two 32..4096 (default 64)\n"
    "          --journal     commit capacity: the most one command may change (default 16K)\n"
    "          --block-size  allocation unit, a multiple of the page size (default 256)\n"
    "          --blank       an empty NVM store without a card file system\n"
    "          --scp03-keys FILE  the issuer's SCP03 key set (KVN 30): enc=, mac=, dek= lines\n"
    "                        in hex. Without it the card gets the well-known test keys\n"
    "                        404142..4F, as development cards do (a warning says so).\n"
    "          --force       replace an existing file\n"
    "  show    print geometry, block usage, journal state and wear (program counts per page)\n"
    "  check   verify the header, the journal and the allocator invariants; exits 1 and\n"
    "          names the damage if the image is invalid. Pending recovery work (a committed\n"
    "          journal, an unfinished wipe) is reported but is not damage.\n"
    "\n"
    "show and check never modify the image; recovery runs when a card powers on.\n"
    "Exit codes: 0 success, 1 failure or damaged image, 2 usage error.\n";

struct Options {
  std::string verb;
  std::string path;
  bool json = false;
  bool force = false;
  bool blank = false;
  std::string keys_file;
  Geometry geometry;
};

std::optional<uint32_t> ParseSize(const std::string& s) {
  if (s.empty()) return std::nullopt;
  uint64_t mult = 1;
  std::string digits = s;
  const char last = s.back();
  if (last == 'K' || last == 'k') mult = 1024;
  if (last == 'M' || last == 'm') mult = 1024 * 1024;
  if (mult != 1) digits.pop_back();
  if (digits.empty() || digits.size() > 10) return std::nullopt;
  uint64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  v *= mult;
  if (v == 0 || v > 0xFFFFFFFFull) return std::nullopt;
  return static_cast<uint32_t>(v);
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

void PrintReportJson(const ImageFile& img, const ImageReport& r, const std::string& path) {
  const Geometry& g = r.layout.geometry;
  JsonWriter w;
  w.BeginObject().String("path", path).Bool("ok", r.ok()).Number("format_version", 1);
  w.String("created", FormatTime(img.created_unix()));
  w.BeginObject("geometry")
      .Number("nvm_size", g.nvm_size)
      .Number("page_size", g.page_size)
      .Number("pages", g.nvm_size / g.page_size)
      .Number("commit_capacity", g.journal_capacity)
      .Number("block_size", g.block_size)
      .Number("root_size", g.root_size)
      .EndObject();
  w.BeginObject("layout")
      .Number("journal_body_offset", r.layout.journal_body_offset)
      .Number("table_offset", r.layout.table_offset)
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
  w.BeginArray("errors");
  for (const auto& e : r.errors) w.String(e);
  w.EndArray().BeginArray("notes");
  for (const auto& n : r.notes) w.String(n);
  w.EndArray().EndObject();
  std::printf("%s\n", w.Take().c_str());
}

void PrintReportText(const ImageFile& img, const ImageReport& r, const std::string& path) {
  const Geometry& g = r.layout.geometry;
  const nvm::Layout& l = r.layout;
  std::printf("image     %s (format 1, created %s)\n", path.c_str(),
              FormatTime(img.created_unix()).c_str());
  std::printf("geometry  %u bytes of NVM in %u pages of %u bytes\n", g.nvm_size,
              g.nvm_size / g.page_size, g.page_size);
  std::printf(
      "layout    journal header 0x%X, journal body 0x%X (commit capacity %u bytes),\n"
      "          allocator table 0x%X, root area 0x%X (%u bytes), blocks 0x%X\n",
      l.journal_header_offset, l.journal_body_offset, g.journal_capacity, l.table_offset,
      l.root_offset, g.root_size, l.blocks_offset);
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
  for (const auto& n : r.notes) std::printf("note      %s\n", n.c_str());
  for (const auto& e : r.errors) std::printf("DAMAGE    %s\n", e.c_str());
}

int Init(const Options& o) {
  crypto::scp03::StaticKeys keys;
  if (!o.keys_file.empty()) {
    auto loaded = host::LoadKeyFile(o.keys_file);
    if (!loaded.ok()) return Fail(o, loaded.status());
    keys = std::move(*loaded);
  }
  const crypto::scp03::StaticKeys* issuer = o.keys_file.empty() ? nullptr : &keys;
  Status s = o.blank ? ImageFile::Create(o.path, o.geometry, o.force)
                     : ImageFile::Create(o.path, o.geometry, o.force,
                                         [issuer](nvm::NvmDevice& d, const Geometry& g) {
                                           return card::InstallDefaultProfile(d, g, issuer);
                                         });
  if (!s.ok()) return Fail(o, s);
  auto img = ImageFile::Open(o.path);
  if (!img.ok()) return Fail(o, img.status());
  auto layout = nvm::ComputeLayout(o.geometry);
  if (o.json) {
    PrintReportJson(**img, nvm::InspectImage((*img)->device(), *layout), o.path);
  } else {
    std::printf("created %s: %u bytes of NVM, %u blocks of %u bytes, commit capacity %u bytes\n",
                o.path.c_str(), o.geometry.nvm_size, layout->block_count, o.geometry.block_size,
                o.geometry.journal_capacity);
  }
  if (!o.blank && o.keys_file.empty()) {
    std::fprintf(stderr,
                 "tessera image init: warning: the issuer key set (KVN 30) is the well-known test "
                 "key set 404142..4F; use --scp03-keys FILE for a card others cannot administer\n");
  }
  return 0;
}

int ShowOrCheck(const Options& o) {
  auto img = ImageFile::Open(o.path);
  if (!img.ok()) return Fail(o, img.status());
  auto layout = nvm::ComputeLayout((*img)->geometry());
  if (!layout.ok()) return Fail(o, layout.status());
  ImageReport r = nvm::InspectImage((*img)->device(), *layout);
  if (o.verb == "show") {
    o.json ? PrintReportJson(**img, r, o.path) : PrintReportText(**img, r, o.path);
    return 0;
  }
  if (o.json) {
    PrintReportJson(**img, r, o.path);
  } else {
    for (const auto& n : r.notes) std::printf("note: %s\n", n.c_str());
    if (r.ok()) {
      std::printf("%s: OK (header, journal and allocator invariants hold; %u of %u blocks used)\n",
                  o.path.c_str(), r.blocks_used, r.layout.block_count);
    }
  }
  for (const auto& e : r.errors)
    std::fprintf(stderr, "%s: damaged: %s\n", o.path.c_str(), e.c_str());
  return r.ok() ? 0 : 1;
}

}  // namespace

int RunImageCommand(const std::vector<std::string>& args) {
  if (args.empty()) return Usage("missing subcommand");
  if (args[0] == "--help" || args[0] == "-h") {
    std::fputs(kImageUsage, stdout);
    return 0;
  }
  Options o;
  o.verb = args[0];
  if (o.verb != "init" && o.verb != "show" && o.verb != "check") {
    return Usage("unknown subcommand '" + o.verb + "'");
  }
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](uint32_t& out) -> bool {
      if (o.verb != "init" || i + 1 >= args.size()) return false;
      auto v = ParseSize(args[++i]);
      if (!v) return false;
      out = *v;
      return true;
    };
    if (a == "--help" || a == "-h") {
      std::fputs(kImageUsage, stdout);
      return 0;
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "--force" && o.verb == "init") {
      o.force = true;
    } else if (a == "--blank" && o.verb == "init") {
      o.blank = true;
    } else if (a == "--scp03-keys" && o.verb == "init") {
      if (i + 1 >= args.size()) return Usage("--scp03-keys needs a key file");
      o.keys_file = args[++i];
    } else if (a == "--size") {
      if (!value(o.geometry.nvm_size)) return Usage("--size needs a size such as 1M or 65536");
    } else if (a == "--page-size") {
      if (!value(o.geometry.page_size)) return Usage("--page-size needs a number");
    } else if (a == "--journal") {
      if (!value(o.geometry.journal_capacity)) return Usage("--journal needs a size");
    } else if (a == "--block-size") {
      if (!value(o.geometry.block_size)) return Usage("--block-size needs a number");
    } else if (!a.empty() && a[0] == '-') {
      return Usage("unknown option '" + a + "' for '" + o.verb + "'");
    } else if (o.path.empty()) {
      o.path = a;
    } else {
      return Usage("unexpected argument '" + a + "'");
    }
  }
  if (o.path.empty()) return Usage("missing image PATH");
  return o.verb == "init" ? Init(o) : ShowOrCheck(o);
}

}  // namespace tessera::tools
