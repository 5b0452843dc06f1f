// GET STATUS (F2) and SET STATUS (F0) on the issuer security domain: the registry view and the
// card life cycle OP_READY -> INITIALIZED -> SECURED <-> CARD_LOCKED -> TERMINATED
// (GP CS 2.3 §5.1.1, §11.4, §11.10).
#include "card/card_root.h"
#include "card/identifiers.h"
#include "card/isd_application.h"
#include "card/key_store.h"
#include "card/secure_channel_service.h"
#include "core/status_words.h"
#include "core/tlv.h"

namespace tessera::card {
namespace {

const Bytes kIsd(std::begin(aid::kIssuerSecurityDomain), std::end(aid::kIssuerSecurityDomain));

}  // namespace

CardResult<Response> HandleGetStatus(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  CARD_TRY(RequireAdminSession(card, ch));
  CARD_ASSIGN(CardRoot root, card.root());
  if (cmd.p1 != 0x80 && cmd.p1 != 0x40 && cmd.p1 != 0x20 && cmd.p1 != 0x10) {
    return Error::kWrongP1P2;
  }
  if ((cmd.p2 & ~0x03) != 0) return Error::kWrongP1P2;
  if (cmd.data.empty()) return Error::kWrongData;
  auto search = FindTlv(cmd.data, 0x4F);
  if (!search.ok() || !search->has_value()) return Error::kWrongData;
  ByteView aid = (*search)->value;
  // Applications and load files arrive with card content management; only the ISD exists.
  if (cmd.p1 != 0x80) return Error::kReferencedDataNotFound;
  if (!aid.empty() &&
      !std::equal(aid.begin(), aid.end(), kIsd.begin(),
                  kIsd.begin() + static_cast<ptrdiff_t>(std::min(aid.size(), kIsd.size())))) {
    return Error::kReferencedDataNotFound;
  }
  if (cmd.p2 & 0x01) return Error::kReferencedDataNotFound;  // no further entries
  Response r;
  if (cmd.p2 & 0x02) {
    TlvBuilder b;
    b.Open(0xE3).Add(0x4F, kIsd).AddByte(0x9F70, root.gp_life_cycle).Add(0xC5, HexOrDie("9EFE80"));
    b.Close();
    r.data = b.Take();
  } else {
    r.data.push_back(static_cast<uint8_t>(kIsd.size()));
    Append(r.data, kIsd);
    r.data.push_back(root.gp_life_cycle);
    r.data.push_back(0x9E);
  }
  return r;
}

CardResult<Response> HandleSetStatus(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  CARD_TRY(RequireAdminSession(card, ch));
  CARD_ASSIGN(CardRoot root, card.root());
  if (cmd.p1 != 0x80)
    return cmd.p1 == 0x40 || cmd.p1 == 0x60 ? CardResult<Response>(Error::kReferencedDataNotFound)
                                            : CardResult<Response>(Error::kWrongP1P2);
  if (!cmd.data.empty() && Bytes(cmd.data) != kIsd) return Error::kReferencedDataNotFound;
  const uint8_t from = root.gp_life_cycle, to = cmd.p2;
  const bool allowed =
      (from == kGpOpReady && to == kGpInitialized) ||
      (from == kGpInitialized && to == kGpSecured) || (from == kGpSecured && to == kGpCardLocked) ||
      (from == kGpCardLocked && to == kGpSecured) || (to == kGpTerminated && from != kGpTerminated);
  if (to != kGpOpReady && to != kGpInitialized && to != kGpSecured && to != kGpCardLocked &&
      to != kGpTerminated) {
    return Error::kWrongP1P2;
  }
  if (!allowed) return Error::kConditionsNotSatisfied;
  root.gp_life_cycle = to;
  if (to == kGpTerminated) root.card_state = kCardTerminated;
  CARD_TRY(SaveRoot(card.store(), root));
  return Response{};
}

}  // namespace tessera::card
