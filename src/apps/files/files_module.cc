// FILES: a plain file application. Its DF's files are the whole application; the OS's file
// commands serve them while the application is active, and its SELECT answers with the DF's
// FCI as selecting the DF would.
#include "apps/files/files_module.h"

#include "card/fs/fcp.h"
#include "card/kernel/identifiers.h"
#include "card/kernel/module.h"

namespace tessera::apps {
namespace {

class FilesModule final : public card::Module {
 public:
  ByteView aid() const override { return card::aid::kFilesModule; }
  std::string_view name() const override { return "FILES"; }
  std::span<const card::Route> commands() const override { return {}; }
  card::CardStatus Install(card::AppContext& app, ByteView params) override {
    (void)app;
    if (!params.empty()) return card::Error::kWrongData;
    return card::Ok{};
  }
  card::CardResult<card::Response> Select(card::AppContext& app, const CommandApdu& cmd) override {
    card::Response r;
    if ((cmd.p2 & 0x0C) == 0x00) r.data = card::EncodeFci(app.df);
    if ((cmd.p2 & 0x0C) == 0x04) r.data = card::EncodeFcp(app.df);
    return r;
  }
};

}  // namespace

void RegisterFilesModule(card::Card& card) {
  card.AddModule(std::make_shared<FilesModule>());
}

}  // namespace tessera::apps
