#include "host/json_text.h"

namespace tessera::host {

std::string DumpJson(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace tessera::host
