// Damage is always detected (docs/nvm-format.md §3.1): random single-byte flips of a fully
// issued card image (applications installed by record, the bureau's administrator, card
// functions run by EXECUTE ISSUANCE; made by tests/integrity/flip_test.sh with the real CLI),
// each on a fresh copy of the file. For every flip:
//   - `tessera image check` (the command itself, in process) runs on the damaged file, and
//   - the damaged card is driven through a fixed script of reads: SELECT of every application,
//     READ BINARY / READ RECORD of every EF (PINs presented first), the purse balance, GET DATA
//     on the issuer security domain, the issuance functions' status, and GlobalPlatform GET
//     STATUS in the issuer's SCP03 session.
// The oracle is independent of the code under test: what the undamaged card answers to the same
// script. A flip passes when every response equals the undamaged card's, or when the first
// response of a step that differs is 6581 (memory failure) with no data, or the card does not
// power on at all; any other difference is data served from damaged memory, and fails. A flip
// that changes what the card serves must also make `image check` exit 1.
//
// A negative control runs the same oracle with the store's checks switched off
// (NvmStore::UncheckedReads), as a card without integrity checks reads: it must find flips
// served as data, so the oracle can tell.
//
// Environment: TESSERA_FLIP_IMAGE, TESSERA_FLIP_KEYS (the card's SCP03 key file),
// TESSERA_FLIP_COUNT (default 1000), TESSERA_FLIP_SEED (default: random; always printed).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "card/check/card_inspector.h"
#include "card/kernel/card.h"
#include "card/kernel/platform.h"
#include "core/bytes.h"
#include "crypto/scp03_host.h"
#include "device/virtual_card.h"
#include "host/card_keys.h"
#include "image_command.h"
#include "nvm/image_file.h"
#include "nvm/integrity.h"
#include "nvm/nvm_store.h"

