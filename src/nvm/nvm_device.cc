#include "nvm/nvm_device.h"

#include "core/secure_bytes.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <random>

namespace tessera::nvm {

NvmDevice::NvmDevice(std::span<uint8_t> cells, std::span<uint8_t> wear, uint32_t page_size)
    : cells_(cells), wear_(wear), page_size_(page_size) {
  assert(page_size > 0 && cells.size() % page_size == 0);
  assert(wear.size() == 4 * (cells.size() / page_size));
}

Status NvmDevice::Read(uint32_t offset, std::span<uint8_t> out) const {
  if (!powered_) return PowerLost("NVM read while power is off");
  if (offset > cells_.size() || out.size() > cells_.size() - offset) {
    return InvalidArgument("NVM read out of range");
  }
  std::memcpy(out.data(), cells_.data() + offset, out.size());
  return Status::Ok();
}

uint32_t NvmDevice::wear(uint32_t page) const {
  return GetU32(wear_.data() + 4 * page);
}

void NvmDevice::ScheduleCut(uint64_t index, TearMode mode, uint64_t seed) {
  cut_ = Cut{programs_ + index, mode, seed};
}

void NvmDevice::Tear(uint8_t* page, ByteView data, const Cut& cut) {
  std::mt19937_64 rng(cut.seed ^ (cut.at_program * 0x9E3779B97F4A7C15ull));
  for (size_t i = 0; i < data.size(); ++i) {
    uint64_t r = rng();
    if (cut.mode == TearMode::kNormal) {
      if (r & 1) page[i] = data[i];  // otherwise the old byte stays
    } else {
      switch (r % 3) {
        case 0:
          break;  // old
        case 1:
          page[i] = data[i];
          break;  // new
        default:
          page[i] = static_cast<uint8_t>(r >> 8);
          break;  // anything
      }
    }
  }
}

Status NvmDevice::ProgramPage(uint32_t page, ByteView data) {
  if (!powered_) return PowerLost("NVM program while power is off");
  if (page >= page_count() || data.size() != page_size_) {
    return InvalidArgument("NVM program out of range");
  }
  uint8_t* dst = cells_.data() + size_t{page} * page_size_;
  PutU32(wear_.data() + 4 * page, wear(page) + 1);
  if (cut_ && cut_->at_program == programs_) {
    ++programs_;
    Tear(dst, data, *cut_);
    cut_.reset();
    powered_ = false;
    return PowerLost("power cut during NVM program");
  }
  ++programs_;
  std::memcpy(dst, data.data(), data.size());
  return Status::Ok();
}

Status NvmDevice::ProgramRange(uint32_t offset, ByteView data) {
  if (!powered_) return PowerLost("NVM program while power is off");
  if (offset > cells_.size() || data.size() > cells_.size() - offset) {
    return InvalidArgument("NVM program out of range");
  }
  SecureBytes page(page_size_);  // may carry secrets on their way to NVM
  size_t done = 0;
  while (done < data.size()) {
    const uint32_t at = offset + static_cast<uint32_t>(done);
    const uint32_t page_index = at / page_size_;
    const uint32_t in_page = at % page_size_;
    const size_t n = std::min<size_t>(page_size_ - in_page, data.size() - done);
    const uint8_t* current = cells_.data() + size_t{page_index} * page_size_;
    if (std::memcmp(current + in_page, data.data() + done, n) != 0) {
      std::memcpy(page.data(), current, page_size_);
      std::memcpy(page.data() + in_page, data.data() + done, n);
      TESSERA_RETURN_IF_ERROR(ProgramPage(page_index, page));
    }
    done += n;
  }
  return Status::Ok();
}

RamNvm::RamNvm(uint32_t size, uint32_t page_size)
    : cells_(size, 0), wear_(4 * (size / page_size), 0), device_(cells_, wear_, page_size) {}

std::unique_ptr<RamNvm> RamNvm::CopyOf(const NvmDevice& other) {
  auto copy = std::make_unique<RamNvm>(other.size(), other.page_size());
  std::memcpy(copy->cells_.data(), other.cells().data(), other.size());
  for (uint32_t p = 0; p < other.page_count(); ++p)
    PutU32(copy->wear_.data() + 4 * p, other.wear(p));
  return copy;
}

}  // namespace tessera::nvm
