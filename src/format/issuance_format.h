// The issuance application's bytes other than the group itself (docs/self-issuance.md §2, §4,
// §5): the file management table record, the interruption journal record, the EXECUTE
// ISSUANCE request and its E5 response template, and the STORE DATA BF73 object that loads a
// group. One codec for the card (apps/issuance/) and the host (`tessera issue`, batch), so a
// field moved on one side is moved on both. The group's own bytes: group_format.h.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "core/bytes.h"
#include "core/status.h"
#include "format/group_format.h"

namespace tessera::format {

// The application's files (§1): the table (SFI 1) and the journal (SFI 2) are linear fixed
// files of one 64-byte record per function slot, the same slot in both; function f's group is
// the transparent EF 0300 + f.
inline constexpr uint16_t kTableFid = 0x0201;
inline constexpr uint16_t kJournalFid = 0x0202;
inline constexpr uint16_t kGroupFidBase = 0x0300;
inline constexpr uint8_t kTableSfi = 1;
inline constexpr uint8_t kJournalSfi = 2;
inline constexpr uint16_t kRecordSize = 64;
inline constexpr uint16_t kFunctions = 16;

inline constexpr size_t kRunIdSize = 8;
using RunId = std::array<uint8_t, kRunIdSize>;
// One bit per command (b1 of byte 0 is command 0): set once the command succeeded.
using CommandBitmap = std::array<uint8_t, kMaxCommands / 8>;

// A function's table record (§2).
struct TableEntry {
  uint8_t function = 0;  // 00: a free slot
  uint16_t fid = 0;
  uint8_t version = 0;
  uint16_t count = 0;
  Bytes digest = Bytes(32, 0);  // SHA-256 of the group file
  uint8_t policy = kPolicyStopOnError;
  Bytes target;  // the application the function issues (empty: none)
};
Bytes EncodeTableEntry(const TableEntry& entry);
// nullopt for a free slot (function 00) or a record that is not kRecordSize bytes.
std::optional<TableEntry> DecodeTableEntry(ByteView record);

// The journal's states (§4).
enum class RunState : uint8_t {
  kIdle = 0,
  kRunning = 1,
  kInterrupted = 2,  // reported for a running record when no run is under way; never stored
  kDone = 3,
  kPartial = 4
};
// "idle", ..., or "unknown (07)".
std::string RunStateName(uint8_t state);

// A function's journal record (§4).
struct Journal {
  uint8_t function = 0;
  uint8_t state = static_cast<uint8_t>(RunState::kIdle);
  RunId run_id{};
  bool acknowledged = false;
  uint16_t first_unanswered = 0;
  uint16_t failed = 0xFFFF;  // the failed command, FFFF none
  uint16_t failed_sw = 0;
  uint16_t succeeded = 0;
  CommandBitmap bitmap{};
  bool done(size_t i) const { return i < kMaxCommands && ((bitmap[i / 8] >> (i % 8)) & 1); }
  void set_done(size_t i) { bitmap[i / 8] = static_cast<uint8_t>(bitmap[i / 8] | (1u << (i % 8))); }
};
// Offset of the acknowledged byte (01: acknowledged) in the journal record.
inline constexpr size_t kJournalAcknowledgedOffset = 10;
Bytes EncodeJournal(const Journal& journal);
// nullopt for a record that is not kRecordSize bytes.
std::optional<Journal> DecodeJournal(ByteView record);

// EXECUTE ISSUANCE (80 EA P1 00, §5): P1 says what to do, the data names the function.
enum class IssueOp : uint8_t { kStart = 0, kResume = 1, kRetryFailed = 2, kStatus = 3, kAck = 4 };
struct IssueRequest {
  std::optional<uint8_t> function;  // C1
  std::optional<uint16_t> fid;      // 83: the function by its group file
  std::optional<RunId> run_id;      // C8
};
Bytes EncodeIssueRequest(const IssueRequest& request);
// kMalformed for a field other than C1 (1 byte), 83 (2), C8 (8), or neither C1 nor 83.
Result<IssueRequest> ParseIssueRequest(ByteView data);

// The E5 template (§5): what ran, what failed, which run.
struct RunReport {
  uint8_t function = 0;             // C1
  uint8_t state = 0;                // 80, a RunState
  uint16_t count = 0;               // 81
  uint16_t succeeded = 0;           // 82
  CommandBitmap bitmap{};           // 83
  uint16_t first_pending = 0xFFFF;  // 84: first failed or unanswered command, FFFF none
  uint16_t failed_sw = 0;           // 85: its status word (0: unanswered)
  RunId run_id{};                   // C8
  bool acknowledged = false;        // 86
  Bytes target;                     // 4F: the function's target application (empty: none)
  bool done(size_t i) const { return i < kMaxCommands && ((bitmap[i / 8] >> (i % 8)) & 1); }
};
// The template the card answers for `entry` with `journal`, reporting `state`.
RunReport MakeRunReport(const TableEntry& entry, const Journal& journal, uint8_t state);
Bytes EncodeRunReport(const RunReport& report);
// kMalformed when `data` is not one E5 template with every field (unknown fields are skipped).
Result<RunReport> ParseRunReport(ByteView data);

// STORE DATA BF73 { C1 function, [C3 version], [4F target], [C5 policy], C6 group } (§5).
struct GroupUpload {
  uint8_t function = 0;  // 01..FE
  uint8_t version = 0;
  Bytes target;                         // empty, or 5..16 bytes
  uint8_t policy = kPolicyStopOnError;  // b1 always set once parsed
  Bytes group;                          // the encoded group, 1..kMaxGroupBytes
};
Bytes EncodeGroupUpload(const GroupUpload& upload);
// The card's rules: each field once and within its range, only defined policy bits. The
// group's own bytes are not parsed here (group_format.h).
Result<GroupUpload> ParseGroupUpload(ByteView upload);

}  // namespace tessera::format
