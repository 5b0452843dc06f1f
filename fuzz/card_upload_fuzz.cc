// The card's parsers of uploaded objects, reached as a host reaches them: STORE DATA inside an
// SCP03 session (C-MAC, the well-known test keys) with the issuer security domain - an
// installation file BF70, an administrator BF71, the trusted date DF72 (docs/applications.md
// §5) - or with the issuance application - a command group upload BF73 with the group format
// inside (docs/self-issuance.md §3, §5) - and then EXECUTE ISSUANCE of what was loaded.
//
// Input: u8 mode, then the payload.
//   mode bits 0-1: 0 the payload is the whole upload (any sequence of objects); 1, 2, 3: the
//                  payload is the value of BF70, BF71 or DF72 (with bit 2: of BF73)
//   mode bit 2:    upload to the issuance application instead of the ISD
//   mode bit 3:    (issuance) then EXECUTE ISSUANCE start, status, retry-failed, resume and
//                  acknowledge of the function the upload names (C1), or 01
//   mode bit 4:    STORE DATA blocks of 7 bytes instead of 200 (the card joins the blocks)
//
// Every command gets a status word; the NVM invariants and the card's (InspectCard) hold after
// the input; an EXECUTE ISSUANCE that returns never leaves the function "running" (the run's
// bookkeeping ends every run: done or partial); and the card powers on again, the issuer still
// able to open a session with the ISD (an upload can never wedge the card; after a run only
// when nothing ran, since stored commands are the issuer's and may change its keys).
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "card/check/card_inspector.h"
#include "card/kernel/card.h"
#include "card/kernel/profile.h"
#include "core/apdu.h"
#include "core/tlv.h"
#include "crypto/scp03_host.h"
#include "device/virtual_card.h"
#include "host/issuance_protocol.h"
#include "nvm/image_inspector.h"

using namespace tessera;

namespace {

constexpr const char* kIsd = "A000000151000000";
constexpr const char* kIssuance = "F05445535345524102";

nvm::Geometry FuzzGeometry() {
  nvm::Geometry g;
  g.nvm_size = 128 * 1024;
  g.journal_capacity = 16 * 1024;
  return g;
}

uint16_t SwOf(const Bytes& r) {
  return r.size() >= 2 ? GetU16(&r[r.size() - 2]) : 0;
}

class Harness {
 public:
  explicit Harness(const Bytes* cells) : g_(FuzzGeometry()), ram_(g_.nvm_size, g_.page_size) {
    if (cells != nullptr) {
      ram_.cells() = *cells;
    } else if (!card::InstallDefaultProfile(ram_.device(), g_).ok()) {
      std::abort();
    }
    platform_ = card::DrbgPlatform::FromSeed(Bytes(48, 7), 1700000000);
    PowerOn();
  }

  void PowerOn() {
    card_ = device::MakeCard(ram_.device(), g_, *platform_);
    if (!card_->PowerOn().ok()) std::abort();
  }

  Bytes Send(ByteView apdu) {
    Bytes r = card_->Transmit(apdu);
    if (r.size() < 2) std::abort();  // every command gets a status word
    return r;
  }

  // An SCP03 session (C-MAC) with a security domain or the issuance application.
  std::unique_ptr<crypto::scp03::SecureChannel> Open(const char* aid_hex) {
    crypto::scp03::ChannelOptions o;
    o.keys = crypto::scp03::TestKeys();
    o.kvn = 0x30;
    o.level = crypto::scp03::kCMac;
    o.host_challenge = Bytes(8, 0x5A);
    o.security_domain = HexOrDie(aid_hex);
    auto sc = crypto::scp03::SecureChannel::Open(
        [this](ByteView c) -> Result<Bytes> { return Send(c); }, o);
    return sc.ok() ? std::move(*sc) : nullptr;
  }

