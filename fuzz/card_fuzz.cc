// Stateful fuzz target: a sequence of APDUs sent (through Card::Transmit only) to a card with the
// default profile, with power cut at a chosen program operation, optionally inside an SCP03
// secure channel opened with the well-known default keys. Nothing may crash or hang; after a cut
// the card must power on again (recovery) with the NVM invariants intact, and keep answering
// with status words. While the host's session is known to match the card's, every wrapped
// command must get past the card's unwrapping and every protected response must carry a valid
// R-MAC (and R-ENC).
//
// Input (everything is derived from it; the card's randomness is a fixed-seed DRBG per input):
//   u16 cut index (FFFF = no cut)
//   u8  flags: bit 0 harsh tear (the byte also seeds the tear); bit 1 open an SCP03 session
//       before the cut is armed (SELECT ISD, INITIALIZE UPDATE KVN 30, EXTERNAL AUTHENTICATE);
//       bits 2-4 its security level (index mod 5 into 01 03 11 13 33); bit 5 S16 (else S8)
//   frames, each starting with a u8 L:
//     L != FF: L bytes sent as they are (the original format)
//     L == FF: u8 op, then by op & 3:
//       0  u8 n, n bytes: a command APDU wrapped with the session (sent as is without one)
//       1  CLA INS P1 P2, u16 Nc, u16 Le, u8 k, k bytes: an extended-length command (Lc 00 xx xx,
//          Le 00 xx xx) whose Nc data bytes repeat the k bytes (or count 00 01 02 .. when k = 0);
//          op bit 2: has Le (0000 = 65536); op bit 3: wrapped with the session
//       2  (re)open the session: op bits 2-4 level, op bit 5 S16, as in the flags byte
//       3  u16 n, n bytes sent as they are (long raw frames)
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include "device/virtual_card.h"

#include "card/kernel/card.h"
#include "card/kernel/profile.h"
#include "core/apdu.h"
#include "crypto/scp03.h"
#include "nvm/image_inspector.h"

using namespace tessera;
namespace scp03 = tessera::crypto::scp03;

namespace {

nvm::Geometry FuzzGeometry() {
  nvm::Geometry g;
  g.nvm_size = 64 * 1024;
  g.journal_capacity = 4 * 1024;
  return g;
}

const Bytes& ProfileCells() {
  static const Bytes cells = [] {
    nvm::RamNvm ram(FuzzGeometry().nvm_size, FuzzGeometry().page_size);
    if (!card::InstallDefaultProfile(ram.device(), FuzzGeometry()).ok()) std::abort();
    return ram.cells();
  }();
  return cells;
}

uint16_t SwOf(const Bytes& r) {
  return GetU16(&r[r.size() - 2]);
}

bool Protectable(uint16_t sw) {
  return sw == 0x9000 || (sw >> 8) == 0x62 || (sw >> 8) == 0x63;
}

uint8_t LevelOf(uint8_t bits) {
  static constexpr uint8_t kLevels[] = {0x01, 0x03, 0x11, 0x13, 0x33};
  return kLevels[((bits >> 2) & 7) % 5];
}

// Commands that may end or replace the channel-0 session on the card (SELECT, INITIALIZE UPDATE,
// EXTERNAL AUTHENTICATE, MANAGE CHANNEL) or deselect its domain (DELETE, TERMINATE DF / EF).
bool MayEndSession(uint8_t ins) {
  switch (ins) {
    case 0xA4:
    case 0x50:
    case 0x82:
    case 0x70:
    case 0xE4:
    case 0xE6:
    case 0xE8:
      return true;
    default:
      return false;
  }
}

class Harness {
 public:
  Harness() : g_(FuzzGeometry()), ram_(g_.nvm_size, g_.page_size) {
    ram_.cells() = ProfileCells();
    platform_ = card::DrbgPlatform::FromSeed(Bytes(48, 1), 1700000000);
    card_ = device::MakeCard(ram_.device(), g_, *platform_);
    if (!card_->PowerOn().ok()) std::abort();
  }

  nvm::NvmDevice& device() { return ram_.device(); }

