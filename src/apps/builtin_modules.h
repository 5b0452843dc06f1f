// The modules compiled into the card (docs/applications.md §1): the code installed
// applications name by module AID. Every place that makes a card registers them.
#pragma once

#include <memory>

#include "card/card.h"
#include "card/module.h"

namespace tessera::apps {

std::shared_ptr<card::Module> MakeManagementModule();
std::shared_ptr<card::Module> MakeDataStoreModule();
std::shared_ptr<card::Module> MakePurseModule();
std::shared_ptr<card::Module> MakeFilesModule();
// src/issuance/issuance_module.cc: self-issuance (docs/self-issuance.md).
std::shared_ptr<card::Module> MakeIssuanceModule();
// A half-issued card function's target application is not selectable from outside: its
// function's journal says running, interrupted or partial (docs/self-issuance.md §4).
card::CardResult<bool> HalfIssued(card::Card& card, const card::ChannelState& ch, ByteView aid);
// Deletion observer: the functions that targeted a deleted application are forgotten, their
// groups (which may carry its PINs and keys) deleted and wiped.
card::CardStatus ForgetFunctionsOf(card::Card& card, ByteView aid);

// Adds every built-in module to `card`.
void RegisterBuiltInModules(card::Card& card);

}  // namespace tessera::apps
