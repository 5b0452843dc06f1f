// In-process cost of self-issuance (docs/self-issuance.md), on RAM NVMs, with the host side's
// own encoders (tools/issue_group.h, tools/issuance_protocol.h):
//   BM_IssueCard            what `tessera issue batch` does per card, without the image file:
//                           the default profile with its serial, GP INSTALL of the issuance
//                           application (SCP03 with the ISD), STORE DATA of the 50-command
//                           ticket book (profiles/ticketbook.group), EXECUTE ISSUANCE and its
//                           acknowledgement. Cards per second per core.
//   BM_Execute50            one EXECUTE ISSUANCE (+ acknowledgement) of 50 commands
//                           (SELECT + VERIFY + 48 UPDATE BINARY of a data store)
//   BM_Send50               the same 50 commands sent one by one to the card
// NVM page programs per iteration are reported with each. Results: docs/performance.md.
#include <benchmark/benchmark.h>

#include "card/kernel/card.h"
#include "card/kernel/profile.h"
#include "core/tlv.h"
#include "crypto/scp03_host.h"
#include "device/virtual_card.h"
#include "host/group_compiler.h"
#include "host/issuance_protocol.h"

namespace tessera::host {
namespace {

const char* const kStoreAid = "F05445535345524153";

bool Ok(ByteView r) {
  return r.size() >= 2 && r[r.size() - 2] == 0x90 && r[r.size() - 1] == 0;
}

struct CardOnRam {
  explicit CardOnRam(uint64_t serial = 0)
      : geometry(BatchGeometry()), ram(geometry.nvm_size, geometry.page_size) {
    platform = card::DrbgPlatform::FromSeed(Bytes(48, 9));
    Reset(serial);
  }
  void Reset(uint64_t serial) {
    card.reset();
    if (!card::InstallDefaultProfile(ram.device(), geometry, nullptr, card::kDefaultAdminLevel,
                                     serial)
             .ok()) {
      std::abort();
    }
    card = tessera::device::MakeCard(ram.device(), geometry, *platform);
    if (!card->PowerOn().ok()) std::abort();
  }
  std::unique_ptr<crypto::scp03::SecureChannel> Open(ByteView domain) {
    crypto::scp03::ChannelOptions o;
    o.keys = crypto::scp03::TestKeys();
    o.level = 0x03;
    o.security_domain.assign(domain.begin(), domain.end());
    auto sc = crypto::scp03::SecureChannel::Open(
        [this](ByteView c) -> Result<Bytes> { return card->Transmit(c); }, o);
    if (!sc.ok()) std::abort();
    return std::move(*sc);
  }
  bool Upload(crypto::scp03::SecureChannel& sc, const Bytes& data) {
    bool ok = true;
    for (size_t off = 0, n = 0; off < data.size(); off += 200, ++n) {
      const size_t len = std::min<size_t>(200, data.size() - off);
      Bytes cmd{0x80, 0xE2, static_cast<uint8_t>(off + len == data.size() ? 0x90 : 0x10),
                static_cast<uint8_t>(n), static_cast<uint8_t>(len)};
      Append(cmd, ByteView(data).subspan(off, len));
      auto r = sc.Transmit(cmd);
      ok = ok && r.ok() && Ok(*r);
    }
    return ok;
  }
  // Installs the issuance application and loads `group` as `function`.
  bool Prepare(const Bytes& group, uint8_t function) {
    auto isd = Open({});
    auto r = isd->Transmit(InstallIssuanceApplication().Serialize());
    if (!r.ok() || !Ok(*r)) return false;
    auto iss = Open(IssuanceAid());
    return Upload(*iss, GroupUpload(function, 1, {}, 0x01, group)) &&
           Ok(card->Transmit(SelectIssuance().Serialize()));
  }
  bool Issue(uint8_t function, uint64_t run) {
    RunId id{};
    PutU64(id.data(), run);
    return Ok(card->Transmit(ExecuteIssuance(IssueOp::kStart, function, &id).Serialize())) &&
           Ok(card->Transmit(ExecuteIssuance(IssueOp::kAck, function, &id).Serialize()));
  }
  uint64_t Programs() { return ram.device().programs(); }
  // The geometry of `tessera issue batch` images (--size 128K).
  static nvm::Geometry BatchGeometry() {
    nvm::Geometry g;
    g.nvm_size = 128 * 1024;
    return g;
  }

