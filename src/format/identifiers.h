// The one registry of the identifiers the card answers to: instruction codes, application
// identifiers and the data-object tags of the card's own commands. The dispatcher, the handlers
// and the host's trace decoder all read them from here, so a name or a code exists once.
//
// Identifiers are never reused: one that falls out of use is kept here, marked retired, so
// that no later command or application takes its code (OpenSK's rule for storage keys).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "core/bytes.h"

namespace tessera::format {

// Instruction codes (INS). ISO/IEC 7816-4/-9 interindustry commands, then GlobalPlatform's,
// then Tessera's proprietary ones.
namespace ins {
inline constexpr uint8_t kDeactivateFile = 0x04;
inline constexpr uint8_t kEraseRecord = 0x0C;
inline constexpr uint8_t kEraseBinary = 0x0E;
inline constexpr uint8_t kVerify = 0x20;
inline constexpr uint8_t kChangeReferenceData = 0x24;
inline constexpr uint8_t kResetRetryCounter = 0x2C;
inline constexpr uint8_t kActivateFile = 0x44;
inline constexpr uint8_t kManageChannel = 0x70;
inline constexpr uint8_t kExternalAuthenticate = 0x82;
inline constexpr uint8_t kGetChallenge = 0x84;
inline constexpr uint8_t kSearchRecord = 0xA2;
inline constexpr uint8_t kSelect = 0xA4;
inline constexpr uint8_t kReadBinary = 0xB0;
inline constexpr uint8_t kReadRecord = 0xB2;
inline constexpr uint8_t kGetResponse = 0xC0;
inline constexpr uint8_t kGetData = 0xCA;
inline constexpr uint8_t kUpdateBinary = 0xD6;
inline constexpr uint8_t kPutData = 0xDA;
inline constexpr uint8_t kUpdateRecord = 0xDC;
inline constexpr uint8_t kCreateFile = 0xE0;
inline constexpr uint8_t kAppendRecord = 0xE2;
inline constexpr uint8_t kDeleteFile = 0xE4;
inline constexpr uint8_t kTerminateDf = 0xE6;
inline constexpr uint8_t kTerminateEf = 0xE8;
inline constexpr uint8_t kTerminateCardUsage = 0xFE;
// GlobalPlatform (proprietary class, CLA 80/84), addressed to a security domain.
inline constexpr uint8_t kInitializeUpdate = 0x50;
inline constexpr uint8_t kPutKey = 0xD8;
inline constexpr uint8_t kStoreData = 0xE2;  // shares E2 with APPEND RECORD
inline constexpr uint8_t kDelete = 0xE4;     // shares E4 with DELETE FILE
inline constexpr uint8_t kInstall = 0xE6;    // shares E6 with TERMINATE DF
inline constexpr uint8_t kLoad = 0xE8;       // shares E8 with TERMINATE EF
inline constexpr uint8_t kSetStatus = 0xF0;
inline constexpr uint8_t kGetStatus = 0xF2;
// Tessera (proprietary class), addressed to the issuance application (self-issuance).
inline constexpr uint8_t kExecuteIssuance = 0xEA;
}  // namespace ins

struct InstructionInfo {
  uint8_t ins;
  std::string_view interindustry;  // its name in an interindustry class (CLA b8 = 0), or ""
  std::string_view proprietary;    // its name in the proprietary class (CLA 80/84), or ""
};

// Every instruction the card knows, in INS order.
std::span<const InstructionInfo> KnownInstructions();
// The name of INS in the class CLA selects ("" when the card knows no such command). Where ISO
// and GlobalPlatform share a code, the class decides, as it does for the security domain.
std::string_view InstructionName(uint8_t cla, uint8_t ins);

// Application identifiers.
namespace aid {
// GlobalPlatform issuer security domain.
inline constexpr uint8_t kIssuerSecurityDomain[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00};
// Tessera's registered-application prefix "F0 'TESSERA'" and the applications under it.
inline constexpr uint8_t kManagementApplication[] = {0xF0, 0x54, 0x45, 0x53, 0x53,
                                                     0x45, 0x52, 0x41, 0x01};
inline constexpr uint8_t kIssuanceApplication[] = {0xF0, 0x54, 0x45, 0x53, 0x53,
                                                   0x45, 0x52, 0x41, 0x02};
// The built-in modules (executable load files in the GlobalPlatform view): "F0 'TESSERA' 'M' nn".
inline constexpr uint8_t kManagementModule[] = {0xF0, 0x54, 0x45, 0x53, 0x53,
                                                0x45, 0x52, 0x41, 0x4D, 0x00};
inline constexpr uint8_t kDataStoreModule[] = {0xF0, 0x54, 0x45, 0x53, 0x53,
                                               0x45, 0x52, 0x41, 0x4D, 0x01};
inline constexpr uint8_t kPurseModule[] = {0xF0, 0x54, 0x45, 0x53, 0x53,
                                           0x45, 0x52, 0x41, 0x4D, 0x02};
inline constexpr uint8_t kFilesModule[] = {0xF0, 0x54, 0x45, 0x53, 0x53,
                                           0x45, 0x52, 0x41, 0x4D, 0x03};
inline constexpr uint8_t kIssuanceModule[] = {0xF0, 0x54, 0x45, 0x53, 0x53,
                                              0x45, 0x52, 0x41, 0x4D, 0x04};
// The EMV payment system environment's DDF name, "1PAY.SYS.DDF01".
inline constexpr uint8_t kPse[] = {'1', 'P', 'A', 'Y', '.', 'S', 'Y',
                                   'S', '.', 'D', 'D', 'F', '0', '1'};
// The default profile's demo application DF.
inline constexpr uint8_t kDemoApplication[] = {0xF0, 0x54, 0x45, 0x53, 0x53,
                                               0x45, 0x52, 0x41, 0x10};
}  // namespace aid

// GlobalPlatform data objects the issuer security domain answers GET DATA for (P1P2).
namespace tag {
inline constexpr uint16_t kIin = 0x0042;
inline constexpr uint16_t kCin = 0x0045;
inline constexpr uint16_t kCardData = 0x0066;
inline constexpr uint16_t kSequenceCounter = 0x00C1;
inline constexpr uint16_t kKeyDiversificationData = 0x00CF;
inline constexpr uint16_t kKeyInformation = 0x00E0;
inline constexpr uint16_t kCplc = 0x9F7F;
// Tessera's objects (docs/applications.md §5): STORE DATA objects and GET DATA tags.
inline constexpr uint16_t kInstallationFile = 0xBF70;
inline constexpr uint16_t kAdministrator = 0xBF71;
inline constexpr uint16_t kTrustedDate = 0xDF72;
inline constexpr uint16_t kCommandGroup = 0xBF73;
}  // namespace tag

}  // namespace tessera::format
