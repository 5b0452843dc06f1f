#include "host/card_keys.h"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <optional>

#include "core/bytes.h"
#include "crypto/scp03_host.h"
#include "host/file_io.h"

namespace tessera::host {
namespace {

constexpr uint8_t kConstantEnc = 0x11;
constexpr uint8_t kConstantMac = 0x12;
constexpr uint8_t kConstantDek = 0x13;

}  // namespace

Result<crypto::scp03::StaticKeys> DeriveCardKeys(ByteView master, uint64_t serial) {
  if (master.size() != 16 && master.size() != 24 && master.size() != 32) {
    return InvalidArgument("the master key must be an AES key of 16, 24 or 32 bytes");
  }
  Bytes context = ToBytes("TESSERA");
  AppendU32(context, static_cast<uint32_t>(serial >> 32));
  AppendU32(context, static_cast<uint32_t>(serial));
  crypto::scp03::StaticKeys k;
  TESSERA_ASSIGN_OR_RETURN(k.enc, crypto::scp03::Kdf(master, kConstantEnc, 128, context));
  TESSERA_ASSIGN_OR_RETURN(k.mac, crypto::scp03::Kdf(master, kConstantMac, 128, context));
  TESSERA_ASSIGN_OR_RETURN(k.dek, crypto::scp03::Kdf(master, kConstantDek, 128, context));
  return k;
}

Result<crypto::SecureBuffer> LoadMasterKey(const std::string& spec, bool warn) {
  if (spec == "test") {
    if (warn) {
      std::fprintf(stderr,
                   "tessera: warning: the master key is the well-known test key 404142..4F; "
                   "every card's keys can be computed by anyone\n");
    }
    const crypto::scp03::StaticKeys t = crypto::scp03::TestKeys();
    return t.enc;
  }
  auto text = ReadInputFile(spec, {.what = "master key file", .max_bytes = kMaxKeyFileBytes});
  if (!text.ok()) return text.status();
  const std::string name = DisplayName(spec);
  std::string line, compact;
  int line_no = 0;
  std::optional<crypto::SecureBuffer> key;
  // Every way out wipes what held the key's hex.
  const auto wipe = [&] {
    line.resize(line.capacity());
    compact.resize(compact.capacity());
    crypto::SecureZero(line.data(), line.size());
    crypto::SecureZero(compact.data(), compact.size());
  };
  size_t pos = 0;
  while (NextLine(*text, &pos, &line)) {
    ++line_no;
    if (const size_t hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    compact.clear();
    for (char ch : line) {
      if (!std::isspace(static_cast<unsigned char>(ch))) compact += ch;
    }
    if (compact.empty()) continue;
    const std::string where = name + ":" + std::to_string(line_no);
    if (compact.rfind("master=", 0) != 0 || key) {
      wipe();
      return Malformed(where +
                       ": expected one line 'master=HEX' (an AES key of 16, 24 or 32 "
                       "bytes)");
    }
    auto bytes = FromHex(std::string_view(compact).substr(7));
    wipe();
    if (!bytes.ok()) return Malformed(where + ": the master key must be 32, 48 or 64 hex digits");
    if (bytes->size() != 16 && bytes->size() != 24 && bytes->size() != 32) {
      crypto::SecureZero(bytes->data(), bytes->size());
      return Malformed(where + ": the master key must be 32, 48 or 64 hex digits");
    }
    key = crypto::MakeSecure(*bytes);
    crypto::SecureZero(bytes->data(), bytes->size());
  }
  wipe();
  if (!key) return Malformed(name + ": no 'master=HEX' line");
  return std::move(*key);
}

Result<crypto::scp03::StaticKeys> LoadKeyFile(const std::string& path) {
  auto text = ReadInputFile(path, {.what = "key file", .max_bytes = kMaxKeyFileBytes});
  if (!text.ok()) return text.status();
  return crypto::scp03::ParseKeyFile(*text, DisplayName(path));
}

Status WriteKeyFile(const std::string& path, const crypto::scp03::StaticKeys& keys) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return FailedPrecondition(path + " exists; it is not replaced");
    return IOError("cannot create " + path + ": " + std::strerror(errno));
  }
  std::string text = "# SCP03 key set (tessera --scp03 " + path + ")\nenc=" + ToHex(keys.enc) +
                     "\nmac=" + ToHex(keys.mac) + "\ndek=" + ToHex(keys.dek) + "\n";
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  crypto::SecureZero(text.data(), text.size());
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());  // no half-written key file to refuse the retry
    return IOError("cannot write " + path);
  }
  return Status::Ok();
}

}  // namespace tessera::host
