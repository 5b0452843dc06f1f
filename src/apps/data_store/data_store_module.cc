// DATA STORE (docs/applications.md §6.1): 512 bytes behind the application's own PIN.
#include "apps/data_store/data_store_module.h"
#include "apps/common/module_pin.h"
#include "card/kernel/card.h"
#include "card/kernel/identifiers.h"
#include "core/tlv.h"
#include "format/module_params.h"

namespace tessera::apps {
namespace {

using card::AppContext;
using card::CardResult;
using card::CardStatus;
using card::Error;
using card::Response;

constexpr uint16_t kDataFid = 0x0101;
constexpr uint16_t kPinFid = 0x01FF;
constexpr uint16_t kDataSize = format::kDataStoreSize;

struct Params {
  std::optional<Bytes> data;
  std::optional<Bytes> pin;
  uint8_t tries = format::kDataStoreDefaultTries;
};

CardResult<Params> ParseParams(ByteView params) {
  auto parsed = format::ParseDataStoreParams(params);
  if (!parsed.ok()) return Error::kWrongData;
  return Params{std::move(parsed->data), std::move(parsed->pin),
                parsed->tries.value_or(format::kDataStoreDefaultTries)};
}

CardStatus WriteAll(AppContext& app, ByteView data) {
  CARD_ASSIGN(card::FileNode f, AppFile(app, kDataFid));
  Bytes all(kDataSize, 0);
  std::copy(data.begin(), data.end(), all.begin());
  return app.card->fs().WriteData(f, 0, all);
}

// Offset and file of READ/UPDATE BINARY: P1 b8 = 1 names the file by SFI (only SFI 1 here).
CardResult<uint32_t> Offset(const CommandApdu& cmd) {
  if (cmd.p1 & 0x80) {
    if ((cmd.p1 & 0x1F) != 1 || (cmd.p1 & 0x60) != 0) return Error::kFileNotFound;
    return static_cast<uint32_t>(cmd.p2);
  }
  return static_cast<uint32_t>(((cmd.p1 & 0x7F) << 8) | cmd.p2);
}

CardResult<Response> HandleVerify(card::Card& c, card::ChannelState& ch, const CommandApdu& cmd) {
  CARD_ASSIGN(AppContext app, card::CurrentApp(c, ch));
  return VerifyPin(app, kPinFid, cmd);
}

CardResult<Response> HandleRead(card::Card& c, card::ChannelState& ch, const CommandApdu& cmd) {
  CARD_ASSIGN(AppContext app, card::CurrentApp(c, ch));
  CARD_TRY(RequirePin(app));
  CARD_ASSIGN(uint32_t offset, Offset(cmd));
  if (offset >= kDataSize) return Error::kOffsetOutsideFile;
  const size_t n = std::min<size_t>(cmd.ne == 0 ? 256 : cmd.ne, kDataSize - offset);
  CARD_ASSIGN(card::FileNode f, AppFile(app, kDataFid));
  Response r;
  r.data.resize(n);
  CARD_TRY(c.fs().ReadData(f, offset, r.data));
  return r;
}

CardResult<Response> HandleUpdate(card::Card& c, card::ChannelState& ch, const CommandApdu& cmd) {
  CARD_ASSIGN(AppContext app, card::CurrentApp(c, ch));
  CARD_TRY(RequirePin(app));
  CARD_ASSIGN(uint32_t offset, Offset(cmd));
  if (cmd.data.empty()) return Error::kWrongLength;
  if (offset + cmd.data.size() > kDataSize) return Error::kOffsetOutsideFile;
  CARD_ASSIGN(card::FileNode f, AppFile(app, kDataFid));
  CARD_TRY(c.fs().WriteData(f, offset, cmd.data));
  return Response{};
}

constexpr card::Route kCommands[] = {
    {card::ins::kVerify, HandleVerify},
    {card::ins::kReadBinary, HandleRead},
    {card::ins::kUpdateBinary, HandleUpdate},
};

class DataStoreModule final : public card::Module {
 public:
  ByteView aid() const override { return card::aid::kDataStoreModule; }
  std::string_view name() const override { return "DATA STORE"; }
  std::span<const card::Route> commands() const override { return kCommands; }

  CardStatus Install(AppContext& app, ByteView params) override {
    CARD_ASSIGN(Params p, ParseParams(params));
    CARD_ASSIGN(card::FileNode data,
                CreateAppFile(app, kDataFid, 1, card::EfStructure::kTransparent, kDataSize, 0,
                              kReadableFile));
    (void)data;
    CARD_TRY(CreatePinFile(app, kPinFid, p.pin ? ByteView(*p.pin) : ByteView{}, p.tries));
    if (p.data) CARD_TRY(WriteAll(app, *p.data));
    return card::Ok{};
  }

  CardResult<Response> Personalize(AppContext& app, const CommandApdu& cmd) override {
    CARD_ASSIGN(Params p, ParseParams(cmd.data));
    if (p.data) CARD_TRY(WriteAll(app, *p.data));
    if (p.pin) CARD_TRY(SetPin(app, kPinFid, *p.pin));
    return Response{};
  }
};

}  // namespace

void RegisterDataStoreModule(card::Card& card) {
  card.AddModule(std::make_shared<DataStoreModule>());
}

}  // namespace tessera::apps
