#include "host/link_options.h"

#include "core/bytes.h"
#include "crypto/scp03.h"

namespace tessera::host {

std::string CardUsageError(const LinkOptions& o) {
  const int given = !o.image.empty() + !o.connect.empty() + !o.reader.empty();
  if (given > 1) return "give only one of --image, --connect and --reader";
  if (given == 0) return "no card: give --image PATH, --connect ENDPOINT or --reader NAME";
  if (o.scp03.empty() && o.scp03_tuned) return "--level, --kvn and --s16 need --scp03 KEYS";
  if (o.power_cut_after && o.image.empty()) {
    return "--power-cut-after works on an in-process card (--image): cut a served card's power "
           "by killing tessera-card";
  }
  if (!crypto::scp03::ValidSecurityLevel(o.scp03_level)) {
    return "--level " + HexByte(o.scp03_level) +
           ": not an SCP03 security level (00, 01, 03, 11, 13 or 33)";
  }
  return "";
}

}  // namespace tessera::host
