// Applications as the card OS sees them. Each logical channel has a selected application (or
// none: the file system). The OS keeps the interindustry commands ISO/IEC 7816-4 gives it
// (SELECT, MANAGE CHANNEL, GET RESPONSE, and the file, PIN and data-object commands); every
// command an application declares goes to it while it is selected, so INS codes that ISO and
// GlobalPlatform share (E2, E4, E6, E8) reach the right handler.
//
// Applications are registered from above (src/apps/): Card::AddApplication.
// The issuer security domain (isd_application.h) is one of them. An application with the
// security-domain privilege also offers secure-channel sessions with its own key sets
// (secure_channel_service.h).
#pragma once

#include <span>
#include <vector>

#include "card/gp/key_store.h"
#include "card/kernel/card_error.h"
#include "core/apdu.h"
#include "nvm/nvm_store.h"

namespace tessera::card {

class Card;
struct ChannelState;
struct Response;

// A command handler: the card, the channel the command arrived on (or the internal channel of
// self-issuance), and the de-chained, unwrapped command.
using Handler = CardResult<Response> (*)(Card&, ChannelState&, const CommandApdu&);

// Which class bytes a route takes: GlobalPlatform commands use the proprietary class (CLA b8
// set), so an interindustry command with the same INS (DELETE FILE vs DELETE) passes them by.
enum class ClassRange : uint8_t { kAny, kProprietary };

struct Route {
  uint8_t ins;
  Handler handler;
  ClassRange classes = ClassRange::kAny;
};

// The security-domain privilege: key sets to open SCP03 sessions with (GP CS 2.3 §10).
class SecurityDomain {
 public:
  virtual ~SecurityDomain() = default;
  // The domain's own key sets (an empty list: it offers no session).
  virtual CardResult<std::vector<KeySet>> KeySets(Card& card) = 0;
  // Writes `set` back (counters, new keys) inside the open transaction. REQUIRES: `set` came
  // from KeySets() of this domain, or is new (block FFFF) and is added to the domain.
  virtual CardStatus SaveKeySet(Card& card, KeySet& set) = 0;
};

// What the selected application's state lets a command reach (docs/applications.md §2).
enum class AppAccess : uint8_t {
  kCode,    // the application's commands, then the OS's
  kOsOnly,  // only the OS's (a terminated application's data, read through the OS)
};

class Application {
 public:
  virtual ~Application() = default;
  // The AID the application is registered under.
  virtual ByteView aid() const = 0;
  // Whether SELECT by DF name with `name` selects this application (P1 = 04, first
  // occurrence). Default: the whole AID, or a leading part of at least 5 bytes (the RID).
  virtual bool Answers(ByteView name) const;
  // Whether SELECT may pick the application now: the status word it answers with (9000, or a
  // warning such as 6283), or the error (6A82: not selectable). Default: 9000.
  virtual CardResult<uint16_t> Selectable(Card& card);
  // Runs when SELECT picks this application on `ch`: the response data (FCI) and status word.
  // An error leaves the previous selection in place.
  virtual CardResult<Response> Select(Card& card, ChannelState& ch, const CommandApdu& cmd) = 0;
  // Before every command (but SELECT and MANAGE CHANNEL) while the application is selected:
  // what the command may reach, or the error it gets. Default: everything.
  virtual CardResult<AppAccess> Admit(Card& card, ChannelState& ch, const CommandApdu& cmd);
  // The application is no longer selected on `ch` (another one is, or none).
  virtual void Deselect(ChannelState& ch) { (void)ch; }
  // An instance of a module in the OS registry (installed_application.h).
  virtual bool installed() const { return false; }
  // The commands the application handles while selected, by INS.
  virtual std::span<const Route> commands() const = 0;
  // Non-null when the application has the security-domain privilege.
  virtual SecurityDomain* security_domain() { return nullptr; }
};

}  // namespace tessera::card
