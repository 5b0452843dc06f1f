// Serves one card to several transports and clients (a dual-interface card), one owner at a
// time:
//  - A *session* (one connection to `tessera-card --listen`) owns the card from BeginSession to
//    EndSession. It starts on a freshly reset card and leaves nothing volatile behind (PINs
//    verified, channels, chains, pending GET RESPONSE data, secure-channel sessions), as a card
//    reset when a PC/SC client disconnects with SCARD_RESET_CARD. While it owns the card, other
//    sessions wait (at most `session_wait`) and are then refused.
//  - A sessionless source (the vpcd link: pcscd arbitrates its own clients, and its power
//    frames delimit their sessions) takes the card for each exchange, waiting the same way.
//  - Privileged mode (Card::external_closed, while the card runs stored commands): every APDU
//    from any source is refused with 6985 at once, without waiting for the card.
// One exchange at a time, in arrival order, whatever the source.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "card/kernel/card.h"

namespace tessera::transport {

class CardService {
 public:
  using Trace = std::function<void(const std::string& source, ByteView command, ByteView response)>;
  struct Options {
    // How long a client waits for the card while another one owns it.
    std::chrono::milliseconds session_wait{10000};
  };

  // `trace`, if set, receives every command and response (for --trace).
  explicit CardService(card::Card& card, Trace trace = nullptr) : CardService(card, trace, {}) {}
  CardService(card::Card& card, Trace trace, Options options)
      : card_(card), trace_(std::move(trace)), options_(options) {}

  // Waits (at most session_wait) until no one owns the card, then owns it and resets it.
  // Returns the session's id, or nullopt when the card stayed busy.
  std::optional<uint64_t> BeginSession(const std::string& source);
  // Resets the card (nothing volatile survives the session) and gives it up.
  void EndSession(uint64_t session);

  // A frame from `source`: a 1-byte control message or an APDU. `session` is the caller's
  // session id, or 0 for a sessionless source. Returns the reply payload; nullopt for control
  // messages that take no reply (power off/on/reset).
  std::optional<Bytes> Handle(const std::string& source, ByteView payload, uint64_t session = 0);

  // Privileged mode: 6985 for an APDU (and the trace sees it) while the card runs stored
  // commands; nullopt otherwise. For a connection that does not own the card yet, so that
  // what it sends during a run is refused then rather than run after it.
  std::optional<Bytes> RefuseIfPrivileged(const std::string& source, ByteView payload);
  // For a connection that does not own the card yet: while the card runs stored commands,
  // answers any frame at once and returns true. An APDU gets 6985, GET ATR the ATR, power
  // control nothing (the session that follows begins with a reset anyway). False outside
  // privileged mode: the connection then waits for the card (BeginSession). Without this, a
  // client whose first frame is power control would wait for the whole run before hearing
  // that the card is busy.
  bool AnswerBeforeSession(const std::string& source, ByteView payload,
                           std::optional<Bytes>* reply);

  const Options& options() const { return options_; }

  // True while some client waits for the card (in BeginSession, or a sessionless exchange):
  // the socket server then ends a session that has been idle too long (SocketServerOptions).
  bool contended() const { return waiting_.load() > 0; }

 private:
  // Waits for the card to have no owner (or `session` as its owner). False on timeout.
  bool WaitForCard(std::unique_lock<std::mutex>& lock, uint64_t session);
  std::optional<Bytes> HandleLocked(const std::string& source, ByteView payload);

  std::mutex mu_;  // the card itself: held for each exchange
  std::condition_variable free_;
  uint64_t owner_ = 0;  // the session that owns the card, 0: none
  uint64_t next_session_ = 1;
  bool exchanging_ = false;      // a sessionless exchange is running
  std::atomic<int> waiting_{0};  // clients in WaitForCard
  card::Card& card_;
  Trace trace_;
  Options options_;
};

}  // namespace tessera::transport
