#include "crypto/scp03.h"
#include "format/status_words.h"

#include <algorithm>

#include "crypto/aes.h"

namespace tessera::crypto::scp03 {
namespace {

Bytes CounterBlock(uint64_t counter, uint8_t first) {
  Bytes b(16, 0);
  b[0] = first;
  for (int i = 0; i < 8; ++i) b[15 - i] = static_cast<uint8_t>(counter >> (8 * i));
  return b;
}

Bytes Pad80(ByteView data) {
  Bytes out(data.begin(), data.end());
  out.push_back(0x80);
  while (out.size() % kAesBlockSize != 0) out.push_back(0x00);
  return out;
}

Result<Bytes> Unpad80(Bytes data) {
  while (!data.empty() && data.back() == 0x00) data.pop_back();
  if (data.empty() || data.back() != 0x80) return Malformed("bad secure messaging padding");
  data.pop_back();
  return data;
}

// The MAC'd encoding of Lc: one byte, or 00 hi lo for extended length.
void AppendLc(Bytes& out, size_t lc, bool extended) {
  if (extended) {
    out.push_back(0x00);
    AppendU16(out, static_cast<uint16_t>(lc));
  } else {
    out.push_back(static_cast<uint8_t>(lc));
  }
}

// Only successful and warning responses carry R-MAC / R-ENC (GP Amendment D).
bool Protectable(uint16_t status) {
  return status == sw::kOk || sw::IsWarning(status);
}

}  // namespace

bool ValidSecurityLevel(uint8_t level) {
  switch (level) {
    case 0x00:
    case 0x01:
    case 0x03:
    case 0x11:
    case 0x13:
    case 0x33:
      return true;
    default:
      return false;
  }
}

Result<SecureBuffer> Kdf(ByteView key, uint8_t constant, uint16_t bits, ByteView context) {
  SecureBuffer out;
  const size_t bytes = bits / 8u;
  for (uint8_t i = 1; out.size() < bytes; ++i) {
    Bytes dd(11, 0x00);
    dd.push_back(constant);
    dd.push_back(0x00);
    AppendU16(dd, bits);
    dd.push_back(i);
    Append(dd, context);
    TESSERA_ASSIGN_OR_RETURN(Bytes block, AesCmac(key, dd));
    out.insert(out.end(), block.begin(), block.end());
    SecureZero(block.data(), block.size());
  }
  out.resize(bytes);
  return out;
}

Result<SessionKeys> DeriveSessionKeys(const StaticKeys& keys, ByteView context) {
  const uint16_t bits = static_cast<uint16_t>(keys.enc.size() * 8);
  SessionKeys s;
  TESSERA_ASSIGN_OR_RETURN(s.enc, Kdf(keys.enc, kDeriveSEnc, bits, context));
  TESSERA_ASSIGN_OR_RETURN(s.mac, Kdf(keys.mac, kDeriveSMac, bits, context));
  TESSERA_ASSIGN_OR_RETURN(s.rmac, Kdf(keys.mac, kDeriveSRmac, bits, context));
  return s;
}

Result<Bytes> Cryptogram(const SessionKeys& keys, uint8_t constant, ByteView context,
                         size_t length) {
  TESSERA_ASSIGN_OR_RETURN(SecureBuffer c,
                           Kdf(keys.mac, constant, static_cast<uint16_t>(length * 8), context));
  return Bytes(c.begin(), c.end());
}

Result<Bytes> CardChallenge(ByteView static_enc, uint32_t sequence, ByteView sd_aid,
                            size_t length) {
  Bytes context{static_cast<uint8_t>(sequence >> 16), static_cast<uint8_t>(sequence >> 8),
                static_cast<uint8_t>(sequence)};
  Append(context, sd_aid);
  TESSERA_ASSIGN_OR_RETURN(SecureBuffer c, Kdf(static_enc, kDeriveCardChallenge,
                                               static_cast<uint16_t>(length * 8), context));
  return Bytes(c.begin(), c.end());
}

Result<Bytes> KeyCheckValue(ByteView key) {
  TESSERA_ASSIGN_OR_RETURN(Bytes e, AesEcbEncrypt(key, Bytes(16, 0x01)));
  return Bytes(e.begin(), e.begin() + 3);
}

struct Session::Prepared {
  AesKey enc;
  AesCmacKey mac, rmac;
};

Session::Session(SessionKeys keys, size_t mac_length)
    : keys_(std::move(keys)), mac_length_(mac_length) {}

// A copy schedules its own contexts from the keys on first use: contexts are never shared.
Session::Session(const Session& other)
    : keys_(other.keys_),
      mac_length_(other.mac_length_),
      level_(other.level_),
      chaining_(other.chaining_),
      counter_(other.counter_) {}

Session& Session::operator=(const Session& other) {
  if (this != &other) {
    keys_ = other.keys_;
    mac_length_ = other.mac_length_;
    level_ = other.level_;
    chaining_ = other.chaining_;
    counter_ = other.counter_;
    prepared_.reset();
  }
  return *this;
}

Session::Session(Session&& other) noexcept = default;
Session& Session::operator=(Session&& other) noexcept = default;
Session::~Session() = default;

Result<Session::Prepared*> Session::Contexts() const {
  if (!prepared_) {
    TESSERA_ASSIGN_OR_RETURN(AesKey enc, AesKey::Create(keys_.enc));
    TESSERA_ASSIGN_OR_RETURN(AesCmacKey mac, AesCmacKey::Create(keys_.mac));
    TESSERA_ASSIGN_OR_RETURN(AesCmacKey rmac, AesCmacKey::Create(keys_.rmac));
    prepared_ =
        std::make_unique<Prepared>(Prepared{std::move(enc), std::move(mac), std::move(rmac)});
  }
  return prepared_.get();
}

Result<Bytes> Session::Mac(const CommandApdu& c, size_t data_len) const {
  // chaining || CLA INS P1 P2 Lc || data (data_len bytes of c.data, without any MAC).
  Bytes input = chaining_;
  input.insert(input.end(), {c.cla, c.ins, c.p1, c.p2});
  AppendLc(input, c.data.size(), c.extended);
  input.insert(input.end(), c.data.begin(), c.data.begin() + static_cast<ptrdiff_t>(data_len));
  TESSERA_ASSIGN_OR_RETURN(Prepared * p, Contexts());
  return p->mac.Mac(input);
}

Result<Bytes> Session::CommandIcv() const {
  TESSERA_ASSIGN_OR_RETURN(Prepared * p, Contexts());
  return p->enc.EcbEncrypt(CounterBlock(counter_, 0x00));
}

Result<Bytes> Session::ResponseIcv() const {
  TESSERA_ASSIGN_OR_RETURN(Prepared * p, Contexts());
  return p->enc.EcbEncrypt(CounterBlock(counter_, 0x80));
}

Result<CommandApdu> Session::WrapExternalAuthenticate(const CommandApdu& plain) {
  CommandApdu w = plain;
  w.cla = static_cast<uint8_t>(plain.cla | 0x04);
  w.data.resize(plain.data.size() + mac_length_);  // Lc includes the MAC
  TESSERA_ASSIGN_OR_RETURN(Bytes mac, Mac(w, plain.data.size()));
  std::copy(mac.begin(), mac.begin() + static_cast<ptrdiff_t>(mac_length_),
            w.data.begin() + static_cast<ptrdiff_t>(plain.data.size()));
  chaining_ = mac;
  return w;
}

Result<CommandApdu> Session::WrapCommand(const CommandApdu& plain) {
  ++counter_;
  CommandApdu w = plain;
  w.cla = static_cast<uint8_t>(plain.cla | 0x04);
  if ((level_ & kCDec) && !plain.data.empty()) {
    TESSERA_ASSIGN_OR_RETURN(Bytes icv, CommandIcv());
    TESSERA_ASSIGN_OR_RETURN(Prepared * p, Contexts());
    TESSERA_ASSIGN_OR_RETURN(w.data, p->enc.CbcEncrypt(icv, Pad80(plain.data)));
  }
  if (level_ & kCMac) {
    const size_t body = w.data.size();
    w.data.resize(body + mac_length_);
    if (w.data.size() > kMaxShortNc) w.extended = true;
    TESSERA_ASSIGN_OR_RETURN(Bytes mac, Mac(w, body));
    std::copy(mac.begin(), mac.begin() + static_cast<ptrdiff_t>(mac_length_),
              w.data.begin() + static_cast<ptrdiff_t>(body));
    chaining_ = mac;
  }
  if (w.data.size() > kMaxExtendedNc) return InvalidArgument("command too long to wrap");
  return w;
}

Result<CommandApdu> Session::UnwrapExternalAuthenticate(const CommandApdu& wrapped) {
  if (wrapped.data.size() < mac_length_) return FailedPrecondition("mac missing");
  const size_t body = wrapped.data.size() - mac_length_;
  TESSERA_ASSIGN_OR_RETURN(Bytes mac, Mac(wrapped, body));
  if (!ConstantTimeEqual(ByteView(mac).first(mac_length_), ByteView(wrapped.data).subspan(body))) {
    return FailedPrecondition("mac mismatch");
  }
  chaining_ = mac;
  CommandApdu plain = wrapped;
  plain.cla = static_cast<uint8_t>(wrapped.cla & ~0x04);
  plain.data.resize(body);
  return plain;
}

Result<CommandApdu> Session::UnwrapCommand(const CommandApdu& wrapped) {
  CommandApdu plain = wrapped;
  plain.cla = static_cast<uint8_t>(wrapped.cla & ~0x04);
  if (level_ & kCMac) {
    if ((wrapped.cla & 0x04) == 0) return FailedPrecondition("mac missing");
    if (wrapped.data.size() < mac_length_) return FailedPrecondition("mac missing");
    const size_t body = wrapped.data.size() - mac_length_;
    TESSERA_ASSIGN_OR_RETURN(Bytes mac, Mac(wrapped, body));
    if (!ConstantTimeEqual(ByteView(mac).first(mac_length_),
                           ByteView(wrapped.data).subspan(body))) {
      return FailedPrecondition("mac mismatch");
    }
    chaining_ = mac;
    plain.data.resize(body);
  }
  ++counter_;
  if ((level_ & kCDec) && !plain.data.empty()) {
    if (plain.data.size() % kAesBlockSize != 0)
      return Malformed("encrypted data not block aligned");
    TESSERA_ASSIGN_OR_RETURN(Bytes icv, CommandIcv());
    TESSERA_ASSIGN_OR_RETURN(Prepared * p, Contexts());
    TESSERA_ASSIGN_OR_RETURN(Bytes clear, p->enc.CbcDecrypt(icv, plain.data));
    TESSERA_ASSIGN_OR_RETURN(plain.data, Unpad80(std::move(clear)));
  }
  plain.extended = plain.data.size() > kMaxShortNc || plain.ne > kMaxShortNe;
  return plain;
}

Result<ResponseApdu> Session::WrapResponse(const ResponseApdu& plain) {
  if (!(level_ & kRMac) || !Protectable(plain.sw)) return plain;
  ResponseApdu w = plain;
  if ((level_ & kREnc) && !plain.data.empty()) {
    TESSERA_ASSIGN_OR_RETURN(Bytes icv, ResponseIcv());
    TESSERA_ASSIGN_OR_RETURN(Prepared * p, Contexts());
    TESSERA_ASSIGN_OR_RETURN(w.data, p->enc.CbcEncrypt(icv, Pad80(plain.data)));
  }
  Bytes input = chaining_;
  Append(input, w.data);
  AppendU16(input, w.sw);
  TESSERA_ASSIGN_OR_RETURN(Prepared * p, Contexts());
  TESSERA_ASSIGN_OR_RETURN(Bytes rmac, p->rmac.Mac(input));
  w.data.insert(w.data.end(), rmac.begin(), rmac.begin() + static_cast<ptrdiff_t>(mac_length_));
  return w;
}

Result<ResponseApdu> Session::UnwrapResponse(const ResponseApdu& wrapped) {
  if (!(level_ & kRMac) || !Protectable(wrapped.sw)) return wrapped;
  if (wrapped.data.size() < mac_length_) return Status(ErrorCode::kCryptoError, "R-MAC missing");
  const size_t body = wrapped.data.size() - mac_length_;
  Bytes input = chaining_;
  input.insert(input.end(), wrapped.data.begin(),
               wrapped.data.begin() + static_cast<ptrdiff_t>(body));
  AppendU16(input, wrapped.sw);
  TESSERA_ASSIGN_OR_RETURN(Prepared * p, Contexts());
  TESSERA_ASSIGN_OR_RETURN(Bytes rmac, p->rmac.Mac(input));
  if (!ConstantTimeEqual(ByteView(rmac).first(mac_length_), ByteView(wrapped.data).subspan(body))) {
    return Status(ErrorCode::kCryptoError, "R-MAC mismatch");
  }
  ResponseApdu plain{
      Bytes(wrapped.data.begin(), wrapped.data.begin() + static_cast<ptrdiff_t>(body)), wrapped.sw};
  if ((level_ & kREnc) && !plain.data.empty()) {
    if (plain.data.size() % kAesBlockSize != 0) return Malformed("R-ENC data not block aligned");
    TESSERA_ASSIGN_OR_RETURN(Bytes icv, ResponseIcv());
    TESSERA_ASSIGN_OR_RETURN(Bytes clear, p->enc.CbcDecrypt(icv, plain.data));
    TESSERA_ASSIGN_OR_RETURN(plain.data, Unpad80(std::move(clear)));
  }
  return plain;
}

}  // namespace tessera::crypto::scp03
