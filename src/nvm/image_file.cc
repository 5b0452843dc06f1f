#include "nvm/image_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

#include "core/crc32.h"
#include "nvm/nvm_store.h"

namespace tessera::nvm {
namespace {

constexpr size_t kHeaderBytes = 64;

std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

// Reserves every block of the image file, so that writes through the shared mapping can never
// meet a full file system: a sparse block written through mmap on a full disk is a SIGBUS, not
// an error. A file system that cannot reserve blocks at all (EOPNOTSUPP, EINVAL) is left as it
// was; no space (ENOSPC, EDQUOT, EFBIG) is the error, said so.
Status ReserveBlocks(int fd, uint64_t size, const std::string& path) {
  const int rc = ::posix_fallocate(fd, 0, static_cast<off_t>(size));
  if (rc == 0 || rc == EOPNOTSUPP || rc == EINVAL) return Status::Ok();
  if (rc == ENOSPC || rc == EDQUOT || rc == EFBIG) {
    return IOError("no space for image " + path + ": its " + std::to_string(size) +
                   " bytes cannot be reserved on the file system (" + std::strerror(rc) +
                   "); free space or choose another directory");
  }
  return IOError("cannot reserve the blocks of image " + path + ": " + std::strerror(rc));
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

// Closes a file descriptor when it goes out of scope (releasing its lock).
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int Release() { return std::exchange(fd_, -1); }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

// The process holding an exclusive flock on the file open as `fd`, from /proc/locks (lines
// like "1: FLOCK  ADVISORY  WRITE 4242 08:01:1234567 0 EOF"; "->" marks a waiter).
std::optional<long> LockHolderPid(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return std::nullopt;
  std::ifstream locks("/proc/locks");
  std::string line;
  while (std::getline(locks, line)) {
    std::istringstream in(line);
    std::string id, type, mode, access, device;
    long pid = 0;
    if (!(in >> id >> type) || type == "->") continue;
    if (!(in >> mode >> access >> pid >> device)) continue;
    if (type != "FLOCK" || access != "WRITE") continue;
    unsigned major_dev = 0, minor_dev = 0;
    unsigned long long inode = 0;
    if (std::sscanf(device.c_str(), "%x:%x:%llu", &major_dev, &minor_dev, &inode) != 3) continue;
    if (major_dev == major(st.st_dev) && minor_dev == minor(st.st_dev) && inode == st.st_ino) {
      // The lock belongs to an open file, and names the process that took it: that one may
      // have passed the file on and exited (flock(1) does), or be outside this PID namespace.
      if (pid <= 0 || (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)) break;
      return pid;
    }
  }
  return std::nullopt;
}

std::string HolderText(std::optional<long> pid) {
  return pid ? "(pid " + std::to_string(*pid) + ")" : "(pid unknown)";
}

struct HeaderInfo {
  Geometry geometry;
  uint64_t created = 0;
};

// Validates the header and the file size of the image open as `fd` (docs/nvm-format.md §2).
Result<HeaderInfo> ReadHeader(int fd, const std::string& path) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return IOError(Errno("cannot stat image", path));
  if (!S_ISREG(st.st_mode)) return Malformed(path + " is not a regular file");
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  uint8_t header[kHeaderBytes] = {};
  const ssize_t n = ::pread(fd, header, kHeaderBytes, 0);
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
  if (version == 1) {
    // Version 1 has no check table: its layout differs, and nothing in it could be verified.
    return Status(ErrorCode::kUnsupported,
                  path + " uses image format version 1, which has no integrity checks; this " +
                      "build reads version " + std::to_string(kImageFormatVersion) +
                      " only: create the card again with 'tessera image init'");
  }
  if (version != kImageFormatVersion) {
    return Status(ErrorCode::kUnsupported, path + " uses image format version " +
                                               std::to_string(version) + "; this build reads " +
                                               std::to_string(kImageFormatVersion));
  }
  HeaderInfo h;
  Geometry& g = h.geometry;
  g.page_size = GetU32(&header[12]);
  g.nvm_size = GetU32(&header[16]);
  g.journal_capacity = GetU32(&header[20]);
  g.block_size = GetU32(&header[24]);
  g.root_size = GetU32(&header[28]);
  auto layout = ComputeLayout(g);
  if (!layout.ok()) {
    return Corruption(path + " has an impossible geometry: " + layout.status().message());
  }
  const uint64_t expected = ImageFile::FileSizeFor(g);
  if (file_size != expected) {
    return Corruption(path + " is " + (file_size < expected ? "truncated" : "oversized") + ": " +
                      std::to_string(file_size) + " bytes, its geometry needs " +
                      std::to_string(expected));
  }
  h.created = GetU64(&header[32]);
  return h;
}

Status ReadFully(int fd, uint64_t offset, std::span<uint8_t> out, const std::string& path) {
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n =
        ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IOError(Errno("cannot read image", path));
    if (n == 0) return IOError("image " + path + " became shorter while it was read");
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

// Takes the lock of the existing file at `path` (the one a running card holds), so that it can
// be replaced: an Fd holding it (-1 when there is no file), or kBusy.
Result<int> LockForReplacement(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) {
    if (errno == ENOENT) return -1;
    return IOError(Errno("cannot check whether a card is using", path));
  }
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return Status(ErrorCode::kBusy, "image " + path + " is in use by a running card " +
                                          HolderText(LockHolderPid(fd.get())) + "; stop it first");
    }
    return IOError(Errno("cannot lock", path));
  }
  return fd.Release();
}

}  // namespace

