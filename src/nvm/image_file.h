// An NVM image file: a fixed header, the NVM cells and a wear table, all mapped shared into
// memory so that every page program reaches the file (a killed process loses nothing it
// programmed). An exclusive lock keeps a second process out. Format: docs/nvm-format.md §2.
//
// Errors say what is wrong with the file and leave it untouched:
//   kBusy        another process (a running card) holds the image
//   kCorruption  truncated, damaged (header checksum) or impossible geometry
//   kMalformed   not a Tessera image at all (foreign file)
//   kUnsupported a newer format version
//   kIOError     the operating system refused (with its reason)
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/status.h"
#include "nvm/geometry.h"
#include "nvm/nvm_device.h"

namespace tessera::nvm {

inline constexpr uint32_t kImageHeaderRegion = 4096;  // cells start here
// 2: the check table (integrity checks, docs/nvm-format.md §3.1). Version 1 images are refused.
inline constexpr uint16_t kImageFormatVersion = 2;
inline constexpr uint8_t kImageMagic[8] = {'T', 'E', 'S', 'S', 'E', 'R', 'A', 0x1A};

class ImageFile {
 public:
  // Creates a new image (formatted store inside) at `path`; kFailedPrecondition ("PATH already
  // exists": the caller says what its user can do) if the path exists and !overwrite. Every
  // block of the file is reserved first (posix_fallocate): no space is kIOError, and nothing
  // is left behind. The file appears complete or not at all (written beside, then
  // renamed). Replacing an existing file (overwrite) is refused with kBusy while a process
  // holds its lock (a running card would go on writing to the replaced file, and the writes
  // of both would be lost); the old file stays locked by this call until the rename is done.
  // `initialize`, if given, fills the new device (e.g. a card profile) instead of a plain
  // format, before the file appears under `path`.
  static Status Create(
      const std::string& path, const Geometry& geometry, bool overwrite,
      const std::function<Status(NvmDevice&, const Geometry&)>& initialize = nullptr);
  // Opens, validates and locks an existing image (read-write: the card's way in), reserving
  // the blocks of a sparse one (kIOError when the file system has no room for them): a write
  // through the mapping never finds the disk full.
  static Result<std::unique_ptr<ImageFile>> Open(const std::string& path);
  ~ImageFile();
  ImageFile(const ImageFile&) = delete;
  ImageFile& operator=(const ImageFile&) = delete;

  const Geometry& geometry() const { return geometry_; }
  uint64_t created_unix() const { return created_; }
  NvmDevice& device() { return *device_; }
  const std::string& path() const { return path_; }
  // Flushes the mapping to the file system (msync).
  Status Sync();

  static uint64_t FileSizeFor(const Geometry& g);
  // Create writes the new image as PATH + ".tmp-" + HOST-PID-NONCE beside PATH (HOST with '-'
  // and '/' made '_'), then renames it into place; a killed creator leaves that file behind.
  static constexpr const char* kTemporarySuffix = ".tmp-";
  static std::string TemporaryPathFor(const std::string& path);
  // This machine's host name as it appears in those names.
  static std::string HostTag();
  // Removes the temporaries of `path` that no creation will finish: this host's whose process
  // is gone, another host's (whose process cannot be asked) when an hour old.
  static void RemoveStaleTemporaries(const std::string& path);

 private:
  ImageFile() = default;

  std::string path_;
  int fd_ = -1;
  uint8_t* map_ = nullptr;
  size_t map_size_ = 0;
  Geometry geometry_;
  uint64_t created_ = 0;
  std::unique_ptr<NvmDevice> device_;
};

// A copy of an image read into memory without taking its lock: `tessera image show`, `check`
// and `ls` work on it, so they need only read permission and work while a card serves the
// image. Never writes to the file.
//
// Consistency: the wear table counts every page program, and a program increments its page's
// count before it writes the page. The file is read as wear table, cells, wear table again;
// when both wear tables are equal, no page program started while the cells were read, so the
// copy holds the NVM as it was at one instant (at most one page program was under way and may
// be seen half done): exactly the state a power cut at that instant would leave, which
// recovery and the inspectors handle (a command in progress shows as pending recovery work).
// A copy that changed while being read is read again; kBusy when the card kept writing.
class ImageSnapshot {
 public:
  static Result<std::unique_ptr<ImageSnapshot>> Read(const std::string& path);
  ImageSnapshot(const ImageSnapshot&) = delete;
  ImageSnapshot& operator=(const ImageSnapshot&) = delete;

  const Geometry& geometry() const { return geometry_; }
  uint64_t created_unix() const { return created_; }
  const NvmDevice& device() const { return *device_; }
  const std::string& path() const { return path_; }
  // A process (a running card) held the image's lock when it was read.
  bool served() const { return served_; }
  // That process, when the system says (/proc/locks).
  std::optional<long> holder_pid() const { return holder_pid_; }
  // How many times the file was read before a consistent copy was taken.
  uint32_t reads() const { return reads_; }

 private:
  ImageSnapshot() = default;

  std::string path_;
  Geometry geometry_;
  uint64_t created_ = 0;
  bool served_ = false;
  std::optional<long> holder_pid_;
  uint32_t reads_ = 0;
  Bytes cells_;
  Bytes wear_;
  std::unique_ptr<NvmDevice> device_;
};

}  // namespace tessera::nvm
