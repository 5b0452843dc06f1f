// The OS's units of record-driven application management (seed JP6426411B2, FIGS. 8–14;
// docs/applications.md): installation, the change unit (an application's state follows a
// status change), the application deletion unit (physical deletion with wiping), and the
// directories (PSE, EF.DIR) that follow the registry. Each stages its writes in the command's
// open transaction, so that registry entry, DF, record and directories commit together or not
// at all; the management application (src/apps/) and the issuer security domain's
// GlobalPlatform commands (isd_content.cc) both call them.
#pragma once

#include <optional>

#include "card/kernel/card_error.h"
#include "card/registry/app_registry.h"
#include "card/registry/application_list.h"

namespace tessera::card {

class Card;

// An application's DF: no OS file command may change its life cycle or delete it; only the
// application's own life cycle does (AM 7F, every SC "never").
inline const Bytes kApplicationDfSecurity = HexOrDie("7FFFFFFFFFFFFFFF");

struct Installation {
  // AID, module, administrator, privileges, dates, name and the initial state (active or
  // locked); block and DF are filled in.
  RegistryEntry entry;
  Bytes params;  // the module's installation parameters (C9 content)
  // Code format 02 and up: the code object after its format byte, and the system parameters
  // (EF content; a built-in module takes none).
  Bytes code;
  Bytes system;
  // Which module of `code` the application runs as (empty: the first): GP INSTALL names it.
  Bytes module_in_code;
  // The installation file's record; nullopt: an unsigned one is made from the entry
  // (GlobalPlatform INSTALL).
  std::optional<AppRecord> record;
};

// Installs an application (seed FIG. 8): its DF, then the code reference (the registry entry),
// then the data (the module's files), then the record and the directories. Status words as in
// docs/applications.md §5.2.
CardResult<RegistryEntry> InstallApplication(Card& card, Installation& installation);

// The change unit: sets `entry`'s state to `to` (6985 when the transition is illegal) and
// refreshes the directories. `update_record`: also set the record's status (a change through
// the GlobalPlatform door; the record door has written the record itself).
CardStatus ChangeApplicationState(Card& card, RegistryEntry& entry, AppState to,
                                  bool update_record);

// The application deletion unit: the module's Delete, then the DF and every file below it
// deleted (their blocks wiped after the commit, or by recovery), the registry entry freed and
// wiped, the directories refreshed, its sessions ended and its channels back at the MF.
// `remove_record`: also remove its record (the GlobalPlatform door; the record door's record
// deletion unit has removed it already).
CardStatus DeleteApplication(Card& card, const RegistryEntry& entry, bool remove_record);

// Rewrites the EMV PSE directory and EF.DIR so that they list exactly the applications SELECT
// answers with 9000 (active and inside their validity window), in registry order.
CardStatus RefreshDirectories(Card& card);

// The AIDs an application may not take: the ISD's, the PSE's, those of the modules registered
// with `card`, and a module's bound application AID (unless it is that module's instance);
// none may be a prefix of another, so that SELECT by partial name cannot reach the wrong one.
bool IsReservedAid(const Card& card, ByteView aid, ByteView module_aid);

}  // namespace tessera::card