std::string ImageFile::HostTag() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::strcpy(host, "host");
  for (char* c = host; *c != '\0'; ++c) {
    if (*c == '/' || *c == '-') *c = '_';
  }
  return host;
}

std::string ImageFile::TemporaryPathFor(const std::string& path) {
  uint64_t nonce = 0;
  std::ifstream urandom("/dev/urandom", std::ios::binary);
  urandom.read(reinterpret_cast<char*>(&nonce), sizeof nonce);
  nonce ^= static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  char tail[40];
  std::snprintf(tail, sizeof tail, "-%ld-%016llx", static_cast<long>(::getpid()),
                static_cast<unsigned long long>(nonce));
  return path + kTemporarySuffix + HostTag() + tail;
}

void ImageFile::RemoveStaleTemporaries(const std::string& image) {
  const size_t slash = image.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : image.substr(0, slash);
  const std::string prefix = image.substr(slash + 1) + kTemporarySuffix;
  const std::string my_host = HostTag();
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string rest = name.substr(prefix.size());  // HOST-PID-NONCE
    const size_t last = rest.rfind('-');
    if (last == std::string::npos || last == 0) continue;
    const size_t before = rest.rfind('-', last - 1);
    if (before == std::string::npos) continue;
    const std::string host = rest.substr(0, before);
    const long pid = std::strtol(rest.c_str() + before + 1, nullptr, 10);
    const std::string full = dir + "/" + name;
    bool stale = false;
    if (host == my_host) {
      stale = pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
    } else {
      struct stat st {};
      stale = ::stat(full.c_str(), &st) == 0 && std::time(nullptr) - st.st_mtime > 3600;
    }
    if (stale) ::unlink(full.c_str());
  }
  ::closedir(d);
}

uint64_t ImageFile::FileSizeFor(const Geometry& g) {
  return kImageHeaderRegion + uint64_t{g.nvm_size} + 4ull * (g.nvm_size / g.page_size);
}

Status ImageFile::Create(const std::string& path, const Geometry& geometry, bool overwrite,
                         const std::function<Status(NvmDevice&, const Geometry&)>& initialize) {
  TESSERA_RETURN_IF_ERROR(ComputeLayout(geometry).status());
  struct stat st;
  if (!overwrite && ::stat(path.c_str(), &st) == 0) {
    return FailedPrecondition(path + " already exists");
  }
  // The file being replaced stays locked until the new one is in its place: a card cannot
  // start on it meanwhile, and one that serves it now makes this call fail up front.
  int locked = -1;
  if (overwrite) {
    auto lock = LockForReplacement(path);
    if (!lock.ok()) return lock.status();
    locked = *lock;
  }
  const Fd old(locked);
  // A name no other creator can have, here or on another machine sharing the directory (two
  // containers may both be PID 1): host, process and random bytes, created exclusively.
  const std::string tmp = TemporaryPathFor(path);
  int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return IOError(Errno("cannot create", tmp));
  const uint64_t size = FileSizeFor(geometry);
  Status result = [&]() -> Status {
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) return IOError(Errno("cannot size", tmp));
    TESSERA_RETURN_IF_ERROR(ReserveBlocks(fd, size, path));
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
  if (result.ok() && overwrite && ::rename(tmp.c_str(), path.c_str()) != 0) {
    result = IOError(Errno("cannot rename to", path));
  }
  // Without overwrite the file goes in place only if the name is still free: of two processes
  // creating the same image at once, one gets it and the other a clear refusal (a plain rename
  // would silently replace an image the first may already be writing). RENAME_NOREPLACE
  // leaves no second name behind; where the file system lacks it, link() and unlink().
  bool placed = false;
  if (result.ok() && !overwrite) {
    int rc = ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE);
    placed = rc == 0;
    if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) rc = ::link(tmp.c_str(), path.c_str());
    if (rc != 0) {
      result = errno == EEXIST ? FailedPrecondition(path + " already exists")
                               : IOError(Errno("cannot create", path));
    }
  }
  if (!result.ok() || (!overwrite && !placed)) ::unlink(tmp.c_str());
  return result;
}

