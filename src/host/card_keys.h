// Per-card SCP03 keys for issuance at bureau scale (docs/self-issuance.md §7): every card's
// issuer key set is derived from one master key and the card serial, so that a bureau keeps
// one secret and any card's keys can be recomputed from the serial the card reports (GET DATA
// CF, key diversification data).
//
//   K_role = KDF(master, constant, 128 bits, context = "TESSERA" || serial (8 bytes, big-endian))
//
// with the NIST SP 800-108 counter-mode AES-CMAC KDF of SCP03 (crypto/scp03.h: Kdf) and the
// constants 0x11 (ENC), 0x12 (MAC), 0x13 (DEK). The master key is an AES key of 16, 24 or 32
// bytes.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "crypto/scp03.h"
#include "crypto/secure_buffer.h"

namespace tessera::host {

Result<crypto::scp03::StaticKeys> DeriveCardKeys(ByteView master, uint64_t serial);

// "test" (the well-known 404142..4F, with a warning on stderr when `warn`) or a file holding
// one line "master=HEX" ('#' comments). Never echoes key bytes in errors.
Result<crypto::SecureBuffer> LoadMasterKey(const std::string& spec, bool warn);

// An SCP03 key file (enc=, mac=, dek= lines in hex, '#' comments; --scp03 KEYFILE, --keys,
// --scp03-keys), read with ReadInputFile: errors name the file and never echo key bytes.
Result<crypto::scp03::StaticKeys> LoadKeyFile(const std::string& path);

// Writes an SCP03 key file (enc=, mac=, dek= lines, the format of --scp03 KEYFILE) readable by
// its owner only. kFailedPrecondition if `path` exists.
Status WriteKeyFile(const std::string& path, const crypto::scp03::StaticKeys& keys);

}  // namespace tessera::host
