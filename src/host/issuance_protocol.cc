#include "host/issuance_protocol.h"

#include <algorithm>

#include "core/tlv.h"
#include "format/identifiers.h"

namespace tessera::host {

ByteView IssuanceAid() {
  return format::aid::kIssuanceApplication;
}

CommandApdu SelectIssuance() {
  CommandApdu c;
  c.cla = 0x00, c.ins = 0xA4, c.p1 = 0x04, c.p2 = 0x00;
  c.data.assign(IssuanceAid().begin(), IssuanceAid().end());
  c.ne = 256;
  return c;
}

CommandApdu InstallIssuanceApplication() {
  const ByteView module = format::aid::kIssuanceModule;
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
  c.cla = 0x80, c.ins = format::ins::kExecuteIssuance, c.p1 = static_cast<uint8_t>(op), c.p2 = 0x00;
  format::IssueRequest r;
  r.function = function;
  if (run_id != nullptr) r.run_id = *run_id;
  c.data = format::EncodeIssueRequest(r);
  c.ne = 256;
  return c;
}

std::optional<TableRecord> ParseTableRecord(ByteView b, uint8_t function, int slot) {
  auto e = format::DecodeTableEntry(b);
  if (!e || e->function != function) return std::nullopt;
  TableRecord t;
  static_cast<format::TableEntry&>(t) = std::move(*e);
  t.slot = slot;
  return t;
}

CommandApdu ReadRecordCommand(uint8_t sfi, int n) {
  CommandApdu c;
  c.cla = 0x00, c.ins = 0xB2, c.p1 = static_cast<uint8_t>(n);
  c.p2 = static_cast<uint8_t>(sfi << 3 | 4);
  c.ne = 256;
  return c;
}

}  // namespace tessera::host
