#include "format/module_params.h"

#include <string>

#include "core/tlv.h"

namespace tessera::format {
namespace {

bool PinLength(ByteView v) {
  return v.size() >= kMinPinLength && v.size() <= kMaxPinLength;
}

Bytes U32(uint32_t v) {
  Bytes b;
  AppendU32(b, v);
  return b;
}

Status Refused(const char* module, const TlvView& t) {
  return Malformed(std::string(module) + " parameters: field " + TlvTagToHex(t.tag) +
                   " unknown or out of range");
}

}  // namespace

Bytes EncodeDataStoreParams(const DataStoreParams& p) {
  Bytes out;
  if (p.data) AppendTlv(out, 0x80, *p.data);
  if (p.pin) AppendTlv(out, 0x81, *p.pin);
  if (p.tries) AppendTlv(out, 0x82, Bytes{*p.tries});
  return out;
}

Result<DataStoreParams> ParseDataStoreParams(ByteView bytes) {
  auto items = ParseTlvSequence(bytes);
  if (!items.ok()) return Malformed("DATA STORE parameters: " + items.status().message());
  DataStoreParams p;
  for (const TlvView& t : *items) {
    if (t.tag == 0x80 && t.value.size() <= kDataStoreSize) {
      p.data = Bytes(t.value.begin(), t.value.end());
    } else if (t.tag == 0x81 && PinLength(t.value)) {
      p.pin = Bytes(t.value.begin(), t.value.end());
    } else if (t.tag == 0x82 && t.value.size() == 1 && t.value[0] >= 1 && t.value[0] <= 15) {
      p.tries = t.value[0];
    } else {
      return Refused("DATA STORE", t);
    }
  }
  return p;
}

Bytes EncodePurseParams(const PurseParams& p) {
  Bytes out;
  if (p.balance) AppendTlv(out, 0x80, U32(*p.balance));
  if (p.pin) AppendTlv(out, 0x81, *p.pin);
  if (p.limit) AppendTlv(out, 0x83, U32(*p.limit));
  return out;
}

Result<PurseParams> ParsePurseParams(ByteView bytes) {
  auto items = ParseTlvSequence(bytes);
  if (!items.ok()) return Malformed("PURSE parameters: " + items.status().message());
  PurseParams p;
  for (const TlvView& t : *items) {
    if (t.tag == 0x80 && t.value.size() == 4) {
      p.balance = GetU32(t.value.data());
    } else if (t.tag == 0x81 && PinLength(t.value)) {
      p.pin = Bytes(t.value.begin(), t.value.end());
    } else if (t.tag == 0x83 && t.value.size() == 4) {
      p.limit = GetU32(t.value.data());
    } else {
      return Refused("PURSE", t);
    }
  }
  if (p.balance.value_or(0) > p.limit.value_or(kPurseDefaultLimit)) {
    return Malformed("PURSE parameters: the balance is over the limit");
  }
  return p;
}

}  // namespace tessera::format
