// Compact security attributes (ISO/IEC 7816-4 §5.3.3.2; FCP tag 8C) and their evaluation.
//
// The value is an access-mode byte AM followed by one security-condition byte SC for each AM
// bit set, from b7 down to b1. SC 00 = always, FF = never; otherwise b8 = 1 means "at least one
// condition", 0 "all conditions"; b7 = secure messaging; b6 = external authentication; b5 = user
// authentication (a PIN); b4-b1 = the security environment number, which Tessera reads as the
// PIN number (1..15; 0 = any verified PIN). Secure messaging is satisfied by a command that
// arrives in an authenticated SCP03 session with C-MAC; external authentication never is.
// A file without 8C is open to every access.
#pragma once

#include <cstdint>

#include "card/kernel/card.h"

namespace tessera::card {

// EF access-mode bits.
inline constexpr uint8_t kAmRead = 0x01;
inline constexpr uint8_t kAmUpdate = 0x02;  // update and erase
inline constexpr uint8_t kAmWrite = 0x04;   // write and append
// Both EF and DF.
inline constexpr uint8_t kAmDeactivate = 0x08;
inline constexpr uint8_t kAmActivate = 0x10;
inline constexpr uint8_t kAmTerminate = 0x20;
inline constexpr uint8_t kAmDeleteSelf = 0x40;
// DF access-mode bits.
inline constexpr uint8_t kAmDeleteChild = 0x01;
inline constexpr uint8_t kAmCreateEf = 0x02;
inline constexpr uint8_t kAmCreateDf = 0x04;

// 6982 unless the channel's security status satisfies the condition for `mode`.
CardStatus CheckAccess(Card& card, const ChannelState& ch, const FileNode& file, uint8_t mode);
// 6985 for deactivated or terminated files (only SELECT and ACTIVATE reach those).
CardStatus CheckOperational(const FileNode& file);
// 0x80 | number for a PIN's specific reference; the low bits name it in SC bytes.
bool PinSatisfies(uint8_t pin_reference, uint8_t se_number);

}  // namespace tessera::card
