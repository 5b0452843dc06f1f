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
#include "nvm/image_file.h"
#include "reporter.h"

namespace tessera::tools {

// The host library (src/host) is what this front-end calls.
using namespace host;  // NOLINT(google-build-using-namespace)
namespace {

constexpr const char* kBatchHelp =
    "Issues the card function PROFILE (a command group: text, as profiles/*.group, or compiled)\n"
    "to N card images in DIR, in this process: card-SERIAL.img (SERIAL: 16 hex digits) for\n"
    "serials --first-serial (default 1) .. +N-1. Each new image gets the default profile, its\n"
    "serial, and SCP03 keys derived from the master key and the serial (docs/self-issuance.md\n"
    "§7; 'tessera issue card-keys' recomputes them). Per card: install the issuance\n"
    "application, load the group as --function (default 1), one EXECUTE ISSUANCE with run id =\n"
    "the serial, write the card's log DIR/logs/card-SERIAL.jsonl (synced unless --no-sync), then\n"
    "acknowledge. The global --trace decodes every command and response of every card on\n"
    "stderr (STORE DATA bodies as their length), as 'tessera --trace issue run' does.\n"
    "\n"
    "Re-running the same command is safe: cards already issued are skipped, cards interrupted\n"
    "(a killed process, a power cut) are resumed from the first unanswered command, partly\n"
    "failed ones are retried once, and no command that succeeded runs again. A progress line\n"
    "goes to stderr (plain lines when it is not a terminal); the summary to stdout (--json: one\n"
    "object).\n"
    "\n"
    "A new image's blocks are reserved on the file system before anything is written to it: a\n"
    "full disk fails that card with 'no space for image ...' and leaves no image behind, so a\n"
    "re-run with space creates and issues it.";

constexpr const char* kBatchFooter =
    "exit codes: 0 every card of the shard is issued; 1 some card failed (each is listed with\n"
    "its reason), or the profile, master key or directory is unusable; 2 usage error.";

constexpr const char* kCardKeysHelp =
    "Writes the SCP03 key file (enc=, mac=, dek=; mode 0600; for --scp03 KEYFILE) of the card\n"
    "with this serial, derived from the master key as batch issuance derives it. The serial is\n"
    "a decimal number or 0x-prefixed hex; a card reports its own in GET DATA CF.";

constexpr const char* kMasterKeyHelp =
    "a file with one line master=HEX (AES-128/192/256), or 'test' (the well-known 404142..4F, "
    "with a warning). Default: test";

bool ParseU64(const std::string& v, uint64_t* out) {
  if (v.empty() || v[0] == '-') return false;
  char* end = nullptr;
  errno = 0;
  const bool hex = v.rfind("0x", 0) == 0 || v.rfind("0X", 0) == 0;
  *out = std::strtoull(v.c_str() + (hex ? 2 : 0), &end, hex ? 16 : 10);
  return errno == 0 && *end == '\0' && end != v.c_str() + (hex ? 2 : 0);
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

int RunIssueBatch(const Args& a, bool json, bool trace) {
  std::string master = a.has("--master-key") ? a.value("--master-key") : "test";
  const std::string profile = a.operands.at(0), images = a.value("--images");
  const std::string target_hex = a.value("--target");
  uint64_t count = 0, first = 1, function = 1;
  const bool sync = !a.has("--no-sync");
  uint32_t shard = 0, shards = 1, size = 128 * 1024;
  if (!ParseU64(a.value("--count"), &count) || count == 0 || count > 100000000) {
    return Reporter("issue batch", json)
        .Usage("--count '" + a.value("--count") + "': give a number of cards from 1");
  }
  if (a.has("--shard")) {
    const std::string v = a.value("--shard");
    unsigned long i_part = 0, n_part = 0;
    char extra = 0;
    if (std::sscanf(v.c_str(), "%lu/%lu%c", &i_part, &n_part, &extra) != 2 || n_part == 0 ||
        i_part >= n_part || n_part > 1000000) {
      return Reporter("issue batch", json)
          .Usage("--shard '" + v + "': give I/N with 0 <= I < N, e.g. 0/4");
    }
    shard = static_cast<uint32_t>(i_part);
    shards = static_cast<uint32_t>(n_part);
  }
  if (a.has("--first-serial") && (!ParseU64(a.value("--first-serial"), &first) || first == 0)) {
    return Reporter("issue batch", json)
        .Usage("--first-serial '" + a.value("--first-serial") +
               "': give a number from 1 (or 0x hex)");
  }
  if (a.has("--function") &&
      (!ParseU64(a.value("--function"), &function) || function < 1 || function > 0xFE)) {
    return Reporter("issue batch", json)
        .Usage("--function '" + a.value("--function") + "': give a function id from 1 to 254");
  }
  if (a.has("--size")) {
    const auto parsed = ParseSize(a.value("--size"), uint64_t{1} << 30);
    if (!parsed)
      return Reporter("issue batch", json)
          .Usage("--size '" + a.value("--size") + "': e.g. 128K or 1M");
    size = static_cast<uint32_t>(*parsed);
  }
  if (first + count - 1 < first)
    return Reporter("issue batch", json).Usage("the serials overflow 64 bits");

  BatchPlan plan;
  plan.images = images;
  plan.function = static_cast<uint8_t>(function);
  plan.sync_logs = sync;
  plan.trace = trace;
  plan.geometry.nvm_size = size;
  auto group = LoadGroupFile(profile);
  if (!group.ok()) return Reporter("issue batch", json).FailFile(group.status());
  plan.group = group->Encode();
  if (!target_hex.empty()) {
    auto t = ParseHexArg(target_hex);
    if (!t.ok() || t->size() < 5 || t->size() > 16) {
      return Reporter("issue batch", json)
          .Usage("--target '" + target_hex + "': an AID of 5 to 16 bytes in hex");
    }
    plan.target = *t;
  } else {
    plan.target = TargetAid(*group);
  }
  auto key = LoadMasterKey(master, true);
  if (!key.ok()) return Reporter("issue batch", json).FailFile(key.status());
  plan.master.assign(key->begin(), key->end());
  plan.geometry.root_size = 256;
  std::error_code ec;
  std::filesystem::create_directories(images + "/logs", ec);
  if (ec) {
    return Reporter("issue batch", json)
        .FailFile(IOError("cannot create " + images + "/logs: " + ec.message()));
  }

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
    Json out = failures.empty() ? Json{{"ok", true}}
                                : ErrorJson(std::to_string(failures.size()) + " of " +
                                                std::to_string(cards) + " cards failed",
                                            ErrorKind::kFailed);
    out["profile"] = profile;
    out["images"] = images;
    out["function"] = HexByte(static_cast<uint8_t>(function));
    out["count"] = group->commands.size();
    out["shard"] = std::to_string(shard) + "/" + std::to_string(shards);
    out["cards"] = cards;
    out["issued"] = issued;
    out["completed"] = completed;
    out["already_issued"] = skipped;
    out["failed"] = failures.size();
    out["seconds"] = seconds;
    out["cards_per_second"] = rate;
    out["failures"] = Json::array();
    for (const CardReport& f : failures) {
      out["failures"].push_back({{"serial", SerialHex(f.serial)},
                                 {"image", ImagePath(plan, f.serial)},
                                 {"message", f.error}});
    }
    PrintJson(out);
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

int RunCardKeys(const Args& a, bool json) {
  const std::string master = a.has("--master-key") ? a.value("--master-key") : "test";
  const std::string out = a.value("-o");
  uint64_t serial = 0;
  if (!ParseU64(a.value("--serial"), &serial) || serial == 0) {
    return Reporter("issue card-keys", json)
        .Usage("--serial '" + a.value("--serial") + "': a number from 1 (or 0x hex)");
  }
  auto key = LoadMasterKey(master, true);
  if (!key.ok()) return Reporter("issue card-keys", json).FailFile(key.status());
  auto keys = DeriveCardKeys(*key, serial);
  if (!keys.ok()) return Reporter("issue card-keys", json).Fail(keys.status());
  if (Status s = WriteKeyFile(out, *keys); !s.ok()) {
    return Reporter("issue card-keys", json).FailFile(s);
  }
  if (json) {
    std::printf(
        "%s\n",
        DumpJson(Json{{"ok", true}, {"serial", SerialHex(serial)}, {"output", out}}).c_str());
  } else {
    std::printf("wrote the SCP03 keys of card %s to %s\n", SerialHex(serial).c_str(), out.c_str());
  }
  return 0;
}

void AddIssueBatchCommands(CommandTree& tree, const LinkOptions& link) {
  CLI::App* issue = nullptr;
  for (CLI::App* sub : tree.root().get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->get_name() == "issue") issue = sub;
  }
  // They make (or compute for) their own cards: a card option would be silently ignored.
  auto card_options = [&link](const std::string& command) -> std::string {
    if (!link.image.empty() || !link.connect.empty() || !link.reader.empty() ||
        !link.scp03.empty() || link.power_cut_after) {
      return "issue " + command +
             " works on its own cards (--images DIR, --serial): --image, --connect, --reader, "
             "--scp03 and --power-cut-after do not apply";
    }
    return "";
  };

  Command& batch = tree.Add(issue, "batch", "issue a function to N new card images in this process",
                            kBatchHelp, kBatchFooter);
  batch.Operand("PROFILE", "the card function: a command group, text or compiled")
      .Value("--images", "DIR", "the directory of the card images and their logs")
      .Value("--count", "N", "the number of cards of the batch")
      .Value("--shard", "I/N",
             "issue only the cards whose index (0..N-1 of the batch) is I modulo N: run I = "
             "0..N-1 in parallel anywhere that sees DIR (a Kubernetes Indexed Job, a Slurm "
             "array: docs/self-issuance.md §7)")
      .Value("--first-serial", "N", "the first card's serial (default 1; or 0x hex)")
      .Value("--master-key", "FILE", kMasterKeyHelp)
      .Value("--function", "N", "the card function, 1..254 (default 1)")
      .Value("--target", "AID",
             "the application the function issues (kept unusable while half issued; default: "
             "the AID the group installs, by INSTALL or installation file)")
      .Value("--size", "SIZE", "NVM size of new images (default 128K; K and M suffixes)")
      .Flag("--no-sync",
            "do not fsync each card's log before acknowledging (faster; a crash may then lose "
            "log lines of cards the card says are acknowledged)");
  batch.app->get_option("--images")->required();
  batch.app->get_option("--count")->required();
  batch.run = [&link, card_options](const Args& a) {
    if (auto e = card_options("batch"); !e.empty()) {
      return Reporter("issue batch", link.json).Usage(e);
    }
    return RunIssueBatch(a, link.json, link.trace);
  };

  Command& keys =
      tree.Add(issue, "card-keys",
               "write the SCP03 key file of a batch-issued card from its serial", kCardKeysHelp);
  keys.Value("--serial", "N", "the card's serial (decimal, or 0x hex)")
      .Value("--master-key", "FILE", kMasterKeyHelp)
      .Value("-o,--output", "KEYFILE", "the key file to write (keys are never printed)");
  keys.app->get_option("--serial")->required();
  keys.app->get_option("-o")->required();
  keys.run = [&link, card_options](const Args& a) {
    if (auto e = card_options("card-keys"); !e.empty()) {
      return Reporter("issue card-keys", link.json).Usage(e);
    }
    if (link.trace) {
      return Reporter("issue card-keys", link.json)
          .Usage(
              "issue card-keys computes a key file and talks to no card: --trace does not "
              "apply");
    }
    return RunCardKeys(a, link.json);
  };
}

}  // namespace tessera::tools
