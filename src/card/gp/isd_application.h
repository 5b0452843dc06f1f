// The issuer security domain (GlobalPlatform Card Specification 2.3): an application like the
// others, registered by the card itself under A000000151000000 (and selected by an empty SELECT
// too), with the security-domain privilege over the card's key sets (CardRoot::key_sets).
//
// Its commands, one file per concern:
//  - secure-channel sessions: secure_channel_service.cc (INITIALIZE UPDATE, EXTERNAL AUTHENTICATE)
//  - card data:   isd_card_data.cc   (GET DATA: CPLC, card data, key information, IIN, CIN...)
//  - card status: isd_card_status.cc (GET STATUS, SET STATUS, the card life cycle)
//  - keys:        isd_keys.cc        (PUT KEY, DELETE of a key set)
// Card content management (INSTALL, LOAD, STORE DATA, DELETE of applications) joins them with
// the application registry.
#pragma once

#include <memory>

#include "card/kernel/application.h"
#include "card/kernel/card.h"

namespace tessera::card {

std::shared_ptr<Application> MakeIssuerSecurityDomain();

// The handlers (REQUIRES: the issuer security domain is the selected application on `ch`).
CardResult<Response> HandleIsdGetData(Card&, ChannelState&, const CommandApdu&);
CardResult<Response> HandleGetStatus(Card&, ChannelState&, const CommandApdu&);
CardResult<Response> HandleSetStatus(Card&, ChannelState&, const CommandApdu&);
CardResult<Response> HandlePutKey(Card&, ChannelState&, const CommandApdu&);
CardResult<Response> HandleDeleteKey(Card&, ChannelState&, const CommandApdu&);
// isd_content.cc: card content management (docs/applications.md §5, §7).
CardResult<Response> HandleDelete(Card&, ChannelState&, const CommandApdu&);
CardResult<Response> HandleInstall(Card&, ChannelState&, const CommandApdu&);
CardResult<Response> HandleLoad(Card&, ChannelState&, const CommandApdu&);
CardResult<Response> HandleStoreData(Card&, ChannelState&, const CommandApdu&);

// Three PUT KEY key components (88 L {key length, key wrapped with `dek`} 03 KCV), checked;
// their KCVs are appended to `kcvs`. 9485 for a wrong KCV, 6A80 for anything malformed.
CardResult<crypto::scp03::StaticKeys> UnwrapKeyComponents(ByteView data,
                                                          const crypto::SecureBuffer& dek,
                                                          Bytes& kcvs);
// STORE DATA blocks (P1 b8 last, P2 block number from 00) joined on the channel: the whole
// upload once its last block arrives, nullopt before (docs/applications.md §5.1).
CardResult<std::optional<Bytes>> JoinUpload(ChannelState& ch, const CommandApdu& cmd);
// Whether an SCP03 key set with this KVN exists: the issuer's, or an administrator's (KVNs are
// unique across both, so that a session on the management application finds one key set).
CardResult<bool> KvnInUse(Card& card, const CardRoot& root, uint8_t kvn);
// The static DEK of the issuer key set the channel's session was opened with.
CardResult<crypto::SecureBuffer> SessionDek(Card& card, const ChannelState& ch);
// The success answer of a content-management command: the receipt byte 00 when Le asked for
// data, nothing otherwise (GP hosts send DELETE and INSTALL without Le and want exactly 9000).
inline Response GpReceipt(const CommandApdu& cmd) {
  return cmd.ne > 0 ? Response{Bytes{0x00}} : Response{};
}

// (The GP commands are routed with ClassRange::kProprietary: an interindustry CLA passes them
// by, to the OS's command with the same INS.)

}  // namespace tessera::card
