// Which card a host command talks to and how: one link (--image, --connect or --reader), the
// SCP03 session parameters, and whether exchanges are traced. The front-ends fill it from
// their options; the host library opens sessions from it (host/card_session.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace tessera::host {

struct LinkOptions {
  std::string image;                        // --image PATH
  std::optional<uint64_t> power_cut_after;  // --power-cut-after N (with --image)
  std::string connect;                      // --connect unix:PATH|tcp:HOST:PORT
  int timeout_s = 30;  // --timeout: connecting to and every exchange with a --connect card
  std::string reader;  // --reader NAME
  bool trace = false;
  bool json = false;
  bool raw = false;   // --raw: do not follow 61xx / 6Cxx
  std::string scp03;  // --scp03 test|KEYFILE: open an SCP03 session first
  uint8_t scp03_level = 0x03;
  uint8_t scp03_kvn = 0x00;
  bool scp03_s16 = false;
  bool scp03_tuned = false;  // --level, --kvn or --s16 given (they need --scp03)
};

// Why these card options cannot work together (a usage error), or "" if they can.
std::string CardUsageError(const LinkOptions& link);

}  // namespace tessera::host