  nvm::Geometry geometry;
  nvm::RamNvm ram;
  std::unique_ptr<card::DrbgPlatform> platform;
  std::unique_ptr<card::Card> card;
};

// SELECT + VERIFY + 48 UPDATE BINARY of the data store `kStoreAid` (PIN 1234).
std::vector<Bytes> StoreCommands() {
  std::vector<Bytes> out{HexOrDie(std::string("00A4040009") + kStoreAid + "00"),
                         HexOrDie("002000800431323334")};
  for (int i = 0; i < 48; ++i) {
    Bytes c{0x00,
            0xD6,
            static_cast<uint8_t>((i * 10) >> 8),
            static_cast<uint8_t>(i * 10),
            10,
            0x54,
            static_cast<uint8_t>(i)};
    c.resize(15, 0);
    out.push_back(c);
  }
  return out;
}

// A card with the data store installed (GP INSTALL in an ISD session).
void InstallStore(CardOnRam& c) {
  auto isd = c.Open({});
  const Bytes install = HexOrDie(
      "80E60C002C0AF0544553534552414D010AF0544553534552414D0109F05445535345524153010008C906810431"
      "32333400");
  auto r = isd->Transmit(install);
  if (!r.ok() || !Ok(*r)) std::abort();
}

void BM_IssueCard(benchmark::State& state) {
  auto group = CompileGroupFile(TESSERA_SOURCE_DIR "/profiles/ticketbook.group");
  if (!group.ok() || group->commands.size() != 50) {
    state.SkipWithError("profiles/ticketbook.group");
    return;
  }
  const Bytes encoded = group->Encode();
  CardOnRam c;
  uint64_t serial = 0, programs = 0;
  for (auto _ : state) {
    ++serial;
    c.Reset(serial);
    const uint64_t before = c.Programs();
    if (!c.Prepare(encoded, 1) || !c.Issue(1, serial)) {
      state.SkipWithError("issuance failed");
      return;
    }
    programs += c.Programs() - before;
  }
  state.counters["cards/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["programs"] = static_cast<double>(programs) / static_cast<double>(serial);
}
BENCHMARK(BM_IssueCard)->Unit(benchmark::kMicrosecond);

void BM_Execute50(benchmark::State& state) {
  CardOnRam c;
  InstallStore(c);
  CommandGroup g;
  for (const Bytes& apdu : StoreCommands()) {
    GroupCommand gc;
    gc.apdu = apdu;
    gc.harmless = apdu[1] == 0xA4 || apdu[1] == 0x20;
    g.commands.push_back(gc);
  }
  if (!c.Prepare(g.Encode(), 1)) {
    state.SkipWithError("set-up failed");
    return;
  }
  uint64_t run = 0;
  const uint64_t before = c.Programs();
  for (auto _ : state) {
    if (!c.Issue(1, ++run)) {
      state.SkipWithError("EXECUTE ISSUANCE failed");
      return;
    }
  }
  state.counters["programs"] =
      static_cast<double>(c.Programs() - before) / static_cast<double>(run);
}
BENCHMARK(BM_Execute50)->Unit(benchmark::kMicrosecond);

void BM_Send50(benchmark::State& state) {
  CardOnRam c;
  InstallStore(c);
  const std::vector<Bytes> commands = StoreCommands();
  uint64_t n = 0;
  const uint64_t before = c.Programs();
  for (auto _ : state) {
    for (const Bytes& apdu : commands) {
      if (!Ok(c.card->Transmit(apdu))) {
        state.SkipWithError("command failed");
        return;
      }
    }
    ++n;
  }
  state.counters["programs"] = static_cast<double>(c.Programs() - before) / static_cast<double>(n);
}
BENCHMARK(BM_Send50)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace tessera::host

BENCHMARK_MAIN();
