// What the image commands report about an image (docs/card-format.md, docs/nvm-format.md):
// one snapshot inspected — the NVM store's report and the card's — printed as text or as the
// JSON of docs/cli-json.md (§2.8-2.11: card, damage, image, file).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "card/check/card_inspector.h"
#include "card/fs/file_node.h"
#include "nvm/image_file.h"
#include "nvm/image_inspector.h"

namespace tessera::tools {

// Everything the read-only subcommands report about one snapshot.
struct Inspection {
  const nvm::ImageSnapshot* snap = nullptr;
  nvm::ImageReport nvm;
  card::CardReport card;
  std::vector<std::string> notes;   // the snapshot's, the store's and the card's
  std::vector<std::string> errors;  // NVM damage, then card damage, as sentences

  bool ok() const { return errors.empty(); }
};

Inspection Inspect(const nvm::ImageSnapshot& snap);

// `ok`: show reports damage and succeeds; check fails on it (code damaged).
void PrintReportJson(const Inspection& in, const std::string& path, bool ok);
void PrintReportText(const Inspection& in, const std::string& path);
// The listing; damage fails it (damaged), and so does a blank store (file).
void PrintLsJson(const Inspection& in, const std::string& path, uint32_t block_size);
// One file of the tree, in a line: kind, name or size, life cycle.
std::string FileSummary(const card::FileEntry& e);

}  // namespace tessera::tools
