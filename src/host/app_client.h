// What the application commands read from a card (docs/applications.md): the application list
// from the management application, the administrators and the GlobalPlatform registry from the
// issuer security domain, and the judgements made of them (GP state names, record signatures).
// Shared by `apps`, `admin` and `card` (apps_commands.cc, admin_commands.cc).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"
#include "format/administrator.h"
#include "host/app_record.h"
#include "host/card_session.h"

namespace tessera::host {

struct Listed {
  int number = 0;  // record number in EF 0101
  Bytes raw;
  Result<AppRecord> record = Malformed("unread");
};

// An administrator as GET DATA BF71 lists it (format/administrator.h).
using Administrator = format::AdministratorEntry;

struct GpEntry {
  Bytes aid;
  std::optional<uint8_t> lcs;
  Bytes module;
};

Status SelectManagement(CardSession& s);
// Every record of the application list, READ RECORD 1, 2, ... until 6A83.
Result<std::vector<Listed>> ReadApplicationList(CardSession& s);
// The record of `aid`: SEARCH RECORD first, READ RECORD 1, 2, ... when the card's answer to
// it does not settle the question. NotFound when the list has none.
Result<Listed> FindRecord(CardSession& s, ByteView aid);
// GET DATA BF71 at the issuer security domain (empty when the card has none).
Result<std::vector<Administrator>> ReadAdministrators(CardSession& s);
// GET STATUS of the applications, in the issuer's session.
Result<std::vector<GpEntry>> ReadGpApplications(CardSession& s);
// "installed", "selectable", "locked", ... for a GP life cycle byte.
std::string GpState(uint8_t lcs);
// "valid", "invalid", "unsigned" or "no-key": the record's signature against its
// administrator's key among `admins`.
std::string SignatureState(const AppRecord& r, const std::vector<Administrator>& admins);
// An aligned table: every column as wide as its widest cell, the last one not padded.
void PrintTable(const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows);
std::string AidText(ByteView aid);
// An AID operand: 5..16 bytes in hex (kInvalidArgument says so).
Result<Bytes> ParseAid(const std::string& text);

}  // namespace tessera::host
