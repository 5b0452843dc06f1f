// `tessera image init|show|check`: create, describe and verify NVM image files.
#pragma once

#include <string>
#include <vector>

namespace tessera::tools {

// Returns the process exit code: 0 success, 1 the image is damaged or the operation failed,
// 2 usage error.
int RunImageCommand(const std::vector<std::string>& args);

}  // namespace tessera::tools
