// PURSE (docs/applications.md §6.2): a stored-value purse. Credit needs a secure channel opened
// with the purse itself (its administrator's key set, or the issuer's), debit needs the
// holder's PIN; every credit and debit appends to a cyclic log, in the same transaction as the
// balance.
#include "apps/purse/purse_module.h"
#include "apps/common/module_pin.h"
#include "card/gp/secure_channel_service.h"
#include "card/kernel/card.h"
#include "card/kernel/identifiers.h"
#include "card/registry/app_registry.h"
#include "core/tlv.h"
#include "format/module_params.h"

namespace tessera::apps {
namespace {

using card::AppContext;
using card::CardResult;
using card::CardStatus;
using card::Error;
using card::Response;

constexpr uint16_t kStateFid = 0x0201;  // balance, transaction counter, limit
constexpr uint16_t kLogFid = 0x0202;
constexpr uint16_t kPinFid = 0x02FF;
constexpr uint16_t kStateSize = 12;
constexpr uint16_t kLogRecords = 10;
constexpr uint16_t kLogRecordSize = 16;
constexpr uint32_t kDefaultLimit = format::kPurseDefaultLimit;
constexpr uint8_t kInsGetBalance = 0x5C;
constexpr uint8_t kInsCredit = 0x52;
constexpr uint8_t kInsDebit = 0x54;
constexpr uint8_t kLogCredit = 0x01;
constexpr uint8_t kLogDebit = 0x02;

struct State {
  uint32_t balance = 0;
  uint32_t counter = 0;
  uint32_t limit = kDefaultLimit;
};

uint32_t GetU32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
void PutU32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

CardResult<State> LoadState(AppContext& app) {
  CARD_ASSIGN(card::FileNode f, AppFile(app, kStateFid));
  uint8_t b[kStateSize];
  CARD_TRY(app.card->fs().ReadData(f, 0, b));
  return State{GetU32(b), GetU32(b + 4), GetU32(b + 8)};
}

CardStatus SaveState(AppContext& app, const State& s) {
  CARD_ASSIGN(card::FileNode f, AppFile(app, kStateFid));
  uint8_t b[kStateSize];
  PutU32(b, s.balance);
  PutU32(b + 4, s.counter);
  PutU32(b + 8, s.limit);
  return app.card->fs().WriteData(f, 0, ByteView(b, kStateSize));
}

// Appends to the cyclic log exactly as APPEND RECORD would (record 1 = the newest).
CardStatus Log(AppContext& app, uint8_t type, uint32_t amount, const State& s) {
  CARD_ASSIGN(card::FileNode log, AppFile(app, kLogFid));
  CARD_ASSIGN(card::CardRoot root, app.card->root());
  CARD_ASSIGN(card::Registry registry, card::LoadRegistry(app.card->store(), root));
  Bytes r(kLogRecordSize, 0);
  r[0] = type;
  PutU32(&r[1], amount);
  PutU32(&r[5], s.balance);
  PutU32(&r[9], s.counter);
  std::copy_n(registry.trusted_date.begin(), 3, r.begin() + 13);
  const uint32_t slot = log.record_count == 0 ? 0 : (log.cyclic_head + 1u) % log.max_records;
  CARD_TRY(app.card->fs().WriteSlot(log, slot, r));
  log.cyclic_head = static_cast<uint16_t>(slot);
  log.record_count =
      static_cast<uint16_t>(std::min<uint32_t>(log.record_count + 1u, log.max_records));
  return app.card->fs().Save(log);
}

CardResult<uint32_t> Amount(const CommandApdu& cmd) {
  if (cmd.p1 != 0 || cmd.p2 != 0) return Error::kWrongP1P2;
  if (cmd.data.size() != 4) return Error::kWrongLength;
  const uint32_t amount = GetU32(cmd.data.data());
  if (amount == 0) return Error::kWrongData;
  return amount;
}

CardResult<Response> HandleGetBalance(card::Card& c, card::ChannelState& ch,
                                      const CommandApdu& cmd) {
  if (cmd.p1 != 0 || cmd.p2 != 0) return Error::kWrongP1P2;
  CARD_ASSIGN(AppContext app, card::CurrentApp(c, ch));
  CARD_ASSIGN(State s, LoadState(app));
  Response r;
  r.data.resize(4);
  PutU32(r.data.data(), s.balance);
  r.exact_length = true;
  return r;
}

CardResult<Response> HandleCredit(card::Card& c, card::ChannelState& ch, const CommandApdu& cmd) {
  CARD_ASSIGN(AppContext app, card::CurrentApp(c, ch));
  // Value is loaded only by the purse's administrator (or the issuer), in a session with it.
  CARD_TRY(card::RequireAdminSession(c, ch));
  CARD_ASSIGN(uint32_t amount, Amount(cmd));
  CARD_ASSIGN(State s, LoadState(app));
  if (uint64_t{s.balance} + amount > s.limit) return Error::kWrongData;
  s.balance += amount;
  ++s.counter;
  CARD_TRY(SaveState(app, s));
  CARD_TRY(Log(app, kLogCredit, amount, s));
  return Response{};
}

CardResult<Response> HandleDebit(card::Card& c, card::ChannelState& ch, const CommandApdu& cmd) {
  CARD_ASSIGN(AppContext app, card::CurrentApp(c, ch));
  CARD_TRY(RequirePin(app));
  CARD_ASSIGN(uint32_t amount, Amount(cmd));
  CARD_ASSIGN(State s, LoadState(app));
  if (amount > s.balance) return Error::kWrongData;
  s.balance -= amount;
  ++s.counter;
  CARD_TRY(SaveState(app, s));
  CARD_TRY(Log(app, kLogDebit, amount, s));
  return Response{};
}

CardResult<Response> HandleVerify(card::Card& c, card::ChannelState& ch, const CommandApdu& cmd) {
  CARD_ASSIGN(AppContext app, card::CurrentApp(c, ch));
  return VerifyPin(app, kPinFid, cmd);
}

constexpr card::Route kCommands[] = {
    {card::ins::kVerify, HandleVerify},
    {kInsGetBalance, HandleGetBalance, card::ClassRange::kProprietary},
    {kInsCredit, HandleCredit, card::ClassRange::kProprietary},
    {kInsDebit, HandleDebit, card::ClassRange::kProprietary},
};

struct Params {
  uint32_t balance = 0;
  uint32_t limit = kDefaultLimit;
  Bytes pin;
};

CardResult<Params> ParseParams(ByteView params) {
  auto parsed = format::ParsePurseParams(params);
  if (!parsed.ok()) return Error::kWrongData;
  return Params{parsed->balance.value_or(0), parsed->limit.value_or(kDefaultLimit),
                parsed->pin.value_or(Bytes{})};
}

class PurseModule final : public card::Module {
 public:
  ByteView aid() const override { return card::aid::kPurseModule; }
  std::string_view name() const override { return "PURSE"; }
  std::span<const card::Route> commands() const override { return kCommands; }
  card::SessionKeys session_keys() const override { return card::SessionKeys::kOwnAdministrator; }

