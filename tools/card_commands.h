// `tessera apdu`, `tessera script`, `tessera readers`: raw access to a card.
#pragma once

#include <string>
#include <vector>

namespace tessera::tools {

struct LinkOptions {
  std::string image;    // --image PATH
  std::string connect;  // --connect unix:PATH|tcp:HOST:PORT
  std::string reader;   // --reader NAME
  bool trace = false;
  bool json = false;
  bool raw = false;   // --raw: do not follow 61xx / 6Cxx
  std::string scp03;  // --scp03 test|KEYFILE: open an SCP03 session first
  uint8_t scp03_level = 0x03;
  uint8_t scp03_kvn = 0x00;
  bool scp03_s16 = false;
};

int RunApdu(const LinkOptions& link, const std::vector<std::string>& args);
int RunScript(const LinkOptions& link, const std::vector<std::string>& args);
int RunReaders(const LinkOptions& link, const std::vector<std::string>& args);

}  // namespace tessera::tools
