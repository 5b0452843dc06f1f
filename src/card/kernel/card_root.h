// The card OS's root record, at the start of the NVM root area: card state, the MF's node, the
// data-object block and the key sets; and, after it in the root area, the PIN table, a record
// of its own so that the PIN values (in zeroising memory) are read only by the PIN commands,
// never copied with the root on every command. Layout: docs/card-format.md §1.
#pragma once

#include <array>
#include <cstdint>

#include "card/kernel/card_error.h"
#include "core/bytes.h"
#include "core/secure_bytes.h"
#include "nvm/nvm_store.h"

namespace tessera::card {

// Offsets in the root area (docs/card-format.md §1), for its codec (card_root.cc) and the
// checker (card_inspector.cc).
namespace root_field {
inline constexpr uint32_t kMagic = 0, kVersion = 4, kCardState = 5, kMf = 6, kDataObjects = 8;
inline constexpr uint32_t kKeySets = 10, kLifeCycle = 26, kAdminLevel = 27, kRegistry = 28;
inline constexpr uint32_t kAdministrators = 30, kReserved = 32;
inline constexpr uint32_t kPins = 32, kPinEntry = 24;
// Inside a PIN entry.
inline constexpr uint32_t kPinReference = 0, kPinMaxTries = 1, kPinTriesLeft = 2;
inline constexpr uint32_t kPinLength = 3, kPinValue = 4, kPinPuk = 20;
}  // namespace root_field

inline constexpr size_t kMaxPins = 8;
inline constexpr size_t kMaxPinLength = 16;
inline constexpr uint8_t kCardOperational = 0x05;
inline constexpr uint8_t kCardTerminated = 0x0C;

struct PinRecord {
  uint8_t reference = 0;  // 0 = unused slot; P2 of VERIFY (b8 = specific, b5-b1 = number)
  uint8_t max_tries = 3;
  uint8_t tries_left = 3;
  SecureBytes value;          // 1..16 bytes
  uint8_t puk_reference = 0;  // PIN that unblocks this one (RESET RETRY COUNTER), 0 = none
};

inline constexpr size_t kMaxKeySets = 8;
// GlobalPlatform card life cycle (GP CS 2.3 §5.1.1, Table 11-16 codings).
inline constexpr uint8_t kGpOpReady = 0x01;
inline constexpr uint8_t kGpInitialized = 0x07;
inline constexpr uint8_t kGpSecured = 0x0F;
inline constexpr uint8_t kGpCardLocked = 0x7F;
inline constexpr uint8_t kGpTerminated = 0xFF;

struct CardRoot {
  uint8_t card_state = kCardOperational;
  uint8_t gp_life_cycle = kGpOpReady;
  // The secure-channel level administrative commands need once the card is SECURED.
  uint8_t admin_level = 0x01;                  // C-MAC (profile.h: kDefaultAdminLevel)
  std::array<uint16_t, kMaxKeySets> key_sets;  // blocks of SCP03 key sets, FFFF = none
  uint16_t mf = 0xFFFF;
  uint16_t data_objects = 0xFFFF;    // block holding PUT DATA objects (a BER-TLV sequence)
  uint16_t registry = 0xFFFF;        // the application registry block (app_registry.h)
  uint16_t administrators = 0xFFFF;  // the administrator registry block (admin_registry.h)

  CardRoot() { key_sets.fill(0xFFFF); }
};

struct PinTable {
  std::array<PinRecord, kMaxPins> pins;
  // Slot of the PIN with this reference, or -1.
  int Find(uint8_t reference) const;
};

// kMemoryFailure when the root area holds no card (a blank or foreign store).
CardResult<CardRoot> LoadRoot(const nvm::NvmStore& store);
CardStatus SaveRoot(nvm::NvmStore& store, const CardRoot& root);
// The PIN table. Saving it marks the transaction sensitive (its journal body is zeroed).
CardResult<PinTable> LoadPins(const nvm::NvmStore& store);
CardStatus SavePins(nvm::NvmStore& store, const PinTable& table);
// Just the PIN references of the table (for access checks on every command).
CardResult<std::array<uint8_t, kMaxPins>> LoadPinReferences(const nvm::NvmStore& store);
// Just the card state byte (for the dispatcher's check on every command).
CardResult<uint8_t> LoadCardState(const nvm::NvmStore& store);
// The card serial (0: none; the default profile writes the one batch issuance gives): it
// diversifies the card's keys (docs/self-issuance.md §7)
// and is answered in GET DATA CF (key diversification data) and the CPLC.
CardResult<uint64_t> LoadCardSerial(const nvm::NvmStore& store);
CardStatus SaveCardSerial(nvm::NvmStore& store, uint64_t serial);
// NVM offset of a PIN's tries-left byte, for the early commit before comparison.
uint32_t PinTriesOffset(const nvm::NvmStore& store, size_t slot);

}  // namespace tessera::card
