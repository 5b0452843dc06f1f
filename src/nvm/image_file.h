// An NVM image file: a fixed header, the NVM cells and a wear table, all mapped shared into
// memory so that every page program reaches the file (a killed process loses nothing it
// programmed). An exclusive lock keeps a second process out. Format: docs/nvm-format.md §2.
//
// Errors say what is wrong with the file and leave it untouched:
//   kBusy        another process holds the image
//   kCorruption  truncated, damaged (header checksum) or impossible geometry
//   kMalformed   not a Tessera image at all (foreign file)
//   kUnsupported a newer format version
//   kIOError     the operating system refused (with its reason)
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/status.h"
#include "nvm/geometry.h"
#include "nvm/nvm_device.h"

namespace tessera::nvm {

inline constexpr uint32_t kImageHeaderRegion = 4096;  // cells start here
inline constexpr uint16_t kImageFormatVersion = 1;
inline constexpr uint8_t kImageMagic[8] = {'T', 'E', 'S', 'S', 'E', 'R', 'A', 0x1A};

class ImageFile {
 public:
  // Creates a new image (formatted store inside) at `path`; kFailedPrecondition if the path
  // exists and !overwrite. The file appears complete or not at all (written beside, then
  // renamed).
  // `initialize`, if given, fills the new device (e.g. a card profile) instead of a plain
  // format, before the file appears under `path`.
  static Status Create(
      const std::string& path, const Geometry& geometry, bool overwrite,
      const std::function<Status(NvmDevice&, const Geometry&)>& initialize = nullptr);
  // Opens, validates and locks an existing image.
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

}  // namespace tessera::nvm
