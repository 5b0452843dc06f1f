// Random APDUs into the example Lua purse (profiles/applets/purse.lua, loaded by GP LOAD and
// installed once into the base image), with power cut at a program operation the input picks.
// Every command gets a status word, nothing hangs (the instruction limit bounds every call),
// and after the cut the card powers on with its NVM and card invariants holding, the purse
// still selectable and its balance readable.
//
// Input: u16 cut (0: no cut; else power is cut at program cut-1), then APDUs, each u8 length
// then its bytes (the purse is selected first; a length of 0 reselects it).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "card/check/card_inspector.h"
#include "card/kernel/card.h"
#include "card/kernel/profile.h"
#include "core/apdu.h"
#include "core/tlv.h"
#include "crypto/scp03_host.h"
#include "device/virtual_card.h"
#include "nvm/image_inspector.h"

using namespace tessera;

namespace {

const char* const kPackage = "F0000000AB";
const char* const kModule = "F0000000AB01";
const char* const kPurse = "F0000000AB10";

nvm::Geometry FuzzGeometry() {
  nvm::Geometry g;
  g.nvm_size = 128 * 1024;
  g.journal_capacity = 16 * 1024;
  return g;
}

uint16_t SwOf(const Bytes& r) {
  return r.size() >= 2 ? GetU16(&r[r.size() - 2]) : 0;
}

Bytes SelectPurse() {
  return HexOrDie(std::string("00A4040C06") + kPurse);
}

// The default card with the Lua purse: INSTALL [for load], LOAD, INSTALL [for install]
// (balance 100, PIN 9999), made once.
const Bytes& BaseCells() {
  static const Bytes cells = [] {
    const nvm::Geometry g = FuzzGeometry();
    nvm::RamNvm ram(g.nvm_size, g.page_size);
    if (Status st = card::InstallDefaultProfile(ram.device(), g); !st.ok()) {
      std::fprintf(stderr, "lua_purse_fuzz: no default profile: %s\n", st.ToString().c_str());
      std::abort();
    }
    auto platform = card::DrbgPlatform::FromSeed(Bytes(48, 7), 1700000000);
    auto c = device::MakeCard(ram.device(), g, *platform);
    if (auto on = c->PowerOn(); !on.ok()) {
      std::fprintf(stderr, "lua_purse_fuzz: no power-on: %s\n", on.status().ToString().c_str());
      std::abort();
    }
    crypto::scp03::ChannelOptions o;
    o.keys = crypto::scp03::TestKeys();
    o.kvn = 0x30;
    o.level = crypto::scp03::kCMac;
    o.host_challenge = Bytes(8, 0x5A);
    auto isd = crypto::scp03::SecureChannel::Open(
        [&](ByteView cmd) -> Result<Bytes> { return c->Transmit(cmd); }, o);
    if (!isd.ok()) {
      std::fprintf(stderr, "lua_purse_fuzz: no session: %s\n", isd.status().ToString().c_str());
      std::abort();
    }
    std::ifstream in(std::string(TESSERA_SOURCE_DIR) + "/profiles/applets/purse.lua");
    const std::string src((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    TlvBuilder b;
    b.Open(0xA0).Add(0x4F, HexOrDie(kPackage)).Add(0xC2, HexOrDie("0100"));
    b.Open(0xA1).Add(0x4F, HexOrDie(kModule)).Add(0x50, ToBytes("PURSE"));
    b.Add(0xC6, ToBytes(src)).Close().Close();
    const Bytes load = EncodeTlv(0xC4, b.Take());
    auto send = [&](const std::string& hex) {
      auto r = (*isd)->Transmit(HexOrDie(hex));
      if (!r.ok() || SwOf(*r) != 0x9000) {
        std::fprintf(stderr, "lua_purse_fuzz: the base card refused %s\n",
                     hex.substr(0, 16).c_str());
        std::abort();
      }
    };
    send(std::string("80E602000A05") + kPackage + "00000000");
    for (size_t off = 0, n = 0; off < load.size(); off += 200, ++n) {
      const size_t len = std::min<size_t>(200, load.size() - off);
      char head[16];
      std::snprintf(head, sizeof head, "80E8%02X%02X%02X", off + len == load.size() ? 0x80 : 0,
                    static_cast<unsigned>(n), static_cast<unsigned>(len));
      send(head + ToHex(ByteView(load).subspan(off, len)));
    }
    send(std::string("80E60C002605") + kPackage + "06" + kModule + "06" + kPurse +
         "01000EC90C800400000064810439393939" + "00");
    return ram.cells();
  }();
  return cells;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const nvm::Geometry g = FuzzGeometry();
  nvm::RamNvm ram(g.nvm_size, g.page_size);
  ram.cells() = BaseCells();
  auto platform = card::DrbgPlatform::FromSeed(Bytes(48, 7), 1700000000);
  auto c = device::MakeCard(ram.device(), g, *platform);
  if (auto on = c->PowerOn(); !on.ok()) {
    std::fprintf(stderr, "lua_purse_fuzz: the base image does not power on: %s\n",
                 on.status().ToString().c_str());
    std::abort();
  }
  const uint16_t cut = static_cast<uint16_t>((data[0] << 8) | data[1]);
  if (const Bytes r = c->Transmit(SelectPurse()); SwOf(r) != 0x9000) {
    std::fprintf(stderr, "lua_purse_fuzz: SELECT of the purse answered %s\n", ToHex(r).c_str());
    std::abort();
  }
  if (cut != 0) ram.device().ScheduleCut(cut - 1u, nvm::TearMode::kNormal, cut);
  size_t pos = 2;
  while (pos < size && c->powered()) {
    const size_t n = data[pos++];
    if (n == 0) {
      c->Transmit(SelectPurse());
      continue;
    }
    if (pos + n > size) break;
    const Bytes r = c->Transmit(ByteView(data + pos, n));
    if (c->powered() && r.size() < 2) std::abort();  // every command gets a status word
    pos += n;
  }
  // Whatever happened: power on again, the invariants hold, the purse answers.
  ram.device().CancelCut();
  c = device::MakeCard(ram.device(), g, *platform);
  if (!c->PowerOn().ok()) std::abort();
  if (!nvm::InspectImage(ram.device(), c->store().layout()).ok()) std::abort();
  if (!card::InspectCard(c->store()).ok()) std::abort();
  if (SwOf(c->Transmit(SelectPurse())) != 0x9000) std::abort();
  const Bytes balance = c->Transmit(HexOrDie("805C000004"));
  if (balance.size() != 6 || SwOf(balance) != 0x9000) std::abort();
  return 0;
}
