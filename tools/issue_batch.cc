#include "issue_batch.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include "host/json_text.h"

#include "card/kernel/profile.h"
#include "cli_args.h"
#include "crypto/sha256.h"
#include "format/status_words.h"
#include "host/batch_issuance.h"
#include "host/card_keys.h"
#include "host/card_session.h"
#include "host/group_compiler.h"
#include "host/issuance_protocol.h"
#include "host/issuance_run.h"
#include "json_writer.h"
#include "nvm/image_file.h"

namespace tessera::tools {

// The host library (src/host) is what this front-end calls.
using namespace host;  // NOLINT(google-build-using-namespace)
namespace {

constexpr const char* kBatchUsage =
    "usage: tessera issue batch PROFILE --images DIR --count N [--shard I/N]\n"
    "                           [--first-serial N] [--master-key FILE|test] [--function N]\n"
    "                           [--target AID] [--size SIZE] [--no-sync] [--trace] [--json]\n"
    "\n"
    "Issues the card function PROFILE (a command group: text, as profiles/*.group, or compiled)\n"
    "to N card images in DIR, in this process: card-SERIAL.img (SERIAL: 16 hex digits) for\n"
    "serials --first-serial (default 1) .. +N-1. Each new image gets the default profile, its\n"
    "serial, and SCP03 keys derived from the master key and the serial (docs/self-issuance.md\n"
    "§7; 'tessera issue card-keys' recomputes them). Per card: install the issuance\n"
    "application, load the group as --function (default 1), one EXECUTE ISSUANCE with run id =\n"
    "the serial, write the card's log DIR/logs/card-SERIAL.jsonl (synced unless --no-sync), then\n"
    "acknowledge.\n"
    "\n"
    "  --shard I/N      issue only the cards whose index (0..N-1 of the batch) is I modulo N:\n"
    "                   run I = 0..N-1 in parallel anywhere that sees DIR (a Kubernetes\n"
    "                   Indexed Job, a Slurm array: docs/self-issuance.md §7)\n"
    "  --master-key     a file with one line master=HEX (AES-128/192/256), or 'test' (the\n"
    "                   well-known 404142..4F, with a warning). Default: test\n"
    "  --target AID     the application the function issues (kept unusable while half issued;\n"
    "                   default: the AID the group installs, by INSTALL or installation file)\n"
    "  --size SIZE      NVM size of new images (default 128K; K and M suffixes)\n"
    "  --no-sync        do not fsync each card's log before acknowledging (faster; a crash may\n"
    "                   then lose log lines of cards the card says are acknowledged)\n"
    "  --trace          decode every command and response of every card on stderr (STORE\n"
    "                   DATA bodies as their length), as 'tessera --trace issue run' does\n"
    "\n"
    "Re-running the same command is safe: cards already issued are skipped, cards interrupted\n"
    "(a killed process, a power cut) are resumed from the first unanswered command, partly\n"
    "failed ones are retried once, and no command that succeeded runs again. A progress line\n"
    "goes to stderr (plain lines when it is not a terminal); the summary to stdout (--json: one\n"
    "object).\n"
    "\n"
    "A new image's blocks are reserved on the file system before anything is written to it: a\n"
    "full disk fails that card with 'no space for image ...' and leaves no image behind, so a\n"
    "re-run with space creates and issues it.\n"
    "\n"
    "exit codes: 0 every card of the shard is issued; 1 some card failed (each is listed with\n"
    "its reason), or the profile, master key or directory is unusable; 2 usage error.\n";

constexpr const char* kCardKeysUsage =
    "usage: tessera issue card-keys --serial N [--master-key FILE|test] -o KEYFILE\n"
    "\n"
    "Writes the SCP03 key file (enc=, mac=, dek=; mode 0600; for --scp03 KEYFILE) of the card\n"
    "with this serial, derived from the master key as batch issuance derives it. The serial is\n"
    "a decimal number or 0x-prefixed hex; a card reports its own in GET DATA CF.\n";

bool ParseU64(const std::string& v, uint64_t* out) {
  if (v.empty() || v[0] == '-') return false;
  char* end = nullptr;
  errno = 0;
  const bool hex = v.rfind("0x", 0) == 0 || v.rfind("0X", 0) == 0;
  *out = std::strtoull(v.c_str() + (hex ? 2 : 0), &end, hex ? 16 : 10);
  return errno == 0 && *end == '\0' && end != v.c_str() + (hex ? 2 : 0);
}

int Usage(const std::string& what, const std::string& message) {
  std::fprintf(stderr, "tessera issue %s: %s\n\nRun 'tessera issue %s --help' for the options.\n",
               what.c_str(), message.c_str(), what.c_str());
  return 2;
}

int Fail(bool json, const std::string& what, const std::string& message) {
  std::fprintf(stderr, "tessera issue %s: %s\n", what.c_str(), message.c_str());
  if (json) std::printf("%s\n", DumpJson(Json{{"ok", false}, {"error", message}}).c_str());
  return 1;
}

class Progress {
 public:
  Progress(size_t total, bool quiet) : total_(total), tty_(!quiet && ::isatty(2)), quiet_(quiet) {
    start_ = std::chrono::steady_clock::now();
  }
  void Update(size_t done, size_t failed) {
    if (quiet_) return;
    const double s = Seconds();
    const double rate = s > 0 ? static_cast<double>(done) / s : 0;
    if (tty_) {
      if (done != total_ && s - last_ < 0.1) return;
      last_ = s;
      const size_t width = 30;
      const size_t filled = total_ == 0 ? width : done * width / total_;
      std::fprintf(stderr, "\rissuing [%s%s] %zu/%zu cards, %zu failed, %.0f cards/s ",
                   std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(), done,
                   total_, failed, rate);
      if (done == total_) std::fputc('\n', stderr);
    } else {
      const size_t step = std::max<size_t>(1, total_ / 10);
      if (done % step != 0 && done != total_) return;
      std::fprintf(stderr, "issuing: %zu/%zu cards, %zu failed, %.0f cards/s\n", done, total_,
                   failed, rate);
    }
  }
  double Seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  size_t total_;
  bool tty_, quiet_;
  double last_ = -1;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

int RunIssueBatch(const std::vector<std::string>& args, bool json) {
  std::string profile, images, master = "test", target_hex;
  uint64_t count = 0, first = 1, function = 1;
  bool have_count = false, sync = true, trace = false;
  uint32_t shard = 0, shards = 1, size = 128 * 1024;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kBatchUsage, stdout);
      return 0;
    }
    const bool valued = a == "--images" || a == "--count" || a == "--shard" ||
                        a == "--first-serial" || a == "--master-key" || a == "--function" ||
                        a == "--target" || a == "--size";
    if (valued && i + 1 >= args.size()) return Usage("batch", a + " needs a value");
    const std::string v = valued ? args[++i] : "";
    if (a == "--images") {
      images = v;
    } else if (a == "--count") {
      if (!ParseU64(v, &count) || count == 0 || count > 100000000) {
        return Usage("batch", "--count '" + v + "': give a number of cards from 1");
      }
      have_count = true;
    } else if (a == "--shard") {
      unsigned long i_part = 0, n_part = 0;
      char extra = 0;
      if (std::sscanf(v.c_str(), "%lu/%lu%c", &i_part, &n_part, &extra) != 2 || n_part == 0 ||
          i_part >= n_part || n_part > 1000000) {
        return Usage("batch", "--shard '" + v + "': give I/N with 0 <= I < N, e.g. 0/4");
      }
      shard = static_cast<uint32_t>(i_part);
      shards = static_cast<uint32_t>(n_part);
    } else if (a == "--first-serial") {
      if (!ParseU64(v, &first) || first == 0) {
        return Usage("batch", "--first-serial '" + v + "': give a number from 1 (or 0x hex)");
      }
    } else if (a == "--master-key") {
      master = v;
    } else if (a == "--function") {
      if (!ParseU64(v, &function) || function < 1 || function > 0xFE) {
        return Usage("batch", "--function '" + v + "': give a function id from 1 to 254");
      }
    } else if (a == "--target") {
      target_hex = v;
    } else if (a == "--size") {
      const auto parsed = ParseSize(v, uint64_t{1} << 30);
      if (!parsed) return Usage("batch", "--size '" + v + "': e.g. 128K or 1M");
      size = static_cast<uint32_t>(*parsed);
    } else if (a == "--no-sync") {
      sync = false;
    } else if (a == "--trace") {
      trace = true;
    } else if (a == "--json") {
      json = true;
    } else if (a.size() > 1 && a[0] == '-') {
      return Usage("batch", "unknown option '" + a + "'");
    } else if (profile.empty()) {
      profile = a;
    } else {
      return Usage("batch", "one PROFILE only ('" + a + "' is a second)");
    }
  }
  if (profile.empty()) return Usage("batch", "give the PROFILE (a command group file)");
  if (images.empty()) return Usage("batch", "give --images DIR");
  if (!have_count) return Usage("batch", "give --count N");
  if (first + count - 1 < first) return Usage("batch", "the serials overflow 64 bits");

