// GET STATUS (F2) and SET STATUS (F0) on the issuer security domain: the registry view and the
// card life cycle OP_READY -> INITIALIZED -> SECURED <-> CARD_LOCKED -> TERMINATED
// (GP CS 2.3 §5.1.1, §11.4, §11.10).
#include <algorithm>
#include <optional>

#include "card/gp/isd_application.h"
#include "card/gp/key_store.h"
#include "card/gp/load_files.h"
#include "card/gp/secure_channel_service.h"
#include "card/kernel/card_root.h"
#include "card/kernel/identifiers.h"
#include "card/kernel/module.h"
#include "card/registry/app_lifecycle.h"
#include "card/registry/app_registry.h"
#include "core/tlv.h"
#include "format/gp_status.h"
#include "format/status_words.h"

namespace tessera::card {
namespace {

const Bytes kIsd(std::begin(aid::kIssuerSecurityDomain), std::end(aid::kIssuerSecurityDomain));
const Bytes kIsdPrivileges = HexOrDie("9EFE80");
constexpr uint8_t kLoadFileLoaded = 0x01;
// Whole E3 entries per response, with room left for the R-MAC and R-ENC padding of a session.
constexpr size_t kGetStatusChunk = 240;

// One object of the GlobalPlatform registry view.
struct RegistryView {
  Bytes aid;
  uint8_t life_cycle = 0;
  Bytes privileges;            // empty for load files
  Bytes load_file;             // C4 (applications)
  std::vector<Bytes> modules;  // 84 (P1 = 10)
  bool domain_cc = false;
};

CardResult<std::vector<TlvTag>> ParseTagList(ByteView list) {
  std::vector<TlvTag> tags;
  size_t i = 0;
  while (i < list.size()) {
    TlvTag tag = list[i++];
    if ((tag & 0x1F) == 0x1F) {
      do {
        if (i >= list.size()) return Error::kWrongData;
        tag = (tag << 8) | list[i];
      } while (list[i++] & 0x80);
    }
    tags.push_back(tag);
  }
  return tags;
}

CardResult<std::vector<RegistryView>> RegistryViews(Card& card, const CardRoot& root, uint8_t p1) {
  std::vector<RegistryView> out;
  if (p1 == 0x80) {
    out.push_back({kIsd, root.gp_life_cycle, kIsdPrivileges, {}, {}, false});
  } else if (p1 == 0x40) {
    CARD_ASSIGN(Registry registry, LoadRegistry(card.store(), root));
    CARD_ASSIGN(auto entries, AllEntries(card.store(), registry));
    for (const RegistryEntry& e : entries) {
      // Erased applications are not listed (a life cycle 00 would read as SELECTABLE).
      if (e.state == AppState::kErased) continue;
      out.push_back({e.aid, GpLifeCycle(e.state), e.privileges, e.module_aid, {}, true});
    }
  } else {
    for (const auto& m : card.modules()) {
      Bytes aid(m->aid().begin(), m->aid().end());
      std::vector<Bytes> modules;
      if (p1 == 0x10) modules.push_back(aid);
      out.push_back({aid, kLoadFileLoaded, {}, {}, std::move(modules), false});
    }
    // Then the load files LOAD brought (docs/applets.md §2), in the order they came.
    CARD_ASSIGN(auto files, AllLoadFiles(card));
    for (LoadFile& f : files) {
      std::vector<Bytes> modules;
      if (p1 == 0x10) modules = std::move(f.modules);
      out.push_back({std::move(f.aid), kLoadFileLoaded, {}, {}, std::move(modules), false});
    }
  }
  return out;
}

Bytes TaggedEntry(const RegistryView& v, const std::vector<TlvTag>& tags) {
  format::GpRegistryEntry e;
  e.aid = v.aid;
  e.life_cycle = v.life_cycle;
  e.privileges = v.privileges;
  e.load_file = v.load_file;
  e.modules = v.modules;
  if (v.domain_cc) e.associated_domain = kIsd;
  return format::EncodeGpRegistryEntry(e, tags);
}

Bytes LegacyEntry(const RegistryView& v, uint8_t p1) {
  Bytes e;
  e.push_back(static_cast<uint8_t>(v.aid.size()));
  Append(e, v.aid);
  e.push_back(v.life_cycle);
  e.push_back(v.privileges.empty() ? 0x00 : v.privileges[0]);
  if (p1 == 0x10) {
    e.push_back(static_cast<uint8_t>(v.modules.size()));
    for (const Bytes& m : v.modules) {
      e.push_back(static_cast<uint8_t>(m.size()));
      Append(e, m);
    }
  }
  return e;
}

}  // namespace

CardResult<Response> HandleGetStatus(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  CARD_TRY(RequireAdminSession(card, ch));
  CARD_ASSIGN(CardRoot root, card.root());
  if (cmd.p1 != 0x80 && cmd.p1 != 0x40 && cmd.p1 != 0x20 && cmd.p1 != 0x10) {
    return Error::kWrongP1P2;
  }
  if ((cmd.p2 & ~0x03) != 0) return Error::kWrongP1P2;
  const bool tagged = (cmd.p2 & 0x02) != 0;
  const bool next = (cmd.p2 & 0x01) != 0;
  if (cmd.data.empty()) return Error::kWrongData;
  auto items = ParseTlvSequence(cmd.data);
  if (!items.ok()) return Error::kWrongData;
  std::optional<ByteView> search;
  std::vector<TlvTag> tags;
  for (const TlvView& t : *items) {
    if (t.tag == 0x4F) {
      search = t.value;
    } else if (t.tag == 0x5C) {
      auto list = ParseTagList(t.value);
      if (!list.ok()) return Error::kWrongData;
      tags = std::move(*list);
    } else {
      return Error::kWrongData;
    }
  }
  if (!search) return Error::kWrongData;
  CARD_ASSIGN(std::vector<RegistryView> views, RegistryViews(card, root, cmd.p1));
  std::vector<Bytes> entries;
  for (const RegistryView& v : views) {
    if (search->size() > v.aid.size() ||
        !std::equal(search->begin(), search->end(), v.aid.begin())) {
      continue;
    }
    entries.push_back(tagged ? TaggedEntry(v, tags) : LegacyEntry(v, cmd.p1));
  }
  // A continuation (P2 b1) goes on from where the same query's last 6310 stopped.
  Bytes query{cmd.p1, static_cast<uint8_t>(cmd.p2 & 0x02)};
  Append(query, cmd.data);
  size_t start = 0;
  if (next) {
    if (ch.content.status_query != query) return Error::kReferencedDataNotFound;
    start = ch.content.status_next;
  }
  ch.content.status_query.clear();
  if (start >= entries.size()) return Error::kReferencedDataNotFound;
  Response r;
  size_t i = start;
  for (; i < entries.size(); ++i) {
    if (!r.data.empty() && r.data.size() + entries[i].size() > kGetStatusChunk) break;
    Append(r.data, entries[i]);
  }
  if (i < entries.size()) {
    ch.content.status_query = std::move(query);
    ch.content.status_next = i;
    r.sw = sw::kMoreData;
  }
  return r;
}

// SET STATUS of an application (P1 40, or 60 for a domain and its applications: the same
// here, no application is associated with another). GlobalPlatformPro locks with P2 80 and
// unlocks with 00; pySim sends 83: b8 decides (docs/applications.md §7).
static CardResult<Response> SetApplicationStatus(Card& card, const CommandApdu& cmd) {
  CARD_ASSIGN(CardRoot root, card.root());
  CARD_ASSIGN(Registry registry, LoadRegistry(card.store(), root));
  CARD_ASSIGN(auto entry, FindEntry(card.store(), registry, cmd.data));
  if (!entry || entry->state == AppState::kErased) return Error::kReferencedDataNotFound;
  const bool lock = (cmd.p2 & 0x80) != 0;
  if (entry->state == AppState::kTerminated) return Error::kConditionsNotSatisfied;
  const AppState to = lock ? AppState::kLocked : AppState::kActive;
  if (entry->state == to) return Response{};
  if (!lock && entry->state != AppState::kLocked) return Error::kConditionsNotSatisfied;
  CARD_TRY(ChangeApplicationState(card, *entry, to, /*update_record=*/true));
  return Response{};
}

CardResult<Response> HandleSetStatus(Card& card, ChannelState& ch, const CommandApdu& cmd) {
  CARD_TRY(RequireAdminSession(card, ch));
  CARD_ASSIGN(CardRoot root, card.root());
  if (cmd.p1 == 0x40 || cmd.p1 == 0x60) return SetApplicationStatus(card, cmd);
  if (cmd.p1 != 0x80) return Error::kWrongP1P2;
  if (!cmd.data.empty() && Bytes(cmd.data) != kIsd) return Error::kReferencedDataNotFound;
  // A stored command never changes the card's life cycle: locked or terminated, the card
  // would refuse the issuance application and the acknowledgement of the very run.
  if (card.privileged_internal(ch)) return Error::kConditionsNotSatisfied;
  const uint8_t from = root.gp_life_cycle, to = cmd.p2;
  const bool allowed =
      (from == kGpOpReady && to == kGpInitialized) ||
      (from == kGpInitialized && to == kGpSecured) || (from == kGpSecured && to == kGpCardLocked) ||
      (from == kGpCardLocked && to == kGpSecured) || (to == kGpTerminated && from != kGpTerminated);
  if (to != kGpOpReady && to != kGpInitialized && to != kGpSecured && to != kGpCardLocked &&
      to != kGpTerminated) {
    return Error::kWrongP1P2;
  }
  if (!allowed) return Error::kConditionsNotSatisfied;
  root.gp_life_cycle = to;
  if (to == kGpTerminated) root.card_state = kCardTerminated;
  CARD_TRY(SaveRoot(card.store(), root));
  return Response{};
}

}  // namespace tessera::card
