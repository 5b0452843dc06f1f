// Installation files (docs/applications.md §5.2): BF70 { E1 record, C4 module AID, [C5 03
// privileges], [C9 module parameters], 9E file signature }, built from a description in TOML
// or JSON.
//
// The description (the same keys in both formats):
//   aid          hex, 5..16 bytes                       (required)
//   name         UTF-8, 1..32 bytes                     (required)
//   admin_name   UTF-8, 1..32 bytes                     (required)
//   admin_id     integer 0..127 (0 = the card issuer)   (required)
//   use_start    "YYMMDD" (TOML: also a date)           (default "000000": none)
//   expiration   "YYMMDD" (TOML: also a date)           (default "000000": none)
//   status       "active" | "locked"                    (default "active")
//   module       "data-store" | "purse" | "files" | "management" | a module AID in hex
//   privileges   hex, 3 bytes (GP C5 coding)            (default: no C5, the card's 000000)
//   params       a table of the module's parameters (§6), encoded as the C9 content:
//                  data-store: pin (text, 4..16 bytes), tries (1..15), data (text) or
//                              data_hex (hex), at most 512 bytes
//                  purse:      balance, limit (0..4294967295), pin (text, 4..16 bytes)
//   params_hex   the C9 content as hex, instead of params
//   applet       instead of module: an applet package of one module (docs/applets.md), a table
//                  package      hex, 5..16 bytes: the package (load file) AID   (required)
//                  module       hex, 5..16 bytes: the module AID                 (required)
//                  source       path of the module's Lua source, relative to the description
//                               (required)
//                  module_name  UTF-8, 1..32 bytes                 (default: the name above)
//                  version      "MAJOR.MINOR"                      (default "1.0")
//                  heap, persistent, instructions   the applet's limits (docs/applets.md §2;
//                               any one given writes all three, the others at their defaults)
//                params / params_hex are then the applet's install(params) string.
//   code         instead of module: "FILE.lua", the path of one module's Lua source: a package
//                whose AID is the application's, its module AID the application's || 01
// (applet_description.h reads the applet's code and package descriptions.)
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/ecdsa.h"
#include "format/applet_package.h"
#include "host/app_record.h"

namespace tessera::host {

struct InstallDescription {
  AppRecord record;                 // no signature yet
  Bytes module_aid;                 // a built-in module (C4), or empty with `code`
  std::optional<Bytes> code;        // C7 content: the code format byte, then the code
  std::optional<Bytes> system;      // EF content: the applet's limits
  std::optional<Bytes> privileges;  // 3 bytes
  std::optional<Bytes> params;      // the C9 content
  bool params_hold_pin = false;     // params carry a PIN (never print them)
  std::vector<std::string> warnings;
};

// Errors are kInvalidArgument "FILE:LINE: field 'aid': ..." (the line when the format keeps
// it: TOML does, JSON does not); values of secret fields (pin) are never repeated.
// `base_dir`: where an applet's source path is relative to (empty: the working directory).
Result<InstallDescription> ParseInstallDescriptionToml(std::string_view text,
                                                       const std::string& source,
                                                       const std::string& base_dir = "");
Result<InstallDescription> ParseInstallDescriptionJson(std::string_view text,
                                                       const std::string& source,
                                                       const std::string& base_dir = "");
// By extension: .toml or .json.
Result<InstallDescription> LoadInstallDescription(const std::string& path);

// What the file signature covers: the encodings of E1 (with 9E = record_signature unless it is
// empty), C4, [C5], [C9], in that order: every byte of BF70's value before the file's 9E.
Bytes InstallFileSignedData(const InstallDescription& d, ByteView record_signature);
// BF70 L { InstallFileSignedData(d, record_signature), [9E file_signature] } (no 9E when
// file_signature is empty: an unsigned file, which the card refuses).
Bytes BuildInstallFile(const InstallDescription& d, ByteView record_signature,
                       ByteView file_signature);
// The signed installation file: the record signed with `private_key` (over SignedPart), then
// the file (over InstallFileSignedData); both checked against the key's public point.
Result<Bytes> SignInstallFile(const InstallDescription& d, const crypto::P256KeyPair& key);

// The largest upload the card joins (docs/applications.md §5.1).
inline constexpr size_t kMaxInstallFile = 32 * 1024 + 1024;

// What `tessera apps install` checks before uploading: one BF70 object holding the record
// (which parses) first, code, and nothing after a file signature. Returns the record.
Result<AppRecord> CheckInstallFile(ByteView file);

}  // namespace tessera::host
