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
  bool raw = false;  // --raw: do not follow 61xx / 6Cxx
};

int RunApdu(const LinkOptions& link, const std::vector<std::string>& args);
int RunScript(const LinkOptions& link, const std::vector<std::string>& args);
int RunReaders(const LinkOptions& link, const std::vector<std::string>& args);

}  // namespace tessera::tools
