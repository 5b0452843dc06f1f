// The command group's bytes (docs/self-issuance.md §3): one codec, shared by the card (the
// issuance application parses a group at STORE DATA and before every run) and the host (the
// group compiler, `image write-group` and `issue load-group`), so that a group one side accepts
// the other accepts too, within one set of limits.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"

namespace tessera::format {

// The limits of a group, checked wherever a group is made or read.
inline constexpr size_t kMaxCommands = 256;
inline constexpr size_t kMaxGroupBytes = 16 * 1024;  // the encoded group, header included
inline constexpr size_t kMaxSuccessWords = 8;
inline constexpr uint8_t kFlagHarmless = 0x01;  // b1: may run again on resume and retry

// A function's policy (its table record, docs/self-issuance.md §2).
inline constexpr uint8_t kPolicyStopOnError = 0x01;    // b1: always set
inline constexpr uint8_t kPolicyPartialRetry = 0x02;   // b2: retry failed (P1 02) allowed
inline constexpr uint8_t kPolicySecureChannel = 0x04;  // b3: requests inside the issuer's session
// What hosts load when the operator names no policy: a partial run may be retried.
inline constexpr uint8_t kDefaultPolicy = kPolicyStopOnError | kPolicyPartialRetry;

// One stored command as it lies in the encoded group.
struct StoredCommand {
  uint8_t flags = 0;
  std::vector<uint16_t> success;  // empty: 9000 only
  uint32_t offset = 0;            // of the APDU in the encoded group
  uint16_t length = 0;
};

// Why the card will not run `apdu` from a group, or "" when it will. Refused: anything that is
// not one command APDU, an invalid class byte, command chaining, secure messaging, logical
// channel bits, GET RESPONSE (C0: nothing to fetch inside the card) and MANAGE CHANNEL (70: it
// would reach the channels of outside connections).
std::string StoredCommandProblem(ByteView apdu);

// The commands of an encoded group, or kMalformed naming the first problem ("command 3: ...").
// Checks the header, every command (StoredCommandProblem), and the limits above.
Result<std::vector<StoredCommand>> ParseGroup(ByteView group);

}  // namespace tessera::format
