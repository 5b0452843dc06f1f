#include "format/issuance_format.h"

#include <algorithm>
#include <vector>

#include "core/tlv.h"
#include "format/identifiers.h"

namespace tessera::format {
namespace {

Bytes U16(uint16_t v) {
  Bytes b(2);
  PutU16(b.data(), v);
  return b;
}

}  // namespace

Bytes EncodeTableEntry(const TableEntry& e) {
  Bytes b(kRecordSize, 0);
  b[0] = e.function;
  PutU16(&b[1], e.fid);
  b[3] = e.version;
  PutU16(&b[4], e.count);
  std::copy_n(e.digest.begin(), std::min<size_t>(e.digest.size(), 32), b.begin() + 6);
  b[38] = e.policy;
  const size_t n = std::min<size_t>(e.target.size(), 16);
  b[39] = static_cast<uint8_t>(n);
  std::copy_n(e.target.begin(), n, b.begin() + 40);
  return b;
}

std::optional<TableEntry> DecodeTableEntry(ByteView b) {
  if (b.size() != kRecordSize || b[0] == 0) return std::nullopt;
  TableEntry e;
  e.function = b[0];
  e.fid = GetU16(&b[1]);
  e.version = b[3];
  e.count = GetU16(&b[4]);
  e.digest.assign(b.begin() + 6, b.begin() + 38);
  e.policy = b[38];
  e.target.assign(b.begin() + 40, b.begin() + 40 + std::min<uint8_t>(b[39], 16));
  return e;
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
  return "unknown (" + HexByte(state) + ")";
}

Bytes EncodeJournal(const Journal& j) {
  Bytes b(kRecordSize, 0);
  b[0] = j.function;
  b[1] = j.state;
  std::copy(j.run_id.begin(), j.run_id.end(), b.begin() + 2);
  b[kJournalAcknowledgedOffset] = j.acknowledged ? 1 : 0;
  PutU16(&b[11], j.first_unanswered);
  PutU16(&b[13], j.failed);
  PutU16(&b[15], j.failed_sw);
  PutU16(&b[17], j.succeeded);
  std::copy(j.bitmap.begin(), j.bitmap.end(), b.begin() + 19);
  return b;
}

std::optional<Journal> DecodeJournal(ByteView b) {
  if (b.size() != kRecordSize) return std::nullopt;
  Journal j;
  j.function = b[0];
  j.state = b[1];
  std::copy(b.begin() + 2, b.begin() + 10, j.run_id.begin());
  j.acknowledged = b[kJournalAcknowledgedOffset] == 1;
  j.first_unanswered = GetU16(&b[11]);
  j.failed = GetU16(&b[13]);
  j.failed_sw = GetU16(&b[15]);
  j.succeeded = GetU16(&b[17]);
  std::copy(b.begin() + 19, b.begin() + 51, j.bitmap.begin());
  return j;
}

Bytes EncodeIssueRequest(const IssueRequest& r) {
  Bytes out;
  if (r.function) AppendTlv(out, 0xC1, Bytes{*r.function});
  if (r.fid) AppendTlv(out, 0x83, U16(*r.fid));
  if (r.run_id) AppendTlv(out, 0xC8, ByteView(r.run_id->data(), r.run_id->size()));
  return out;
}

Result<IssueRequest> ParseIssueRequest(ByteView data) {
  auto items = ParseTlvSequence(data);
  if (!items.ok()) return Malformed("EXECUTE ISSUANCE: " + items.status().message());
  IssueRequest r;
  for (const TlvView& t : *items) {
    if (t.tag == 0xC1 && t.value.size() == 1) {
      r.function = t.value[0];
    } else if (t.tag == 0x83 && t.value.size() == 2) {
      r.fid = GetU16(t.value.data());
    } else if (t.tag == 0xC8 && t.value.size() == kRunIdSize) {
      RunId id;
      std::copy(t.value.begin(), t.value.end(), id.begin());
      r.run_id = id;
    } else {
      return Malformed("EXECUTE ISSUANCE: field " + TlvTagToHex(t.tag) + " unknown or mis-sized");
    }
  }
  if (!r.function && !r.fid) return Malformed("EXECUTE ISSUANCE: neither C1 nor 83");
  return r;
}

RunReport MakeRunReport(const TableEntry& e, const Journal& j, uint8_t state) {
  RunReport r;
  r.function = e.function;
  r.state = state;
  r.count = e.count;
  r.succeeded = j.succeeded;
  r.bitmap = j.bitmap;
  r.first_pending = j.failed;
  if (r.first_pending == 0xFFFF && j.succeeded < e.count) r.first_pending = j.first_unanswered;
  r.failed_sw = j.failed == 0xFFFF ? 0 : j.failed_sw;
  r.run_id = j.run_id;
  r.acknowledged = j.acknowledged;
  r.target = e.target;
  return r;
}

Bytes EncodeRunReport(const RunReport& r) {
  TlvBuilder b;
  b.Open(0xE5).AddByte(0xC1, r.function).AddByte(0x80, r.state);
  b.Add(0x81, U16(r.count)).Add(0x82, U16(r.succeeded));
  b.Add(0x83, ByteView(r.bitmap.data(), r.bitmap.size()));
  b.Add(0x84, U16(r.first_pending)).Add(0x85, U16(r.failed_sw));
  b.Add(0xC8, ByteView(r.run_id.data(), r.run_id.size()));
  b.AddByte(0x86, r.acknowledged ? 1 : 0).Add(0x4F, r.target).Close();
  return b.Take();
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

Bytes EncodeGroupUpload(const GroupUpload& u) {
  Bytes body;
  AppendTlv(body, 0xC1, Bytes{u.function});
  AppendTlv(body, 0xC3, Bytes{u.version});
  if (!u.target.empty()) AppendTlv(body, 0x4F, u.target);
  AppendTlv(body, 0xC5, Bytes{u.policy});
  AppendTlv(body, 0xC6, u.group);
  return EncodeTlv(format::tag::kCommandGroup, body);
}

Result<GroupUpload> ParseGroupUpload(ByteView upload) {
  auto outer = ParseTlv(upload);
  if (!outer.ok() || outer->tag != format::tag::kCommandGroup ||
      outer->encoded_size != upload.size()) {
    return Malformed("not one BF73 object");
  }
  auto items = ParseTlvSequence(outer->value);
  if (!items.ok()) return Malformed("BF73: " + items.status().message());
  GroupUpload u;
  bool function = false, group = false;
  std::vector<TlvTag> seen;
  constexpr uint8_t kPolicyDefined =
      kPolicyStopOnError | kPolicyPartialRetry | kPolicySecureChannel;
  for (const TlvView& t : *items) {
    // Each field once: a second one would be silently ignored by some reader.
    if (std::find(seen.begin(), seen.end(), t.tag) != seen.end()) {
      return Malformed("BF73: " + TlvTagToHex(t.tag) + " twice");
    }
    seen.push_back(t.tag);
    const ByteView v = t.value;
    if (t.tag == 0xC1 && v.size() == 1 && v[0] != 0 && v[0] != 0xFF) {
      u.function = v[0];
      function = true;
    } else if (t.tag == 0xC3 && v.size() == 1) {
      u.version = v[0];
    } else if (t.tag == 0x4F && (v.empty() || (v.size() >= 5 && v.size() <= 16))) {
      u.target.assign(v.begin(), v.end());
    } else if (t.tag == 0xC5 && v.size() == 1 && (v[0] & ~kPolicyDefined) == 0) {
      u.policy = static_cast<uint8_t>(v[0] | kPolicyStopOnError);
    } else if (t.tag == 0xC6 && !v.empty() && v.size() <= kMaxGroupBytes) {
      u.group.assign(v.begin(), v.end());
      group = true;
    } else {
      return Malformed("BF73: field " + TlvTagToHex(t.tag) + " unknown or out of range");
    }
  }
  if (!function) return Malformed("BF73: no function C1");
  if (!group) return Malformed("BF73: no group C6");
  return u;
}

}  // namespace tessera::format
