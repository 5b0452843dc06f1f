// Self-issuance (seed US 7,428,992; docs/self-issuance.md). The issuance application keeps
// card functions as command groups in its DF (the file management table names them, claim 9)
// and runs one on a single EXECUTE ISSUANCE request (claims 1, 3): the card issuance section
// (Run) reads each command in place from NVM — the direct reference section of claim 7 — and
// hands it to the card management section (Card::ExecuteInternal), whose commit holds the
// command's effects and its journal bit. Privileged mode (claims 4-5) closes the card to every
// outside command for the run. The interruption journal (claim 8) names the first unanswered
// command, so that a resume with the same run id continues there and never runs a command that
// succeeded; the response identifies exactly which commands succeeded (claim 6).
#include <array>
#include <optional>

#include "apps/common/module_pin.h"
#include "apps/issuance/issuance_module.h"
#include "card/gp/isd_application.h"
#include "card/gp/secure_channel_service.h"
#include "card/kernel/card.h"
#include "card/kernel/identifiers.h"
#include "card/registry/app_registry.h"
#include "core/tlv.h"
#include "crypto/sha256.h"
#include "format/group_format.h"
#include "format/issuance_format.h"
#include "format/status_words.h"

namespace tessera::apps {
namespace {

using card::AppContext;
using card::CardResult;
using card::CardStatus;
using card::Error;
using card::FileNode;
using card::Response;

using format::DecodeJournal;
using format::DecodeTableEntry;
using format::EncodeJournal;
using format::Journal;
using format::kFlagHarmless;
using format::kFunctions;
using format::kGroupFidBase;
using format::kJournalFid;
using format::kPolicyPartialRetry;
using format::kPolicySecureChannel;
using format::kRecordSize;
using format::kTableFid;
using format::RunState;
using format::TableEntry;
using Command = format::StoredCommand;

constexpr uint8_t kIdle = static_cast<uint8_t>(RunState::kIdle);
constexpr uint8_t kRunning = static_cast<uint8_t>(RunState::kRunning);
constexpr uint8_t kInterrupted = static_cast<uint8_t>(RunState::kInterrupted);
constexpr uint8_t kDone = static_cast<uint8_t>(RunState::kDone);
constexpr uint8_t kPartial = static_cast<uint8_t>(RunState::kPartial);

bool Same(ByteView a, ByteView b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

// The applications no function may target: the issuer security domain and the issuance
// application itself. A half-issued function makes its target unselectable, and these must
// stay reachable to resume, retry or replace it.
bool Protected(ByteView aid) {
  return Same(aid, card::aid::kIssuerSecurityDomain) || Same(aid, card::aid::kIssuanceApplication);
}

// The commands of a group file's content, or 6A80 (group_format.h says why).
CardResult<std::vector<Command>> ParseGroup(ByteView g) {
  auto commands = format::ParseGroup(g);
  if (!commands.ok()) return Error::kWrongData;
  return std::move(*commands);
}

struct Files {
  FileNode table, journal;
};

CardResult<Files> LoadFiles(AppContext& app) {
  Files f;
  CARD_ASSIGN(f.table, AppFile(app, kTableFid));
  CARD_ASSIGN(f.journal, AppFile(app, kJournalFid));
  return f;
}

// The table slot of a function (by id, or by its group file's FID), or 6A88.
CardResult<uint16_t> FindFunction(AppContext& app, const Files& f, std::optional<uint8_t> id,
                                  std::optional<uint16_t> fid) {
  for (uint16_t slot = 0; slot < kFunctions; ++slot) {
    CARD_ASSIGN(Bytes rec, app.card->fs().ReadSlot(f.table, slot));
    const auto e = DecodeTableEntry(rec);
    if (e && ((id && e->function == *id) || (fid && e->fid == *fid))) return slot;
  }
  return Error::kReferencedDataNotFound;
}

CardResult<Journal> LoadJournal(AppContext& app, const Files& f, uint16_t slot) {
  CARD_ASSIGN(Bytes rec, app.card->fs().ReadSlot(f.journal, slot));
  auto j = DecodeJournal(rec);
  if (!j) return Error::kMemoryFailure;
  return *j;
}

CardStatus SaveJournal(AppContext& app, const Files& f, uint16_t slot, const Journal& j) {
  return app.card->fs().WriteSlot(f.journal, slot, EncodeJournal(j));
}

// Access of the table: read only in a secure-messaging session (the issuer's, with the
// issuance application), since its digest would let a reader confirm guesses of the secrets
// a group carries. The journal holds no command data and stays readable; the group files
// are never readable (docs/self-issuance.md §1).
const Bytes kTableSecurity = HexOrDie("7FFFFFFFFFFFFF40");

Response Template(const TableEntry& e, const Journal& j, uint8_t state) {
  Response r;
  r.data = format::EncodeRunReport(format::MakeRunReport(e, j, state));
  return r;
}

// The state a host sees: a running record when no run is in progress was interrupted.
uint8_t Reported(const Journal& j) {
  return j.state == kRunning ? kInterrupted : j.state;
}

// The card issuance section: runs the commands of `e` that have not succeeded, each through
// the card management section with its journal bit. Returns whether anything changed.
CardResult<bool> Run(AppContext& app, const Files& f, uint16_t slot, const TableEntry& e,
                     Journal& j, const FileNode& group, const std::vector<Command>& commands) {
  card::Card& card = *app.card;
  card.ResetInternalChannel();
  card.set_external_closed(true);  // privileged mode, until the request ends
  bool changed = false;
  j.state = kRunning;
  j.failed = 0xFFFF;
  j.failed_sw = 0;
  CARD_TRY(SaveJournal(app, f, slot, j));  // commits with the first command
  bool first_pending = true;
  for (size_t i = 0; i < commands.size(); ++i) {
    const Command& c = commands[i];
    const bool done = j.done(i);
    // A resumed run starts on a fresh internal channel: succeeded commands flagged harmless
    // (SELECT, VERIFY) run again to rebuild its selection and security state, and count for
    // nothing; every other succeeded command is skipped.
    if (done && (!(c.flags & kFlagHarmless) || !first_pending || j.first_unanswered == 0)) continue;
    // In place, from NVM. A command that cannot be read (damage: 6581) ends the run as
    // partial at that command, never leaves it "running".
    Bytes apdu(c.length);
    if (auto read = card.fs().ReadData(group, c.offset, apdu); !read.ok()) {
      if (read.error().code == Error::kPowerLost || !card.powered()) return Error::kPowerLost;
      j.failed = static_cast<uint16_t>(i);
      j.failed_sw = card::ToStatusWord(read.error());
      j.state = kPartial;
      break;
    }
    auto cmd = CommandApdu::Parse(apdu);
    if (!cmd.ok()) {
      j.failed = static_cast<uint16_t>(i);
      j.failed_sw = sw::kMemoryFailure;
      j.state = kPartial;
      break;
    }
    if (done) {
      (void)card.ExecuteInternal(*cmd);
      if (!card.powered()) return Error::kPowerLost;
      continue;
    }
    first_pending = false;
    // The journal as it stands if this command's commit holds. It becomes the run's only once
    // the command and its bit have committed together: a command whose commit failed (its
    // writes and its bit exceed the commit capacity, or it removed the journal) was rolled
    // back, and the journal must say so rather than count it.
    Journal next = j;
    bool success = false, staged = false;
    uint16_t answered = 0;
    const card::Card::StageHook hook = [&](const CardResult<Response>& r) -> CardStatus {
      answered = r.ok() ? r->sw : card::ToStatusWord(r.error());
      success = c.success.empty()
                    ? answered == sw::kOk
                    : std::find(c.success.begin(), c.success.end(), answered) != c.success.end();
      if (success) {
        next.set_done(i);
        ++next.succeeded;
        next.first_unanswered = static_cast<uint16_t>(i + 1);
      } else {
        next.failed = static_cast<uint16_t>(i);
        next.failed_sw = answered;
        next.state = kPartial;
      }
      CARD_TRY(SaveJournal(app, f, slot, next));
      staged = true;
      return card::Ok{};
    };
    const ResponseApdu response = card.ExecuteInternal(*cmd, hook);
    if (!card.powered()) return Error::kPowerLost;
    if (!staged || response.sw != answered) {
      // Refused before it ran, or rolled back with its bit: the failed command of a partial
      // run, with the status word the card answered.
      j.failed = static_cast<uint16_t>(i);
      j.failed_sw = response.sw;
      j.state = kPartial;
      break;
    }
    j = next;
    if (!success) break;  // stop on the first error (policy)
    changed = true;
  }
  if (j.succeeded == e.count) j.state = kDone;
  card.set_external_closed(false);
  CARD_TRY(SaveJournal(app, f, slot, j));
  return changed;
}

CardResult<Response> HandleExecute(card::Card& c, card::ChannelState& ch, const CommandApdu& cmd) {
  CARD_ASSIGN(AppContext app, card::CurrentApp(c, ch));
  // Never from inside a run: a group does not run groups.
  if (&ch == &c.internal_channel()) return Error::kConditionsNotSatisfied;
  if (cmd.p2 != 0 || cmd.p1 > 0x04) return Error::kWrongP1P2;
  auto parsed = format::ParseIssueRequest(cmd.data);
  if (!parsed.ok()) return Error::kWrongData;
  const format::IssueRequest& req = *parsed;
  CARD_ASSIGN(Files f, LoadFiles(app));
  CARD_ASSIGN(uint16_t slot, FindFunction(app, f, req.function, req.fid));
  CARD_ASSIGN(Bytes rec, c.fs().ReadSlot(f.table, slot));
  const auto entry = DecodeTableEntry(rec);
  if (!entry) return Error::kMemoryFailure;
  const TableEntry& e = *entry;
  CARD_ASSIGN(Journal j, LoadJournal(app, f, slot));
  j.function = e.function;
  if (cmd.p1 == 0x03) return Template(e, j, Reported(j));  // status
  if (!req.run_id) return Error::kWrongData;
  const bool same_run = *req.run_id == j.run_id && j.state != kIdle;
  if (cmd.p1 == 0x04) {  // acknowledge
    if (!same_run || j.state == kRunning) return Error::kConditionsNotSatisfied;
    j.acknowledged = true;
    CARD_TRY(SaveJournal(app, f, slot, j));
    return Template(e, j, Reported(j));
  }
  if (e.policy & kPolicySecureChannel) CARD_TRY(card::RequireAdminSession(c, ch));
  // Running a partial run's failed command again (retry, or resume, or a start with its run
  // id) is the policy's to allow (b2); without it a partial function is acknowledged and issued
  // anew.
  if (!(e.policy & kPolicyPartialRetry) &&
      (cmd.p1 == 0x02 || (same_run && j.state == kPartial && cmd.p1 != 0x04))) {
    return Error::kConditionsNotSatisfied;
  }
  if (cmd.p1 == 0x00 && !same_run) {
    // A new run: only once the previous result was acknowledged.
    if (j.state != kIdle && !j.acknowledged) return Error::kConditionsNotSatisfied;
    j = Journal{};
    j.function = e.function;
    j.run_id = *req.run_id;
  } else if (!same_run || j.acknowledged) {
    return Error::kConditionsNotSatisfied;  // resume and retry continue the unacknowledged run
  }
  if (j.state == kDone) return Template(e, j, kDone);  // a replay: nothing runs again
  // The group as the table describes it: its digest before every run.
  CARD_ASSIGN(FileNode group, c.fs().ChildByFid(app.df, e.fid));
  Bytes content(group.size);
  CARD_TRY(c.fs().ReadData(group, 0, content));
  const crypto::Sha256Digest digest = crypto::Sha256(content);
  if (!std::equal(digest.begin(), digest.end(), e.digest.begin(), e.digest.end())) {
    return Error::kWrongData;
  }
  CARD_ASSIGN(auto commands, ParseGroup(content));
  if (commands.size() != e.count) return Error::kWrongData;
  CARD_ASSIGN(bool changed, Run(app, f, slot, e, j, group, commands));
  Response r = Template(e, j, j.state);
  r.sw = j.state == kDone ? sw::kOk : changed ? sw::kWarningNvmChanged : sw::kExecutionError;
  return r;
}

// STORE DATA BF73: a command group and its table record (docs/self-issuance.md §5).
CardResult<Response> HandleStoreData(card::Card& c, card::ChannelState& ch,
                                     const CommandApdu& cmd) {
  CARD_ASSIGN(AppContext app, card::CurrentApp(c, ch));
  CARD_TRY(card::RequireAdminSession(c, ch));
  CARD_ASSIGN(std::optional<Bytes> upload, card::JoinUpload(ch, cmd));
  if (!upload) return Response{};
  auto parsed = format::ParseGroupUpload(*upload);
  if (!parsed.ok()) return Error::kWrongData;
  TableEntry e;
  e.function = parsed->function;
  e.version = parsed->version;
  e.target = parsed->target;
  e.policy = parsed->policy;
  const Bytes* content = &parsed->group;
  // A half-issued function vetoes its target's selection: never the card's own doors.
  if (Protected(e.target)) return Error::kWrongData;
  CARD_ASSIGN(auto commands, ParseGroup(*content));
  // The group carries personalisation secrets (PINs, keys): the journal copy of this
  // transaction is zeroed once it has committed (NvmStore G7).
  c.store().MarkSensitive();
  e.count = static_cast<uint16_t>(commands.size());
  e.fid = static_cast<uint16_t>(kGroupFidBase + e.function);
  const crypto::Sha256Digest digest = crypto::Sha256(*content);
  e.digest.assign(digest.begin(), digest.end());
  CARD_ASSIGN(Files f, LoadFiles(app));
  // The function's slot: its own, or a free one.
  auto found = FindFunction(app, f, e.function, std::nullopt);
  uint16_t slot = 0;
  if (found.ok()) {
    slot = *found;
    CARD_ASSIGN(Journal j, LoadJournal(app, f, slot));
    if (j.state != kIdle && !j.acknowledged) return Error::kConditionsNotSatisfied;
  } else {
    for (slot = 0; slot < kFunctions; ++slot) {
      CARD_ASSIGN(Bytes rec, c.fs().ReadSlot(f.table, slot));
      if (!DecodeTableEntry(rec)) break;
    }
    if (slot == kFunctions) return Error::kNotEnoughMemory;
  }
  // The group file, exactly the group's size.
  if (auto old = c.fs().ChildByFid(app.df, e.fid); old.ok()) CARD_TRY(c.fs().Delete(*old));
  CARD_ASSIGN(FileNode group,
              CreateAppFile(app, e.fid, 0, card::EfStructure::kTransparent,
                            static_cast<uint16_t>(content->size()), 0, kPrivateFile));
  CARD_TRY(c.fs().WriteData(group, 0, *content));
  CARD_ASSIGN(f, LoadFiles(app));
  CARD_TRY(c.fs().WriteSlot(f.table, slot, format::EncodeTableEntry(e)));
  Journal j;
  j.function = e.function;
  CARD_TRY(SaveJournal(app, f, slot, j));
  return Response{};
}

constexpr card::Route kCommands[] = {
    {card::ins::kExecuteIssuance, HandleExecute, card::ClassRange::kProprietary},
    {card::ins::kStoreData, HandleStoreData, card::ClassRange::kProprietary},
};

class IssuanceModule final : public card::Module {
 public:
  ByteView aid() const override { return card::aid::kIssuanceModule; }
  std::string_view name() const override { return "ISSUANCE"; }
  std::span<const card::Route> commands() const override { return kCommands; }
  card::SessionKeys session_keys() const override { return card::SessionKeys::kOwnAdministrator; }
  CardStatus Install(AppContext& app, ByteView params) override {
    if (!params.empty()) return Error::kWrongData;
    for (uint16_t fid : {kTableFid, kJournalFid}) {
      CARD_ASSIGN(FileNode ef,
                  CreateAppFile(app, fid, fid == kTableFid ? 1 : 2, card::EfStructure::kLinearFixed,
                                kRecordSize, kFunctions,
                                fid == kTableFid ? kTableSecurity : kReadableFile));
      for (uint16_t i = 0; i < kFunctions; ++i) {
        // Free table records are zeros; free journal records read as an idle journal.
        CARD_TRY(app.card->fs().WriteSlot(
            ef, i, fid == kTableFid ? Bytes(kRecordSize, 0) : EncodeJournal(Journal{})));
      }
      ef.record_count = kFunctions;
      CARD_TRY(app.card->fs().Save(ef));
    }
    return card::Ok{};
  }
};

}  // namespace

namespace {

// The installed issuance application and its files, and the table slots of the functions that
// target `aid`; nullopt when the card has no issuance application (in `state`, when given).
struct Targeting {
  AppContext app;
  Files files;
  std::vector<std::pair<uint16_t, TableEntry>> functions;
};
CardResult<std::optional<Targeting>> FunctionsTargeting(card::Card& card, ByteView aid,
                                                        std::optional<card::AppState> state) {
  CARD_ASSIGN(card::CardRoot root, card.root());
  CARD_ASSIGN(card::Registry registry, card::LoadRegistry(card.store(), root));
  CARD_ASSIGN(auto entry, card::FindEntry(card.store(), registry, card::aid::kIssuanceApplication));
  if (!entry || (state && entry->state != *state)) return std::optional<Targeting>();
  CARD_ASSIGN(FileNode df, card.fs().Load(entry->df));
  Targeting t{AppContext{&card, nullptr, *entry, df}, {}, {}};
  CARD_ASSIGN(t.files, LoadFiles(t.app));
  for (uint16_t slot = 0; slot < kFunctions; ++slot) {
    CARD_ASSIGN(Bytes rec, card.fs().ReadSlot(t.files.table, slot));
    auto e = DecodeTableEntry(rec);
    if (e && Same(e->target, aid)) t.functions.emplace_back(slot, std::move(*e));
  }
  return std::optional<Targeting>(std::move(t));
}

card::CardResult<bool> HalfIssued(card::Card& card, const card::ChannelState& ch, ByteView aid) {
  if (card.privileged_internal(ch)) return false;  // the run itself works on it
  if (Protected(aid)) return false;                // whatever an old table may say
  CARD_ASSIGN(auto t, FunctionsTargeting(card, aid, card::AppState::kActive));
  if (!t) return false;
  for (const auto& [slot, e] : t->functions) {
    CARD_ASSIGN(Journal j, LoadJournal(t->app, t->files, slot));
    if (j.state == kRunning || j.state == kPartial) return true;
  }
  return false;
}

card::CardStatus ForgetFunctionsOf(card::Card& card, ByteView aid) {
  if (aid.empty() || Protected(aid)) return card::Ok{};
  CARD_ASSIGN(auto t, FunctionsTargeting(card, aid, std::nullopt));
  if (!t) return card::Ok{};
  for (const auto& [slot, e] : t->functions) {
    // A run's own commands may delete and re-install its target: the function under way (its
    // journal says running) keeps its group until the run ends.
    CARD_ASSIGN(Journal j, LoadJournal(t->app, t->files, slot));
    if (card.external_closed() && j.state == kRunning) continue;
    if (auto group = card.fs().ChildByFid(t->app.df, e.fid); group.ok()) {
      CARD_TRY(card.fs().Delete(*group));  // its blocks wiped after the commit
    }
    CARD_TRY(card.fs().WriteSlot(t->files.table, slot, Bytes(kRecordSize, 0)));
    CARD_TRY(card.fs().WriteSlot(t->files.journal, slot, EncodeJournal(Journal{})));
  }
  return card::Ok{};
}

}  // namespace

void RegisterIssuanceModule(card::Card& card) {
  card.AddModule(std::make_shared<IssuanceModule>());
  card.AddSelectionVeto(HalfIssued);
  card.AddDeletionObserver(ForgetFunctionsOf);
}

}  // namespace tessera::apps
