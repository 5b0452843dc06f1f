// The installation file (docs/applications.md §5.2): BF70 L { E1 record, C4 module AID or C7
// code, [C5 privileges], [C9 application data], [EF system parameters], [9E file signature] }, the
// objects in that order and each at most once. The file signature is the administrator's over every
// byte of the value before 9E, as sent, so that nothing the file makes the card do can change after
// signing; the record keeps its own signature (application_record.h). One codec for the card (STORE
// DATA at the issuer security domain) and the host (`apps make-install-file`, `apps install`).
#pragma once

#include <optional>

#include "core/bytes.h"
#include "core/status.h"
#include "format/application_record.h"
#include "format/identifiers.h"

namespace tessera::format {

struct InstallationFile {
  AppRecord record;                 // E1, with its own 9E when signed
  Bytes module_aid;                 // C4: a built-in module (5..16 bytes)
  std::optional<Bytes> code;        // C7: code bytes instead of C4
  std::optional<Bytes> privileges;  // C5: 3 bytes
  std::optional<Bytes> params;      // C9: the module's install parameters
  std::optional<Bytes> system;      // EF: system parameters (an applet's limits)
  Bytes signature;                  // 9E: 64 bytes r||s, or empty: unsigned
};

// The encodings of E1, C4 (or C7), [C5], [C9], [EF], in that order: what 9E signs.
Bytes SignedPart(const InstallationFile& file);
// BF70 L { SignedPart(file), [9E signature] }.
Bytes EncodeInstallationFile(const InstallationFile& file);

struct ParsedInstallationFile {
  InstallationFile file;
  // The bytes of the value before 9E exactly as they came (what the signature covers).
  Bytes signed_part;
};
// Parses BF70's value. kMalformed names what is wrong.
Result<ParsedInstallationFile> ParseInstallationFileValue(ByteView value);
// Parses exactly one BF70 object.
Result<ParsedInstallationFile> ParseInstallationFile(ByteView bytes);

}  // namespace tessera::format
