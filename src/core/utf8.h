// UTF-8 as RFC 3629 defines it, for text that may hold any bytes (a path, a name read from a
// card).
#pragma once

#include <cstddef>
#include <string_view>

namespace tessera {

// The length of the well-formed UTF-8 sequence `s` starts with (no overlong forms, no
// surrogates, nothing above U+10FFFF), or 0 if it does not start with one (or is empty).
// ASCII, control characters included, is a sequence of 1.
size_t Utf8SequenceLength(std::string_view s);

}  // namespace tessera
