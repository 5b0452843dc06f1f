#include "format/installation_file.h"

#include "core/tlv.h"

namespace tessera::format {

Bytes SignedPart(const InstallationFile& f) {
  Bytes out = EncodeRecord(f.record);
  if (f.code) {
    AppendTlv(out, 0xC7, *f.code);
  } else {
    AppendTlv(out, 0xC4, f.module_aid);
  }
  if (f.privileges) AppendTlv(out, 0xC5, *f.privileges);
  if (f.params) AppendTlv(out, 0xC9, *f.params);
  if (f.system) AppendTlv(out, 0xEF, *f.system);
  return out;
}

Bytes EncodeInstallationFile(const InstallationFile& f) {
  Bytes value = SignedPart(f);
  if (!f.signature.empty()) AppendTlv(value, 0x9E, f.signature);
  Bytes file = EncodeTlv(tag::kInstallationFile, value);
  Wipe(value.data(), value.size());  // C9 may hold a PIN
  return file;
}

Result<ParsedInstallationFile> ParseInstallationFileValue(ByteView value) {
  auto fields = ParseTlvSequence(value);
  if (!fields.ok()) return Malformed("BF70: " + fields.status().message());
  ParsedInstallationFile out;
  InstallationFile& f = out.file;
  bool record = false, code = false, signed_ = false;
  // Where each object may stand: the order above; only C5, C9, EF and 9E may be left out.
  enum Stage : uint8_t { kRecord, kCode, kPrivileges, kData, kSystem, kSignature, kEnd };
  Stage next = kRecord;
  auto at = [&](Stage stage) {
    if (stage < next) return false;                    // out of order, or twice
    if (next <= kCode && stage != next) return false;  // E1 and code come first
    next = static_cast<Stage>(stage + 1);
    return true;
  };
  for (const TlvView& t : *fields) {
    const std::string tag = TlvTagToHex(t.tag);
    if (signed_) return Malformed("BF70: " + tag + " after the file signature (9E)");
    // The whole object: its value is the last part of its encoding.
    const uint8_t* start = t.value.data() - (t.encoded_size - t.value.size());
    const ByteView v = t.value;
    bool placed = false;
    switch (t.tag) {
      case 0xE1: {
        placed = at(kRecord);
        if (!placed) break;
        TESSERA_ASSIGN_OR_RETURN(f.record, ParseRecord(ByteView(start, t.encoded_size)));
        record = true;
        break;
      }
      case 0xC4:
        placed = at(kCode);
        if (placed && (v.size() < kMinAidLength || v.size() > kMaxAidLength)) {
          return Malformed("BF70: C4 (module AID) is not 5..16 bytes");
        }
        f.module_aid.assign(v.begin(), v.end());
        code = true;
        break;
      case 0xC7:
        placed = at(kCode);
        f.code = Bytes(v.begin(), v.end());
        code = true;
        break;
      case 0xC5:
        placed = at(kPrivileges);
        if (placed && v.size() != 3) return Malformed("BF70: C5 (privileges) is not 3 bytes");
        f.privileges = Bytes(v.begin(), v.end());
        break;
      case 0xC9:
        placed = at(kData);
        f.params = Bytes(v.begin(), v.end());
        break;
      case 0xEF:
        placed = at(kSystem);
        f.system = Bytes(v.begin(), v.end());
        break;
      case 0x9E:
        placed = at(kSignature);
        if (placed && v.size() != kRecordSignatureSize) {
          return Malformed("BF70: 9E (file signature) is not 64 bytes");
        }
        f.signature.assign(v.begin(), v.end());
        out.signed_part.assign(value.data(), start);
        signed_ = true;
        break;
      default:
        return Malformed("BF70: unknown object " + tag);
    }
    if (!placed) {
      return Malformed(!record ? "BF70: the first object is not the E1 record"
                       : !code ? "BF70: no code (C4 module AID or C7 code bytes) after the record"
                               : "BF70: " + tag + " out of order or twice");
    }
  }
  if (!record) return Malformed("BF70: no E1 record");
  if (!code) return Malformed("BF70: no code (C4 module AID or C7 code bytes) after the record");
  if (!signed_) out.signed_part.assign(value.begin(), value.end());
  return out;
}

Result<ParsedInstallationFile> ParseInstallationFile(ByteView bytes) {
  auto t = ParseTlv(bytes);
  if (!t.ok()) return Malformed("BF70: " + t.status().message());
  if (t->tag != tag::kInstallationFile) return Malformed("not a BF70 installation file");
  if (t->encoded_size != bytes.size()) {
    return Malformed("BF70: " + std::to_string(bytes.size() - t->encoded_size) +
                     " bytes after the object");
  }
  return ParseInstallationFileValue(t->value);
}

}  // namespace tessera::format