namespace tessera {
namespace {

std::string Env(const char* name, const std::string& fallback = "") {
  const char* v = std::getenv(name);
  return v != nullptr ? v : fallback;
}

Bytes ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

void WriteFile(const std::string& path, const Bytes& b) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// `tessera image check PATH`, in process, its output silenced.
int ImageCheck(const std::string& path) {
  std::fflush(stdout);
  std::fflush(stderr);
  const int out = dup(1), err = dup(2);
  const int null = open("/dev/null", O_WRONLY);
  dup2(null, 1);
  dup2(null, 2);
  const int rc = tools::CheckImage(path);
  std::fflush(stdout);
  std::fflush(stderr);
  dup2(out, 1);
  dup2(err, 2);
  close(null);
  close(out);
  close(err);
  return rc;
}

// One step of the script: its APDUs run on a freshly powered card, in order. kScp03 steps run
// their APDUs inside an SCP03 session with the card's keys.
struct Step {
  std::string name;
  std::vector<Bytes> apdus;
  bool scp03 = false;
};

std::string Lc(size_t n) {
  return ToHex(Bytes{static_cast<uint8_t>(n)});
}
std::string SelectAid(const Bytes& aid, bool fci) {
  return std::string(fci ? "00A40400" : "00A4040C") + Lc(aid.size()) + ToHex(aid) +
         (fci ? "00" : "");
}
constexpr const char* kVerifyCard = "002000810431323334";    // PIN 81 of the default profile
constexpr const char* kVerifyModule = "002000800431323334";  // the profiles' application PINs
constexpr const char* kIsd = "A000000151000000";

// The script, from the undamaged card's file tree.
std::vector<Step> Script(const card::CardReport& tree) {
  std::vector<Step> steps;
  std::map<uint16_t, const card::FileEntry*> by_id;
  for (const auto& f : tree.files) by_id[f.node.id] = &f;
  for (const auto& f : tree.files) {
    const card::FileNode& n = f.node;
    if (n.is_df() && !n.df_name.empty()) {
      steps.push_back({"SELECT " + f.path, {HexOrDie(SelectAid(n.df_name, true))}});
    }
    if (!n.is_ef()) continue;
    Step s{"read " + f.path, {HexOrDie(kVerifyCard)}};
    const auto parent = by_id.find(n.parent);
    if (parent != by_id.end() && !parent->second->node.df_name.empty()) {
      s.apdus.push_back(HexOrDie(SelectAid(parent->second->node.df_name, false)));
      s.apdus.push_back(HexOrDie(kVerifyModule));
    } else {
      // By path from the MF.
      std::string path;
      for (uint16_t at = n.parent; at != card::kNoNode && by_id.count(at);
           at = by_id[at]->node.parent) {
        if (by_id[at]->node.fid != card::kMfFid) path = HexU16(by_id[at]->node.fid) + path;
      }
      s.apdus.push_back(HexOrDie("00A4000C023F00"));
      if (!path.empty()) s.apdus.push_back(HexOrDie("00A4080C" + Lc(path.size() / 2) + path));
    }
    s.apdus.push_back(HexOrDie("00A4020C02" + HexU16(n.fid)));
    if (n.is_record_ef()) {
      for (uint32_t r = 1; r <= n.max_records; ++r) {
        s.apdus.push_back(HexOrDie("00B2" + ToHex(Bytes{static_cast<uint8_t>(r)}) + "0400"));
      }
    } else {
      for (uint32_t at = 0; at < n.size; at += 0xF0) {
        const uint32_t len = std::min<uint32_t>(0xF0, n.size - at);
        s.apdus.push_back(HexOrDie("00B0" + HexU16(static_cast<uint16_t>(at)) +
                                   ToHex(Bytes{static_cast<uint8_t>(len)})));
      }
    }
    steps.push_back(std::move(s));
  }
  steps.push_back(
      {"purse balance",
       {HexOrDie(kVerifyCard), HexOrDie("00A4040C09F05445535345524150"), HexOrDie("805C000004")}});
  steps.push_back({"ISD GET DATA",
                   {HexOrDie(SelectAid(HexOrDie(kIsd), true)), HexOrDie("80CA006600"),
                    HexOrDie("80CA00CF00"), HexOrDie("80CA9F7F00"), HexOrDie("80CA00E000")}});
  Step status{"issuance status", {HexOrDie("00A4040C09F05445535345524102")}};
  for (int fn = 1; fn <= 4; ++fn) {
    status.apdus.push_back(
        HexOrDie("80EA030003C101" + ToHex(Bytes{static_cast<uint8_t>(fn)}) + "00"));
  }
  steps.push_back(std::move(status));
  steps.push_back(
      {"GP GET STATUS",
       {HexOrDie("80F28002024F0000"), HexOrDie("80F24002024F0000"), HexOrDie("80F21002024F0000")},
       true});
  return steps;
}

// What a card serves for each step: the responses, in order; nullopt for a card that does not
// power on.
using Served = std::vector<std::vector<Bytes>>;

struct Driver {
  crypto::scp03::StaticKeys keys;
  std::vector<Step> steps;
  bool unchecked = false;  // the negative control

