#include "host/card_session.h"

#include <cstdio>

#include "format/status_words.h"
#include "host/card_keys.h"
#include "host/trace.h"

namespace tessera::host {
namespace {

// A command for a trace: STORE DATA (and anything else with INS E2) may carry a PIN or wrapped
// keys, so its body is shown as its length, wrapped or not.
std::string TraceCommand(ByteView c) {
  if (c.size() > 5 && c[1] == 0xE2) {
    auto parsed = CommandApdu::Parse(c);
    if (!parsed.ok()) return ToHex(c.first(4)) + " <body hidden>";
    const CommandApdu& a = *parsed;
    std::string s = host::InstructionName(a.cla, a.ins) + "  CLA=" + HexByte(a.cla) +
                    " P1=" + HexByte(a.p1) + " P2=" + HexByte(a.p2);
    if (a.cla & 0x80) {
      s += " [block " + std::to_string(a.p2) + ((a.p1 & 0x80) ? ", the last]" : ", more follow]");
    }
    s += " Lc=" + std::to_string(a.data.size()) + " data=<" + std::to_string(a.data.size()) +
         " bytes hidden>";
    if (a.ne != 0) s += " Le=" + std::to_string(a.ne);
    return s;
  }
  return host::DescribeCommand(c);
}

Result<std::unique_ptr<host::CardLink>> OpenLink(const LinkOptions& o) {
  if (!o.connect.empty()) return host::OpenSocketLink(o.connect, o.timeout_s * 1000);
  if (!o.reader.empty()) return host::OpenPcscLink(o.reader);
  // --power-cut-after cuts the power once per command: a reconnection (issue run) finds the
  // card powered again, as a card put back into the reader.
  static bool cut_used = false;
  std::optional<uint64_t> cut = cut_used ? std::nullopt : o.power_cut_after;
  if (cut) cut_used = true;
  return host::OpenEmbeddedLink(o.image, cut, host::TraceDiagnostics(o.trace));
}

}  // namespace

std::string Meaning(uint16_t sw, const std::vector<SwMeaning>& known) {
  for (const auto& k : known) {
    if (k.sw == sw) return k.meaning;
  }
  return std::string(sw::Lookup(sw).meaning);
}

Status Refused(const std::string& what, uint16_t sw, const std::vector<SwMeaning>& known) {
  return FailedPrecondition(what + ": the card answered " + HexU16(sw) + ": " + Meaning(sw, known))
      .WithCardSw(sw);
}

Result<crypto::scp03::StaticKeys> LoadScp03Keys(const std::string& spec, bool warn) {
  crypto::scp03::StaticKeys keys;
  if (spec == "test") {
    keys = crypto::scp03::TestKeys();
  } else {
    TESSERA_ASSIGN_OR_RETURN(keys, LoadKeyFile(spec));
  }
  if (warn && crypto::scp03::IsTestKeys(keys)) {
    std::fprintf(stderr,
                 "tessera: warning: using the well-known test keys 404142..4F; anyone can open "
                 "a secure channel to this card\n");
  }
  return keys;
}

namespace {

// A failure of the link itself (opening it, an exchange over it): the card is unavailable,
// whatever the link's own reason (a missing image, a socket closed, a power cut). A power
// cut keeps its code: the issuance engine reconnects on it.
Status LinkFailure(const Status& s) {
  if (s.code() == ErrorCode::kPowerLost || s.code() == ErrorCode::kUnavailable) return s;
  return Status(ErrorCode::kUnavailable, s.message().empty() ? s.ToString() : s.message());
}

}  // namespace

Result<std::unique_ptr<CardSession>> CardSession::Open(const LinkOptions& o) {
  auto link = OpenLink(o);
  if (!link.ok()) return LinkFailure(link.status());
  return std::unique_ptr<CardSession>(new CardSession(o, std::move(*link)));
}

void CardSession::TraceOut(const char* arrow, ByteView command) const {
  if (o_.trace) std::fprintf(stderr, "%s %s\n", arrow, TraceCommand(command).c_str());
}

void CardSession::TraceIn(const char* arrow, ByteView response) const {
  if (o_.trace) std::fprintf(stderr, "%s %s\n", arrow, host::DescribeResponse(response).c_str());
}

Result<ResponseApdu> CardSession::Plain(const CommandApdu& c) {
  const Bytes bytes = c.Serialize();
  TraceOut(">", bytes);
  auto sent = host::TransmitFollowing(*link_, bytes);
  if (!sent.ok()) return LinkFailure(sent.status());
  const Bytes& r = *sent;
  TraceIn("<", r);
  return ResponseApdu::Parse(r);
}

Result<ResponseApdu> CardSession::Select(ByteView aid) {
  return Plain(CommandApdu{0x00, 0xA4, 0x04, 0x00, Bytes(aid.begin(), aid.end()), 256, false});
}

Status CardSession::OpenScp03(ByteView sd_aid) {
  if (!keys_loaded_) {
    TESSERA_ASSIGN_OR_RETURN(keys_, LoadScp03Keys(o_.scp03, true));
    keys_loaded_ = true;
  }
  channel_.reset();
  crypto::scp03::ChannelOptions so;
  so.keys = keys_;
  so.level = o_.scp03_level;
  so.kvn = o_.scp03_kvn;
  so.s16 = o_.scp03_s16;
  so.security_domain.assign(sd_aid.begin(), sd_aid.end());
  host::CardLink* raw = link_.get();
  const CardSession* self = this;
  auto channel = crypto::scp03::SecureChannel::Open(
      [raw, self](ByteView c) -> Result<Bytes> {
        self->TraceOut(">>", c);
        auto r = raw->Transmit(c);
        if (r.ok()) self->TraceIn("<<", *r);
        return r;
      },
      so);
  if (!channel.ok()) {
    const Status& why = channel.status();
    // A step the card refused carries its status word; a cryptogram that does not verify
    // means the keys are wrong, which no status word says: the secure channel is unavailable.
    Status s(why.has_card_sw() ? why.code() : ErrorCode::kUnavailable,
             "SCP03 with " +
                 (sd_aid.empty() ? std::string("the issuer security domain")
                                 : "the security domain " + ToHex(sd_aid)) +
                 ": " + why.message());
    return why.has_card_sw() ? std::move(s).WithCardSw(why.card_sw()) : s;
  }
  channel_ = std::move(*channel);
  return Status::Ok();
}

Result<ResponseApdu> CardSession::Secure(const CommandApdu& c) {
  if (!channel_) return FailedPrecondition("no SCP03 session is open");
  const Bytes bytes = c.Serialize();
  TraceOut(">", bytes);
  auto sent = channel_->Transmit(bytes);
  if (!sent.ok()) return sent.status().has_card_sw() ? sent.status() : LinkFailure(sent.status());
  const Bytes& r = *sent;
  TraceIn("<", r);
  return ResponseApdu::Parse(r);
}

Result<CardSession::Upload> CardSession::StoreData(ByteView data) {
  Upload u;
  u.blocks = data.empty() ? 1 : (data.size() + kStoreDataBlock - 1) / kStoreDataBlock;
  if (u.blocks > 256) return InvalidArgument("more than 256 STORE DATA blocks");
  for (size_t i = 0; i < u.blocks; ++i) {
    const bool last = i + 1 == u.blocks;
    const size_t at = i * kStoreDataBlock;
    const ByteView chunk = data.subspan(at, std::min(kStoreDataBlock, data.size() - at));
    CommandApdu c{0x80,
                  0xE2,
                  static_cast<uint8_t>(last ? 0x90 : 0x10),
                  static_cast<uint8_t>(i),
                  Bytes(chunk.begin(), chunk.end()),
                  0,
                  false};
    TESSERA_ASSIGN_OR_RETURN(ResponseApdu r, Secure(c));
    u.sw = r.sw;
    u.block = i;
    if (r.sw != sw::kOk) return u;
  }
  return u;
}

}  // namespace tessera::host
