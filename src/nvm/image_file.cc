#include "nvm/image_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "core/crc32.h"
#include "nvm/nvm_store.h"

namespace tessera::nvm {
namespace {

constexpr size_t kHeaderBytes = 64;

std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

Bytes EncodeHeader(const Geometry& g, uint64_t created) {
  Bytes h(kHeaderBytes, 0);
  std::memcpy(h.data(), kImageMagic, 8);
  PutU16(&h[8], kImageFormatVersion);
  PutU16(&h[10], static_cast<uint16_t>(kHeaderBytes));
  PutU32(&h[12], g.page_size);
  PutU32(&h[16], g.nvm_size);
  PutU32(&h[20], g.journal_capacity);
  PutU32(&h[24], g.block_size);
  PutU32(&h[28], g.root_size);
  PutU64(&h[32], created);
  PutU32(&h[60], Crc32(ByteView(h).first(60)));
  return h;
}

}  // namespace

uint64_t ImageFile::FileSizeFor(const Geometry& g) {
  return kImageHeaderRegion + uint64_t{g.nvm_size} + 4ull * (g.nvm_size / g.page_size);
}

Status ImageFile::Create(const std::string& path, const Geometry& geometry, bool overwrite,
                         const std::function<Status(NvmDevice&, const Geometry&)>& initialize) {
  TESSERA_RETURN_IF_ERROR(ComputeLayout(geometry).status());
  struct stat st;
  if (!overwrite && ::stat(path.c_str(), &st) == 0) {
    return FailedPrecondition(path + " already exists (use --force to overwrite it)");
  }
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IOError(Errno("cannot create", tmp));
  const uint64_t size = FileSizeFor(geometry);
  Status result = [&]() -> Status {
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) return IOError(Errno("cannot size", tmp));
    void* m = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) return IOError(Errno("cannot map", tmp));
    auto* base = static_cast<uint8_t*>(m);
    Bytes header = EncodeHeader(geometry, static_cast<uint64_t>(std::time(nullptr)));
    std::memcpy(base, header.data(), header.size());
    NvmDevice device(std::span<uint8_t>(base + kImageHeaderRegion, geometry.nvm_size),
                     std::span<uint8_t>(base + kImageHeaderRegion + geometry.nvm_size,
                                        4 * (geometry.nvm_size / geometry.page_size)),
                     geometry.page_size);
    Status s = initialize ? initialize(device, geometry) : NvmStore::Format(device, geometry);
    if (s.ok() && ::msync(m, size, MS_SYNC) != 0) s = IOError(Errno("cannot sync", tmp));
    ::munmap(m, size);
    if (s.ok() && ::fsync(fd) != 0) s = IOError(Errno("cannot sync", tmp));
    return s;
  }();
  ::close(fd);
  if (result.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    result = IOError(Errno("cannot rename to", path));
  }
  if (!result.ok()) ::unlink(tmp.c_str());
  return result;
}

Result<std::unique_ptr<ImageFile>> ImageFile::Open(const std::string& path) {
  std::unique_ptr<ImageFile> img(new ImageFile());
  img->path_ = path;
  img->fd_ = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (img->fd_ < 0) return IOError(Errno("cannot open image", path));
  if (::flock(img->fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return Status(ErrorCode::kBusy, "image " + path + " is in use by another process");
    }
    return IOError(Errno("cannot lock image", path));
  }
  struct stat st;
  if (::fstat(img->fd_, &st) != 0) return IOError(Errno("cannot stat image", path));
  if (!S_ISREG(st.st_mode)) return Malformed(path + " is not a regular file");
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  uint8_t header[kHeaderBytes] = {};
  const ssize_t n = ::pread(img->fd_, header, kHeaderBytes, 0);
  if (n < 0) return IOError(Errno("cannot read image", path));
  if (static_cast<size_t>(n) >= 8 && std::memcmp(header, kImageMagic, 8) != 0) {
    return Malformed(path + " is not a Tessera image (wrong magic number)");
  }
  if (static_cast<size_t>(n) < kHeaderBytes) {
    return Corruption(path + " is truncated: " + std::to_string(file_size) +
                      " bytes, too short for an image header");
  }
  const uint16_t version = GetU16(&header[8]);
  if (GetU32(&header[60]) != Crc32(ByteView(header, 60))) {
    return Corruption(path + " has a damaged header (checksum mismatch)");
  }
  if (version != kImageFormatVersion) {
    return Status(ErrorCode::kUnsupported, path + " uses image format version " +
                                               std::to_string(version) + "; this build reads " +
                                               std::to_string(kImageFormatVersion));
  }
  Geometry g;
  g.page_size = GetU32(&header[12]);
  g.nvm_size = GetU32(&header[16]);
  g.journal_capacity = GetU32(&header[20]);
  g.block_size = GetU32(&header[24]);
  g.root_size = GetU32(&header[28]);
  auto layout = ComputeLayout(g);
  if (!layout.ok()) {
    return Corruption(path + " has an impossible geometry: " + layout.status().message());
  }
  const uint64_t expected = FileSizeFor(g);
  if (file_size != expected) {
    return Corruption(path + " is " + (file_size < expected ? "truncated" : "oversized") + ": " +
                      std::to_string(file_size) + " bytes, its geometry needs " +
                      std::to_string(expected));
  }
  void* m = ::mmap(nullptr, expected, PROT_READ | PROT_WRITE, MAP_SHARED, img->fd_, 0);
  if (m == MAP_FAILED) return IOError(Errno("cannot map image", path));
  img->map_ = static_cast<uint8_t*>(m);
  img->map_size_ = expected;
  img->geometry_ = g;
  img->created_ = GetU64(&header[32]);
  img->device_ =
      std::make_unique<NvmDevice>(std::span<uint8_t>(img->map_ + kImageHeaderRegion, g.nvm_size),
                                  std::span<uint8_t>(img->map_ + kImageHeaderRegion + g.nvm_size,
                                                     4 * (g.nvm_size / g.page_size)),
                                  g.page_size);
  return img;
}

Status ImageFile::Sync() {
  if (map_ != nullptr && ::msync(map_, map_size_, MS_SYNC) != 0) {
    return IOError(Errno("cannot sync image", path_));
  }
  return Status::Ok();
}

ImageFile::~ImageFile() {
  device_.reset();
  if (map_ != nullptr) {
    ::msync(map_, map_size_, MS_ASYNC);
    ::munmap(map_, map_size_);
  }
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

}  // namespace tessera::nvm
