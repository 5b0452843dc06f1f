// What every issuance front-end asks of a card's issuance application (docs/self-issuance.md):
// select it, read the card's serial, find a function's table record, install the application.
// Failures are Status values; a card's refusal carries its status word (host::Refused).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "host/card_session.h"
#include "host/issuance_protocol.h"

namespace tessera::host {

// What SELECT of the issuance application, and EXECUTE ISSUANCE, answer (the issuance
// application's own meanings before the generic ones).
const std::vector<SwMeaning>& SelectMeanings();
const std::vector<SwMeaning>& ExecuteMeanings();

// SELECT of the issuance application (F054455353455241 02), plain.
Status SelectIssuanceApp(CardSession& s);

// A card without a serial (an image made before cards had one): it has no identity to key a
// state file by, or to recognise after a reconnection.
inline constexpr const char* kNoSerial = "0000000000000000";

// The card serial from the issuer security domain's GET DATA CF (key diversification data:
// 00 00 || serial, docs/card-format.md §1), as 16 hex digits: the identity state files are
// keyed by. `privileged`, if given, is set when the card refused the SELECT because it runs
// stored commands for another connection (6985: the only reason the ISD refuses to be
// selected).
Result<std::string> ReadCardSerial(CardSession& s, bool* privileged = nullptr);

// Function `f`'s table record (the issuance application selected), or NotFound. The table is
// readable only in the issuer's session (docs/self-issuance.md §1): `in_session` reads it there;
// without one, a refused read (6982) gives a record that is not `known`.
Result<TableRecord> FindFunction(CardSession& s, uint8_t f, bool in_session);

// Installs the issuance application in an issuer session with the ISD (opened here): true when
// it was installed, false when it was there already.
Result<bool> InstallIssuanceApp(CardSession& s);

}  // namespace tessera::host
