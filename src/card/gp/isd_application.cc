#include "card/gp/isd_application.h"

#include "card/gp/key_store.h"
#include "card/kernel/card_root.h"
#include "card/kernel/identifiers.h"
#include "core/tlv.h"
#include "format/status_words.h"

namespace tessera::card {
namespace {

constexpr Route kIsdCommands[] = {
    {ins::kGetData, HandleIsdGetData},  // GET DATA: any class
    {ins::kGetStatus, HandleGetStatus, ClassRange::kProprietary},
    {ins::kSetStatus, HandleSetStatus, ClassRange::kProprietary},
    {ins::kPutKey, HandlePutKey, ClassRange::kProprietary},
    {ins::kDelete, HandleDelete, ClassRange::kProprietary},
    {ins::kInstall, HandleInstall, ClassRange::kProprietary},
    {ins::kLoad, HandleLoad, ClassRange::kProprietary},
    {ins::kStoreData, HandleStoreData, ClassRange::kProprietary},
};

class IssuerSecurityDomain final : public Application, public SecurityDomain {
 public:
  ByteView aid() const override { return aid::kIssuerSecurityDomain; }
  bool Answers(ByteView name) const override { return name.empty() || Application::Answers(name); }
  CardResult<Response> Select(Card& card, ChannelState& ch, const CommandApdu& cmd) override {
    (void)ch;
    CARD_ASSIGN(CardRoot root, card.root());
    Response r;
    if ((cmd.p2 & 0x0C) != 0x0C) {
      TlvBuilder b;
      b.Open(0x6F).Add(0x84, aid()).Open(0xA5).AddByte(0x9F65, 0xFF).Close().Close();
      r.data = b.Take();
    }
    if (root.gp_life_cycle == kGpCardLocked) r.sw = sw::kWarningFileDeactivated;  // 6283
    return r;
  }
  std::span<const Route> commands() const override { return kIsdCommands; }
  SecurityDomain* security_domain() override { return this; }

  CardResult<std::vector<KeySet>> KeySets(Card& card) override {
    CARD_ASSIGN(CardRoot root, card.root());
    return AllKeySets(card.store(), root);
  }
  CardStatus SaveKeySet(Card& card, KeySet& set) override {
    CARD_ASSIGN(CardRoot root, card.root());
    return card::SaveKeySet(card.store(), root, set);
  }
};

}  // namespace

bool Application::Answers(ByteView name) const {
  const ByteView id = aid();
  return name.size() >= 5 && name.size() <= id.size() &&
         std::equal(name.begin(), name.end(), id.begin());
}

CardResult<uint16_t> Application::Selectable(Card& card) {
  (void)card;
  return sw::kOk;
}

CardResult<AppAccess> Application::Admit(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  (void)card;
  (void)ch;
  (void)cmd;
  return AppAccess::kCode;
}

std::shared_ptr<Application> MakeIssuerSecurityDomain() {
  return std::make_shared<IssuerSecurityDomain>();
}

}  // namespace tessera::card
