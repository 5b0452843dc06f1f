#include "card/card.h"

#include "card/handlers.h"
#include "core/status_words.h"

namespace tessera::card {
namespace {

struct Route {
  uint8_t ins;
  Handler handler;
};

constexpr Route kRoutes[] = {
    {0xA4, HandleSelect},
    {0xB0, HandleReadBinary},
    {0xD6, HandleUpdateBinary},
    {0x0E, HandleEraseBinary},
    {0xB2, HandleReadRecord},
    {0xDC, HandleUpdateRecord},
    {0xE2, HandleAppendRecord},
    {0x0C, HandleEraseRecord},
    {0xA2, HandleSearchRecord},
    {0xE0, HandleCreateFile},
    {0xE4, HandleDeleteFile},
    {0x44, HandleActivateFile},
    {0x04, HandleDeactivateFile},
    {0xE6, HandleTerminateDf},
    {0xE8, HandleTerminateEf},
    {0xFE, HandleTerminateCardUsage},
    {0x20, HandleVerify},
    {0x24, HandleChangeReferenceData},
    {0x2C, HandleResetRetryCounter},
    {0xCA, HandleGetData},
    {0xDA, HandlePutData},
    {0x84, HandleGetChallenge},
    {0x70, HandleManageChannel},
    {0x50, HandleInitializeUpdate},
    {0x82, HandleExternalAuthenticate},
    {0xF2, HandleGetStatus},
    {0xF0, HandleSetStatus},
    {0xD8, HandlePutKey},
};

constexpr uint8_t kGetResponse = 0xC0;

ResponseApdu ErrorResponse(CardError e) {
  return ResponseApdu{{}, ToStatusWord(e)};
}

uint16_t BytesRemaining(size_t n) {
  return static_cast<uint16_t>(sw::kBytesRemaining | (n >= 256 ? 0 : n));
}

}  // namespace

Card::Card(nvm::NvmDevice& device, const nvm::Geometry& geometry, Platform& platform)
    : device_(device), geometry_(geometry), platform_(platform) {}

Card::~Card() = default;

Bytes Card::Atr() {
  // TS=3B (direct), T0=8D: TD1 follows, 13 historical bytes; TD1=80: TD2 follows, T=0 listed;
  // TD2=01: T=1. Historical bytes: category 80, then COMPACT-TLV: 57 "TESSERA" (card issuer's
  // data) and 73 card capabilities (FE: every selection method; 01: data unit 1 byte;
  // DF: chaining, extended Lc/Le, channels assigned by card and host, 8 or more channels).
  // TCK makes the XOR of T0..TCK zero.
  Bytes atr = HexOrDie("3B8D8001 80 57 54455353455241 73FE01DF");
  uint8_t tck = 0;
  for (size_t i = 1; i < atr.size(); ++i) tck ^= atr[i];
  atr.push_back(tck);
  return atr;
}

Result<Bytes> Card::PowerOn() {
  PowerOff();
  if (!device_.powered()) device_.PowerOn();
  TESSERA_ASSIGN_OR_RETURN(store_, nvm::NvmStore::Mount(device_, geometry_));
  auto root = LoadRoot(*store_);
  if (!root.ok()) {
    store_.reset();
    return Corruption("the image holds no card file system (create one with 'tessera image init')");
  }
  fs_ = std::make_unique<FileSystem>(*store_);
  mf_ = root->mf;
  auto mf = fs_->Load(mf_);
  if (!mf.ok()) {
    store_.reset();
    fs_.reset();
    return Corruption("the card's MF is damaged");
  }
  channels_[0].open = true;
  channels_[0].current_df = mf_;
  return Atr();
}

void Card::PowerOff() {
  channels_ = {};
  fs_.reset();
  store_.reset();
  mf_ = kNoNode;
}

Result<Bytes> Card::Reset() {
  PowerOff();
  return PowerOn();
}

CardResult<FileNode> Card::CurrentDf(ChannelState& ch) {
  auto df = fs_->Load(ch.current_df);
  if (df.ok() && df->is_df()) return df;
  ch.current_df = mf_;
  ch.current_ef = kNoNode;
  return fs_->Load(mf_);
}

void Card::Select(ChannelState& ch, const FileNode& node) {
  if (node.is_df()) {
    ch.current_df = node.id;
    ch.current_ef = kNoNode;
  } else {
    ch.current_df = node.parent;
    ch.current_ef = node.id;
  }
  ch.current_record = 0;
}

void Card::ForgetDeleted() {
  for (ChannelState& ch : channels_) {
    if (!ch.open) continue;
    auto alive = [&](uint16_t id) {
      auto st = store_->GetBlockState(id);
      return st.ok() && *st == nvm::BlockState::kUsed;
    };
    if (ch.current_ef != kNoNode && !alive(ch.current_ef)) {
      ch.current_ef = kNoNode;
      ch.current_record = 0;
    }
    if (!alive(ch.current_df)) {
      ch.current_df = mf_;
      ch.current_ef = kNoNode;
    }
  }
}

Bytes Card::Transmit(ByteView command) {
  if (!powered()) return ResponseApdu{{}, sw::kNoPreciseDiagnosis}.Serialize();
  if (external_closed_) return ResponseApdu{{}, sw::kConditionsNotSatisfied}.Serialize();
  auto parsed = CommandApdu::Parse(command);
  if (!parsed.ok()) {
    if (command.size() >= 1 && !DecodeClass(command[0]).valid) {
      return ResponseApdu{{}, sw::kClaNotSupported}.Serialize();
    }
    return ResponseApdu{{}, sw::kWrongLength}.Serialize();
  }
  return Process(*parsed).Serialize();
}

ResponseApdu Card::ExecuteInternal(const CommandApdu& command) {
  if (!powered()) return ResponseApdu{{}, sw::kNoPreciseDiagnosis};
  return Process(command);
}

ResponseApdu Card::Process(const CommandApdu& cmd_in) {
  const ClassByte cls = DecodeClass(cmd_in.cla);
  if (!cls.valid) return ErrorResponse({Error::kClaNotSupported});
  ChannelState& ch = channels_[cls.channel];
  if (!ch.open) return ErrorResponse({Error::kChannelNotSupported});
  // Secure messaging: EXTERNAL AUTHENTICATE (GP class) unwraps itself; everything else needs the
  // channel's authenticated session. Any verification failure ends the session.
  CommandApdu unwrapped;
  const CommandApdu* in = &cmd_in;
  ch.command_secured = false;
  if (cls.secure_messaging != SecureMessaging::kNone && !(cmd_in.ins == 0x82 && cls.proprietary)) {
    if (!ch.scp) return ResponseApdu{{}, sw::kSecureMessagingNotSupported};
    auto plain = ch.scp->UnwrapCommand(cmd_in);
    if (!plain.ok()) {
      ch.CloseSecureChannel();
      return ResponseApdu{{},
                          plain.status().code() == ErrorCode::kMalformed
                              ? sw::kSmDataIncorrect
                              : sw::kSecurityNotSatisfied};
    }
    unwrapped = std::move(*plain);
    in = &unwrapped;
    ch.command_secured = true;
  }
  {
    auto state = LoadCardState(*store_);
    if (!state.ok()) return ErrorResponse(state.error());
    if (*state == kCardTerminated) return ErrorResponse({Error::kFunctionNotSupported});
  }

  if (in->ins == kGetResponse && !ch.chaining) {
    if (in->p1 != 0 || in->p2 != 0) return ErrorResponse({Error::kWrongP1P2});
    if (ch.pending_response.empty()) return ErrorResponse({Error::kConditionsNotSatisfied});
    if (in->ne == 0) return ErrorResponse({Error::kWrongLength});
    Bytes pending = std::move(ch.pending_response);
    ch.pending_response.clear();
    return Finish(*in, ch, Response{std::move(pending)});
  }
  ch.pending_response.clear();
  // Anything but EXTERNAL AUTHENTICATE after INITIALIZE UPDATE abandons the half-open session.
  if (ch.scp_pending && in->ins != 0x82) ch.scp_pending.reset();

  // Command chaining: collect the data of every link, run the command on the last one.
  CommandApdu cmd = *in;
  if (cls.chaining || ch.chaining) {
    const bool same =
        ch.chaining && ch.chain_ins == cmd.ins && ch.chain_p1 == cmd.p1 && ch.chain_p2 == cmd.p2;
    if (ch.chaining && !same) {
      ch.chaining = false;
      ch.chain_data.clear();
      return ErrorResponse({Error::kLastCommandExpected});
    }
    if (ch.chain_data.size() + cmd.data.size() > kMaxExtendedNc) {
      ch.chaining = false;
      ch.chain_data.clear();
      return ErrorResponse({Error::kWrongLength});
    }
    Append(ch.chain_data, cmd.data);
    if (cls.chaining) {
      ch.chaining = true;
      ch.chain_ins = cmd.ins;
      ch.chain_p1 = cmd.p1;
      ch.chain_p2 = cmd.p2;
      return ResponseApdu{{}, sw::kOk};
    }
    cmd.data = std::move(ch.chain_data);
    ch.chain_data.clear();
    ch.chaining = false;
    cmd.cla = static_cast<uint8_t>(cmd.cla & ~0x10);
  }

  if (Status s = store_->Begin(); !s.ok()) return ErrorResponse(FromStatus(s));
  CardResult<Response> r = Dispatch(cmd, ch);
  if (!r.ok()) {
    store_->Abort();
    if (r.error().code == Error::kPowerLost) {
      PowerOff();
      return ErrorResponse(r.error());
    }
    return ErrorResponse(r.error());
  }
  if (Status s = store_->Commit(); !s.ok()) {
    if (s.code() == ErrorCode::kPowerLost) PowerOff();
    return ErrorResponse(FromStatus(s));
  }
  if (ch.command_secured && ch.scp) {
    auto wrapped = ch.scp->WrapResponse(ResponseApdu{std::move(r->data), r->sw});
    if (!wrapped.ok()) return ErrorResponse({Error::kNoPreciseDiagnosis});
    r->data = std::move(wrapped->data);
  }
  return Finish(cmd, ch, std::move(*r));
}

CardResult<Response> Card::Dispatch(const CommandApdu& cmd, ChannelState& ch) {
  // GET DATA addresses the selected application's data: the issuer security domain's when it
  // is selected.
  if (cmd.ins == 0xCA && ch.isd_selected) return HandleIsdGetData(*this, ch, cmd);
  for (const Route& route : kRoutes) {
    if (route.ins == cmd.ins) return route.handler(*this, ch, cmd);
  }
  return Error::kInsNotSupported;
}

ResponseApdu Card::Finish(const CommandApdu& cmd, ChannelState& ch, Response r) {
  if (r.data.empty()) return ResponseApdu{{}, r.sw};
  if (cmd.ne == 0) {
    // Data without Le: announce it (61xx) and keep it for GET RESPONSE.
    if (r.sw != sw::kOk) return ResponseApdu{{}, r.sw};
    ch.pending_response = std::move(r.data);
    return ResponseApdu{{}, BytesRemaining(ch.pending_response.size())};
  }
  if (r.data.size() <= cmd.ne) return ResponseApdu{std::move(r.data), r.sw};
  if (r.exact_length && cmd.ne < kMaxShortNe && r.data.size() <= kMaxShortNe) {
    return ResponseApdu{{}, static_cast<uint16_t>(sw::kWrongLe | (r.data.size() & 0xFF))};
  }
  ResponseApdu out{Bytes(r.data.begin(), r.data.begin() + cmd.ne), 0};
  ch.pending_response.assign(r.data.begin() + cmd.ne, r.data.end());
  out.sw = BytesRemaining(ch.pending_response.size());
  return out;
}

}  // namespace tessera::card
