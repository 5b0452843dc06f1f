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

namespace tessera::tools {

enum class IssueOp : uint8_t { kStart = 0, kResume = 1, kRetryFailed = 2, kStatus = 3, kAck = 4 };

inline constexpr size_t kRunIdSize = 8;
using RunId = std::array<uint8_t, kRunIdSize>;

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

// The journal states the template reports (docs/self-issuance.md §4).
enum class RunState : uint8_t {
  kIdle = 0,
  kRunning = 1,
  kInterrupted = 2,
  kDone = 3,
  kPartial = 4
};
std::string RunStateName(uint8_t state);

// The E5 template: what ran, what failed, which run.
struct RunReport {
  uint8_t function = 0;
  uint8_t state = 0;
  uint16_t count = 0;
  uint16_t succeeded = 0;
  std::array<uint8_t, 32> bitmap{};
  uint16_t first_pending = 0xFFFF;  // first failed or unanswered command, FFFF none
  uint16_t failed_sw = 0;           // its status word (0: unanswered)
  RunId run_id{};
  bool acknowledged = false;  // 86: the run was acknowledged (P1 04)
  Bytes target;               // 4F: the function's target application (empty: none)
  bool done(size_t i) const { return i < 256 && ((bitmap[i / 8] >> (i % 8)) & 1); }
};
// kMalformed when `data` is not one E5 template with every field.
Result<RunReport> ParseRunReport(ByteView data);

// A file management table record (docs/self-issuance.md §2), read with READ RECORD of SFI 1
// (record n = slot + 1); the function's journal record (SFI 2) has the same slot.
struct TableRecord {
  int slot = 0;
  uint8_t function = 0;
  uint16_t fid = 0;
  uint8_t version = 0;
  uint16_t count = 0;
  Bytes digest;  // SHA-256 of the group file
  uint8_t policy = 0;
  Bytes target;
  // False when the table could not be read (it is readable only in the issuer's session with
  // the issuance application, docs/self-issuance.md §1): only `function` is meaningful.
  bool known = true;
};
inline constexpr uint8_t kTableSfi = 1;
inline constexpr uint8_t kJournalSfi = 2;
inline constexpr size_t kJournalAcknowledgedOffset = 10;  // 01: acknowledged (§4)
// nullopt when `rec` is not a record of function `function` (a free slot, another function,
// or too short).
std::optional<TableRecord> ParseTableRecord(ByteView rec, uint8_t function, int slot);
// READ RECORD n of an SFI of the selected application (00 B2 n (SFI<<3|4) 00).
CommandApdu ReadRecordCommand(uint8_t sfi, int n);

}  // namespace tessera::tools
