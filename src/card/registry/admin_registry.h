// Administrators (docs/applications.md §3, §5.3): who may manage which applications. Each has
// an id (00 = the card issuer), a name, an ECDSA P-256 public key that signs its records, and
// an SCP03 key set for sessions with the management application and its applications (the
// issuer uses the ISD's key sets instead). Managed by the issuer through STORE DATA.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "card/gp/key_store.h"
#include "card/kernel/card_error.h"
#include "card/kernel/card_root.h"
#include "nvm/nvm_store.h"

namespace tessera::card {

inline constexpr size_t kMaxAdministrators = 8;
inline constexpr uint8_t kIssuerAdminId = 0x00;

struct Administrator {
  uint16_t block = 0xFFFF;
  uint8_t id = 0;
  std::string name;
  Bytes public_key;           // 65 bytes, or empty: none
  uint16_t key_set = 0xFFFF;  // its SCP03 key set block, FFFF = none
};

CardResult<std::vector<Administrator>> LoadAdministrators(const nvm::NvmStore& store,
                                                          const CardRoot& root);
CardResult<std::optional<Administrator>> FindAdministrator(const nvm::NvmStore& store,
                                                           const CardRoot& root, uint8_t id);
// Adds `admin` (allocating its block and, when new, the administrator block of the root).
// REQUIRES: no administrator with admin.id exists.
CardStatus AddAdministrator(nvm::NvmStore& store, CardRoot& root, Administrator& admin);
// The administrator whose key set lives in `key_set_block` (sessions name their key set), or
// nullopt (an issuer key set, or none).
CardResult<std::optional<Administrator>> AdministratorOfKeySet(const nvm::NvmStore& store,
                                                               const CardRoot& root,
                                                               uint16_t key_set_block);

}  // namespace tessera::card