Result<std::unique_ptr<ImageFile>> ImageFile::Open(const std::string& path) {
  std::unique_ptr<ImageFile> img(new ImageFile());
  img->path_ = path;
  for (int attempt = 0;; ++attempt) {
    img->fd_ = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (img->fd_ < 0) return IOError(Errno("cannot open image", path));
    if (::flock(img->fd_, LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK) {
        return Status(ErrorCode::kBusy, "image " + path + " is in use by another process " +
                                            HolderText(LockHolderPid(img->fd_)));
      }
      return IOError(Errno("cannot lock image", path));
    }
    // `image init --force` may have replaced the file between open and lock: the lock must be
    // on the file that is at `path` now.
    struct stat locked, now;
    if (::fstat(img->fd_, &locked) != 0) return IOError(Errno("cannot stat image", path));
    if (::stat(path.c_str(), &now) == 0 && now.st_dev == locked.st_dev &&
        now.st_ino == locked.st_ino) {
      break;
    }
    ::close(img->fd_);
    img->fd_ = -1;
    if (attempt == 3) return IOError("image " + path + " keeps being replaced while it is opened");
  }
  TESSERA_ASSIGN_OR_RETURN(HeaderInfo h, ReadHeader(img->fd_, path));
  const Geometry& g = h.geometry;
  const uint64_t expected = FileSizeFor(g);
  // An image made sparse (by an older version, or copied with cp --sparse) gets its blocks now,
  // before the card writes to it.
  TESSERA_RETURN_IF_ERROR(ReserveBlocks(img->fd_, expected, path));
  void* m = ::mmap(nullptr, expected, PROT_READ | PROT_WRITE, MAP_SHARED, img->fd_, 0);
  if (m == MAP_FAILED) return IOError(Errno("cannot map image", path));
  img->map_ = static_cast<uint8_t*>(m);
  img->map_size_ = expected;
  img->geometry_ = g;
  img->created_ = h.created;
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

Result<std::unique_ptr<ImageSnapshot>> ImageSnapshot::Read(const std::string& path) {
  std::unique_ptr<ImageSnapshot> snap(new ImageSnapshot());
  snap->path_ = path;
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) return IOError(Errno("cannot open image", path));
  TESSERA_ASSIGN_OR_RETURN(HeaderInfo h, ReadHeader(fd.get(), path));
  snap->geometry_ = h.geometry;
  snap->created_ = h.created;
  // Whether a card holds the image: a shared lock is granted at once unless someone holds the
  // exclusive one. It is given back at once, so that a card starting now is not kept out.
  if (::flock(fd.get(), LOCK_SH | LOCK_NB) == 0) {
    ::flock(fd.get(), LOCK_UN);
  } else if (errno == EWOULDBLOCK) {
    snap->served_ = true;
    snap->holder_pid_ = LockHolderPid(fd.get());
  }
  const Geometry& g = h.geometry;
  const uint32_t pages = g.nvm_size / g.page_size;
  const uint64_t wear_offset = kImageHeaderRegion + uint64_t{g.nvm_size};
  snap->cells_.assign(g.nvm_size, 0);
  snap->wear_.assign(4ull * pages, 0);
  Bytes wear_before(snap->wear_.size());
  constexpr uint32_t kMaxReads = 200;
  for (uint32_t attempt = 1;; ++attempt) {
    TESSERA_RETURN_IF_ERROR(ReadFully(fd.get(), wear_offset, wear_before, path));
    TESSERA_RETURN_IF_ERROR(ReadFully(fd.get(), kImageHeaderRegion, snap->cells_, path));
    TESSERA_RETURN_IF_ERROR(ReadFully(fd.get(), wear_offset, snap->wear_, path));
    if (wear_before == snap->wear_) {
      snap->reads_ = attempt;
      break;
    }
    if (attempt == kMaxReads) {
      return Status(ErrorCode::kBusy,
                    "image " + path + " is in use by a running card " +
                        HolderText(LockHolderPid(fd.get())) +
                        " that kept writing while it was read (" + std::to_string(kMaxReads) +
                        " tries); try again, or stop the card for a consistent view");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(attempt < 10 ? 1 : 5));
  }
  snap->device_ = std::make_unique<NvmDevice>(snap->cells_, snap->wear_, g.page_size);
  return snap;
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