  BatchPlan plan;
  plan.images = images;
  plan.function = static_cast<uint8_t>(function);
  plan.sync_logs = sync;
  plan.trace = trace;
  plan.geometry.nvm_size = size;
  auto group = LoadGroupFile(profile);
  if (!group.ok()) return Fail(json, "batch", group.status().message());
  plan.group = group->Encode();
  if (!target_hex.empty()) {
    auto t = FromHex(target_hex);
    if (!t.ok() || t->size() < 5 || t->size() > 16) {
      return Usage("batch", "--target '" + target_hex + "': an AID of 5 to 16 bytes in hex");
    }
    plan.target = *t;
  } else {
    plan.target = TargetAid(*group);
  }
  auto key = LoadMasterKey(master, true);
  if (!key.ok()) return Fail(json, "batch", key.status().message());
  plan.master.assign(key->begin(), key->end());
  plan.geometry.root_size = 256;
  std::error_code ec;
  std::filesystem::create_directories(images + "/logs", ec);
  if (ec) return Fail(json, "batch", "cannot create " + images + "/logs: " + ec.message());

  // The shard's cards: indexes shard, shard + shards, ... below count.
  const uint64_t cards = count > shard ? (count - shard + shards - 1) / shards : 0;
  Progress progress(cards, json && !::isatty(2));
  size_t issued = 0, completed = 0, skipped = 0;
  std::vector<CardReport> failures;
  for (uint64_t i = 0; i < cards; ++i) {
    CardReport r = IssueCard(plan, first + shard + i * shards);
    switch (r.outcome) {
      case CardOutcome::kIssued:
        ++issued;
        break;
      case CardOutcome::kCompleted:
        ++completed;
        break;
      case CardOutcome::kAlreadyIssued:
        ++skipped;
        break;
      case CardOutcome::kFailed:
        failures.push_back(r);
        break;
    }
    progress.Update(i + 1, failures.size());
  }
  const double seconds = progress.Seconds();
  crypto::SecureZero(plan.master.data(), plan.master.size());
  const double rate = seconds > 0 ? static_cast<double>(issued + completed) / seconds : 0;
  if (json) {
    Json out{{"ok", failures.empty()},
             {"profile", profile},
             {"images", images},
             {"function", function},
             {"commands", group->commands.size()},
             {"shard", std::to_string(shard) + "/" + std::to_string(shards)},
             {"cards", cards},
             {"issued", issued},
             {"completed", completed},
             {"already_issued", skipped},
             {"failed", failures.size()},
             {"seconds", seconds},
             {"cards_per_second", rate}};
    out["failures"] = Json::array();
    for (const CardReport& f : failures) {
      out["failures"].push_back({{"serial", SerialHex(f.serial)},
                                 {"image", ImagePath(plan, f.serial)},
                                 {"error", f.error}});
    }
    std::printf("%s\n", DumpJson(out).c_str());
  } else {
    std::printf("shard %u/%u: %zu cards of %s (%zu commands) in %s\n", shard, shards, cards,
                profile.c_str(), group->commands.size(), images.c_str());
    std::printf(
        "  issued          %zu\n  completed       %zu (interrupted or unacknowledged "
        "before)\n  already issued  %zu\n  failed          %zu\n",
        issued, completed, skipped, failures.size());
    std::printf("  %.2f s, %.0f cards/s\n", seconds, rate);
    for (const CardReport& f : failures) {
      std::printf("  failed %s: %s\n", ImagePath(plan, f.serial).c_str(), f.error.c_str());
    }
  }
  return failures.empty() ? 0 : 1;
}

