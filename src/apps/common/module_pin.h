// A module's own PIN (docs/applications.md §6): an EF in the application's DF that no OS
// command can reach (every access condition "never"), holding maximum tries, tries left and
// the value. VERIFY spends a try with an early commit before it compares, as the OS's PIN
// commands do (pin_handler.cc): a power cut at a wrong guess never gives a free try. A match
// sets bit kPinVerified of the channel's app_security, which deselection clears.
#pragma once

#include "card/fs/file_node.h"
#include "card/kernel/card_error.h"
#include "card/kernel/module.h"

namespace tessera::apps {

inline constexpr uint32_t kPinVerified = 0x01;
// Every access mode "never": the module reads and writes the file itself.
inline const Bytes kPrivateFile = HexOrDie("7FFFFFFFFFFFFFFF");
// Read: always (what a terminated application's data shows through the OS); the rest never.
inline const Bytes kReadableFile = HexOrDie("7FFFFFFFFFFFFF00");

// Creates the PIN file `fid` in `app.df` with `pin` (empty: none yet; 6A80 for 1..3 or more
// than 16 bytes) and `tries` (1..15).
card::CardStatus CreatePinFile(card::AppContext& app, uint16_t fid, ByteView pin, uint8_t tries);
// Replaces the PIN value and resets its tries (personalization).
card::CardStatus SetPin(card::AppContext& app, uint16_t fid, ByteView pin);
// Compares `value` with the PIN of file `fid`: the try is spent with an early commit first, a
// match restores the tries. 6983 when blocked, 6984 when no PIN is set yet.
struct PinCheck {
  bool verified = false;
  uint8_t tries_left = 0;
};
card::CardResult<PinCheck> CheckPin(card::AppContext& app, uint16_t fid, ByteView value);
// The tries left of PIN file `fid` (6984 when no PIN is set yet).
card::CardResult<uint8_t> PinTriesLeft(card::AppContext& app, uint16_t fid);
// VERIFY (00 20 00 80): with data, a comparison; without, the status (9000 verified, 63Cx).
card::CardResult<card::Response> VerifyPin(card::AppContext& app, uint16_t fid,
                                           const CommandApdu& cmd);
// 6982 unless the PIN was verified on this channel.
card::CardStatus RequirePin(const card::AppContext& app);

// The EF `fid` of the application (6A82 when missing: the application is damaged).
card::CardResult<card::FileNode> AppFile(card::AppContext& app, uint16_t fid);
// Creates an EF in the application's DF.
card::CardResult<card::FileNode> CreateAppFile(card::AppContext& app, uint16_t fid, uint8_t sfi,
                                               card::EfStructure structure, uint16_t size,
                                               uint16_t records, const Bytes& security);

}  // namespace tessera::apps
