// The one place a card is assembled: the card OS (card/kernel/card.h) with every built-in module
// (apps/builtin_modules.h). `tessera-card`, `tessera --image` (the embedded link), the tests,
// benchmarks and fuzzers all make their cards here, so no card is ever made without its
// modules.
#pragma once

#include <memory>
#include <string>

#include "card/kernel/card.h"
#include "card/kernel/platform.h"
#include "core/status.h"
#include "nvm/geometry.h"
#include "nvm/image_file.h"
#include "nvm/nvm_device.h"

namespace tessera::device {

// A card on `device`, powered off. `device`, `geometry` and `platform` must outlive it.
std::unique_ptr<card::Card> MakeCard(nvm::NvmDevice& device, const nvm::Geometry& geometry,
                                     card::Platform& platform);

// A card on an image file as the programs run it: the image, opened, validated and locked
// (nvm/image_file.h), the system's DRBG and clock, and the card, powered off.
class VirtualCard {
 public:
  static Result<std::unique_ptr<VirtualCard>> OpenImage(const std::string& path);

  card::Card& card() { return *card_; }
  nvm::ImageFile& image() { return *image_; }

 private:
  explicit VirtualCard(std::unique_ptr<nvm::ImageFile> image);

  std::unique_ptr<nvm::ImageFile> image_;
  std::unique_ptr<card::DrbgPlatform> platform_;
  std::unique_ptr<card::Card> card_;
};

}  // namespace tessera::device
