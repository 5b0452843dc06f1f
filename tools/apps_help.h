// The help texts of `tessera apps`, `admin` and `card` (tools/apps_commands.cc).
#pragma once

namespace tessera::tools {

extern const char* const kAppsHelp;
extern const char* const kMakeHelp;
extern const char* const kListHelp;
extern const char* const kInstallHelp;
extern const char* const kSetStatusHelp;
extern const char* const kDeleteHelp;
extern const char* const kSetDateHelp;
extern const char* const kAdminHelp;

}  // namespace tessera::tools
