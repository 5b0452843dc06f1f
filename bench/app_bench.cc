// In-process cost of record-driven application management (docs/applications.md), on a RAM NVM
// with the default profile and one administrator: installing a DATA STORE from an installation
// file (STORE DATA in an issuer session), a record status change (UPDATE RECORD in the
// administrator's session with the management application) and record deletion with its wipe
// (ERASE RECORD). Each reports operations per second and NVM page programs per operation.
// Results: docs/performance.md.
#include <benchmark/benchmark.h>

#include "card/kernel/card.h"
#include "card/kernel/profile.h"
#include "core/tlv.h"
#include "crypto/aes.h"
#include "crypto/ecdsa.h"
#include "crypto/scp03.h"
#include "crypto/scp03_host.h"
#include "device/virtual_card.h"

namespace tessera::card {
namespace {

namespace scp03 = crypto::scp03;

scp03::StaticKeys AdminKeys() {
  scp03::StaticKeys k;
  k.enc = crypto::MakeSecure(HexOrDie("A1A2A3A4A5A6A7A8A9AAABACADAEAFA0"));
  k.mac = crypto::MakeSecure(HexOrDie("B1B2B3B4B5B6B7B8B9BABBBCBDBEBFB0"));
  k.dek = crypto::MakeSecure(HexOrDie("C1C2C3C4C5C6C7C8C9CACBCCCDCECFC0"));
  return k;
}

struct Fixture {
  Fixture() : ram(geometry.nvm_size, geometry.page_size) {
    (void)InstallDefaultProfile(ram.device(), geometry);
    platform = DrbgPlatform::FromSeed(Bytes(48, 9));
    card = tessera::device::MakeCard(ram.device(), geometry, *platform);
    (void)card->PowerOn();
    key = *crypto::GenerateP256KeyPair();
    auto isd = Open("A000000151000000", 0x30, crypto::scp03::TestKeys());
    TlvBuilder b;
    b.Open(0xBF71).AddByte(0xC1, 1).Add(0xC0, ToBytes("ACME")).Add(0x86, key.public_key);
    Bytes d{0x21};
    const scp03::StaticKeys keys = AdminKeys();
    for (const crypto::SecureBuffer* k : {&keys.enc, &keys.mac, &keys.dek}) {
      Append(d, Bytes{0x88, 0x11, 0x10});
      Append(d, *crypto::AesCbcEncrypt(HexOrDie("404142434445464748494A4B4C4D4E4F"), Bytes(16, 0),
                                       *k));
      d.push_back(0x03);
      Append(d, *scp03::KeyCheckValue(*k));
    }
    b.Add(0xD8, d).Close();
    Upload(*isd, b.Take());
  }
  std::unique_ptr<crypto::scp03::SecureChannel> Open(const std::string& domain, uint8_t kvn,
                                                     scp03::StaticKeys keys) {
    crypto::scp03::ChannelOptions o;
    o.keys = std::move(keys);
    o.kvn = kvn;
    o.level = scp03::kCMac;
    o.security_domain = HexOrDie(domain);
    auto sc = crypto::scp03::SecureChannel::Open(
        [this](ByteView c) -> Result<Bytes> { return card->Transmit(c); }, o);
    if (!sc.ok()) std::abort();
    return std::move(*sc);
  }
  static bool Upload(crypto::scp03::SecureChannel& isd, const Bytes& data) {
    bool ok = true;
    for (size_t off = 0, n = 0; off < data.size(); off += 200, ++n) {
      const size_t len = std::min<size_t>(200, data.size() - off);
      Bytes cmd{0x80, 0xE2, static_cast<uint8_t>(off + len == data.size() ? 0x90 : 0x10),
                static_cast<uint8_t>(n), static_cast<uint8_t>(len)};
      Append(cmd, ByteView(data).subspan(off, len));
      auto r = isd.Transmit(cmd);
      ok = ok && r.ok() && r->size() == 2 && (*r)[0] == 0x90;
    }
    return ok;
  }
  Bytes Record(const Bytes& aid, uint8_t status) {
    TlvBuilder s;
    s.Add(0x4F, aid).Add(0x50, ToBytes("BENCH")).Add(0xC0, ToBytes("ACME")).AddByte(0xC1, 1);
    s.Add(0x5F25, Bytes(3, 0)).Add(0x5F24, Bytes(3, 0));
    Bytes inner = s.Take();
    const Bytes sig = *crypto::EcdsaP256Sign(key.private_key, inner);
    Append(inner, Bytes{0xC2, 0x01, status});
    Append(inner, EncodeTlv(0x9E, sig));
    return EncodeTlv(0xE1, inner);
  }
  Bytes InstallFile(const Bytes& aid) {
    Bytes inner = Record(aid, 0);
    Append(inner, EncodeTlv(0xC4, HexOrDie("F0544553534552414D01")));
    Append(inner, EncodeTlv(0xC9, HexOrDie("8010000102030405060708090A0B0C0D0E0F810431323334")));
    // The file signature, over everything before it (docs/applications.md §5.2).
    Append(inner, EncodeTlv(0x9E, *crypto::EcdsaP256Sign(key.private_key, inner)));
    return EncodeTlv(0xBF70, inner);
  }
  nvm::Geometry geometry;
  nvm::RamNvm ram;
  std::unique_ptr<DrbgPlatform> platform;
  std::unique_ptr<Card> card;
  crypto::P256KeyPair key;
};

const Bytes kAid = HexOrDie("F05445535345524120");

void Report(benchmark::State& state, uint64_t programs) {
  state.counters["programs/op"] =
      benchmark::Counter(static_cast<double>(programs) / static_cast<double>(state.iterations()));
  state.counters["ops/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

// Installation: upload and install (the deletion that makes room again is not timed).
void BM_InstallFromFile(benchmark::State& state) {
  Fixture f;
  const Bytes file = f.InstallFile(kAid);
  uint64_t programs = 0;
  for (auto _ : state) {
    auto isd = f.Open("A000000151000000", 0x30, crypto::scp03::TestKeys());
    const uint64_t before = f.ram.device().programs();
    if (!Fixture::Upload(*isd, file)) state.SkipWithError("install failed");
    programs += f.ram.device().programs() - before;
    state.PauseTiming();
    (void)isd->Transmit(HexOrDie("80E400000B4F09F05445535345524120"));
    state.ResumeTiming();
  }
  Report(state, programs);
}

// A record status change: lock and unlock alternately, in one session.
void BM_RecordStatusChange(benchmark::State& state) {
  Fixture f;
  {
    auto isd = f.Open("A000000151000000", 0x30, crypto::scp03::TestKeys());
    Fixture::Upload(*isd, f.InstallFile(kAid));
  }
  auto sc = f.Open("F05445535345524101", 0x21, AdminKeys());
  Bytes cmds[2];
  for (uint8_t st = 0; st < 2; ++st) {
    const Bytes r = f.Record(kAid, static_cast<uint8_t>(1 - st));
    cmds[st] = Bytes{0x80, 0xDC, 0x02, 0x0C, static_cast<uint8_t>(r.size())};
    Append(cmds[st], r);
  }
  uint64_t programs = 0, i = 0;
  for (auto _ : state) {
    const uint64_t before = f.ram.device().programs();
    auto r = sc->Transmit(cmds[i++ % 2]);
    if (!r.ok() || (*r)[0] != 0x90) state.SkipWithError("UPDATE RECORD failed");
    programs += f.ram.device().programs() - before;
  }
  Report(state, programs);
}

// Record deletion with its wipe (the installation that gives it something to delete is not
// timed).
void BM_RecordDeletion(benchmark::State& state) {
  Fixture f;
  const Bytes file = f.InstallFile(kAid);
  uint64_t programs = 0;
  for (auto _ : state) {
    state.PauseTiming();
    {
      auto isd = f.Open("A000000151000000", 0x30, crypto::scp03::TestKeys());
      Fixture::Upload(*isd, file);
    }
    auto sc = f.Open("F05445535345524101", 0x21, AdminKeys());
    state.ResumeTiming();
    const uint64_t before = f.ram.device().programs();
    auto r = sc->Transmit(HexOrDie("800C020C"));
    if (!r.ok() || (*r)[0] != 0x90) state.SkipWithError("ERASE RECORD failed");
    programs += f.ram.device().programs() - before;
  }
  Report(state, programs);
}

BENCHMARK(BM_InstallFromFile);
BENCHMARK(BM_RecordStatusChange);
BENCHMARK(BM_RecordDeletion);

}  // namespace
}  // namespace tessera::card

BENCHMARK_MAIN();
