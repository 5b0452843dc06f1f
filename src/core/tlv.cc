#include "core/tlv.h"

#include <cassert>
#include <string>

namespace tessera {
namespace {

struct Header {
  TlvTag tag;
  size_t header_size;
  size_t length;
};

Result<Header> ParseHeader(ByteView in) {
  if (in.empty()) return Malformed("TLV: empty input");
  size_t pos = 0;
  TlvTag tag = in[pos++];
  if (tag == 0x00 || tag == 0xFF) return Malformed("TLV: 00/FF is not a tag");
  if ((tag & 0x1F) == 0x1F) {
    for (int n = 0;; ++n) {
      if (n == 2) return Malformed("TLV: tag longer than 3 bytes");
      if (pos >= in.size()) return Malformed("TLV: truncated tag");
      uint8_t b = in[pos++];
      if (n == 0 && b == 0x80) return Malformed("TLV: tag with leading zero subsequent byte");
      tag = (tag << 8) | b;
      if ((b & 0x80) == 0) break;
    }
  }
  if (pos >= in.size()) return Malformed("TLV: missing length");
  uint8_t l0 = in[pos++];
  size_t length = 0;
  if (l0 < 0x80) {
    length = l0;
  } else if (l0 == 0x80) {
    return Malformed("TLV: indefinite length is not allowed");
  } else {
    size_t n = l0 & 0x7F;
    if (n > 3) return Malformed("TLV: length field longer than 3 bytes");
    if (in.size() - pos < n) return Malformed("TLV: truncated length");
    for (size_t i = 0; i < n; ++i) length = (length << 8) | in[pos++];
  }
  if (in.size() - pos < length) {
    return Malformed("TLV: value of tag " + TlvTagToHex(tag) + " runs past the end (" +
                     std::to_string(length) + " > " + std::to_string(in.size() - pos) + ")");
  }
  return Header{tag, pos, length};
}

Status ValidateSequence(ByteView in, ParseOptions options, int depth, std::vector<TlvView>* out) {
  if (depth > kTlvMaxDepth) return Malformed("TLV: nesting deeper than 16 levels");
  size_t pos = 0;
  while (pos < in.size()) {
    if (options.allow_padding && (in[pos] == 0x00 || in[pos] == 0xFF)) {
      ++pos;
      continue;
    }
    TESSERA_ASSIGN_OR_RETURN(Header h, ParseHeader(in.subspan(pos)));
    TlvView v{h.tag, in.subspan(pos + h.header_size, h.length), h.header_size + h.length};
    if (v.constructed()) {
      TESSERA_RETURN_IF_ERROR(ValidateSequence(v.value, options, depth + 1, nullptr));
    }
    if (out != nullptr) out->push_back(v);
    pos += v.encoded_size;
  }
  return Status::Ok();
}

// Depth-first search; REQUIRES: `in` was validated.
std::optional<TlvView> Find(ByteView in, TlvTag tag, ParseOptions options) {
  size_t pos = 0;
  while (pos < in.size()) {
    if (options.allow_padding && (in[pos] == 0x00 || in[pos] == 0xFF)) {
      ++pos;
      continue;
    }
    auto h = ParseHeader(in.subspan(pos));
    if (!h.ok()) return std::nullopt;
    TlvView v{h->tag, in.subspan(pos + h->header_size, h->length), h->header_size + h->length};
    if (v.tag == tag) return v;
    if (v.constructed()) {
      if (auto inner = Find(v.value, tag, options)) return inner;
    }
    pos += v.encoded_size;
  }
  return std::nullopt;
}

}  // namespace

std::string TlvTagToHex(TlvTag tag) {
  Bytes b;
  AppendTlvTag(b, tag);
  return ToHex(b);
}

bool TlvTagIsConstructed(TlvTag tag) {
  uint32_t first = tag;
  while (first > 0xFF) first >>= 8;
  return (first & 0x20) != 0;
}

size_t TlvTagSize(TlvTag tag) {
  if (tag > 0xFFFF) return 3;
  if (tag > 0xFF) return 2;
  return 1;
}

Result<TlvView> ParseTlv(ByteView input) {
  TESSERA_ASSIGN_OR_RETURN(Header h, ParseHeader(input));
  TlvView v{h.tag, input.subspan(h.header_size, h.length), h.header_size + h.length};
  if (v.constructed()) TESSERA_RETURN_IF_ERROR(ValidateSequence(v.value, {}, 1, nullptr));
  return v;
}

Result<std::vector<TlvView>> ParseTlvSequence(ByteView input, ParseOptions options) {
  std::vector<TlvView> out;
  TESSERA_RETURN_IF_ERROR(ValidateSequence(input, options, 0, &out));
  return out;
}

Result<std::optional<TlvView>> FindTlv(ByteView input, TlvTag tag, ParseOptions options) {
  TESSERA_RETURN_IF_ERROR(ValidateSequence(input, options, 0, nullptr));
  return Find(input, tag, options);
}

Result<std::optional<TlvView>> FindTlvPath(ByteView input, std::span<const TlvTag> path) {
  TESSERA_RETURN_IF_ERROR(ValidateSequence(input, {}, 0, nullptr));
  ByteView scope = input;
  std::optional<TlvView> found;
  for (TlvTag tag : path) {
    found.reset();
    size_t pos = 0;
    while (pos < scope.size()) {
      auto h = ParseHeader(scope.subspan(pos));
      if (!h.ok()) return h.status();
      TlvView v{h->tag, scope.subspan(pos + h->header_size, h->length), h->header_size + h->length};
      if (v.tag == tag) {
        found = v;
        break;
      }
      pos += v.encoded_size;
    }
    if (!found) return std::optional<TlvView>();
    scope = found->value;
  }
  return found;
}

void AppendTlvTag(Bytes& out, TlvTag tag) {
  for (size_t i = TlvTagSize(tag); i > 0; --i)
    out.push_back(static_cast<uint8_t>(tag >> (8 * (i - 1))));
}

void AppendTlvLength(Bytes& out, size_t length) {
  assert(length <= 0xFFFFFF);
  if (length < 0x80) {
    out.push_back(static_cast<uint8_t>(length));
  } else if (length <= 0xFF) {
    out.push_back(0x81);
    out.push_back(static_cast<uint8_t>(length));
  } else if (length <= 0xFFFF) {
    out.push_back(0x82);
    AppendU16(out, static_cast<uint16_t>(length));
  } else {
    out.push_back(0x83);
    out.push_back(static_cast<uint8_t>(length >> 16));
    AppendU16(out, static_cast<uint16_t>(length));
  }
}

void AppendTlv(Bytes& out, TlvTag tag, ByteView value) {
  AppendTlvTag(out, tag);
  AppendTlvLength(out, value.size());
  Append(out, value);
}

Bytes EncodeTlv(TlvTag tag, ByteView value) {
  Bytes out;
  AppendTlv(out, tag, value);
  return out;
}

TlvBuilder& TlvBuilder::Add(TlvTag tag, ByteView value) {
  AppendTlv(current(), tag, value);
  return *this;
}

TlvBuilder& TlvBuilder::AddByte(TlvTag tag, uint8_t value) {
  return Add(tag, ByteView(&value, 1));
}

TlvBuilder& TlvBuilder::Open(TlvTag tag) {
  frames_.push_back(Frame{tag, {}});
  return *this;
}

TlvBuilder& TlvBuilder::Close() {
  assert(!frames_.empty());
  Frame f = std::move(frames_.back());
  frames_.pop_back();
  AppendTlv(current(), f.tag, f.content);
  return *this;
}

Bytes TlvBuilder::Take() {
  assert(frames_.empty());
  return std::move(out_);
}

}  // namespace tessera