  // Sends one command; after a power cut, powers the card on again (recovery must succeed and
  // leave a sound image) and drops the host's session, which the card has lost.
  Bytes Send(ByteView apdu) {
    Bytes r = card_->Transmit(apdu);
    if (r.size() < 2) std::abort();
    if (!card_->powered() || !ram_.device().powered()) {
      ram_.device().CancelCut();
      ram_.device().PowerOn();
      card_ = device::MakeCard(ram_.device(), g_, *platform_);
      if (!card_->PowerOn().ok()) std::abort();  // recovery must succeed after any cut
      if (!nvm::InspectImage(ram_.device(), card_->store().layout()).ok()) std::abort();
      session_.reset();
      in_sync_ = false;
    }
    return r;
  }

  // A command outside the session. The card answers a plain command without touching the
  // session, but a command with secure-messaging bits on channel 0 goes through the card's
  // unwrapping (and moves its session on, or ends it), and some commands end it.
  void SendRaw(ByteView apdu) {
    auto parsed = CommandApdu::Parse(apdu);
    if (parsed.ok()) {
      const ClassByte cls = DecodeClass(parsed->cla);
      if (!cls.valid || MayEndSession(parsed->ins) ||
          (cls.channel == 0 && cls.secure_messaging != SecureMessaging::kNone)) {
        in_sync_ = false;
      }
    }
    Send(apdu);
  }

  void SendWrapped(const CommandApdu& plain) {
    if (!session_) {
      SendRaw(plain.Serialize());
      return;
    }
    auto wrapped = session_->WrapCommand(plain);
    if (!wrapped.ok()) {  // too long once wrapped; the session may have moved on
      in_sync_ = false;
      SendRaw(plain.Serialize());
      return;
    }
    const ClassByte cls = DecodeClass(wrapped->cla);
    // The card unwraps with the channel-0 session exactly when this holds.
    const bool unwraps_on_0 = cls.valid && cls.channel == 0 &&
                              cls.secure_messaging != SecureMessaging::kNone &&
                              !(cls.proprietary && wrapped->ins == 0x82);
    const bool was_in_sync = in_sync_;
    if (!unwraps_on_0 || MayEndSession(plain.ins)) in_sync_ = false;
    const Bytes r = Send(wrapped->Serialize());
    if (!session_ || !was_in_sync || !unwraps_on_0) return;
    const uint16_t sw = SwOf(r);
    // The card holds the same session: a correctly wrapped command must unwrap.
    if (sw == 0x6882 || sw == 0x6988) std::abort();
    // A protected response must verify (R-MAC) and decrypt (R-ENC). Not checked: chain links
    // (answered before the command runs), GET RESPONSE (returns pieces of an earlier protected
    // response), and commands without Le (the card cannot return the protected data then).
    const bool chain_link = DecodeClass(plain.cla).chaining;
    if (Protectable(sw) && !chain_link && plain.ins != 0xC0 && plain.ne != 0 &&
        !MayEndSession(plain.ins)) {
      auto resp = ResponseApdu::Parse(r);
      if (!resp.ok() || !session_->UnwrapResponse(*resp).ok()) std::abort();
    }
  }

  // SELECT ISD, INITIALIZE UPDATE with KVN 30 and the default keys, EXTERNAL AUTHENTICATE.
  bool OpenSession(uint8_t level, bool s16) {
    session_.reset();
    in_sync_ = false;
    const Bytes select = Send(HexOrDie("00A4040000"));
    if (SwOf(select) != 0x9000 && SwOf(select) != 0x6283) return false;
    const size_t n = s16 ? 16 : 8;
    Bytes host_challenge(n);
    for (size_t i = 0; i < n; ++i) host_challenge[i] = static_cast<uint8_t>(i);
    const Bytes r =
        Send(CommandApdu{0x80, 0x50, 0x30, 0x00, host_challenge, 256, false}.Serialize());
    if (SwOf(r) != 0x9000) return false;
    const size_t body = r.size() - 2, expect = 10 + 3 + 2 * n;
    if ((body != expect && body != expect + 3) || r[10] != 0x30 || r[11] != 0x03) return false;
    Bytes context = host_challenge;
    context.insert(context.end(), r.begin() + 13, r.begin() + 13 + static_cast<ptrdiff_t>(n));
    const Bytes test = HexOrDie("404142434445464748494A4B4C4D4E4F");
    scp03::StaticKeys keys{crypto::MakeSecure(test), crypto::MakeSecure(test),
                           crypto::MakeSecure(test)};
    auto session_keys = scp03::DeriveSessionKeys(keys, context);
    if (!session_keys.ok()) std::abort();
    auto card_cryptogram =
        scp03::Cryptogram(*session_keys, scp03::kDeriveCardCryptogram, context, n);
    auto host_cryptogram =
        scp03::Cryptogram(*session_keys, scp03::kDeriveHostCryptogram, context, n);
    if (!card_cryptogram.ok() || !host_cryptogram.ok()) std::abort();
    if (!std::equal(card_cryptogram->begin(), card_cryptogram->end(),
                    r.begin() + 13 + static_cast<ptrdiff_t>(n))) {
      return false;
    }
    scp03::Session s(std::move(*session_keys), n);
    auto ea = s.WrapExternalAuthenticate(
        CommandApdu{0x80, 0x82, level, 0x00, *host_cryptogram, 0, false});
    if (!ea.ok()) std::abort();
    if (SwOf(Send(ea->Serialize())) != 0x9000) return false;
    s.set_level(level);
    session_.emplace(std::move(s));
    in_sync_ = true;
    return true;
  }

