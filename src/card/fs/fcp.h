// File control parameters (ISO/IEC 7816-4 §5.3.3): the FCP template (62) and FCI template (6F)
// that SELECT returns, and the FCP that CREATE FILE takes.
#pragma once

#include "card/fs/file_node.h"
#include "card/kernel/card_error.h"
#include "core/bytes.h"

namespace tessera::card {

// 62 L { 80/82/83/84/88/8A/8C ... }
Bytes EncodeFcp(const FileNode& node);
// 6F L { 84 name, A5 proprietary } for DFs with a name or proprietary data (what EMV terminals
// parse); otherwise the FCP objects inside 6F.
Bytes EncodeFci(const FileNode& node);
// Parses a CREATE FILE data field. 6A80 for anything malformed or unsupported; the node's
// id and links are left for FileSystem::Create.
CardResult<FileNode> ParseCreateFcp(ByteView data);

}  // namespace tessera::card
