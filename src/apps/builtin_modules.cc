#include "apps/builtin_modules.h"

#include "apps/data_store/data_store_module.h"
#include "apps/files/files_module.h"
#include "apps/issuance/issuance_module.h"
#include "apps/lua/lua_runtime.h"
#include "apps/management/management_module.h"
#include "apps/purse/purse_module.h"

namespace tessera::apps {

void RegisterBuiltInModules(card::Card& card) {
  RegisterManagementModule(card);
  RegisterDataStoreModule(card);
  RegisterPurseModule(card);
  RegisterFilesModule(card);
  RegisterIssuanceModule(card);
  RegisterLuaRuntime(card);  // code format 02: applet packages (docs/applets.md)
}

}  // namespace tessera::apps
