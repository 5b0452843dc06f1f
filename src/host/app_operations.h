// The card operations of application management (docs/applications.md), each a Status whose
// refusals carry the card's status word and what it means for that command: the record door
// (UPDATE RECORD, ERASE RECORD in a session with the management application), the
// GlobalPlatform door (SET STATUS, DELETE with the issuer security domain), and the card's
// trusted date (DF72). Sessions are opened here with the session's --scp03 keys.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"
#include "host/app_client.h"
#include "host/card_session.h"

namespace tessera::host {

// What the status words of an installation file's STORE DATA mean (docs/applications.md §5.2).
const std::vector<SwMeaning>& InstallMeanings();

// GP SET STATUS (80 F0 40 80|00) of `aid`: lock or unlock, with the ISD.
Status GpSetStatus(CardSession& s, ByteView aid, bool lock);
// UPDATE RECORD of `found`'s record number with `rewritten` (its status, maybe its signature),
// with the management application.
Status UpdateRecord(CardSession& s, const Listed& found, const AppRecord& rewritten);
// ERASE RECORD of `found`: the application deleted and wiped. `label` names it in messages.
Status EraseRecord(CardSession& s, const Listed& found, const std::string& label);
// GP DELETE (80 E4 00 00 4F aid) with the ISD.
Status GpDelete(CardSession& s, ByteView aid, const std::string& label);
// STORE DATA DF72 03 YYMMDD to the ISD: the card's trusted date (never moved backwards).
Status SetCardDate(CardSession& s, ByteView bcd);
// GET DATA DF72 of the ISD: the date, or nullopt when the card holds none.
Result<std::optional<Bytes>> ReadCardDate(CardSession& s);

}  // namespace tessera::host