  CardStatus Install(AppContext& app, ByteView params) override {
    CARD_ASSIGN(Params p, ParseParams(params));
    CARD_ASSIGN(card::FileNode state,
                CreateAppFile(app, kStateFid, 1, card::EfStructure::kTransparent, kStateSize, 0,
                              kReadableFile));
    (void)state;
    CARD_ASSIGN(card::FileNode log, CreateAppFile(app, kLogFid, 2, card::EfStructure::kCyclic,
                                                  kLogRecordSize, kLogRecords, kReadableFile));
    (void)log;
    CARD_TRY(CreatePinFile(app, kPinFid, p.pin, 3));
    return SaveState(app, State{p.balance, 0, p.limit});
  }

  CardResult<Response> Personalize(AppContext& app, const CommandApdu& cmd) override {
    auto items = ParseTlvSequence(cmd.data);
    if (!items.ok()) return Error::kWrongData;
    for (const TlvView& t : *items) {
      if (t.tag == 0x81) {
        CARD_TRY(SetPin(app, kPinFid, t.value));
      } else if (t.tag == 0x83 && t.value.size() == 4) {
        CARD_ASSIGN(State s, LoadState(app));
        s.limit = GetU32(t.value.data());
        if (s.balance > s.limit) return Error::kWrongData;
        CARD_TRY(SaveState(app, s));
      } else {
        return Error::kWrongData;
      }
    }
    return Response{};
  }
};

}  // namespace

void RegisterPurseModule(card::Card& card) {
  card.AddModule(std::make_shared<PurseModule>());
}

}  // namespace tessera::apps
