// A card on a RAM NVM with the default profile, for handler tests.
#pragma once

#include <gtest/gtest.h>
#include "device/virtual_card.h"

#include <memory>
#include <string>

#include "card/kernel/card.h"
#include "card/kernel/profile.h"
#include "core/bytes.h"

namespace tessera::card {

inline nvm::Geometry TestCardGeometry() {
  nvm::Geometry g;
  g.nvm_size = 128 * 1024;
  g.journal_capacity = 8 * 1024;
  return g;
}

class CardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ram_ = std::make_unique<nvm::RamNvm>(geometry_.nvm_size, geometry_.page_size);
    ASSERT_TRUE(InstallDefaultProfile(ram_->device(), geometry_).ok());
    platform_ = DrbgPlatform::FromSeed(Bytes(48, 7), 1700000000);
    card_ = device::MakeCard(ram_->device(), geometry_, *platform_);
    auto atr = card_->PowerOn();
    ASSERT_TRUE(atr.ok()) << atr.status().ToString();
  }
  // Sends a hex APDU, returns the response as hex ("...9000").
  std::string Tx(const std::string& hex) { return ToHex(card_->Transmit(HexOrDie(hex))); }
  // Just the status word.
  std::string Sw(const std::string& hex) {
    std::string r = Tx(hex);
    return r.substr(r.size() - 4);
  }
  void Reboot() {
    card_->PowerOff();
    ASSERT_TRUE(card_->PowerOn().ok());
  }

  nvm::Geometry geometry_ = TestCardGeometry();
  std::unique_ptr<nvm::RamNvm> ram_;
  std::unique_ptr<DrbgPlatform> platform_;
  std::unique_ptr<Card> card_;
};

}  // namespace tessera::card