  // STORE DATA blocks of `block` bytes; the status word of the last answer sent.
  static uint16_t Upload(crypto::scp03::SecureChannel& sc, ByteView upload, size_t block) {
    size_t pos = 0;
    uint8_t number = 0;
    do {
      const size_t n = std::min(block, upload.size() - pos);
      const bool last = pos + n == upload.size();
      CommandApdu c{0x80,
                    0xE2,
                    static_cast<uint8_t>(last ? 0x90 : 0x10),
                    number,
                    Bytes(upload.begin() + static_cast<ptrdiff_t>(pos),
                          upload.begin() + static_cast<ptrdiff_t>(pos + n)),
                    0,
                    false};
      auto r = sc.Transmit(c.Serialize());
      if (!r.ok()) return 0;
      const uint16_t sw = SwOf(*r);
      if (sw != 0x9000 || last) return sw;
      pos += n;
      ++number;
    } while (true);
  }

  void CheckSound() {
    if (!nvm::InspectImage(ram_.device(), card_->store().layout()).ok()) std::abort();
    if (!card::InspectCard(card_->store()).ok()) std::abort();
  }

  const Bytes& cells() { return ram_.cells(); }

 private:
  nvm::Geometry g_;
  nvm::RamNvm ram_;
  std::unique_ptr<card::DrbgPlatform> platform_;
  std::unique_ptr<card::Card> card_;
};

// The default card with the issuance application installed (INSTALL [for install and make
// selectable] of module ISSUANCE, privileges 800000), made once.
const Bytes& BaseCells() {
  static const Bytes cells = [] {
    Harness h(nullptr);
    auto isd = h.Open(kIsd);
    if (!isd) std::abort();
    auto r = isd->Transmit(host::InstallIssuanceApplication().Serialize());
    if (!r.ok() || SwOf(*r) != 0x9000) std::abort();
    return h.cells();
  }();
  return cells;
}

Bytes ExecuteIssuance(uint8_t p1, uint8_t function) {
  Bytes data = {0xC1, 0x01, function, 0xC8, 0x08, 1, 2, 3, 4, 5, 6, 7, 8};
  return CommandApdu{0x80, 0xEA, p1, 0x00, data, 256, false}.Serialize();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 20000) return 0;
  const uint8_t mode = data[0];
  const ByteView payload(data + 1, size - 1);
  const bool issuance = (mode & 0x04) != 0;
  static constexpr uint16_t kWrap[2][4] = {{0, 0xBF70, 0xBF71, 0xDF72},
                                           {0, 0xBF73, 0xBF73, 0xBF73}};
  const uint16_t tag = kWrap[issuance ? 1 : 0][mode & 3];
  const Bytes upload = tag == 0 ? Bytes(payload.begin(), payload.end()) : EncodeTlv(tag, payload);
  if (upload.empty()) return 0;

  Harness h(&BaseCells());
  bool ran = false;  // stored commands ran as the issuer's: they may change its keys
  {
    auto sc = h.Open(issuance ? kIssuance : kIsd);
    if (!sc) std::abort();  // the base card always opens both sessions
    const uint16_t sw = Harness::Upload(*sc, upload, (mode & 0x10) ? 7 : 200);
    if (issuance && sw == 0x9000 && (mode & 0x08)) {
      uint8_t function = 0x01;
      auto outer = ParseTlv(upload);
      if (outer.ok()) {
        auto c1 = FindTlv(outer->value, 0xC1);
        if (c1.ok() && *c1 && (*c1)->value.size() == 1) function = (*c1)->value[0];
      }
      h.Send(HexOrDie(std::string("00A4040009") + kIssuance + "00"));
      ran = true;
      for (const int op : {0x00, 0x03, 0x02, 0x01, 0x03, 0x04}) {
        const auto p1 = static_cast<uint8_t>(op);
        const Bytes r = h.Send(ExecuteIssuance(p1, function));
        if (p1 != 0x03 || SwOf(r) != 0x9000) continue;
        // A run that returned has ended: the template never says "running" (80 01 01).
        auto e5 = ParseTlv(ByteView(r).first(r.size() - 2));
        if (!e5.ok()) continue;
        auto state = FindTlv(e5->value, 0x80);
        if (state.ok() && *state && (*state)->value.size() == 1 && (*state)->value[0] == 0x01) {
          std::abort();
        }
      }
    }
  }
  h.CheckSound();
  // The card powers on again and, unless stored commands ran (they may change the issuer's
  // keys or the card's life cycle), the issuer still reaches the ISD.
  h.PowerOn();
  h.CheckSound();
  if (!ran && !h.Open(kIsd)) std::abort();
  return 0;
}