int RunCardKeys(const std::vector<std::string>& args, bool json) {
  std::string master = "test", out;
  uint64_t serial = 0;
  bool have_serial = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kCardKeysUsage, stdout);
      return 0;
    }
    const bool valued = a == "--serial" || a == "--master-key" || a == "-o";
    if (valued && i + 1 >= args.size()) return Usage("card-keys", a + " needs a value");
    const std::string v = valued ? args[++i] : "";
    if (a == "--serial") {
      if (!ParseU64(v, &serial) || serial == 0) {
        return Usage("card-keys", "--serial '" + v + "': a number from 1 (or 0x hex)");
      }
      have_serial = true;
    } else if (a == "--master-key") {
      master = v;
    } else if (a == "-o") {
      out = v;
    } else if (a == "--json") {
      json = true;
    } else {
      return Usage("card-keys", "unexpected '" + a + "'");
    }
  }
  if (!have_serial) return Usage("card-keys", "give --serial N");
  if (out.empty()) return Usage("card-keys", "give -o KEYFILE (keys are never printed)");
  auto key = LoadMasterKey(master, true);
  if (!key.ok()) return Fail(json, "card-keys", key.status().message());
  auto keys = DeriveCardKeys(*key, serial);
  if (!keys.ok()) return Fail(json, "card-keys", keys.status().message());
  if (Status s = WriteKeyFile(out, *keys); !s.ok()) return Fail(json, "card-keys", s.message());
  if (json) {
    std::printf(
        "%s\n",
        DumpJson(Json{{"ok", true}, {"serial", SerialHex(serial)}, {"key_file", out}}).c_str());
  } else {
    std::printf("wrote the SCP03 keys of card %s to %s\n", SerialHex(serial).c_str(), out.c_str());
  }
  return 0;
}

}  // namespace tessera::tools
