#include "crypto/scp03_host.h"

#include <openssl/rand.h>

#include "core/apdu.h"
#include "format/status_words.h"

namespace tessera::crypto::scp03 {
namespace {

Status StepFailed(const std::string& step, const Bytes& response) {
  if (response.size() < 2) return Malformed(step + ": response too short");
  const uint16_t sw = GetU16(&response[response.size() - 2]);
  return FailedPrecondition(step + " answered " + sw::Describe(sw)).WithCardSw(sw);
}

uint16_t SwOf(const Bytes& r) {
  return r.size() >= 2 ? GetU16(&r[r.size() - 2]) : 0;
}

}  // namespace

StaticKeys TestKeys() {
  const Bytes k = HexOrDie("404142434445464748494A4B4C4D4E4F");
  return {crypto::MakeSecure(k), crypto::MakeSecure(k), crypto::MakeSecure(k)};
}

bool IsTestKeys(const StaticKeys& keys) {
  const Bytes k = HexOrDie("404142434445464748494A4B4C4D4E4F");
  return ConstantTimeEqual(keys.enc, k) || ConstantTimeEqual(keys.mac, k) ||
         ConstantTimeEqual(keys.dek, k);
}

Result<StaticKeys> ParseKeyFile(ByteView text, const std::string& path) {
  StaticKeys keys;
  std::string line;
  int n = 0;
  size_t pos = 0;
  // Every way out wipes the line that held key hex.
  struct WipeLine {
    std::string& s;
    ~WipeLine() {
      s.resize(s.capacity());
      crypto::SecureZero(s.data(), s.size());
    }
  } wipe_line{line};
  while (pos < text.size()) {
    size_t end = pos;
    while (end < text.size() && text[end] != '\n') ++end;
    line.resize(line.capacity());
    crypto::SecureZero(line.data(), line.size());
    line.assign(reinterpret_cast<const char*>(text.data()) + pos, end - pos);
    pos = end + 1;
    ++n;
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    auto eq = line.find('=');
    if (eq == std::string::npos) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      return Malformed(path + ":" + std::to_string(n) + ": expected name=HEX");
    }
    std::string name = line.substr(0, eq);
    name.erase(0, name.find_first_not_of(" \t"));
    name.erase(name.find_last_not_of(" \t") + 1);
    auto value = FromHex(line.substr(eq + 1));
    // Never echo key material: only say which line is wrong.
    if (!value.ok()) return Malformed(path + ":" + std::to_string(n) + ": the value is not hex");
    if (value->size() != 16 && value->size() != 24 && value->size() != 32) {
      return Malformed(path + ":" + std::to_string(n) + ": an AES key has 16, 24 or 32 bytes");
    }
    if (name == "enc")
      keys.enc = crypto::MakeSecure(*value);
    else if (name == "mac")
      keys.mac = crypto::MakeSecure(*value);
    else if (name == "dek")
      keys.dek = crypto::MakeSecure(*value);
    else
      return Malformed(path + ":" + std::to_string(n) + ": unknown key '" + name + "'");
    crypto::SecureZero(value->data(), value->size());
  }
  if (keys.enc.empty() || keys.mac.empty() || keys.dek.empty()) {
    return Malformed(path + ": needs enc=, mac= and dek=");
  }
  return keys;
}

