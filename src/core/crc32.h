// CRC-32 (IEEE 802.3 polynomial, reflected, as in zlib). Used for NVM record checksums, where
// it detects torn page programs; it is not a security mechanism.
#pragma once

#include <cstdint>

#include "core/bytes.h"

namespace tessera {

uint32_t Crc32(ByteView data, uint32_t crc = 0);

}  // namespace tessera
