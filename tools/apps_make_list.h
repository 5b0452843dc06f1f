// `tessera apps make-install-file` (an installation file built and signed on the host, no
// card) and `tessera apps list` (the application list read, its signatures checked on the
// host). Exit codes: 0 done, 1 a file, the card or the link failed, 2 usage.
#pragma once

#include "cli_args.h"
#include "host/link_options.h"

namespace tessera::tools {

int MakeInstallFile(const host::LinkOptions& o, const Args& a);
int List(const host::LinkOptions& o, const Args& a);

}  // namespace tessera::tools
