#include "issuance_protocol.h"

#include <algorithm>

#include "card/identifiers.h"
#include "core/tlv.h"

namespace tessera::tools {

ByteView IssuanceAid() {
  return card::aid::kIssuanceApplication;
}

CommandApdu SelectIssuance() {
  CommandApdu c;
  c.cla = 0x00, c.ins = 0xA4, c.p1 = 0x04, c.p2 = 0x00;
  c.data.assign(IssuanceAid().begin(), IssuanceAid().end());
  c.ne = 256;
  return c;
}

CommandApdu InstallIssuanceApplication() {
  const ByteView module = card::aid::kIssuanceModule;
  CommandApdu c;
  c.cla = 0x80, c.ins = 0xE6, c.p1 = 0x0C, c.p2 = 0x00;
  for (ByteView aid : {module, module, IssuanceAid()}) {
    c.data.push_back(static_cast<uint8_t>(aid.size()));
    Append(c.data, aid);
  }
  Append(c.data, Bytes{0x03, 0x80, 0x00, 0x00});  // privileges: security domain
  Append(c.data, Bytes{0x02, 0xC9, 0x00});        // install parameters: none
  c.data.push_back(0x00);                         // no install token
  c.ne = 256;
  return c;
}

CommandApdu ExecuteIssuance(IssueOp op, uint8_t function, const RunId* run_id) {
  CommandApdu c;
  c.cla = 0x80, c.ins = card::ins::kExecuteIssuance, c.p1 = static_cast<uint8_t>(op), c.p2 = 0x00;
  AppendTlv(c.data, 0xC1, Bytes{function});
  if (run_id != nullptr) AppendTlv(c.data, 0xC8, ByteView(run_id->data(), run_id->size()));
  c.ne = 256;
  return c;
}

std::string RunStateName(uint8_t state) {
  switch (static_cast<RunState>(state)) {
    case RunState::kIdle:
      return "idle";
    case RunState::kRunning:
      return "running";
    case RunState::kInterrupted:
      return "interrupted";
    case RunState::kDone:
      return "done";
    case RunState::kPartial:
      return "partial";
  }
  return "unknown (" + ToHex(ByteView(&state, 1)) + ")";
}

Result<RunReport> ParseRunReport(ByteView data) {
  auto outer = ParseTlv(data);
  if (!outer.ok() || outer->tag != 0xE5 || outer->encoded_size != data.size()) {
    return Malformed("the card's answer is not an E5 issuance template");
  }
  auto items = ParseTlvSequence(outer->value);
  if (!items.ok()) return Malformed("the E5 template is not BER-TLV");
  RunReport r;
  unsigned seen = 0;
  for (const TlvView& t : *items) {
    const auto u16 = [&](uint16_t& out, unsigned bit) {
      if (t.value.size() == 2) {
        out = GetU16(t.value.data());
        seen |= bit;
      }
    };
    if (t.tag == 0xC1 && t.value.size() == 1) {
      r.function = t.value[0];
      seen |= 1;
    } else if (t.tag == 0x80 && t.value.size() == 1) {
      r.state = t.value[0];
      seen |= 2;
    } else if (t.tag == 0x81) {
      u16(r.count, 4);
    } else if (t.tag == 0x82) {
      u16(r.succeeded, 8);
    } else if (t.tag == 0x83 && t.value.size() == r.bitmap.size()) {
      std::copy(t.value.begin(), t.value.end(), r.bitmap.begin());
      seen |= 16;
    } else if (t.tag == 0x84) {
      u16(r.first_pending, 32);
    } else if (t.tag == 0x85) {
      u16(r.failed_sw, 64);
    } else if (t.tag == 0xC8 && t.value.size() == kRunIdSize) {
      std::copy(t.value.begin(), t.value.end(), r.run_id.begin());
      seen |= 128;
    } else if (t.tag == 0x86 && t.value.size() == 1) {
      r.acknowledged = t.value[0] == 1;
    } else if (t.tag == 0x4F && t.value.size() <= 16) {
      r.target.assign(t.value.begin(), t.value.end());
    }
  }
  if (seen != 255) return Malformed("the E5 template lacks a field");
  return r;
}

std::optional<TableRecord> ParseTableRecord(ByteView b, uint8_t function, int slot) {
  if (b.size() < 56 || b[0] != function) return std::nullopt;
  TableRecord t;
  t.slot = slot;
  t.function = b[0];
  t.fid = GetU16(&b[1]);
  t.version = b[3];
  t.count = GetU16(&b[4]);
  t.digest.assign(b.begin() + 6, b.begin() + 38);
  t.policy = b[38];
  t.target.assign(b.begin() + 40, b.begin() + 40 + std::min<uint8_t>(b[39], 16));
  return t;
}

CommandApdu ReadRecordCommand(uint8_t sfi, int n) {
  CommandApdu c;
  c.cla = 0x00, c.ins = 0xB2, c.p1 = static_cast<uint8_t>(n);
  c.p2 = static_cast<uint8_t>(sfi << 3 | 4);
  c.ne = 256;
  return c;
}

}  // namespace tessera::tools
