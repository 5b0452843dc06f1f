// The card OS: power cycle and ATR, the APDU dispatcher, logical channels, command chaining and
// GET RESPONSE. Commands come from outside (Transmit: any transport) or from inside the card
// (ExecuteInternal: a command read from NVM, for self-issuance); external sources can be closed
// while the card runs internal commands (privileged mode).
//
// Every command runs in one NVM transaction: committed when the handler succeeds (status words
// 9000, 61xx, 62xx, 63xx), aborted otherwise. Errors become status words only in ToStatusWord.
//
// Not thread-safe: transports serialise access (one command at a time, as a real card).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>

#include "card/card_error.h"
#include "card/card_root.h"
#include "card/fs/file_system.h"
#include "card/platform.h"
#include "core/apdu.h"
#include "crypto/scp03.h"
#include "nvm/nvm_device.h"
#include "nvm/nvm_store.h"

namespace tessera::card {

inline constexpr uint8_t kMaxChannels = 20;

struct ChannelState {
  bool open = false;
  uint16_t current_df = kNoNode;
  uint16_t current_ef = kNoNode;
  uint16_t current_record = 0;  // 0 = none
  uint8_t verified_pins = 0;    // bit i: PIN slot i verified on this channel
  Bytes pending_response;       // for GET RESPONSE
  // Command chaining (CLA b5).
  bool chaining = false;
  uint8_t chain_ins = 0, chain_p1 = 0, chain_p2 = 0;
  Bytes chain_data;
  // SELECT by DF name, next occurrence: the name and the DF last selected with it.
  Bytes last_df_name;
  // The issuer security domain is the selected application.
  bool isd_selected = false;
  // SCP03: a session being opened (after INITIALIZE UPDATE) and an authenticated one.
  struct PendingScp {
    crypto::scp03::SessionKeys keys;
    Bytes context;  // host challenge || card challenge
    uint16_t key_set_block = 0xFFFF;
    size_t mac_length = 8;
  };
  std::shared_ptr<PendingScp> scp_pending;
  std::shared_ptr<crypto::scp03::Session> scp;
  uint16_t scp_key_set_block = 0xFFFF;
  // The command being processed arrived wrapped in the session's secure messaging.
  bool command_secured = false;

  void CloseSecureChannel() {
    scp.reset();
    scp_pending.reset();
  }
};

// What a handler returns on success: data and a success or warning status word.
struct Response {
  Bytes data;
  uint16_t sw = 0x9000;
  // The data is one object that cannot be cut (a record, a data object): a short Le that does
  // not match its length gets 6Cxx instead of 61xx.
  bool exact_length = false;
};

class Card {
 public:
  // REQUIRES: device and platform outlive the card.
  Card(nvm::NvmDevice& device, const nvm::Geometry& geometry, Platform& platform);
  ~Card();

  // Runs NVM recovery and loads the card. On success returns the ATR.
  Result<Bytes> PowerOn();
  // Clears all volatile state (channels, selections, PINs verified, pending data).
  void PowerOff();
  // Warm reset: PowerOff + PowerOn.
  Result<Bytes> Reset();
  bool powered() const { return store_ != nullptr; }
  static Bytes Atr();

  // A command from a transport. Always returns a response with a status word; malformed input
  // gets 6700 / 6E00 / 6D00. While external sources are closed, every command gets 6985.
  Bytes Transmit(ByteView command);
  // A command from inside the card (self-issuance), on channel 0 semantics of its CLA byte.
  ResponseApdu ExecuteInternal(const CommandApdu& command);
  void set_external_closed(bool closed) { external_closed_ = closed; }
  bool external_closed() const { return external_closed_; }

  // --- for handlers ---
  FileSystem& fs() { return *fs_; }
  nvm::NvmStore& store() { return *store_; }
  Platform& platform() { return platform_; }
  ChannelState& channel(uint8_t n) { return channels_[n]; }
  CardResult<CardRoot> root() const { return LoadRoot(*store_); }
  // The current DF of a channel, reset to the MF if it no longer exists.
  CardResult<FileNode> CurrentDf(ChannelState& ch);
  // Makes `node` current on `ch` (an EF also makes its parent the current DF).
  void Select(ChannelState& ch, const FileNode& node);
  // After a deletion: channels whose selection is gone fall back to the MF.
  void ForgetDeleted();

 private:
  ResponseApdu Process(const CommandApdu& command);
  CardResult<Response> Dispatch(const CommandApdu& command, ChannelState& ch);
  ResponseApdu Finish(const CommandApdu& command, ChannelState& ch, Response r);

  nvm::NvmDevice& device_;
  nvm::Geometry geometry_;
  Platform& platform_;
  std::unique_ptr<nvm::NvmStore> store_;
  std::unique_ptr<FileSystem> fs_;
  uint16_t mf_ = kNoNode;
  std::array<ChannelState, kMaxChannels> channels_;
  bool external_closed_ = false;
};

}  // namespace tessera::card
