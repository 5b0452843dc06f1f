#include "crypto/put_key.h"

#include <vector>

#include "crypto/aes.h"

namespace tessera::crypto::scp03 {

Result<Bytes> WrapKeyComponent(ByteView dek, ByteView key) {
  SecureBuffer padded(key.begin(), key.end());
  padded.resize((key.size() + 15) / 16 * 16, 0);
  TESSERA_ASSIGN_OR_RETURN(Bytes enc, AesCbcEncrypt(dek, Bytes(16, 0), padded));
  TESSERA_ASSIGN_OR_RETURN(Bytes kcv, KeyCheckValue(key));
  Bytes out{0x88, static_cast<uint8_t>(1 + enc.size()), static_cast<uint8_t>(key.size())};
  Append(out, enc);
  SecureZero(enc.data(), enc.size());
  out.push_back(0x03);
  Append(out, kcv);
  return out;
}

Result<UnwrappedKeys> UnwrapKeyComponents(ByteView d, const SecureBuffer& dek) {
  UnwrappedKeys out;
  std::vector<SecureBuffer> keys;
  size_t pos = 0;
  for (int i = 0; i < 3; ++i) {
    // 88 L { key length, encrypted key } KCV length, KCV.
    if (d.size() < pos + 3 || d[pos] != 0x88) return Malformed("PUT KEY: no key component 88");
    const size_t block_len = d[pos + 1];
    const size_t key_len = d[pos + 2];
    if ((key_len != 16 && key_len != 24 && key_len != 32) || block_len < 1 + key_len ||
        d.size() < pos + 2 + block_len + 1) {
      return Malformed("PUT KEY: a key component's lengths do not fit");
    }
    ByteView wrapped = d.subspan(pos + 3, block_len - 1);
    pos += 2 + block_len;
    const size_t kcv_len = d[pos++];
    if (kcv_len != 3 || d.size() < pos + kcv_len) return Malformed("PUT KEY: a check value of 3");
    ByteView kcv = d.subspan(pos, kcv_len);
    pos += kcv_len;
    if (wrapped.size() % 16 != 0) return Malformed("PUT KEY: a key not in whole blocks");
    auto clear = AesCbcDecrypt(dek, Bytes(16, 0), wrapped);
    if (!clear.ok()) return Malformed("PUT KEY: the key does not decrypt");
    SecureBuffer key(clear->begin(), clear->begin() + static_cast<ptrdiff_t>(key_len));
    SecureZero(clear->data(), clear->size());
    auto check = KeyCheckValue(key);
    if (!check.ok() || !ConstantTimeEqual(*check, kcv)) {
      return InvalidArgument("PUT KEY: a key check value does not match its key");
    }
    Append(out.kcvs, *check);
    keys.push_back(std::move(key));
  }
  if (pos != d.size()) return Malformed("PUT KEY: bytes after the three keys");
  if (keys[0].size() != keys[1].size() || keys[1].size() != keys[2].size()) {
    return Malformed("PUT KEY: keys of different lengths");
  }
  out.keys.enc = std::move(keys[0]);
  out.keys.mac = std::move(keys[1]);
  out.keys.dek = std::move(keys[2]);
  return out;
}

}  // namespace tessera::crypto::scp03