  std::optional<Served> Run(nvm::NvmDevice& device, const nvm::Geometry& g) const {
    Served served;
    for (const Step& s : steps) {
      auto platform = card::DrbgPlatform::FromSeed(Bytes(48, 7), 1700000000);
      auto card_owned = device::MakeCard(device, g, *platform);
      card::Card& card = *card_owned;
      if (!card.PowerOn().ok()) return std::nullopt;
      std::optional<nvm::NvmStore::UncheckedReads> off;
      if (unchecked) off.emplace(card.store());
      std::vector<Bytes> out;
      if (!s.scp03) {
        for (const Bytes& apdu : s.apdus) out.push_back(card.Transmit(apdu));
      } else {
        Bytes last;
        crypto::scp03::ChannelOptions o;
        o.keys = keys;
        o.level = crypto::scp03::kCMac;
        auto sc = crypto::scp03::SecureChannel::Open(
            [&](ByteView c) -> Result<Bytes> {
              last = card.Transmit(c);
              return last;
            },
            o);
        if (!sc.ok()) {
          // The session did not open: what the card last answered stands for the step.
          out.push_back(last.size() == 2 ? last : Bytes{0x6F, 0x00});
        } else {
          for (const Bytes& apdu : s.apdus) {
            auto r = (*sc)->Transmit(apdu);
            out.push_back(r.ok() ? *r : Bytes{0x6F, 0x00});
          }
        }
      }
      served.push_back(std::move(out));
      if (!card.powered() || !device.powered()) return std::nullopt;
    }
    return served;
  }
};

enum class Verdict { kSame, kRefused, kServed };

// Compares a damaged card's answers with the undamaged card's. `why` names the first served
// difference.
Verdict Judge(const std::vector<Step>& steps, const Served& want, const std::optional<Served>& got,
              std::string& why) {
  if (!got) return Verdict::kRefused;  // does not power on
  Verdict v = Verdict::kSame;
  for (size_t i = 0; i < steps.size(); ++i) {
    for (size_t k = 0; k < want[i].size(); ++k) {
      if ((*got)[i][k] == want[i][k]) continue;
      if ((*got)[i][k] == Bytes{0x65, 0x81}) {
        v = Verdict::kRefused;
        break;  // the rest of the step runs in another context
      }
      why = steps[i].name + ": " + ToHex(steps[i].apdus[std::min(k, steps[i].apdus.size() - 1)]) +
            " answered " + ToHex((*got)[i][k]) + ", the undamaged card " + ToHex(want[i][k]);
      return Verdict::kServed;
    }
  }
  return v;
}

class FlipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    image_ = Env("TESSERA_FLIP_IMAGE");
    if (image_.empty()) GTEST_SKIP() << "TESSERA_FLIP_IMAGE not set (run flip_test.sh)";
    pristine_ = ReadFile(image_);
    ASSERT_GT(pristine_.size(), nvm::kImageHeaderRegion);
    auto keys = host::LoadKeyFile(Env("TESSERA_FLIP_KEYS"));
    ASSERT_TRUE(keys.ok()) << keys.status().ToString();
    work_ = image_ + ".flip";
    WriteFile(work_, pristine_);
    auto file = nvm::ImageFile::Open(work_);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    geometry_ = (*file)->geometry();
    layout_ = *nvm::ComputeLayout(geometry_);
    const card::CardReport tree = card::InspectCardImage((*file)->device(), geometry_);
    ASSERT_TRUE(tree.ok());
    for (uint32_t b = 0; b < layout_.block_count; ++b) {
      if ((*file)->device().cells()[layout_.table_offset + b] == 1) used_.push_back(b);
    }
    driver_.keys = *keys;
    driver_.steps = Script(tree);
    auto want = driver_.Run((*file)->device(), geometry_);
    ASSERT_TRUE(want.has_value());
    want_ = *want;
    // The script reaches the card's data: the purse holds 1000 (the e-money function's first
    // value) and GET STATUS lists applications.
    size_t reads = 0;
    for (const auto& step : want_) {
      for (const Bytes& r : step) reads += r.size() > 2 && r[r.size() - 2] == 0x90;
    }
    ASSERT_GT(reads, 50u);
    ASSERT_EQ(ToHex(want_[want_.size() - 4].back()), "000003E89000");
    ASSERT_EQ(ImageCheck(work_), 0);
  }
  void TearDown() override {
    if (!work_.empty()) std::remove(work_.c_str());
  }

  // Flips one byte of a fresh copy of the image file; the card is then driven.
  Verdict Flip(size_t at, uint8_t mask, bool unchecked, bool& detected, std::string& why) {
    Bytes damaged = pristine_;
    damaged[at] ^= mask;
    WriteFile(work_, damaged);
    detected = ImageCheck(work_) == 1;
    auto file = nvm::ImageFile::Open(work_);
    if (!file.ok()) return Verdict::kRefused;  // the file itself is refused
    Driver d = driver_;
    d.unchecked = unchecked;
    return Judge(d.steps, want_, d.Run((*file)->device(), geometry_), why);
  }

