// The bytes a host exchanges with the issuance application (docs/self-issuance.md §5): the
// EXECUTE ISSUANCE request, its E5 response template, and the GlobalPlatform INSTALL that puts
// the issuance application on a card. Shared by `tessera issue` and `tessera issue batch`.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "core/apdu.h"
#include "core/bytes.h"
#include "core/status.h"
#include "format/group_format.h"
#include "format/issuance_format.h"

namespace tessera::host {

// The bytes themselves: format/issuance_format.h.
using format::IssueOp;
using format::kJournalSfi;
using format::kRunIdSize;
using format::kTableSfi;
using format::ParseRunReport;
using format::RunId;
using format::RunReport;
using format::RunState;
using format::RunStateName;

// The issuance application's AID (F054455353455241 02).
ByteView IssuanceAid();
// SELECT of the issuance application, 00 A4 04 00 with Le.
CommandApdu SelectIssuance();
// INSTALL [for install and make selectable] of the issuance application (privileges 800000),
// to send inside an issuer session with the ISD.
CommandApdu InstallIssuanceApplication();
// EXECUTE ISSUANCE 80 EA P1 00 { C1 function, [C8 run id] } with Le. `run_id` is left out
// when null (status needs none).
CommandApdu ExecuteIssuance(IssueOp op, uint8_t function, const RunId* run_id);

// A file management table record (docs/self-issuance.md §2), read with READ RECORD of SFI 1
// (record n = slot + 1); the function's journal record (SFI 2) has the same slot.
struct TableRecord : format::TableEntry {
  int slot = 0;
  // False when the table could not be read (it is readable only in the issuer's session with
  // the issuance application, docs/self-issuance.md §1): only `function` is meaningful.
  bool known = true;
};
// nullopt when `rec` is not a record of function `function` (a free slot, another function,
// or too short).
std::optional<TableRecord> ParseTableRecord(ByteView rec, uint8_t function, int slot);
// READ RECORD n of an SFI of the selected application (00 B2 n (SFI<<3|4) 00).
CommandApdu ReadRecordCommand(uint8_t sfi, int n);

}  // namespace tessera::host
