// How the host reaches a card: in-process on an image (the embedded default), through a socket
// served by `tessera-card --listen`, or through PC/SC (pcscd). All links exchange raw APDUs.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"

namespace tessera::host {

class CardLink {
 public:
  virtual ~CardLink() = default;
  virtual Result<Bytes> Transmit(ByteView command) = 0;
  // Resets the card; returns the ATR.
  virtual Result<Bytes> Reset() = 0;
  virtual Result<Bytes> Atr() = 0;
  virtual std::string Describe() const = 0;
};

// Opens the image, powers the card on in this process (NVM recovery runs). With `cut_after`,
// power is cut during the page program of that index (0: the first) counted from after
// power-on, as a torn write of a real card leaves it (`tessera --power-cut-after N`); the
// command in progress and every later one fail with kPowerLost.
// `diagnostics` receives what the card tells its operator (an applet's Lua error with its source
// line, docs/applets.md §6): --trace prints it (TraceDiagnostics).
using Diagnostics = std::function<void(std::string_view message)>;
Result<std::unique_ptr<CardLink>> OpenEmbeddedLink(const std::string& image_path,
                                                   std::optional<uint64_t> cut_after = {},
                                                   Diagnostics diagnostics = nullptr);
// With `trace`: prints each diagnostic on stderr as "card: MESSAGE"; else none.
Diagnostics TraceDiagnostics(bool trace);
// unix:PATH or tcp:HOST:PORT of a `tessera-card --listen`. `timeout_ms` bounds the connection
// attempt and every exchange (a card that stays busy longer gives up with a clear error).
inline constexpr int kDefaultSocketTimeoutMs = 30000;
Result<std::unique_ptr<CardLink>> OpenSocketLink(const std::string& endpoint,
                                                 int timeout_ms = kDefaultSocketTimeoutMs);
// A PC/SC reader by name (or by unique prefix).
Result<std::unique_ptr<CardLink>> OpenPcscLink(const std::string& reader);
Result<std::vector<std::string>> ListPcscReaders();

// Sends a command and follows 61xx (GET RESPONSE) and 6Cxx (resend with the right Le), as a
// terminal does. Returns the final response with all data collected.
Result<Bytes> TransmitFollowing(CardLink& link, ByteView command);

}  // namespace tessera::host
