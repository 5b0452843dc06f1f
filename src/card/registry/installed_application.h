// An installed application as the dispatcher sees it: the Application for a registry entry and
// its module. It enforces the state table of docs/applications.md §2 for every command
// (Admit) and for SELECT (Selectable), and offers SCP03 sessions for the key sets its module
// names (module.h, SessionKeys). Objects are made by the card on demand and live until
// power-off; they hold nothing but the entry's block, the AID and the module.
#pragma once

#include <memory>

#include "card/kernel/application.h"
#include "card/kernel/module.h"
#include "card/registry/app_registry.h"

namespace tessera::card {

class InstalledApplication final : public Application, public SecurityDomain {
 public:
  InstalledApplication(uint16_t entry_block, Bytes aid, std::shared_ptr<Module> module,
                       SessionKeys keys)
      : entry_block_(entry_block), aid_(std::move(aid)), module_(std::move(module)), keys_(keys) {}

  ByteView aid() const override { return aid_; }
  CardResult<uint16_t> Selectable(Card& card) override;
  CardResult<Response> Select(Card& card, ChannelState& ch, const CommandApdu& cmd) override;
  CardResult<AppAccess> Admit(Card& card, ChannelState& ch, const CommandApdu& cmd) override;
  std::span<const Route> commands() const override { return module_->commands(); }
  void Deselect(ChannelState& ch) override { module_->Deselect(ch); }
  SecurityDomain* security_domain() override {
    return keys_ == SessionKeys::kNone ? nullptr : this;
  }
  bool installed() const override { return true; }

  CardResult<std::vector<KeySet>> KeySets(Card& card) override;
  CardStatus SaveKeySet(Card& card, KeySet& set) override;

  uint16_t entry_block() const { return entry_block_; }
  Module& module() { return *module_; }
  CardResult<AppContext> Context(Card& card, ChannelState& ch);

 private:
  uint16_t entry_block_;
  Bytes aid_;
  std::shared_ptr<Module> module_;
  SessionKeys keys_;  // fixed at installation with the privileges
};

}  // namespace tessera::card