Result<std::unique_ptr<SecureChannel>> SecureChannel::Open(RawTransmit transmit,
                                                           const ChannelOptions& o) {
  if (!ValidSecurityLevel(o.level)) {
    return InvalidArgument("security level must be 00, 01, 03, 11, 13 or 33");
  }
  const size_t n = o.s16 ? 16 : 8;
  Bytes select_cmd = HexOrDie("00A40400");
  if (o.security_domain.empty()) {
    Append(select_cmd, HexOrDie("08A00000015100000000"));
  } else {
    select_cmd.push_back(static_cast<uint8_t>(o.security_domain.size()));
    Append(select_cmd, o.security_domain);
    select_cmd.push_back(0x00);
  }
  TESSERA_ASSIGN_OR_RETURN(Bytes select, transmit(select_cmd));
  if (SwOf(select) != sw::kOk && SwOf(select) != sw::kWarningFileDeactivated &&
      (SwOf(select) & 0xFF00) != sw::kBytesRemaining) {
    return StepFailed(o.security_domain.empty()
                          ? "SELECT of the issuer security domain"
                          : "SELECT of the security domain " + ToHex(o.security_domain),
                      select);
  }
  Bytes host_challenge = o.host_challenge;
  if (host_challenge.empty()) {
    host_challenge.resize(n);
    if (RAND_bytes(host_challenge.data(), static_cast<int>(n)) != 1) {
      return Status(ErrorCode::kCryptoError, "no randomness for the host challenge");
    }
  }
  if (host_challenge.size() != n) return InvalidArgument("host challenge must have 8 or 16 bytes");
  CommandApdu iu{0x80, 0x50, o.kvn, 0x00, host_challenge, 256, false};
  TESSERA_ASSIGN_OR_RETURN(Bytes r, transmit(iu.Serialize()));
  if (SwOf(r) != sw::kOk) return StepFailed("INITIALIZE UPDATE", r);
  const size_t expect = 10 + 3 + 2 * n;
  if (r.size() - 2 != expect && r.size() - 2 != expect + 3) {
    return Malformed("INITIALIZE UPDATE response has " + std::to_string(r.size() - 2) + " bytes");
  }
  const uint8_t kvn = r[10];
  if (r[11] != 0x03) return Malformed("the card does not speak SCP03");
  ByteView card_challenge(&r[13], n), card_cryptogram(&r[13 + n], n);
  Bytes context = host_challenge;
  Append(context, card_challenge);
  TESSERA_ASSIGN_OR_RETURN(auto keys, DeriveSessionKeys(o.keys, context));
  TESSERA_ASSIGN_OR_RETURN(Bytes expected, Cryptogram(keys, kDeriveCardCryptogram, context, n));
  if (!ConstantTimeEqual(expected, card_cryptogram)) {
    return FailedPrecondition("card cryptogram mismatch: the card does not hold these keys");
  }
  TESSERA_ASSIGN_OR_RETURN(Bytes host_cryptogram,
                           Cryptogram(keys, kDeriveHostCryptogram, context, n));
  Session session(std::move(keys), n);
  TESSERA_ASSIGN_OR_RETURN(CommandApdu ea,
                           session.WrapExternalAuthenticate(
                               CommandApdu{0x80, 0x82, o.level, 0x00, host_cryptogram, 0, false}));
  TESSERA_ASSIGN_OR_RETURN(Bytes er, transmit(ea.Serialize()));
  if (SwOf(er) != sw::kOk) return StepFailed("EXTERNAL AUTHENTICATE", er);
  session.set_level(o.level);
  return std::unique_ptr<SecureChannel>(
      new SecureChannel(std::move(transmit), std::move(session), kvn));
}

Result<Bytes> SecureChannel::Transmit(ByteView plain_command) {
  TESSERA_ASSIGN_OR_RETURN(CommandApdu plain, CommandApdu::Parse(plain_command));
  TESSERA_ASSIGN_OR_RETURN(CommandApdu wrapped, session_.WrapCommand(plain));
  TESSERA_ASSIGN_OR_RETURN(Bytes raw, transmit_(wrapped.Serialize()));
  // A protected response longer than Le arrives in pieces (61xx + GET RESPONSE, plain): put it
  // together before checking its R-MAC.
  for (int rounds = 0; raw.size() >= 2 && raw[raw.size() - 2] == 0x61; ++rounds) {
    if (rounds > 300) return Malformed("too many GET RESPONSE rounds");
    const uint8_t le = raw.back();
    raw.resize(raw.size() - 2);
    TESSERA_ASSIGN_OR_RETURN(Bytes more, transmit_(GetResponseCommand(plain.cla, le)));
    Append(raw, more);
  }
  TESSERA_ASSIGN_OR_RETURN(ResponseApdu resp, ResponseApdu::Parse(raw));
  TESSERA_ASSIGN_OR_RETURN(ResponseApdu clear, session_.UnwrapResponse(resp));
  return clear.Serialize();
}

}  // namespace tessera::crypto::scp03
