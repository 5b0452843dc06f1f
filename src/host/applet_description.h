// Applet code in descriptions (docs/applets.md): the [applet] table and the code field of an
// installation-file description (install_file_builder.h), and package descriptions for
// `tessera apps load`. Each package is checked as the card checks it (format/applet_package.h)
// before anything is signed or sent.
#pragma once

#include <optional>
#include <string>

#include "core/bytes.h"
#include "core/status.h"
#include "format/applet_package.h"
#include "host/description_fields.h"

namespace tessera::host {

// The C7 content (code format 02, then the package) and the EF system parameters (set when a
// limit is given) of an [applet] table: package, module, source, module_name, version, heap,
// persistent, instructions.
struct AppletCode {
  Bytes code;
  std::optional<Bytes> system;
};
Result<AppletCode> AppletTableCode(const desc::Fields& applet, const std::string& app_name,
                                   const std::string& base_dir);
// code = "FILE.lua": one module, the package AID the application's, the module AID the
// application's || 01.
Result<AppletCode> CodeFieldCode(const desc::Fields& f, ByteView app_aid, const std::string& name,
                                 const std::string& base_dir);
// A package description (`tessera apps load`, docs/applets.md §2), .toml or .json:
//   package      hex, 5..16 bytes: the package (load file) AID        (required)
//   version      "MAJOR.MINOR"                                         (default "1.0")
//   [modules.NAME]  one table per module (1..4): NAME is its name, and
//                  aid     hex, 5..16 bytes                            (required)
//                  source  the Lua source's path, relative to the description (required)
Result<format::AppletPackage> LoadPackageDescription(const std::string& path);

}  // namespace tessera::host
