// Fuzz target: the BER-TLV decoder. Any input must decode or be refused as malformed; decoded
// objects must lie inside the input and re-encode to a parseable object with the same content.
#include <cstdint>
#include <cstdlib>

#include "core/tlv.h"

using namespace tessera;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteView in(data, size);
  for (bool padding : {false, true}) {
    auto seq = ParseTlvSequence(in, {.allow_padding = padding});
    if (!seq.ok()) {
      if (seq.status().code() != ErrorCode::kMalformed) std::abort();
      continue;
    }
    for (const TlvView& v : *seq) {
      if (v.value.data() < data || v.value.data() + v.value.size() > data + size) std::abort();
      Bytes again = EncodeTlv(v.tag, v.value);
      auto re = ParseTlvSequence(again, {.allow_padding = padding});
      if (!re.ok() || re->size() != 1 || (*re)[0].tag != v.tag ||
          (*re)[0].value.size() != v.value.size() || (*re)[0].encoded_size != again.size()) {
        std::abort();
      }
    }
  }
  if (size >= 2) {
    const TlvTag tag = data[0] == 0x9F || data[0] == 0x5F || data[0] == 0xBF
                           ? (TlvTag{data[0]} << 8) | data[1]
                           : data[0];
    (void)FindTlv(in.subspan(1), tag);
    const TlvTag path[] = {0xE3, tag};
    (void)FindTlvPath(in.subspan(1), path);
  }
  return 0;
}
