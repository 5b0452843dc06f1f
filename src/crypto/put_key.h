// The key components of PUT KEY (GP CS 2.3 §11.8.2.3, Amendment D §7.2), as the card reads them
// (PUT KEY, the key set of an administrator object BF71) and the host writes them (`tessera
// admin add --keys`): 88 L { key length, AES-CBC(DEK, zero IV, key padded with zeros to whole
// blocks) } 03 KCV. One codec for both sides.
#pragma once

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/scp03.h"
#include "crypto/secure_buffer.h"

namespace tessera::crypto::scp03 {

// One component: the key wrapped with `dek`, and its check value.
Result<Bytes> WrapKeyComponent(ByteView dek, ByteView key);

struct UnwrappedKeys {
  StaticKeys keys;  // ENC, MAC, DEK, in that order
  Bytes kcvs;       // their three check values, 3 bytes each
};
// Exactly three components (ENC, MAC, DEK) of one length (16, 24 or 32), nothing after them.
// kMalformed for anything that does not follow the encoding; kInvalidArgument for a check
// value that does not match its key (the card answers 9485).
Result<UnwrappedKeys> UnwrapKeyComponents(ByteView data, const SecureBuffer& dek);

}  // namespace tessera::crypto::scp03
