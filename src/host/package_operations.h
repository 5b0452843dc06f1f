// Applet packages on a card through the GlobalPlatform door (docs/applets.md §2), each in the
// issuer's SCP03 session: LOAD of a package (INSTALL [for load], then LOAD blocks of C4 {
// package }), INSTALL [for install and make selectable] of one of its modules, DELETE of a
// package (with its instances when asked), and the packages GET STATUS lists. Refusals carry
// the card's status word and what it means for that command.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"
#include "format/applet_package.h"
#include "host/card_session.h"

namespace tessera::host {

// LOAD block size: the data of one short APDU inside a C-MAC'd session.
inline constexpr size_t kLoadBlock = 200;

// Loads `package`; `progress(blocks done, blocks)` after each block.
Status LoadPackage(CardSession& s, const format::AppletPackage& package,
                   const std::function<void(size_t, size_t)>& progress = nullptr);

struct InstanceRequest {
  Bytes package;     // the load file
  Bytes module;      // one of its modules
  Bytes aid;         // the new application's
  Bytes privileges;  // 1 or 3 bytes (GP C5)
  Bytes params;      // C9 content: install(params)
  Bytes system;      // EF content: the applet's limits (empty: the defaults)
};
// INSTALL [for install and make selectable] of `r`.
Status CreateInstance(CardSession& s, const InstanceRequest& r);

// DELETE of the package `aid`; `with_instances`: P2 = 80, its applications too.
Status DeletePackage(CardSession& s, ByteView aid, bool with_instances);

struct PackageEntry {
  Bytes aid;
  std::vector<Bytes> modules;
  bool built_in = false;  // a module compiled into the card (its AID is its own load file's)
};
// GET STATUS P1 10: every load file and its modules.
Result<std::vector<PackageEntry>> ReadPackages(CardSession& s);

}  // namespace tessera::host
