#include "card/fs/fcp.h"

#include "core/tlv.h"

namespace tessera::card {
namespace {

void AddFcpObjects(TlvBuilder& b, const FileNode& n) {
  if (n.is_ef()) {
    if (n.is_record_ef()) {
      b.Add(0x80, Bytes{static_cast<uint8_t>(n.record_count * n.size >> 8),
                        static_cast<uint8_t>(n.record_count * n.size)});
      // FDB, data coding byte, maximum record length (2), number of records (1).
      b.Add(0x82, Bytes{n.fdb, 0x21, static_cast<uint8_t>(n.size >> 8),
                        static_cast<uint8_t>(n.size), static_cast<uint8_t>(n.max_records)});
    } else {
      b.Add(0x80, Bytes{static_cast<uint8_t>(n.size >> 8), static_cast<uint8_t>(n.size)});
      b.Add(0x82, Bytes{n.fdb, 0x21});
    }
  } else {
    b.Add(0x82, Bytes{n.fdb, 0x21});
  }
  b.Add(0x83, Bytes{static_cast<uint8_t>(n.fid >> 8), static_cast<uint8_t>(n.fid)});
  if (!n.df_name.empty()) b.Add(0x84, n.df_name);
  if (n.is_ef()) {
    if (n.sfi != 0) {
      b.AddByte(0x88, static_cast<uint8_t>(n.sfi << 3));
    } else {
      b.Add(0x88, {});
    }
  }
  b.AddByte(0x8A, n.lcs);
  if (!n.security.empty()) b.Add(0x8C, n.security);
}

}  // namespace

Bytes EncodeFcp(const FileNode& n) {
  TlvBuilder b;
  b.Open(0x62);
  AddFcpObjects(b, n);
  b.Close();
  return b.Take();
}

Bytes EncodeFci(const FileNode& n) {
  TlvBuilder b;
  b.Open(0x6F);
  if (n.is_df() && (!n.df_name.empty() || !n.fci_proprietary.empty())) {
    if (!n.df_name.empty()) b.Add(0x84, n.df_name);
    if (!n.fci_proprietary.empty()) b.Add(0xA5, n.fci_proprietary);
  } else {
    AddFcpObjects(b, n);
  }
  b.Close();
  return b.Take();
}

CardResult<FileNode> ParseCreateFcp(ByteView data) {
  auto top = ParseTlvSequence(data);
  if (!top.ok() || top->size() != 1 || (*top)[0].tag != 0x62) return Error::kWrongData;
  auto objects = ParseTlvSequence((*top)[0].value);
  if (!objects.ok()) return Error::kWrongData;
  FileNode n;
  bool have_fdb = false, have_fid = false, have_size = false;
  for (const TlvView& o : *objects) {
    ByteView v = o.value;
    switch (o.tag) {
      case 0x80:
      case 0x81:
        if (v.empty() || v.size() > 2) return Error::kWrongData;
        n.size = v.size() == 1 ? v[0] : GetU16(v.data());
        have_size = true;
        break;
      case 0x82: {
        if (v.empty()) return Error::kWrongData;
        n.fdb = v[0];
        have_fdb = true;
        if ((n.fdb & 0x38) == 0x38) {
          n.kind = FileKind::kDf;
          n.fdb = 0x38;
        } else {
          n.kind = FileKind::kEf;
          const uint8_t s = n.fdb & 0x07;
          if ((n.fdb & 0x38) != 0 || (n.fdb & 0x80) != 0) return Error::kWrongData;
          if (s != 1 && s != 2 && s != 4 && s != 6) return Error::kWrongData;
          if (s != 1) {
            // FDB, data coding, max record length (1-2), number of records (1-2).
            if (v.size() < 4) return Error::kWrongData;
            const size_t rest = v.size() - 2;
            const size_t len_bytes = rest >= 3 ? 2 : 1;
            uint16_t max_len = len_bytes == 2 ? GetU16(&v[2]) : v[2];
            ByteView count = v.subspan(2 + len_bytes);
            if (count.empty() || count.size() > 2) return Error::kWrongData;
            uint16_t records = count.size() == 2 ? GetU16(count.data()) : count[0];
            if (max_len == 0 || max_len > 255 || records == 0 || records > 254) {
              return Error::kWrongData;
            }
            n.size = max_len;
            n.max_records = records;
          }
        }
        break;
      }
      case 0x83:
        if (v.size() != 2) return Error::kWrongData;
        n.fid = GetU16(v.data());
        have_fid = true;
        break;
      case 0x84:
        if (v.empty() || v.size() > kMaxDfName) return Error::kWrongData;
        n.df_name.assign(v.begin(), v.end());
        break;
      case 0x88:
        if (v.size() > 1 ||
            (v.size() == 1 && ((v[0] & 0x07) != 0 || (v[0] >> 3) == 0 || (v[0] >> 3) == 0x1F))) {
          return Error::kWrongData;
        }
        n.sfi = v.empty() ? 0 : static_cast<uint8_t>(v[0] >> 3);
        break;
      case 0x8A:
        if (v.size() != 1) return Error::kWrongData;
        if (v[0] != kLcsCreation && v[0] != kLcsInitialisation && v[0] != kLcsActivated &&
            v[0] != kLcsDeactivated) {
          return Error::kWrongData;
        }
        n.lcs = v[0];
        break;
      case 0x8C:
        if (v.empty() || v.size() > kMaxSecurityBytes) return Error::kWrongData;
        n.security.assign(v.begin(), v.end());
        break;
      case 0xA5:
        if (v.size() > kMaxFciProprietary) return Error::kWrongData;
        n.fci_proprietary.assign(v.begin(), v.end());
        break;
      default:
        break;  // other FCP objects are accepted and not stored
    }
  }
  if (!have_fdb || !have_fid) return Error::kWrongData;
  if (n.fid == kMfFid || n.fid == 0xFFFF || n.fid == 0x3FFF) return Error::kWrongData;
  if (n.is_df()) {
    n.size = 0;
    n.sfi = 0;
  } else {
    if (!n.df_name.empty()) return Error::kWrongData;
    if (n.structure() == EfStructure::kTransparent && !have_size) return Error::kWrongData;
    n.fci_proprietary.clear();
  }
  return n;
}

}  // namespace tessera::card
