// Applet packages (docs/applets.md §1) and the system parameters that set an applet's limits
// (§2): A0 L { 4F package AID, C2 02 version, A1 L { 4F module AID, 50 name, C6 Lua source } x
// 1..4 }, and EF L { [C6 04 heap] [C7 04 persistent] [DF21 04 instructions] }. One codec for
// the card (installation files, the applet runtime) and the host (the installation-file
// builder). Precompiled Lua is refused here, before any interpreter sees it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"

namespace tessera::format {

// The installation file's C7 code object starts with its code format byte.
inline constexpr uint8_t kCodeFormatBuiltIn = 0x01;
inline constexpr uint8_t kCodeFormatLuaPackage = 0x02;

// What one command's commit takes with the rest of an installation (docs/applets.md §1).
inline constexpr size_t kMaxPackageSize = 12288;
inline constexpr size_t kMaxPackageModules = 4;
inline constexpr size_t kMaxModuleName = 32;

struct AppletModule {
  Bytes aid;
  std::string name;
  std::string source;
};

struct AppletPackage {
  Bytes aid;
  uint8_t major = 1, minor = 0;
  std::vector<AppletModule> modules;
};

Bytes EncodeAppletPackage(const AppletPackage& package);
// Parses exactly one A0 object. kMalformed names what is wrong (bytecode included).
Result<AppletPackage> ParseAppletPackage(ByteView bytes);

// An applet's limits: defaults, and the ranges system parameters may set them in.
struct AppletLimits {
  uint32_t heap = 65536;
  uint32_t persistent = 8192;
  uint32_t instructions = 1000000;
};
inline constexpr uint32_t kMinHeap = 32768, kMaxHeap = 262144;
inline constexpr uint32_t kMaxPersistent = 65536;
inline constexpr uint32_t kMinInstructions = 10000, kMaxInstructions = 10000000;

// The limits by name, with their ranges: what descriptions and command lines set them by.
struct AppletLimitField {
  const char* name;  // "heap", "persistent", "instructions"
  uint32_t min, max;
  uint32_t AppletLimits::*field;
};
inline constexpr AppletLimitField kAppletLimitFields[] = {
    {"heap", kMinHeap, kMaxHeap, &AppletLimits::heap},
    {"persistent", 0, kMaxPersistent, &AppletLimits::persistent},
    {"instructions", kMinInstructions, kMaxInstructions, &AppletLimits::instructions},
};

// EF's value (the system parameters), with the defaults for what it leaves out.
Result<AppletLimits> ParseAppletLimits(ByteView ef_value);
// The EF value that sets every limit of `limits`.
Bytes EncodeAppletLimits(const AppletLimits& limits);

// The applet's code as its DF keeps it (EF C0DE, docs/applets.md §5): version 1, the module's
// index in the package, the three limits (4 bytes each), then the package as loaded.
inline constexpr size_t kStoredAppletHeader = 14;
struct StoredApplet {
  uint8_t module_index = 0;
  AppletLimits limits;
  Bytes package;
};
Bytes EncodeStoredApplet(const StoredApplet& stored);
// Checks the header (and that the package parses, with the indexed module in it).
Result<StoredApplet> ParseStoredApplet(ByteView bytes);

}  // namespace tessera::format