  std::string image_, work_;
  Bytes pristine_;
  nvm::Geometry geometry_;
  nvm::Layout layout_;
  std::vector<uint32_t> used_;
  Driver driver_;
  Served want_;
};

TEST_F(FlipTest, EveryFlipIsDetectedOrRefusedNeverServed) {
  const uint64_t seed = Env("TESSERA_FLIP_SEED").empty() ? std::random_device{}()
                                                         : std::stoull(Env("TESSERA_FLIP_SEED"));
  const int count = std::stoi(Env("TESSERA_FLIP_COUNT", "1000"));
  std::printf("flip test: seed %llu (TESSERA_FLIP_SEED=%llu replays it), %d flips\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed), count);
  std::mt19937_64 rng(seed);
  int detected_n = 0, refused_n = 0, harmless_n = 0, served_n = 0;
  for (int i = 0; i < count; ++i) {
    // Half anywhere in the file, half aimed at the card's structures (USED blocks, the root
    // area, the allocator and check tables).
    size_t at = 0;
    if (i % 2 == 0 || used_.empty()) {
      at = rng() % pristine_.size();
    } else {
      const uint32_t b = used_[rng() % used_.size()];
      const uint32_t choice = static_cast<uint32_t>(rng() % 8);
      const uint32_t nvm_at =
          choice == 0 ? layout_.root_offset + static_cast<uint32_t>(rng() % geometry_.root_size)
          : choice == 1
              ? layout_.table_offset +
                    static_cast<uint32_t>(rng() % (layout_.root_offset - layout_.table_offset))
              : layout_.BlockOffset(b) + static_cast<uint32_t>(rng() % geometry_.block_size);
      at = nvm::kImageHeaderRegion + nvm_at;
    }
    const uint8_t mask =
        static_cast<uint8_t>(1u << (rng() % 8)) | static_cast<uint8_t>(rng() % 4 == 0 ? rng() : 0);
    bool detected = false;
    std::string why;
    const Verdict v = Flip(at, mask, false, detected, why);
    detected_n += detected;
    if (v == Verdict::kServed) {
      ++served_n;
      ADD_FAILURE() << "flip " << i << ": file offset " << at << " ^ 0x" << std::hex << int{mask}
                    << std::dec << " served as data (image check " << (detected ? "exit 1" : "OK")
                    << "): " << why;
    } else if (v == Verdict::kRefused) {
      ++refused_n;
      EXPECT_TRUE(detected) << "flip " << i << ": file offset " << at << " ^ 0x" << std::hex
                            << int{mask} << ": the card refused, but image check said OK";
    } else {
      harmless_n += !detected;
    }
  }
  std::printf(
      "flip test: %d flips: %d detected by image check, %d refused by the card (6581 or no "
      "power-on), %d changed nothing served and were not detected, %d served as data\n",
      count, detected_n, refused_n, harmless_n, served_n);
  EXPECT_GT(refused_n, 0);  // the script reaches damaged data
}

TEST_F(FlipTest, WithoutTheChecksTheOracleSeesDamageServed) {
  std::mt19937_64 rng(7);
  int served = 0;
  for (int i = 0; i < 200 && served < 3; ++i) {
    const uint32_t b = used_[rng() % used_.size()];
    const size_t at = nvm::kImageHeaderRegion + layout_.BlockOffset(b) +
                      static_cast<uint32_t>(rng() % geometry_.block_size);
    bool detected = false;
    std::string why;
    served += Flip(at, 0x01, true, detected, why) == Verdict::kServed;
  }
  EXPECT_GE(served, 3) << "with the checks off, flips in used blocks must be served";
}

}  // namespace
}  // namespace tessera
