// `tessera apdu`, `tessera script`, `tessera readers`: raw access to a card.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tessera::tools {

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

// Why these card options cannot work together (a usage error, exit 2), or "" if they can.
std::string CardUsageError(const LinkOptions& link);

// Exit codes, as 'tessera --help' documents them: 0 every command was exchanged with the card
// (whatever its status words), 1 a card, image or I/O failure or an APDU that is not one, 2 a
// usage error. Responses already received are printed before a failure is reported. `args` are
// the command's operands (main has taken the options); "--help" prints the command's help.
int RunApdu(const LinkOptions& link, const std::vector<std::string>& args);
int RunScript(const LinkOptions& link, const std::vector<std::string>& args);
int RunReaders(const LinkOptions& link, const std::vector<std::string>& args);

}  // namespace tessera::tools
