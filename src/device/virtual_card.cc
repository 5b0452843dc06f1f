#include "device/virtual_card.h"

#include "apps/builtin_modules.h"

namespace tessera::device {

std::unique_ptr<card::Card> MakeCard(nvm::NvmDevice& device, const nvm::Geometry& geometry,
                                     card::Platform& platform) {
  auto card = std::make_unique<card::Card>(device, geometry, platform);
  apps::RegisterBuiltInModules(*card);
  return card;
}

VirtualCard::VirtualCard(std::unique_ptr<nvm::ImageFile> image)
    : image_(std::move(image)),
      platform_(card::DrbgPlatform::FromSystem()),
      card_(MakeCard(image_->device(), image_->geometry(), *platform_)) {}

Result<std::unique_ptr<VirtualCard>> VirtualCard::OpenImage(const std::string& path) {
  TESSERA_ASSIGN_OR_RETURN(auto image, nvm::ImageFile::Open(path));
  return std::unique_ptr<VirtualCard>(new VirtualCard(std::move(image)));
}

}  // namespace tessera::device
