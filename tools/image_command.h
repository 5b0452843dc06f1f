// `tessera image init|show|check|ls`: create, describe, verify and list NVM image files.
#pragma once

#include <string>
#include <vector>

namespace tessera::tools {

// Returns the process exit code: 0 success, 1 the image is damaged or the operation failed,
// 2 usage error.
int RunImageCommand(const std::vector<std::string>& args);

}  // namespace tessera::tools
