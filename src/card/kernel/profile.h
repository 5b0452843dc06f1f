// The default card profile that `tessera image init` writes (docs/card-format.md §4):
//   MF 3F00
//   ├── EF.DIR 2F00 (SFI 30, linear variable): the application templates (61 {4F, 50})
//   ├── EF 2F01 (transparent, free to read): a greeting
//   ├── DDF 1PAY.SYS.DDF01 (FID 5000, FCI A5 {88 01 01, 5F2D "en"}): the EMV PSE
//   │   └── EF 5001 (SFI 1, linear variable): directory records 70 {61 {4F, 50, 87}}
//   └── DF F054455353455241 10 "TESSERA DEMO" (FID 1000), behind the user PIN:
//       ├── EF 1001 (SFI 1, transparent, 128 bytes)
//       ├── EF 1002 (SFI 2, linear fixed, 5 x 16)
//       ├── EF 1003 (SFI 3, cyclic, 10 x 8)
//       └── EF 1004 (SFI 4, linear variable, 10 x 64, free to read)
// ISD A000000151000000, card life cycle OP_READY, issuer key set KVN 30 = the well-known test
// keys 404142..4F.
// PINs: user 81 = "1234" (3 tries, unblocked by PUK 83 = "12345678", 10 tries);
//       administrator 82 = "87654321" (3 tries): creating and deleting files under the MF.
#pragma once

#include "core/status.h"
#include "crypto/scp03.h"
#include "nvm/geometry.h"
#include "nvm/nvm_device.h"

namespace tessera::card {

inline constexpr uint8_t kUserPin = 0x81;
inline constexpr uint8_t kAdminPin = 0x82;
inline constexpr uint8_t kPuk = 0x83;
// The issuer's SCP03 key set: the well-known test keys 404142..4F (ENC = MAC = DEK).
inline constexpr uint8_t kTestKeyVersion = 0x30;

// The security level administrative commands need once the card is SECURED, unless the image
// asks for more (`tessera image init --min-security-level`): C-MAC, as GlobalPlatform hosts
// use by default.
inline constexpr uint8_t kDefaultAdminLevel = 0x01;

// Formats the device and writes the default profile. REQUIRES: block size >= 256.
// `issuer_keys` replaces the test keys of key set 30 when given; `admin_level` is the card's
// minimum security level for administration once SECURED (01, 03, 11, 13 or 33); `serial` the
// card serial (card_root.h: LoadCardSerial; 0 = none).
Status InstallDefaultProfile(nvm::NvmDevice& device, const nvm::Geometry& geometry,
                             const crypto::scp03::StaticKeys* issuer_keys = nullptr,
                             uint8_t admin_level = kDefaultAdminLevel, uint64_t serial = 0);

}  // namespace tessera::card
