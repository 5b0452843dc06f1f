// The PC/SC link (libpcsclite): what `tessera --reader NAME` and `tessera readers` use.
#include <PCSC/winscard.h>
#include <PCSC/wintypes.h>

#include <cstring>

#include "host/card_link.h"

namespace tessera::host {
namespace {

std::string PcscError(const char* what, LONG rv) {
  return std::string(what) + ": " + pcsc_stringify_error(rv);
}

class PcscLink : public CardLink {
 public:
  PcscLink(SCARDCONTEXT ctx, SCARDHANDLE card, DWORD protocol, std::string reader)
      : ctx_(ctx), card_(card), protocol_(protocol), reader_(std::move(reader)) {}
  ~PcscLink() override {
    SCardDisconnect(card_, SCARD_LEAVE_CARD);
    SCardReleaseContext(ctx_);
  }
  Result<Bytes> Transmit(ByteView command) override {
    Bytes out(65536 + 2);
    DWORD len = static_cast<DWORD>(out.size());
    const SCARD_IO_REQUEST* pci = protocol_ == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
    LONG rv = SCardTransmit(card_, pci, command.data(), static_cast<DWORD>(command.size()), nullptr,
                            out.data(), &len);
    if (rv != SCARD_S_SUCCESS) return IOError(PcscError("SCardTransmit", rv));
    out.resize(len);
    return out;
  }
  Result<Bytes> Reset() override {
    DWORD proto = 0;
    LONG rv = SCardReconnect(card_, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
                             SCARD_RESET_CARD, &proto);
    if (rv != SCARD_S_SUCCESS) return IOError(PcscError("SCardReconnect", rv));
    protocol_ = proto;
    return Atr();
  }
  Result<Bytes> Atr() override {
    BYTE atr[MAX_ATR_SIZE];
    DWORD atr_len = sizeof atr, state = 0, proto = 0, name_len = 0;
    LONG rv = SCardStatus(card_, nullptr, &name_len, &state, &proto, atr, &atr_len);
    if (rv != SCARD_S_SUCCESS) return IOError(PcscError("SCardStatus", rv));
    return Bytes(atr, atr + atr_len);
  }
  std::string Describe() const override { return "PC/SC reader '" + reader_ + "'"; }

 private:
  SCARDCONTEXT ctx_;
  SCARDHANDLE card_;
  DWORD protocol_;
  std::string reader_;
};

Result<std::vector<std::string>> Readers(SCARDCONTEXT ctx) {
  DWORD len = 0;
  LONG rv = SCardListReaders(ctx, nullptr, nullptr, &len);
  if (rv == SCARD_E_NO_READERS_AVAILABLE) return std::vector<std::string>{};
  if (rv != SCARD_S_SUCCESS) return IOError(PcscError("SCardListReaders", rv));
  std::string buf(len, '\0');
  rv = SCardListReaders(ctx, nullptr, buf.data(), &len);
  if (rv == SCARD_E_NO_READERS_AVAILABLE) return std::vector<std::string>{};
  if (rv != SCARD_S_SUCCESS) return IOError(PcscError("SCardListReaders", rv));
  std::vector<std::string> out;
  for (const char* p = buf.c_str(); *p != '\0'; p += std::strlen(p) + 1) out.emplace_back(p);
  return out;
}

Result<SCARDCONTEXT> Context() {
  SCARDCONTEXT ctx = 0;
  LONG rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, nullptr, nullptr, &ctx);
  if (rv != SCARD_S_SUCCESS) {
    return IOError(PcscError("cannot reach pcscd (is it running?)", rv));
  }
  return ctx;
}

}  // namespace

Result<std::vector<std::string>> ListPcscReaders() {
  TESSERA_ASSIGN_OR_RETURN(SCARDCONTEXT ctx, Context());
  auto r = Readers(ctx);
  SCardReleaseContext(ctx);
  return r;
}

Result<std::unique_ptr<CardLink>> OpenPcscLink(const std::string& reader) {
  TESSERA_ASSIGN_OR_RETURN(SCARDCONTEXT ctx, Context());
  auto readers = Readers(ctx);
  if (!readers.ok()) {
    SCardReleaseContext(ctx);
    return readers.status();
  }
  std::string chosen;
  for (const auto& r : *readers) {
    if (r == reader) chosen = r;
  }
  if (chosen.empty()) {
    for (const auto& r : *readers) {
      if (r.rfind(reader, 0) == 0) {
        if (!chosen.empty()) {
          SCardReleaseContext(ctx);
          return InvalidArgument("reader name '" + reader + "' is ambiguous");
        }
        chosen = r;
      }
    }
  }
  if (chosen.empty()) {
    SCardReleaseContext(ctx);
    return NotFound("no PC/SC reader named '" + reader + "' (see 'tessera readers')");
  }
  SCARDHANDLE card = 0;
  DWORD proto = 0;
  LONG rv = SCardConnect(ctx, chosen.c_str(), SCARD_SHARE_SHARED,
                         SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &card, &proto);
  if (rv != SCARD_S_SUCCESS) {
    SCardReleaseContext(ctx);
    return IOError(PcscError(("cannot connect to '" + chosen + "'").c_str(), rv));
  }
  return std::unique_ptr<CardLink>(std::make_unique<PcscLink>(ctx, card, proto, chosen));
}

}  // namespace tessera::host
