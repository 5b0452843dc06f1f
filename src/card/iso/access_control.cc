#include "card/iso/access_control.h"

namespace tessera::card {

bool PinSatisfies(uint8_t pin_reference, uint8_t se_number) {
  return se_number == 0 || (pin_reference & 0x1F) == se_number;
}

CardStatus CheckOperational(const FileNode& file) {
  if (file.deactivated() || file.terminated()) return Error::kConditionsNotSatisfied;
  return Ok{};
}

CardStatus CheckAccess(Card& card, const ChannelState& ch, const FileNode& file, uint8_t mode) {
  if (file.security.empty()) return Ok{};
  const uint8_t am = file.security[0];
  if ((am & mode) == 0) return Ok{};  // no condition given for this mode: always
  // Find this mode's SC byte: one per AM bit set, from b7 down to b1.
  size_t index = 1;
  for (uint8_t bit = 0x40; bit != mode; bit >>= 1) {
    if (am & bit) ++index;
  }
  if (index >= file.security.size()) return Error::kSecurityNotSatisfied;  // malformed: deny
  const uint8_t sc = file.security[index];
  if (sc == 0x00) return Ok{};
  if (sc == 0xFF) return Error::kSecurityNotSatisfied;
  const bool any = (sc & 0x80) != 0;
  const bool needs_sm = (sc & 0x40) != 0;
  const bool needs_external = (sc & 0x20) != 0;
  const bool needs_user = (sc & 0x10) != 0;
  const uint8_t se = sc & 0x0F;
  bool user_ok = false;
  if (needs_user && ch.verified_pins != 0) {
    auto refs = LoadPinReferences(card.store());
    if (!refs.ok()) return refs.error();
    for (size_t i = 0; i < kMaxPins; ++i) {
      if ((ch.verified_pins & (1u << i)) && PinSatisfies((*refs)[i], se)) user_ok = true;
    }
  }
  // Secure messaging: the command arrived in an authenticated SCP03 session with C-MAC, of the
  // issuer security domain, or of the selected domain for the files of its own DF.
  // External authentication (ISO) is not offered: that condition fails.
  bool sm_ok = false;
  if (needs_sm && ch.scp && ch.command_secured && (ch.scp->level() & crypto::scp03::kCMac)) {
    if (ch.scp_domain == card.issuer_security_domain()) {
      sm_ok = true;
    } else if (ch.scp_domain != nullptr && ch.scp_domain == ch.selected_app) {
      auto inside = card.fs().IsWithin(file, ch.app_df);
      if (!inside.ok()) return inside.error();
      sm_ok = *inside;
    }
  }
  const bool external_ok = false;
  bool granted;
  if (any) {
    granted = (needs_user && user_ok) || (needs_sm && sm_ok) || (needs_external && external_ok);
  } else {
    granted = (!needs_user || user_ok) && (!needs_sm || sm_ok) &&
              (!needs_external || external_ok) && (needs_user || needs_sm || needs_external);
  }
  return granted ? CardStatus(Ok{}) : CardStatus(Error::kSecurityNotSatisfied);
}

}  // namespace tessera::card
