// Command and response APDUs (ISO/IEC 7816-4 §5.1, §5.3) as value types.
//
// Parsing follows the case table of docs/apdu-reference.md §1 (ISO/IEC 7816-4 §5.1): a body that
// fits none of cases 1, 2S, 3S, 4S, 2E, 3E, 4E is malformed (the card answers 6700). Ne is kept as
// the number of bytes the terminal accepts: short Le 00 means 256, extended Le 0000 means 65536,
// and 0 means "no Le field". `extended` records which length form was used, so that
// Serialize(Parse(x)) == x for every well-formed x.
#pragma once

#include <cstdint>
#include <string>

#include "core/bytes.h"
#include "core/status.h"

namespace tessera {

inline constexpr size_t kMaxShortNc = 255;
inline constexpr size_t kMaxExtendedNc = 65535;
inline constexpr uint32_t kMaxShortNe = 256;
inline constexpr uint32_t kMaxExtendedNe = 65536;

enum class ApduCase { k1, k2, k3, k4 };

// What the class byte says (ISO/IEC 7816-4 §5.4.1; GlobalPlatform reuses the interindustry
// coding with b8 set).
enum class SecureMessaging {
  kNone,
  kProprietary,             // first interindustry SM bits 01
  kHeaderNotAuthenticated,  // first interindustry 10, or further interindustry b6 set
  kHeaderAuthenticated,     // first interindustry 11
};

struct ClassByte {
  bool valid = false;        // false for FF and the RFU range 001x xxxx
  bool proprietary = false;  // b8 set (GlobalPlatform 80-87, C0-CF, E0-EF)
  bool chaining = false;     // b5: more commands of this chain follow
  SecureMessaging secure_messaging = SecureMessaging::kNone;
  uint8_t channel = 0;  // 0..19
};

ClassByte DecodeClass(uint8_t cla);
// Encodes an interindustry (or, with proprietary, GlobalPlatform) class byte.
// REQUIRES: channel <= 19.
uint8_t EncodeClass(uint8_t channel, bool chaining = false, bool secure_messaging = false,
                    bool proprietary = false);
// GET RESPONSE for `le` more bytes, on the channel of the command whose class byte is `cla`.
Bytes GetResponseCommand(uint8_t cla, uint8_t le);

struct CommandApdu {
  uint8_t cla = 0;
  uint8_t ins = 0;
  uint8_t p1 = 0;
  uint8_t p2 = 0;
  Bytes data;
  uint32_t ne = 0;        // 0 = no Le field; otherwise 1..65536
  bool extended = false;  // extended length fields

  static Result<CommandApdu> Parse(ByteView bytes);
  // REQUIRES: data.size() <= 65535; ne <= 65536; when !extended, data.size() <= 255 and
  // ne <= 256.
  Bytes Serialize() const;
  ApduCase Case() const;
  // True when short encoding cannot carry this command's fields.
  bool NeedsExtended() const { return data.size() > kMaxShortNc || ne > kMaxShortNe; }

  bool operator==(const CommandApdu&) const = default;
};

struct ResponseApdu {
  Bytes data;
  uint16_t sw = 0x9000;

  uint8_t sw1() const { return static_cast<uint8_t>(sw >> 8); }
  uint8_t sw2() const { return static_cast<uint8_t>(sw); }
  // REQUIRES nothing: a response shorter than 2 bytes is malformed.
  static Result<ResponseApdu> Parse(ByteView bytes);
  Bytes Serialize() const;

  bool operator==(const ResponseApdu&) const = default;
};

}  // namespace tessera
