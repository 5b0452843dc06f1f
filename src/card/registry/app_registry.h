// The OS registry of installed applications (docs/applications.md §1–3): one entry block per
// application (AID, module, state, administrator, privileges, validity dates, its DF), listed
// in installation order by the registry block the root record points to, with the card's
// trusted current date. The application list of the management application (application_list.h)
// and the GlobalPlatform registry view (isd_content.cc) are both read from here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "card/kernel/card_error.h"
#include "card/kernel/card_root.h"
#include "core/bytes.h"
#include "format/application_record.h"
#include "nvm/nvm_store.h"

namespace tessera::card {

inline constexpr size_t kMaxApplications = 16;
using format::AppState;
using format::IsValidDate;
using format::kMaxAidLength;
using format::kMaxAppName;

inline constexpr uint8_t kCodeBuiltIn = 0x01;

struct RegistryEntry {
  uint16_t block = 0xFFFF;  // FFFF: not yet written
  AppState state = AppState::kActive;
  AppState before_erase = AppState::kActive;
  uint8_t admin_id = 0;
  Bytes privileges = Bytes(3, 0);
  Bytes aid;
  uint8_t code_format = kCodeBuiltIn;
  Bytes module_aid;
  uint16_t df = 0xFFFF;
  Bytes use_start = Bytes(3, 0);   // YYMMDD BCD, 000000 = no limit
  Bytes expiration = Bytes(3, 0);  // YYMMDD BCD, 000000 = no limit
  std::string name;
};

struct Registry {
  uint16_t block = 0xFFFF;
  Bytes trusted_date = Bytes(3, 0);  // 000000 = none
  std::vector<uint16_t> entries;     // entry blocks, installation order
};

// The registry named by the root (an empty one when the card has none yet).
CardResult<Registry> LoadRegistry(const nvm::NvmStore& store, const CardRoot& root);
// Writes the registry, allocating its block (and recording it in the root) when new.
CardStatus SaveRegistry(nvm::NvmStore& store, CardRoot& root, Registry& registry);

CardResult<RegistryEntry> LoadEntry(const nvm::NvmStore& store, uint16_t block);
// Just the state byte (the dispatcher's check before every command).
CardResult<AppState> LoadEntryState(const nvm::NvmStore& store, uint16_t block);
// Writes the entry, allocating its block when entry.block is FFFF.
CardStatus SaveEntry(nvm::NvmStore& store, RegistryEntry& entry);

CardResult<std::vector<RegistryEntry>> AllEntries(const nvm::NvmStore& store, const Registry& r);
// The entry with exactly this AID, or nullopt.
CardResult<std::optional<RegistryEntry>> FindEntry(const nvm::NvmStore& store, const Registry& r,
                                                   ByteView aid);

// The record door's transitions (DESIGN §5): active <-> locked; active or locked ->
// terminated or erased; erased -> active or locked (restore). Staying active or locked is
// allowed (a record update that changes its name or dates); terminated is final.
bool IsAllowedTransition(AppState from, AppState to);
// GP CS 2.3 life cycle of an application in each state (erased: not listed, 00).
uint8_t GpLifeCycle(AppState state);
// Whether `date` lies inside [use_start, expiration] (000000 bounds are open; no trusted date:
// always inside).
bool InsideWindow(const RegistryEntry& entry, ByteView trusted_date);

}  // namespace tessera::card
