#include "core/apdu.h"

#include <cassert>

namespace tessera {

ClassByte DecodeClass(uint8_t cla) {
  ClassByte c;
  if (cla == 0xFF) return c;  // reserved for PPS
  c.proprietary = (cla & 0x80) != 0;
  uint8_t v = cla & 0x7F;
  if ((v & 0x60) == 0x00) {  // first interindustry: 000x xxxx
    c.valid = true;
    c.chaining = (v & 0x10) != 0;
    switch ((v >> 2) & 0x03) {
      case 0:
        c.secure_messaging = SecureMessaging::kNone;
        break;
      case 1:
        c.secure_messaging = SecureMessaging::kProprietary;
        break;
      case 2:
        c.secure_messaging = SecureMessaging::kHeaderNotAuthenticated;
        break;
      case 3:
        c.secure_messaging = SecureMessaging::kHeaderAuthenticated;
        break;
    }
    c.channel = v & 0x03;
  } else if ((v & 0x40) != 0) {  // further interindustry: 01xx xxxx
    c.valid = true;
    c.secure_messaging =
        (v & 0x20) != 0 ? SecureMessaging::kHeaderNotAuthenticated : SecureMessaging::kNone;
    c.chaining = (v & 0x10) != 0;
    c.channel = static_cast<uint8_t>(4 + (v & 0x0F));
  }
  // 001x xxxx is RFU: c.valid stays false.
  return c;
}

uint8_t EncodeClass(uint8_t channel, bool chaining, bool secure_messaging, bool proprietary) {
  assert(channel <= 19);
  uint8_t cla;
  if (channel < 4) {
    cla = static_cast<uint8_t>(channel | (secure_messaging ? 0x04 : 0) | (chaining ? 0x10 : 0));
  } else {
    cla = static_cast<uint8_t>(0x40 | (channel - 4) | (secure_messaging ? 0x20 : 0) |
                               (chaining ? 0x10 : 0));
  }
  return proprietary ? static_cast<uint8_t>(cla | 0x80) : cla;
}

Bytes GetResponseCommand(uint8_t cla, uint8_t le) {
  const ClassByte cls = DecodeClass(cla);
  return Bytes{EncodeClass(cls.valid ? cls.channel : 0), 0xC0, 0x00, 0x00, le};
}

Result<CommandApdu> CommandApdu::Parse(ByteView bytes) {
  if (bytes.size() < 4) return Malformed("APDU shorter than its 4-byte header");
  CommandApdu a;
  a.cla = bytes[0];
  a.ins = bytes[1];
  a.p1 = bytes[2];
  a.p2 = bytes[3];
  ByteView body = bytes.subspan(4);
  const size_t l = body.size();
  if (l == 0) return a;  // case 1
  const uint8_t b1 = body[0];
  if (l == 1) {  // case 2S
    a.ne = b1 == 0 ? 256 : b1;
    return a;
  }
  if (b1 != 0) {
    if (l == 1u + b1) {  // case 3S
      a.data.assign(body.begin() + 1, body.end());
      return a;
    }
    if (l == 2u + b1) {  // case 4S
      a.data.assign(body.begin() + 1, body.end() - 1);
      a.ne = body.back() == 0 ? 256 : body.back();
      return a;
    }
    return Malformed("APDU body length " + std::to_string(l) +
                     " fits no short case (Lc=" + std::to_string(b1) + ")");
  }
  // b1 == 00: extended length.
  a.extended = true;
  if (l == 3) {  // case 2E
    uint16_t le = GetU16(&body[1]);
    a.ne = le == 0 ? 65536 : le;
    return a;
  }
  if (l < 3) return Malformed("APDU extended length field truncated");
  const size_t lc = GetU16(&body[1]);
  if (lc == 0) return Malformed("APDU extended Lc of 0");
  if (l == 3 + lc) {  // case 3E
    a.data.assign(body.begin() + 3, body.end());
    return a;
  }
  if (l == 5 + lc) {  // case 4E
    a.data.assign(body.begin() + 3, body.end() - 2);
    uint16_t le = GetU16(&body[l - 2]);
    a.ne = le == 0 ? 65536 : le;
    return a;
  }
  return Malformed("APDU body length " + std::to_string(l) +
                   " fits no extended case (Lc=" + std::to_string(lc) + ")");
}

ApduCase CommandApdu::Case() const {
  if (data.empty()) return ne == 0 ? ApduCase::k1 : ApduCase::k2;
  return ne == 0 ? ApduCase::k3 : ApduCase::k4;
}

Bytes CommandApdu::Serialize() const {
  assert(data.size() <= kMaxExtendedNc && ne <= kMaxExtendedNe);
  assert(extended || !NeedsExtended());
  Bytes out{cla, ins, p1, p2};
  if (!extended) {
    if (!data.empty()) {
      out.push_back(static_cast<uint8_t>(data.size()));
      Append(out, data);
    }
    if (ne != 0) out.push_back(static_cast<uint8_t>(ne == 256 ? 0 : ne));
    return out;
  }
  if (data.empty() && ne == 0) return out;  // case 1 has no length fields at all
  out.push_back(0x00);
  if (!data.empty()) {
    AppendU16(out, static_cast<uint16_t>(data.size()));
    Append(out, data);
  }
  if (ne != 0) AppendU16(out, static_cast<uint16_t>(ne == 65536 ? 0 : ne));
  return out;
}

Result<ResponseApdu> ResponseApdu::Parse(ByteView bytes) {
  if (bytes.size() < 2) return Malformed("response shorter than SW1 SW2");
  ResponseApdu r;
  r.data.assign(bytes.begin(), bytes.end() - 2);
  r.sw = GetU16(&bytes[bytes.size() - 2]);
  return r;
}

Bytes ResponseApdu::Serialize() const {
  Bytes out = data;
  AppendU16(out, sw);
  return out;
}

}  // namespace tessera
