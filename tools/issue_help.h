// The help texts of `tessera issue` and its subcommands (docs/self-issuance.md §6).
#pragma once

namespace tessera::tools {

extern const char* const kIssueHelp;
extern const char* const kCompileHelp;
extern const char* const kInstallAppHelp;
extern const char* const kLoadGroupHelp;
extern const char* const kRunHelp;
extern const char* const kStatusHelp;
extern const char* const kStepHelp;
extern const char* const kImageWriteGroupHelp;

}  // namespace tessera::tools
