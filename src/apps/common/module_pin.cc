#include "apps/common/module_pin.h"

#include "card/kernel/card.h"
#include "format/status_words.h"

namespace tessera::apps {
namespace {

using card::CardResult;
using card::CardStatus;
using card::Error;

constexpr size_t kPinFileSize = 20;  // max tries, tries left, length, 16 value bytes, spare
constexpr uint8_t kModulePinReference = 0x80;

}  // namespace

CardResult<card::FileNode> AppFile(card::AppContext& app, uint16_t fid) {
  CARD_ASSIGN(app.df, app.card->fs().Load(app.df.id));  // creating a file relinks the DF
  auto f = app.card->fs().ChildByFid(app.df, fid);
  if (!f.ok()) return Error::kFileNotFound;
  return f;
}

CardResult<card::FileNode> CreateAppFile(card::AppContext& app, uint16_t fid, uint8_t sfi,
                                         card::EfStructure structure, uint16_t size,
                                         uint16_t records, const Bytes& security) {
  card::FileNode n;
  n.kind = card::FileKind::kEf;
  n.fdb = static_cast<uint8_t>(structure);
  n.fid = fid;
  n.sfi = sfi;
  n.size = size;
  n.max_records = records;
  n.security = security;
  CARD_ASSIGN(card::CardRoot root, app.card->root());
  CARD_ASSIGN(app.df, app.card->fs().Load(app.df.id));  // the DF as it is now
  CARD_ASSIGN(card::FileNode f, app.card->fs().Create(app.df, n, root.mf));
  CARD_ASSIGN(app.df, app.card->fs().Load(app.df.id));
  return f;
}

CardStatus CreatePinFile(card::AppContext& app, uint16_t fid, ByteView pin, uint8_t tries) {
  if (!pin.empty() && (pin.size() < 4 || pin.size() > 16)) return Error::kWrongData;
  if (tries == 0 || tries > 15) return Error::kWrongData;
  CARD_ASSIGN(card::FileNode f, CreateAppFile(app, fid, 0, card::EfStructure::kTransparent,
                                              kPinFileSize, 0, kPrivateFile));
  SecureBytes b(kPinFileSize, 0);
  b[0] = tries;
  b[1] = tries;
  b[2] = static_cast<uint8_t>(pin.size());
  std::copy(pin.begin(), pin.end(), b.begin() + 3);
  app.card->store().MarkSensitive();
  return app.card->fs().WriteData(f, 0, ByteView(b.data(), b.size()));
}

CardStatus SetPin(card::AppContext& app, uint16_t fid, ByteView pin) {
  if (pin.size() < 4 || pin.size() > 16) return Error::kWrongData;
  CARD_ASSIGN(card::FileNode f, AppFile(app, fid));
  SecureBytes b(kPinFileSize, 0);
  CARD_TRY(app.card->fs().ReadData(f, 0, std::span<uint8_t>(b.data(), b.size())));
  b[1] = b[0];
  b[2] = static_cast<uint8_t>(pin.size());
  std::fill(b.begin() + 3, b.end(), 0);
  std::copy(pin.begin(), pin.end(), b.begin() + 3);
  app.card->store().MarkSensitive();
  return app.card->fs().WriteData(f, 0, ByteView(b.data(), b.size()));
}

CardResult<uint8_t> PinTriesLeft(card::AppContext& app, uint16_t fid) {
  CARD_ASSIGN(card::FileNode f, AppFile(app, fid));
  uint8_t head[3] = {};
  CARD_TRY(app.card->fs().ReadData(f, 0, head));
  if (head[2] == 0) return Error::kReferenceDataNotUsable;  // no PIN yet: personalize first
  return head[1];
}

CardResult<PinCheck> CheckPin(card::AppContext& app, uint16_t fid, ByteView value) {
  CARD_ASSIGN(card::FileNode f, AppFile(app, fid));
  SecureBytes b(kPinFileSize, 0);
  CARD_TRY(app.card->fs().ReadData(f, 0, std::span<uint8_t>(b.data(), b.size())));
  const uint8_t max = b[0], left = b[1], len = std::min<uint8_t>(b[2], 16);
  if (len == 0) return Error::kReferenceDataNotUsable;
  if (left == 0) return Error::kAuthenticationBlocked;
  // The try is spent before the comparison, durably.
  const uint8_t spent = static_cast<uint8_t>(left - 1);
  const uint32_t at = app.card->store().layout().BlockOffset(f.data_blocks[0]) + 1;
  CARD_TRY_STATUS(app.card->store().CommitNow(at, ByteView(&spent, 1)));
  if (!ConstantTimeEqual(value, ByteView(b.data() + 3, len))) return PinCheck{false, spent};
  const uint8_t restored = max;
  CARD_TRY(app.card->fs().WriteData(f, 1, ByteView(&restored, 1)));
  return PinCheck{true, max};
}

CardResult<card::Response> VerifyPin(card::AppContext& app, uint16_t fid, const CommandApdu& cmd) {
  if (cmd.p1 != 0x00 || cmd.p2 != kModulePinReference) return Error::kWrongP1P2;
  auto tries_word = [](uint8_t n) {
    return card::Response{{}, static_cast<uint16_t>(sw::kCounterBase | (n & 0x0F))};
  };
  if (cmd.data.empty()) {
    CARD_ASSIGN(uint8_t left, PinTriesLeft(app, fid));
    if (app.ch->app_security & kPinVerified) return card::Response{};
    return tries_word(left);
  }
  CARD_ASSIGN(PinCheck check, CheckPin(app, fid, cmd.data));
  app.ch->app_security &= ~kPinVerified;
  if (!check.verified) return tries_word(check.tries_left);
  app.ch->app_security |= kPinVerified;
  return card::Response{};
}

CardStatus RequirePin(const card::AppContext& app) {
  if ((app.ch->app_security & kPinVerified) == 0) return Error::kSecurityNotSatisfied;
  return card::Ok{};
}

}  // namespace tessera::apps
