// Strict BER-TLV codec for the interindustry data objects of ISO/IEC 7816-4 §5.2 and the
// GlobalPlatform / EMV objects built on it.
//
// Decoding contract (every violation is a kMalformed error value, never undefined behaviour):
//   - Tags are 1 to 3 bytes. The low five bits 11111 of the first byte announce subsequent
//     bytes; each subsequent byte has b8 = 1 when another follows. A first subsequent byte of
//     0x80 (a leading zero) is refused, as ISO/IEC 8825-1 requires.
//   - The tag bytes 00 and FF are not tags. With ParseOptions::allow_padding they are skipped
//     before, between and after objects (ISO/IEC 7816-4 §5.2.1); without it they are errors.
//   - Lengths are short form (00-7F) or long form 81 xx, 82 xxxx, 83 xxxxxx. The indefinite form
//     (80) and 84 or more length bytes are refused. Non-minimal long forms (81 05) are valid BER
//     and accepted; encoding always produces the minimal form.
//   - A value may not run past the end of its parent. Constructed values must themselves be a
//     well-formed sequence of objects, checked to a depth of kMaxDepth.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"

namespace tessera {

// A tag as its big-endian bytes packed into an integer: 0x9F70, 0x5F25, 0x4F.
using TlvTag = uint32_t;

// Constructed bit (b6 of the first tag byte).
bool TlvTagIsConstructed(TlvTag tag);
// Number of bytes the tag occupies when encoded (1..3).
size_t TlvTagSize(TlvTag tag);
// "9F70"
std::string TlvTagToHex(TlvTag tag);

struct ParseOptions {
  bool allow_padding = false;
};

// A decoded object. `value` points into the buffer that was parsed: it lives as long as that.
struct TlvView {
  TlvTag tag = 0;
  ByteView value;
  size_t encoded_size = 0;  // tag + length + value bytes

  bool constructed() const { return TlvTagIsConstructed(tag); }
};

inline constexpr int kTlvMaxDepth = 16;

// Decodes one object at the start of `input`.
Result<TlvView> ParseTlv(ByteView input);
// Decodes a whole sequence of objects; trailing bytes that are not a complete object are an
// error. Constructed objects are validated recursively.
Result<std::vector<TlvView>> ParseTlvSequence(ByteView input, ParseOptions options = {});

// Depth-first search for the first object with `tag` in a sequence, descending into
// constructed objects. Returns nullopt when absent; malformed input is an error.
Result<std::optional<TlvView>> FindTlv(ByteView input, TlvTag tag, ParseOptions options = {});
// Follows a path of tags, each one inside the previous one: {0xE3, 0x4F}.
Result<std::optional<TlvView>> FindTlvPath(ByteView input, std::span<const TlvTag> path);

// Encoding.
void AppendTlvTag(Bytes& out, TlvTag tag);
void AppendTlvLength(Bytes& out, size_t length);
void AppendTlv(Bytes& out, TlvTag tag, ByteView value);
Bytes EncodeTlv(TlvTag tag, ByteView value);

// Builds nested objects without computing lengths by hand:
//   TlvBuilder b; b.Open(0xE3); b.Add(0x4F, aid); b.Close(); Bytes out = b.Take();
class TlvBuilder {
 public:
  TlvBuilder& Add(TlvTag tag, ByteView value);
  TlvBuilder& AddByte(TlvTag tag, uint8_t value);
  TlvBuilder& Open(TlvTag tag);
  // REQUIRES: a matching Open().
  TlvBuilder& Close();
  // REQUIRES: every Open() closed.
  Bytes Take();

 private:
  struct Frame {
    TlvTag tag;
    Bytes content;
  };
  Bytes& current() { return frames_.empty() ? out_ : frames_.back().content; }
  Bytes out_;
  std::vector<Frame> frames_;
};

}  // namespace tessera
