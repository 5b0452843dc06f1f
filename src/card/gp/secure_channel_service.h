// Opening SCP03 sessions: a channel service that every application with the security-domain
// privilege offers, with its own key sets (GP CS 2.3 §10, Amendment D). The dispatcher sends
// INITIALIZE UPDATE (80 50) and EXTERNAL AUTHENTICATE (84 82) here when the selected
// application is a security domain; the session it opens belongs to that domain.
//
// What ends a session (GP CS 2.2/2.3 §10.2.3 "Secure Channel Termination", and Amendment D
// for SCP03), each tested in card/gp/isd_test.cc and apps/application_module_test.cc:
//  - a new INITIALIZE UPDATE on the channel (also a failed one);
//  - any secure-messaging verification failure (6982, or 6988 for a malformed wrapping);
//  - the domain being deselected: SELECT of another application, or of a file outside the
//    domain's own DF;
//  - the logical channel being closed, a card reset, a power-off or power cut.
// A command other than EXTERNAL AUTHENTICATE after INITIALIZE UPDATE abandons the session
// being opened (never an authenticated one).
#pragma once

#include "card/kernel/application.h"
#include "card/kernel/card.h"

namespace tessera::card {

CardResult<Response> HandleInitializeUpdate(Card& card, ChannelState& ch, SecurityDomain& domain,
                                            const CommandApdu& cmd);
CardResult<Response> HandleExternalAuthenticate(Card& card, ChannelState& ch,
                                                SecurityDomain& domain, const CommandApdu& cmd);

// Administrative commands of `domain`: the command arrived in an authenticated session of the
// domain that is selected on `ch`; once the card is SECURED (or locked), at least at the level
// the card's policy names (C-MAC by default). 6982 otherwise. The stored commands of a
// self-issuance run in privileged mode count as the issuer's (Card::privileged_internal).
CardStatus RequireAdminSession(Card& card, const ChannelState& ch);

}  // namespace tessera::card