 private:
  nvm::Geometry g_;
  nvm::RamNvm ram_;
  std::unique_ptr<card::DrbgPlatform> platform_;
  std::unique_ptr<card::Card> card_;
  std::optional<scp03::Session> session_;
  bool in_sync_ = false;  // the host's session is known to equal the card's channel-0 session
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  Harness h;
  const uint8_t flags = data[2];
  if (flags & 0x02) {
    // The default card with its default keys must open every level, S8 and S16.
    if (!h.OpenSession(LevelOf(flags), (flags & 0x20) != 0)) std::abort();
  }
  const uint16_t cut = GetU16(data);
  if (cut != 0xFFFF) {
    h.device().ScheduleCut(cut, (flags & 1) ? nvm::TearMode::kHarsh : nvm::TearMode::kNormal,
                           flags);
  }
  size_t pos = 3;
  auto left = [&] { return size - pos; };
  while (pos < size) {
    const uint8_t l = data[pos++];
    if (l != 0xFF) {
      const size_t len = std::min<size_t>(l, left());
      h.SendRaw(ByteView(data + pos, len));
      pos += len;
      continue;
    }
    if (left() < 1) break;
    const uint8_t op = data[pos++];
    switch (op & 3) {
      case 0: {  // a wrapped short frame
        if (left() < 1) return 0;
        const size_t len = std::min<size_t>(data[pos], left() - 1);
        ByteView frame(data + pos + 1, len);
        pos += 1 + len;
        auto plain = CommandApdu::Parse(frame);
        if (plain.ok())
          h.SendWrapped(*plain);
        else
          h.SendRaw(frame);
        break;
      }
      case 1: {  // an extended-length command
        if (left() < 9) return 0;
        CommandApdu c{data[pos], data[pos + 1], data[pos + 2], data[pos + 3], {}, 0, true};
        const size_t nc = GetU16(data + pos + 4);
        const uint16_t le = GetU16(data + pos + 6);
        const size_t k = std::min<size_t>(data[pos + 8], left() - 9);
        ByteView pattern(data + pos + 9, k);
        pos += 9 + k;
        c.data.resize(nc);
        for (size_t i = 0; i < nc; ++i) {
          c.data[i] = pattern.empty() ? static_cast<uint8_t>(i) : pattern[i % pattern.size()];
        }
        if (op & 0x04) c.ne = le == 0 ? kMaxExtendedNe : le;
        if (op & 0x08)
          h.SendWrapped(c);
        else
          h.SendRaw(c.Serialize());
        break;
      }
      case 2:  // (re)open the secure channel; it may fail (a cut, a locked card, new keys)
        (void)h.OpenSession(LevelOf(op), (op & 0x20) != 0);
        break;
      case 3: {  // a long raw frame
        if (left() < 2) return 0;
        const size_t len = std::min<size_t>(GetU16(data + pos), left() - 2);
        h.SendRaw(ByteView(data + pos + 2, len));
        pos += 2 + len;
        break;
      }
    }
  }
  return 0;
}
