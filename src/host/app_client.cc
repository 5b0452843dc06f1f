#include "host/app_client.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <set>

#include "core/tlv.h"
#include "crypto/aes.h"
#include "crypto/ecdsa.h"
#include "crypto/scp03.h"
#include "format/gp_status.h"
#include "format/status_words.h"
#include "host/app_record.h"
#include "host/card_keys.h"
#include "host/card_session.h"
#include "host/file_io.h"
#include "host/install_file_builder.h"
#include "host/issuance_targets.h"
#include "host/pem_key.h"

namespace tessera::host {
namespace {

CommandApdu ReadRecordCommand(int n) {
  return CommandApdu{0x00, 0xB2, static_cast<uint8_t>(n), 0x0C, {}, 256, false};
}

}  // namespace

Status SelectManagement(CardSession& s) {
  TESSERA_ASSIGN_OR_RETURN(ResponseApdu r, s.Select(ManagementAid()));
  if (r.sw != sw::kOk) {
    return Refused(
        "SELECT of the management application F054455353455241 01", r.sw,
        {{sw::kFileNotFound, "the card has no management application (no application list)"}});
  }
  return Status::Ok();
}

Result<std::vector<Listed>> ReadApplicationList(CardSession& s) {
  TESSERA_RETURN_IF_ERROR(SelectManagement(s));
  std::vector<Listed> out;
  for (int n = 1; n <= 254; ++n) {
    TESSERA_ASSIGN_OR_RETURN(ResponseApdu r, s.Plain(ReadRecordCommand(n)));
    if (r.sw == sw::kRecordNotFound) break;
    if (r.sw != sw::kOk) return Refused("READ RECORD " + std::to_string(n), r.sw);
    Listed l;
    l.number = n;
    l.raw = r.data;
    l.record = ParseRecord(r.data);
    out.push_back(std::move(l));
  }
  return out;
}

Result<Listed> FindRecord(CardSession& s, ByteView aid) {
  TESSERA_RETURN_IF_ERROR(SelectManagement(s));
  Bytes pattern = EncodeTlv(0x4F, aid);
  TESSERA_ASSIGN_OR_RETURN(ResponseApdu found,
                           s.Plain(CommandApdu{0x00, 0xA2, 0x01, 0x0C, pattern, 256, false}));
  std::vector<int> candidates;
  if (found.sw == sw::kOk) {
    for (uint8_t n : found.data) candidates.push_back(n);
  }
  for (int n : candidates) {
    TESSERA_ASSIGN_OR_RETURN(ResponseApdu r, s.Plain(ReadRecordCommand(n)));
    if (r.sw != sw::kOk) continue;
    auto rec = ParseRecord(r.data);
    if (rec.ok() && rec->aid == Bytes(aid.begin(), aid.end())) {
      return Listed{n, r.data, std::move(rec)};
    }
  }
  TESSERA_ASSIGN_OR_RETURN(auto list, ReadApplicationList(s));
  for (auto& l : list) {
    if (l.record.ok() && l.record->aid == Bytes(aid.begin(), aid.end())) return std::move(l);
  }
  return FailedPrecondition("no application " + ToHex(aid) + " in the application list");
}

Result<std::vector<Administrator>> ReadAdministrators(CardSession& s) {
  TESSERA_ASSIGN_OR_RETURN(ResponseApdu sel, s.Select(IsdAid()));
  if (sel.sw != sw::kOk && sel.sw != sw::kWarningFileDeactivated &&
      (sel.sw & 0xFF00) != sw::kBytesRemaining) {
    return Refused("SELECT of the issuer security domain", sel.sw);
  }
  TESSERA_ASSIGN_OR_RETURN(ResponseApdu r,
                           s.Plain(CommandApdu{0x80, 0xCA, 0xBF, 0x71, {}, 256, false}));
  std::vector<Administrator> out;
  if (r.sw == sw::kReferencedDataNotFound || (r.sw == sw::kOk && r.data.empty())) return out;
  if (r.sw != sw::kOk) {
    return Refused("GET DATA BF71 (administrators)", r.sw,
                   {{sw::kReferencedDataNotFound, "no administrators"},
                    {sw::kInsNotSupported, "the card knows no administrators"}});
  }
  auto list = format::ParseAdministratorList(r.data);
  if (!list.ok()) return Malformed("GET DATA BF71: " + list.status().message());
  return std::move(*list);
}

Result<std::vector<GpEntry>> ReadGpApplications(CardSession& s) {
  TESSERA_RETURN_IF_ERROR(s.OpenScp03({}));
  std::vector<GpEntry> out;
  uint8_t p2 = 0x02;
  for (int round = 0; round < 64; ++round) {
    TESSERA_ASSIGN_OR_RETURN(ResponseApdu r,
                             s.Secure(CommandApdu{0x80, 0xF2, 0x40, p2, {0x4F, 0x00}, 256, false}));
    if (r.sw == sw::kReferencedDataNotFound) break;
    if (r.sw != sw::kOk && r.sw != sw::kMoreData) return Refused("GET STATUS (applications)", r.sw);
    TESSERA_ASSIGN_OR_RETURN(auto entries, format::ParseGpRegistryEntries(r.data));
    // An application's module is its load file (C4) on this card.
    for (auto& e : entries)
      out.push_back(GpEntry{std::move(e.aid), e.life_cycle, std::move(e.load_file)});
    if (r.sw == sw::kOk) break;
    p2 = 0x03;  // next occurrence
  }
  return out;
}

std::string GpState(uint8_t lcs) {
  switch (lcs) {
    case 0x03:
      return "installed";
    case 0x07:
      return "selectable";
    case 0x0F:
      return "app-specific";
    case 0x83:
      return "locked";
    default:
      return (lcs & 0x80) ? "locked" : "state " + HexByte(lcs);
  }
}

std::string SignatureState(const AppRecord& r, const std::vector<Administrator>& admins) {
  if (r.signature.empty()) return "unsigned";
  for (const auto& a : admins) {
    if (a.id != r.admin_id) continue;
    if (a.public_key.empty()) break;
    return crypto::EcdsaP256Verify(a.public_key, SignedPart(r), r.signature).ok() ? "valid"
                                                                                  : "invalid";
  }
  return "no-key";
}

void PrintTable(const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) width[c] = DisplayWidth(header[c]);
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], DisplayWidth(row[c]));
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string s;
    for (size_t c = 0; c < cells.size(); ++c) {
      s += cells[c];
      if (c + 1 < cells.size()) s += std::string(width[c] - DisplayWidth(cells[c]) + 2, ' ');
    }
    std::printf("%s\n", s.c_str());
  };
  line(header);
  for (const auto& row : rows) line(row);
}

std::string AidText(ByteView aid) {
  return ToHex(aid);
}

Result<Bytes> ParseAid(const std::string& text) {
  const bool prefixed = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
  auto b = FromHex(prefixed ? text.substr(2) : text);
  if (!b.ok() || b->size() < 5 || b->size() > 16) {
    return InvalidArgument("AID '" + text + "': give 5..16 bytes in hex");
  }
  return *b;
}

}  // namespace tessera::host
