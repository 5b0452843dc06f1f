#include "apps_commands.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <set>

#include "app_record.h"
#include "card_keys.h"
#include "card_session.h"
#include "cli_args.h"
#include "core/tlv.h"
#include "crypto/aes.h"
#include "crypto/ecdsa.h"
#include "crypto/scp03.h"
#include "file_io.h"
#include "format/status_words.h"
#include "install_file_builder.h"
#include "issue_targets.h"
#include "json_writer.h"
#include "pem_key.h"

namespace tessera::tools {
namespace {

// ---------------------------------------------------------------------------------------------
// Help

constexpr const char* kAppsHelp =
    "usage: tessera apps make-install-file DESC --key PEM -o OUT [--unsigned] [--json]\n"
    "       tessera CARD apps list [--scp03 KEYS] [--json]\n"
    "       tessera CARD --scp03 KEYS apps install FILE [--json]\n"
    "       tessera CARD --scp03 KEYS apps set-status AID lock|unlock|terminate|erase|restore\n"
    "       tessera CARD --scp03 KEYS apps delete AID [--yes] [--gp]\n"
    "       tessera CARD --scp03 KEYS apps set-date YYMMDD\n"
    "\n"
    "Application management (docs/applications.md). An application is a registry entry, its\n"
    "DF and its record in the application list of the management application\n"
    "(F054455353455241 01). 'tessera apps SUBCOMMAND --help' explains each subcommand.\n"
    "  make-install-file  build an installation file (BF70) from a TOML or JSON description,\n"
    "                     signed with the administrator's EC P-256 key (no card needed)\n"
    "  list               the application list: AID, name, administrator, dates, status, the\n"
    "                     record's signature checked on the host, and with --scp03 the GP\n"
    "                     life cycle from GET STATUS\n"
    "  install FILE       upload an installation file to the issuer security domain\n"
    "  set-status AID ACTION  lock, unlock, terminate, erase or restore an application\n"
    "  delete AID         delete an application and wipe its data (asks first)\n"
    "  set-date YYMMDD    set the card's trusted date (as 'tessera card set-date')\n"
    "CARD is --image PATH, --connect EP or --reader NAME; --scp03 KEYS, --kvn, --level and\n"
    "--s16 choose the secure channel ('tessera --help').\n"
    "\n"
    "Exit codes: 0 done; 1 the card refused (its status word and what it means here are\n"
    "printed), or the card, a file or the secure channel failed; 2 usage error.\n";

constexpr const char* kMakeHelp =
    "usage: tessera apps make-install-file DESC --key PEM -o OUT [--unsigned] [--json]\n"
    "\n"
    "Builds an installation file, BF70 { E1 record, C4 module AID, [C5 privileges],\n"
    "[C9 module parameters], 9E file signature } (docs/applications.md §5.2), from DESC (TOML\n"
    "if it ends in .toml, JSON if .json) and writes its bytes to OUT. Signed with --key, an EC\n"
    "P-256 private key in PEM ('openssl genpkey -algorithm EC -pkeyopt\n"
    "ec_paramgen_curve:P-256' writes one; 'EC PRIVATE KEY' files work too), ECDSA/SHA-256\n"
    "twice: the record's 9E over the encodings of 4F 50 C0 C1 5F25 5F24, and the file's 9E\n"
    "over every byte of BF70's value before it (record, code, privileges, parameters), so\n"
    "nothing can change after signing. --unsigned builds one without either 9E (which a card\n"
    "refuses with 6982).\n"
    "\n"
    "DESC fields (the same names in TOML and JSON):\n"
    "  aid = \"F0544553534552412001\"   the application's AID, hex, 5..16 bytes\n"
    "  name = \"My store\"              UTF-8, 1..32 bytes\n"
    "  admin_name = \"ACME\"            the administrator's name, 1..32 bytes\n"
    "  admin_id = 1                   0..127 (0 = the card issuer)\n"
    "  use_start = \"260101\"           YYMMDD (TOML also takes a date); default \"000000\"\n"
    "  expiration = \"301231\"          YYMMDD; default \"000000\" (no limit)\n"
    "  status = \"active\"              or \"locked\" (the initial status)\n"
    "  module = \"data-store\"          data-store, purse, files, management, or a module\n"
    "                                 AID in hex\n"
    "  privileges = \"000000\"          optional, 3 bytes of GP privileges (C5)\n"
    "  params_hex = \"...\"             optional: the C9 content in hex, instead of [params]\n"
    "  [params]                       the module's parameters (C9):\n"
    "    data-store: pin = \"1234\" (4..16 bytes), tries = 3 (1..15),\n"
    "                data = \"text\" or data_hex = \"hex\" (at most 512 bytes)\n"
    "    purse:      balance = 0, limit = 100000000 (0..4294967295), pin = \"1234\"\n"
    "\n"
    "Errors name the field, and for TOML its line. Prints what it wrote; --json prints an\n"
    "object with the record, the signed bytes, the signature and the file's hex (left out\n"
    "when the file carries a PIN: PINs are never printed).\n"
    "Exit codes: 0 written; 1 DESC, the key or OUT is bad (the message says which field or\n"
    "why); 2 usage error.\n";

constexpr const char* kListHelp =
    "usage: tessera CARD apps list [--scp03 KEYS [--kvn XX]] [--json]\n"
    "\n"
    "Reads the application list (SELECT F054455353455241 01, READ RECORD 1, 2, ... until\n"
    "6A83) and the administrators' signing keys (GET DATA BF71 on the issuer security domain),\n"
    "and checks each record's signature on the host: valid, invalid, unsigned, or no-key (its\n"
    "administrator has no signing key on the card). With --scp03 it also reads the GP life\n"
    "cycle of every application (GET STATUS P1 40 in an SCP03 session with the issuer\n"
    "security domain); applications GP lists without a record (the management application)\n"
    "are shown too.\n"
    "Prints a table (AID, NAME, ADMINISTRATOR, START, EXPIRY, STATUS, SIGNATURE[, GP]); --json\n"
    "an array of objects (aid, name, record, admin_id, admin_name, use_start, expiration as\n"
    "YYMMDD, status, signature[, gp_lcs, gp_state]).\n"
    "Exit codes: 0 listed (maybe none); 1 the card refused or could not be reached; 2 usage.\n";

constexpr const char* kInstallHelp =
    "usage: tessera CARD --scp03 KEYS apps install FILE [--json]\n"
    "\n"
    "Installs an application: uploads FILE (an installation file as make-install-file writes\n"
    "it, or its hex as text) to the issuer security domain in STORE DATA blocks of at most\n"
    "200 bytes (P1 10, 90 for the last; P2 = block number) inside an SCP03 session with the\n"
    "issuer's keys (--scp03 KEYS, --kvn). The card checks and installs it in one step on the\n"
    "last block. A refusal names its status word and meaning, e.g. 6A89: an application with\n"
    "this AID exists; 6982: bad or missing signature; 6A88: unknown module or administrator.\n"
    "Exit codes: 0 installed; 1 the card refused, FILE is not an installation file, or the\n"
    "card or the secure channel failed; 2 usage error (e.g. no --scp03).\n";

constexpr const char* kSetStatusHelp =
    "usage: tessera CARD --scp03 KEYS [--kvn XX] apps set-status AID ACTION\n"
    "         [--restore-to active|locked] [--sign-key PEM] [--gp] [--json]\n"
    "\n"
    "ACTION is lock (status 01), unlock (00), terminate (02, for good), erase (03: invisible,\n"
    "data kept) or restore (an erased application back to active, or to locked with\n"
    "--restore-to locked). Reads the record of AID from the application list, changes its\n"
    "status (C2) and sends it back with UPDATE RECORD inside an SCP03 session opened with the\n"
    "management application, with the --scp03 keys and --kvn: the key set of the record's\n"
    "administrator, or one of the issuer's. The record keeps its signature (the status is not\n"
    "signed); --sign-key PEM signs it anew with the administrator's private key (for records\n"
    "the card collected unsigned), the signed fields unchanged. The issuer's own records\n"
    "(administrator 00, e.g. of applications installed by GlobalPlatform INSTALL) need no\n"
    "key: the issuer's session is enough for them, signed or not.\n"
    "--gp locks or unlocks through GlobalPlatform SET STATUS (80 F0 40 80|00) in a session\n"
    "with the issuer security domain instead.\n"
    "Exit codes: 0 changed (or already so); 1 the card refused (e.g. 6985: a transition the\n"
    "card does not allow; 6982: wrong administrator or bad signature) or failed; 2 usage.\n";

constexpr const char* kDeleteHelp =
    "usage: tessera CARD --scp03 KEYS [--kvn XX] apps delete AID [--yes] [--gp] [--json]\n"
    "\n"
    "Deletes the application AID: its record, its registry entry, its DF and every file\n"
    "below it, wiped. Asks 'delete application AID (name)? this wipes its data [y/N]' on the\n"
    "terminal unless --yes is given; without a terminal and without --yes it refuses.\n"
    "Sends ERASE RECORD (84 0C n 0C) inside an SCP03 session opened with the management\n"
    "application (the record's administrator's key set, or the issuer's); --gp sends\n"
    "GlobalPlatform DELETE (80 E4 00 00 4F AID) to the issuer security domain instead.\n"
    "Exit codes: 0 deleted; 1 the card refused or failed, or the answer was not yes; 2 usage\n"
    "error (also: no terminal to ask on and no --yes).\n";

constexpr const char* kSetDateHelp =
    "usage: tessera CARD --scp03 KEYS card set-date YYMMDD [--json]\n"
    "       tessera CARD card date [--json]\n"
    "\n"
    "set-date sets the card's trusted current date (STORE DATA DF72 03 YYMMDD to the issuer\n"
    "security domain in an SCP03 session); the card never moves it backwards (6985). With a\n"
    "date, applications outside their validity window no longer select. 'card date' shows\n"
    "the date the card holds (GET DATA DF72), or none. 'tessera apps set-date' is the same.\n"
    "Exit codes: 0 done; 1 the card refused or failed; 2 usage error.\n";

constexpr const char* kAdminHelp =
    "usage: tessera CARD --scp03 KEYS admin add --id N --name NAME --public-key PEM\n"
    "         [--keys KEYFILE --key-kvn XX] [--json]\n"
    "       tessera CARD admin list [--json]\n"
    "\n"
    "add registers an administrator (STORE DATA BF71 to the issuer security domain in an\n"
    "SCP03 session, docs/applications.md §5.3): id N (1..127; 0 is the card issuer, who may\n"
    "register a signing key but no key set), NAME (1..32 bytes), the signing public key from\n"
    "PEM (a public key, or the private key whose public half is taken) and, with --keys, a key\n"
    "set: KEYFILE holds enc=, mac=, dek= lines in hex (as --scp03), sent as version --key-kvn\n"
    "(01..7F), each key encrypted with the session's static DEK and with its check value.\n"
    "Key bytes are never printed.\n"
    "list shows the administrators (GET DATA BF71, no session needed): id, name, signing key,\n"
    "key set version; --json an array of objects (id, name, public_key, kvn).\n"
    "Exit codes: 0 done; 1 the card refused (e.g. 6A89: the id exists; 6985: the KVN is in\n"
    "use; 9485: bad key check value) or failed; 2 usage error.\n";

// ---------------------------------------------------------------------------------------------
// Options of these commands

struct OptionSpec {
  const char* name;
  int arity;
};
constexpr OptionSpec kOptions[] = {
    {"--key", 1},      {"-o", 1},           {"--output", 1}, {"--unsigned", 0}, {"--restore-to", 1},
    {"--sign-key", 1}, {"--gp", 0},         {"--yes", 0},    {"-y", 0},         {"--id", 1},
    {"--name", 1},     {"--public-key", 1}, {"--keys", 1},   {"--key-kvn", 1},
};

std::string Canonical(const std::string& option) {
  if (option == "--output") return "-o";
  if (option == "-y") return "--yes";
  return option;
}

std::string SplitArgs(const std::vector<std::string>& in, const std::vector<std::string>& allowed,
                      const std::string& command, Args* out) {
  return tools::SplitArgs(in, allowed, command, {ManagementOptionArity, Canonical}, out);
}

// ---------------------------------------------------------------------------------------------
// Reading the card

struct Listed {
  int number = 0;  // record number in EF 0101
  Bytes raw;
  Result<AppRecord> record = Malformed("unread");
};

struct Administrator {
  uint8_t id = 0;
  std::string name;
  Bytes public_key;  // empty: none
  std::optional<uint8_t> kvn;
};

struct GpEntry {
  Bytes aid;
  std::optional<uint8_t> lcs;
  Bytes module;
};

CommandApdu ReadRecordCommand(int n) {
  return CommandApdu{0x00, 0xB2, static_cast<uint8_t>(n), 0x0C, {}, 256, false};
}

Status SelectManagement(CardSession& s, const Reporter& rep) {
  TESSERA_ASSIGN_OR_RETURN(ResponseApdu r, s.Select(ManagementAid()));
  if (r.sw != sw::kOk) {
    return rep.Refused(
        "SELECT of the management application F054455353455241 01", r.sw,
        {{sw::kFileNotFound, "the card has no management application (no application list)"}});
  }
  return Status::Ok();
}

Result<std::vector<Listed>> ReadApplicationList(CardSession& s, const Reporter& rep) {
  TESSERA_RETURN_IF_ERROR(SelectManagement(s, rep));
  std::vector<Listed> out;
  for (int n = 1; n <= 254; ++n) {
    TESSERA_ASSIGN_OR_RETURN(ResponseApdu r, s.Plain(ReadRecordCommand(n)));
    if (r.sw == sw::kRecordNotFound) break;
    if (r.sw != sw::kOk) return rep.Refused("READ RECORD " + std::to_string(n), r.sw);
    Listed l;
    l.number = n;
    l.raw = r.data;
    l.record = ParseRecord(r.data);
    out.push_back(std::move(l));
  }
  return out;
}

// The record of `aid`: SEARCH RECORD first, READ RECORD 1, 2, ... when the card's answer to
// it does not settle the question.
Result<Listed> FindRecord(CardSession& s, const Reporter& rep, ByteView aid) {
  TESSERA_RETURN_IF_ERROR(SelectManagement(s, rep));
  Bytes pattern = EncodeTlv(0x4F, aid);
  TESSERA_ASSIGN_OR_RETURN(ResponseApdu found,
                           s.Plain(CommandApdu{0x00, 0xA2, 0x01, 0x0C, pattern, 256, false}));
  std::vector<int> candidates;
  if (found.sw == sw::kOk) {
    for (uint8_t n : found.data) candidates.push_back(n);
  }
  for (int n : candidates) {
    TESSERA_ASSIGN_OR_RETURN(ResponseApdu r, s.Plain(ReadRecordCommand(n)));
    if (r.sw != sw::kOk) continue;
    auto rec = ParseRecord(r.data);
    if (rec.ok() && rec->aid == Bytes(aid.begin(), aid.end())) {
      return Listed{n, r.data, std::move(rec)};
    }
  }
  TESSERA_ASSIGN_OR_RETURN(auto list, ReadApplicationList(s, rep));
  for (auto& l : list) {
    if (l.record.ok() && l.record->aid == Bytes(aid.begin(), aid.end())) return std::move(l);
  }
  return NotFound("no application " + ToHex(aid) + " in the application list");
}

Result<std::vector<Administrator>> ReadAdministrators(CardSession& s, const Reporter& rep) {
  TESSERA_ASSIGN_OR_RETURN(ResponseApdu sel, s.Select(IsdAid()));
  if (sel.sw != sw::kOk && sel.sw != sw::kWarningFileDeactivated && (sel.sw >> 8) != 0x61) {
    return rep.Refused("SELECT of the issuer security domain", sel.sw);
  }
  TESSERA_ASSIGN_OR_RETURN(ResponseApdu r,
                           s.Plain(CommandApdu{0x80, 0xCA, 0xBF, 0x71, {}, 256, false}));
  std::vector<Administrator> out;
  if (r.sw == sw::kReferencedDataNotFound || (r.sw == sw::kOk && r.data.empty())) return out;
  if (r.sw != sw::kOk) {
    return rep.Refused("GET DATA BF71 (administrators)", r.sw,
                       {{sw::kReferencedDataNotFound, "no administrators"},
                        {sw::kInsNotSupported, "the card knows no administrators"}});
  }
  auto content = UnwrapObject(r.data, 0xBF71);
  if (!content.ok()) return Malformed("GET DATA BF71: " + content.status().message());
  auto entries = ParseTlvSequence(*content);
  if (!entries.ok()) return Malformed("GET DATA BF71: " + entries.status().message());
  for (const TlvView& e : *entries) {
    if (e.tag != 0xE2) continue;
    auto fields = ParseTlvSequence(e.value);
    if (!fields.ok()) return Malformed("GET DATA BF71: " + fields.status().message());
    Administrator a;
    for (const TlvView& f : *fields) {
      if (f.tag == 0xC1 && f.value.size() == 1) a.id = f.value[0];
      if (f.tag == 0xC0) a.name.assign(f.value.begin(), f.value.end());
      if (f.tag == 0x86) a.public_key.assign(f.value.begin(), f.value.end());
      if (f.tag == 0xD2 && f.value.size() == 1) a.kvn = f.value[0];
    }
    out.push_back(std::move(a));
  }
  return out;
}

Result<std::vector<GpEntry>> ReadGpApplications(CardSession& s, const Reporter& rep) {
  TESSERA_RETURN_IF_ERROR(s.OpenScp03({}));
  std::vector<GpEntry> out;
  uint8_t p2 = 0x02;
  for (int round = 0; round < 64; ++round) {
    TESSERA_ASSIGN_OR_RETURN(ResponseApdu r,
                             s.Secure(CommandApdu{0x80, 0xF2, 0x40, p2, {0x4F, 0x00}, 256, false}));
    if (r.sw == sw::kReferencedDataNotFound) break;
    if (r.sw != sw::kOk && r.sw != sw::kMoreData)
      return rep.Refused("GET STATUS (applications)", r.sw);
    auto entries = ParseTlvSequence(r.data);
    if (!entries.ok()) return Malformed("GET STATUS: " + entries.status().message());
    for (const TlvView& e : *entries) {
      if (e.tag != 0xE3) continue;
      auto fields = ParseTlvSequence(e.value);
      if (!fields.ok()) return Malformed("GET STATUS: " + fields.status().message());
      GpEntry g;
      for (const TlvView& f : *fields) {
        if (f.tag == 0x4F) g.aid.assign(f.value.begin(), f.value.end());
        if (f.tag == 0x9F70 && !f.value.empty()) g.lcs = f.value[0];
        if (f.tag == 0xC4) g.module.assign(f.value.begin(), f.value.end());
      }
      out.push_back(std::move(g));
    }
    if (r.sw == sw::kOk) break;
    p2 = 0x03;  // next occurrence
  }
  return out;
}

std::string GpState(uint8_t lcs) {
  switch (lcs) {
    case 0x03:
      return "installed";
    case 0x07:
      return "selectable";
    case 0x0F:
      return "app-specific";
    case 0x83:
      return "locked";
    default:
      return (lcs & 0x80) ? "locked" : "state " + HexByte(lcs);
  }
}

std::string SignatureState(const AppRecord& r, const std::vector<Administrator>& admins) {
  if (r.signature.empty()) return "unsigned";
  for (const auto& a : admins) {
    if (a.id != r.admin_id) continue;
    if (a.public_key.empty()) break;
    return crypto::EcdsaP256Verify(a.public_key, SignedPart(r), r.signature).ok() ? "valid"
                                                                                  : "invalid";
  }
  return "no-key";
}

// An aligned table: every column as wide as its widest cell, the last one not padded.
void PrintTable(const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) width[c] = DisplayWidth(header[c]);
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], DisplayWidth(row[c]));
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string s;
    for (size_t c = 0; c < cells.size(); ++c) {
      s += cells[c];
      if (c + 1 < cells.size()) s += std::string(width[c] - DisplayWidth(cells[c]) + 2, ' ');
    }
    std::printf("%s\n", s.c_str());
  };
  line(header);
  for (const auto& row : rows) line(row);
}

std::string AidText(ByteView aid) {
  return ToHex(aid);
}

Result<Bytes> ParseAid(const std::string& text) {
  auto b = FromHex(text);
  if (!b.ok() || b->size() < 5 || b->size() > 16) {
    return InvalidArgument("AID '" + text + "': give 5..16 bytes in hex");
  }
  return *b;
}

// ---------------------------------------------------------------------------------------------
// Status words, per command (docs/applications.md)

const std::vector<SwMeaning>& InstallMeanings() {
  static const std::vector<SwMeaning> k = {
      {sw::kFileExists, "an application with this AID exists"},
      {sw::kReferencedDataNotFound, "unknown module, or the administrator is not registered"},
      {sw::kFunctionNotSupported, "the card cannot run this code format"},
      {sw::kSecurityNotSatisfied,
       "bad or missing signature: the record's or the file's (was the file changed after "
       "signing, or made --unsigned?), or no session with the issuer security domain"},
      {sw::kNotEnoughMemory,
       "out of memory: the NVM, the registry (16 applications) or the application list "
       "is full, or the upload is over 16 KiB"},
      {sw::kWrongData, "malformed installation file, or an AID under the card's reserved prefixes"},
      {sw::kWrongP1P2, "a STORE DATA block out of sequence (the upload was dropped)"},
  };
  return k;
}

// ---------------------------------------------------------------------------------------------
// apps make-install-file

Status WriteFile(const std::string& path, ByteView bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return IOError("cannot write " + path + ": " + std::strerror(errno));
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return IOError("cannot write " + path + ": " + std::strerror(errno));
  return Status::Ok();
}

int MakeInstallFile(const LinkOptions& o, const Args& a) {
  const Reporter rep("apps make-install-file", o.json);
  if (a.operands.size() != 1) {
    return rep.Usage(a.operands.empty() ? "no description given (DESC.toml or DESC.json)"
                                        : "give one description file");
  }
  const std::string& desc = a.operands[0];
  auto ends = [&](const char* ext) {
    const std::string e = ext;
    return desc.size() > e.size() && desc.compare(desc.size() - e.size(), e.size(), e) == 0;
  };
  if (!ends(".toml") && !ends(".json")) {
    return rep.Usage("'" + desc + "': the description's name ends in .toml or .json (its format)");
  }
  if (!a.has("-o")) return rep.Usage("-o OUT is required (where the installation file goes)");
  if (a.has("--key") == a.has("--unsigned")) {
    return rep.Usage(a.has("--key") ? "give --key PEM or --unsigned, not both"
                                    : "give --key PEM (the administrator's signing key) or "
                                      "--unsigned");
  }
  auto d = LoadInstallDescription(desc);
  if (!d.ok()) return rep.Fail(d.status());
  for (const auto& w : d->warnings) rep.Warn(w);
  // Two signatures by the administrator's key (§5.2): the record's (over its fields) and the
  // file's (over everything before it: record, code, privileges, parameters).
  Bytes file;
  if (a.has("--key")) {
    auto key = LoadP256PrivateKeyPem(a.value("--key"));
    if (!key.ok()) return rep.Fail(key.status());
    auto signed_file = SignInstallFile(*d, *key);
    if (!signed_file.ok()) {
      return rep.Fail("signing with " + a.value("--key") + ": " + signed_file.status().message());
    }
    file = std::move(*signed_file);
  } else {
    file = BuildInstallFile(*d, {}, {});
  }
  const std::string out = a.value("-o");
  if (auto st = WriteFile(out, file); !st.ok()) return rep.Fail(st);
  const AppRecord& r = d->record;
  auto parsed = CheckInstallFile(file);
  if (!parsed.ok()) return rep.Fail(parsed.status());
  const AppRecord& signed_record = *parsed;
  const Bytes& signature = signed_record.signature;
  Bytes file_signature;
  if (auto f = UnwrapObject(file, 0xBF70); f.ok()) {
    if (auto items = ParseTlvSequence(*f); items.ok() && items->back().tag == 0x9E) {
      file_signature.assign(items->back().value.begin(), items->back().value.end());
    }
  }
  const std::string module = ModuleNameByAid(d->module_aid);
  if (o.json) {
    JsonWriter w;
    w.BeginObject()
        .Bool("ok", true)
        .String("file", out)
        .Number("bytes", file.size())
        .String("aid", ToHex(r.aid))
        .String("name", r.name)
        .Number("admin_id", r.admin_id)
        .String("admin_name", r.admin_name)
        .String("use_start", YymmddText(r.use_start))
        .String("expiration", YymmddText(r.expiration))
        .String("status", StatusName(r.status))
        .String("module", ToHex(d->module_aid));
    if (!module.empty()) w.String("module_name", module);
    if (d->privileges) w.String("privileges", ToHex(*d->privileges));
    w.Bool("signed", !signature.empty())
        .String("signed_data", ToHex(SignedPart(r)))
        .String("signature", ToHex(signature))
        .String("file_signature", ToHex(file_signature))
        .String("record", ToHex(EncodeRecord(signed_record)))
        .Bool("holds_pin", d->params_hold_pin);
    // The file's bytes carry the PIN when there is one: PINs are never printed.
    if (!d->params_hold_pin) w.String("hex", ToHex(file));
    w.EndObject();
    std::printf("%s\n", w.Take().c_str());
  } else {
    std::printf("wrote %s: installation file of %zu bytes for %s \"%s\" (module %s), %s\n",
                out.c_str(), file.size(), ToHex(r.aid).c_str(), Printable(r.name).c_str(),
                module.empty() ? ToHex(d->module_aid).c_str() : module.c_str(),
                signature.empty() ? "unsigned"
                                  : ("signed for administrator " + HexByte(r.admin_id) + " (" +
                                     Printable(r.admin_name) + ")")
                                        .c_str());
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// apps list

int List(const LinkOptions& o, const Args& a) {
  const Reporter rep("apps list", o.json);
  if (!a.operands.empty()) return rep.Usage("unexpected argument '" + a.operands[0] + "'");
  if (auto e = CardUsageError(o); !e.empty()) return rep.Usage(e);
  auto session = CardSession::Open(o);
  if (!session.ok()) return rep.Fail(session.status());
  CardSession& s = **session;
  auto list = ReadApplicationList(s, rep);
  if (!list.ok()) return rep.Fail(list.status());
  std::vector<Administrator> admins;
  if (auto got = ReadAdministrators(s, rep); got.ok()) {
    admins = std::move(*got);
  } else {
    rep.Warn("the administrators' keys could not be read (" + got.status().message() +
             "): signatures are not checked");
  }
  std::vector<GpEntry> gp;
  const bool with_gp = !o.scp03.empty();
  if (with_gp) {
    auto got = ReadGpApplications(s, rep);
    if (!got.ok()) return rep.Fail(got.status());
    gp = std::move(*got);
  }
  auto gp_of = [&](ByteView aid) -> const GpEntry* {
    for (const auto& g : gp) {
      if (ToHex(g.aid) == ToHex(aid)) return &g;
    }
    return nullptr;
  };
  auto gp_cell = [&](const GpEntry* g) {
    if (!g) return std::string("not listed");
    if (!g->lcs) return std::string("?");
    return HexByte(*g->lcs) + " " + GpState(*g->lcs);
  };
  // Half-issued applications (a card function's run under way or partial): SELECT refuses them.
  std::map<std::string, std::string> half_issued;
  if (auto got = HalfIssuedTargets(s); got.ok()) {
    half_issued = std::move(*got);
  } else {
    rep.Warn("the issuance journal could not be read (" + got.status().message() + ")");
  }
  auto half_of = [&](ByteView aid) -> const std::string* {
    auto it = half_issued.find(ToHex(aid));
    return it == half_issued.end() ? nullptr : &it->second;
  };
  std::set<std::string> with_record;
  if (o.json) {
    JsonWriter w;
    w.BeginArray();
    for (const auto& l : *list) {
      w.BeginObject().Number("record", static_cast<uint64_t>(l.number));
      if (!l.record.ok()) {
        w.String("raw", ToHex(l.raw)).String("error", l.record.status().message()).EndObject();
        continue;
      }
      const AppRecord& r = *l.record;
      with_record.insert(ToHex(r.aid));
      w.String("aid", ToHex(r.aid))
          .String("name", r.name)
          .Number("admin_id", r.admin_id)
          .String("admin_name", r.admin_name)
          .String("use_start", YymmddText(r.use_start))
          .String("expiration", YymmddText(r.expiration))
          .String("status", StatusName(r.status))
          .String("signature", SignatureState(r, admins));
      if (const std::string* h = half_of(r.aid)) {
        w.String("half_issued", *h).Bool("selectable", false);
      }
      if (with_gp) {
        const GpEntry* g = gp_of(r.aid);
        if (g && g->lcs) w.String("gp_lcs", HexByte(*g->lcs)).String("gp_state", GpState(*g->lcs));
        if (!g) w.String("gp_state", "not listed");
      }
      w.EndObject();
    }
    for (const auto& g : gp) {
      if (with_record.count(ToHex(g.aid))) continue;
      w.BeginObject().Number("record", 0).String("aid", ToHex(g.aid));
      const std::string module = ModuleNameByAid(g.module);
      if (!module.empty()) w.String("module_name", module);
      if (g.lcs) w.String("gp_lcs", HexByte(*g.lcs)).String("gp_state", GpState(*g.lcs));
      w.EndObject();
    }
    w.EndArray();
    std::printf("%s\n", w.Take().c_str());
    return 0;
  }
  std::vector<std::string> header = {"AID",    "NAME",   "ADMINISTRATOR", "START",
                                     "EXPIRY", "STATUS", "SIGNATURE"};
  if (with_gp) header.push_back("GP");
  std::vector<std::vector<std::string>> rows;
  for (const auto& l : *list) {
    if (!l.record.ok()) {
      std::vector<std::string> row = {"record " + std::to_string(l.number),
                                      "(malformed: " + l.record.status().message() + ")",
                                      "",
                                      "",
                                      "",
                                      "",
                                      ""};
      if (with_gp) row.push_back("");
      rows.push_back(row);
      continue;
    }
    const AppRecord& r = *l.record;
    with_record.insert(ToHex(r.aid));
    std::vector<std::string> row = {
        AidText(r.aid),
        Printable(r.name),
        HexByte(r.admin_id) + " " + Printable(r.admin_name),
        DateDisplay(r.use_start, "-"),
        DateDisplay(r.expiration, "-"),
        StatusName(r.status) + (half_of(r.aid)
                                    ? ", half-issued (" + *half_of(r.aid) + "): not selectable"
                                    : std::string()),
        SignatureState(r, admins)};
    if (with_gp) row.push_back(gp_cell(gp_of(r.aid)));
    rows.push_back(row);
  }
  for (const auto& g : gp) {
    if (with_record.count(ToHex(g.aid))) continue;
    const std::string module = ModuleNameByAid(g.module);
    rows.push_back({AidText(g.aid), "(no record" + (module.empty() ? "" : ": " + module) + ")", "",
                    "", "", "", "", gp_cell(&g)});
  }
  if (rows.empty()) {
    std::printf("no applications in the application list\n");
    return 0;
  }
  PrintTable(header, rows);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// apps install

int Install(const LinkOptions& o, const Args& a) {
  const Reporter rep("apps install", o.json);
  if (a.operands.size() != 1) {
    return rep.Usage(a.operands.empty() ? "no installation FILE given" : "give one FILE");
  }
  if (auto e = CardUsageError(o); !e.empty()) return rep.Usage(e);
  if (o.scp03.empty()) {
    return rep.Usage(
        "installing needs the issuer's secure channel: give --scp03 KEYS (the issuer security "
        "domain's keys)");
  }
  const std::string& path = a.operands[0];
  // An installation file has at most 16 KiB (CheckInstallFile); its hex text twice that and
  // line breaks.
  auto read = ReadInputFile(path, {.what = "installation file", .max_bytes = 64 * 1024});
  if (!read.ok()) return rep.Fail(read.status());
  Bytes file(read->begin(), read->end());
  if (!file.empty() && file[0] != 0xBF) {
    // Hex text, as 'make-install-file --json' prints it.
    auto hex = FromHex(std::string_view(reinterpret_cast<const char*>(file.data()), file.size()));
    if (!hex.ok()) {
      return rep.Fail(DisplayName(path) +
                      " is neither an installation file (BF70 ...) nor its hex");
    }
    Wipe(file.data(), file.size());
    file = std::move(*hex);
  }
  auto record = CheckInstallFile(file);
  if (!record.ok())
    return rep.Fail(DisplayName(path) + ": not an installation file: " + record.status().message());
  auto session = CardSession::Open(o);
  if (!session.ok()) return rep.Fail(session.status());
  CardSession& s = **session;
  if (auto st = s.OpenScp03({}); !st.ok()) return rep.Fail(st);
  auto up = s.StoreData(file);
  Wipe(file.data(), file.size());  // it may carry a PIN
  if (!up.ok()) return rep.Fail(up.status());
  const std::string what =
      "installing " + ToHex(record->aid) + " (" + Printable(record->name) + ")";
  if (up->sw != sw::kOk) {
    return rep.CardFail(what + ", STORE DATA block " + std::to_string(up->block + 1) + " of " +
                            std::to_string(up->blocks),
                        up->sw, InstallMeanings());
  }
  if (o.json) {
    JsonWriter w;
    w.BeginObject()
        .Bool("ok", true)
        .String("aid", ToHex(record->aid))
        .String("name", record->name)
        .String("status", StatusName(record->status))
        .Bool("signed", !record->signature.empty())
        .Number("blocks", up->blocks)
        .String("sw", "9000")
        .EndObject();
    std::printf("%s\n", w.Take().c_str());
  } else {
    std::printf("installed %s \"%s\" (%s, %zu STORE DATA block%s)\n", ToHex(record->aid).c_str(),
                Printable(record->name).c_str(), StatusName(record->status).c_str(), up->blocks,
                up->blocks == 1 ? "" : "s");
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// apps set-status

int SetStatus(const LinkOptions& o, const Args& a) {
  const Reporter rep("apps set-status", o.json);
  if (a.operands.size() != 2) {
    return rep.Usage("give AID and ACTION (lock, unlock, terminate, erase or restore)");
  }
  auto aid = ParseAid(a.operands[0]);
  if (!aid.ok()) return rep.Usage(aid.status().message());
  const std::string& action = a.operands[1];
  static const std::map<std::string, AppState> kActions = {{"lock", AppState::kLocked},
                                                           {"unlock", AppState::kActive},
                                                           {"terminate", AppState::kTerminated},
                                                           {"erase", AppState::kErased},
                                                           {"restore", AppState::kActive}};
  auto it = kActions.find(action);
  if (it == kActions.end()) {
    return rep.Usage("ACTION '" + action + "': give lock, unlock, terminate, erase or restore");
  }
  AppState target = it->second;
  if (a.has("--restore-to")) {
    if (action != "restore") return rep.Usage("--restore-to goes with restore only");
    const std::string to = a.value("--restore-to");
    if (to != "active" && to != "locked") return rep.Usage("--restore-to: give active or locked");
    target = to == "locked" ? AppState::kLocked : AppState::kActive;
  }
  const bool gp = a.has("--gp");
  if (gp && action != "lock" && action != "unlock") {
    return rep.Usage("--gp does lock and unlock only (GlobalPlatform SET STATUS)");
  }
  if (gp && a.has("--sign-key")) return rep.Usage("--sign-key does not go with --gp");
  if (auto e = CardUsageError(o); !e.empty()) return rep.Usage(e);
  if (o.scp03.empty()) {
    return rep.Usage(gp ? "--gp needs the issuer's secure channel: give --scp03 KEYS"
                        : "changing a status needs a secure channel with the management "
                          "application: give --scp03 KEYS (the administrator's or the issuer's "
                          "key set, chosen with --kvn)");
  }
  std::optional<crypto::P256KeyPair> sign_key;
  if (a.has("--sign-key")) {
    auto k = LoadP256PrivateKeyPem(a.value("--sign-key"));
    if (!k.ok()) return rep.Fail(k.status());
    sign_key = std::move(*k);
  }
  auto session = CardSession::Open(o);
  if (!session.ok()) return rep.Fail(session.status());
  CardSession& s = **session;

  if (gp) {
    if (auto st = s.OpenScp03({}); !st.ok()) return rep.Fail(st);
    const uint8_t p2 = action == "lock" ? 0x80 : 0x00;
    auto r = s.Secure(CommandApdu{0x80, 0xF0, 0x40, p2, *aid, 0, false});
    if (!r.ok()) return rep.Fail(r.status());
    if (r->sw != sw::kOk) {
      return rep.CardFail(
          "SET STATUS (" + action + ") of " + ToHex(*aid), r->sw,
          {{sw::kConditionsNotSatisfied, "the application is terminated"},
           {sw::kReferencedDataNotFound, "no such application (not registered, or erased)"}});
    }
    if (o.json) {
      JsonWriter w;
      w.BeginObject()
          .Bool("ok", true)
          .String("aid", ToHex(*aid))
          .String("action", action)
          .String("via", "gp")
          .EndObject();
      std::printf("%s\n", w.Take().c_str());
    } else {
      std::printf("%s: %s (GlobalPlatform SET STATUS)\n", ToHex(*aid).c_str(),
                  action == "lock" ? "locked" : "unlocked");
    }
    return 0;
  }

  auto found = FindRecord(s, rep, *aid);
  if (!found.ok()) return rep.Fail(found.status());
  const AppRecord& rec = *found->record;
  const std::string from = StatusName(rec.status), to = StatusName(target);
  auto done = [&](bool changed) {
    if (o.json) {
      JsonWriter w;
      w.BeginObject()
          .Bool("ok", true)
          .String("aid", ToHex(rec.aid))
          .String("name", rec.name)
          .Number("record", static_cast<uint64_t>(found->number))
          .String("from", from)
          .String("to", to)
          .Bool("changed", changed)
          .Bool("signed_now", sign_key.has_value())
          .EndObject();
      std::printf("%s\n", w.Take().c_str());
    } else if (changed) {
      std::printf("%s \"%s\": %s -> %s%s\n", ToHex(rec.aid).c_str(), Printable(rec.name).c_str(),
                  from.c_str(), to.c_str(), sign_key ? " (record signed anew)" : "");
    } else {
      std::printf("%s \"%s\" is already %s; nothing sent\n", ToHex(rec.aid).c_str(),
                  Printable(rec.name).c_str(), to.c_str());
    }
    return 0;
  };
  // An erased application comes back only by restore: a lock or unlock would send the status
  // a restore sends, and the card could not tell them apart.
  if ((action == "lock" || action == "unlock") && rec.status == AppState::kErased) {
    return rep.Fail(FailedPrecondition(ToHex(rec.aid) + " is erased: restore it (restore, or "
                                                        "restore --restore-to locked)"));
  }
  // Only an erased application can be restored: the record of any other already says what a
  // restore would write, so the card could not tell the two apart.
  if (action == "restore" && rec.status != AppState::kErased) {
    return rep.Fail(FailedPrecondition(ToHex(rec.aid) + " is " + StatusName(rec.status) +
                                       ", not erased: only an erased application is restored"));
  }
  // Already so: nothing to send.
  if (rec.status == target && !sign_key) return done(false);

  std::optional<Bytes> signature;
  if (sign_key) {
    // The key should be the one the card holds for the record's administrator.
    if (auto admins = ReadAdministrators(s, rep); admins.ok()) {
      bool known = false;
      for (const auto& ad : *admins) {
        if (ad.id != rec.admin_id) continue;
        known = true;
        if (ad.public_key.empty()) {
          rep.Warn("administrator " + HexByte(rec.admin_id) +
                   " has no signing key on the card: it will refuse the signature (6982)");
        } else if (ad.public_key != sign_key->public_key) {
          rep.Warn(a.value("--sign-key") + " is not administrator " + HexByte(rec.admin_id) +
                   "'s signing key on the card: it will refuse the signature (6982)");
        }
      }
      if (!known) {
        rep.Warn("administrator " + HexByte(rec.admin_id) + " is not registered on the card");
      }
    }
    auto sig = crypto::EcdsaP256Sign(sign_key->private_key, SignedPart(rec));
    if (!sig.ok()) return rep.Fail(sig.status());
    signature = std::move(*sig);
  }
  AppRecord rewritten = rec;
  rewritten.status = target;
  if (signature) rewritten.signature = *signature;
  const Bytes updated = EncodeRecord(rewritten);
  if (auto st = s.OpenScp03(ManagementAid()); !st.ok()) return rep.Fail(st);
  auto r = s.Secure(
      CommandApdu{0x80, 0xDC, static_cast<uint8_t>(found->number), 0x0C, updated, 0, false});
  if (!r.ok()) return rep.Fail(r.status());
  if (r->sw != sw::kOk) {
    std::string bad_sig =
        "not authenticated for this record (another administrator's), or a "
        "missing or bad signature";
    // The issuer's session needs no signature on the issuer's own records (administrator 00):
    // only other administrators' unsigned records need their key.
    if (rec.signature.empty() && !sign_key && rec.admin_id != 0) {
      bad_sig +=
          "; the record is unsigned: give --sign-key PEM (the administrator's signing "
          "key)";
    }
    return rep.CardFail(
        "UPDATE RECORD " + std::to_string(found->number) + " (" + ToHex(rec.aid) + ": " + from +
            " -> " + to + ")",
        r->sw,
        {{sw::kSecurityNotSatisfied, bad_sig},
         {sw::kConditionsNotSatisfied, "the card does not allow " + from + " -> " + to},
         {sw::kWrongData, "malformed record, or a changed AID"},
         {sw::kRecordNotFound, "no such record (the list changed meanwhile?)"}});
  }
  return done(true);
}

// ---------------------------------------------------------------------------------------------
// apps delete

int Delete(const LinkOptions& o, const Args& a) {
  const Reporter rep("apps delete", o.json);
  if (a.operands.size() != 1) return rep.Usage("give the AID of the application to delete");
  auto aid = ParseAid(a.operands[0]);
  if (!aid.ok()) return rep.Usage(aid.status().message());
  if (auto e = CardUsageError(o); !e.empty()) return rep.Usage(e);
  const bool gp = a.has("--gp"), yes = a.has("--yes");
  if (o.scp03.empty()) {
    return rep.Usage(gp ? "--gp needs the issuer's secure channel: give --scp03 KEYS"
                        : "deleting needs a secure channel with the management application: "
                          "give --scp03 KEYS (the administrator's or the issuer's key set)");
  }
  const bool terminal = ::isatty(STDIN_FILENO) == 1;
  if (!yes && !terminal) {
    return rep.Usage("not deleting " + ToHex(*aid) +
                     " without confirmation: there is no terminal to ask on; give --yes");
  }
  auto session = CardSession::Open(o);
  if (!session.ok()) return rep.Fail(session.status());
  CardSession& s = **session;
  auto found = FindRecord(s, rep, *aid);
  if (!found.ok() && !gp) return rep.Fail(found.status());
  const std::string name = found.ok() ? found->record->name : "";
  const std::string label = ToHex(*aid) + (found.ok() ? " (" + Printable(name) + ")" : "");
  if (!yes) {
    std::fprintf(stderr, "delete application %s? this wipes its data [y/N] ", label.c_str());
    std::fflush(stderr);
    std::string answer;
    std::getline(std::cin, answer);
    if (answer != "y" && answer != "Y" && answer != "yes" && answer != "YES") {
      return rep.Fail("not deleted: " + label);
    }
  }
  Result<ResponseApdu> r = Malformed("not sent");
  std::string what;
  if (gp) {
    if (auto st = s.OpenScp03({}); !st.ok()) return rep.Fail(st);
    r = s.Secure(CommandApdu{0x80, 0xE4, 0x00, 0x00, EncodeTlv(0x4F, *aid), 0, false});
    what = "DELETE of " + label;
  } else {
    if (auto st = s.OpenScp03(ManagementAid()); !st.ok()) return rep.Fail(st);
    r = s.Secure(CommandApdu{0x80, 0x0C, static_cast<uint8_t>(found->number), 0x0C, {}, 0, false});
    what = "ERASE RECORD " + std::to_string(found->number) + " (" + label + ")";
  }
  if (!r.ok()) return rep.Fail(r.status());
  if (r->sw != sw::kOk) {
    return rep.CardFail(
        what, r->sw,
        {{sw::kSecurityNotSatisfied,
          "not authenticated for this application (another administrator's)"},
         {sw::kRecordNotFound, "no such record (the list changed meanwhile?)"},
         {sw::kConditionsNotSatisfied,
          gp ? "not an application (a load file or the issuer security domain)"
             : "conditions of use not satisfied"},
         {sw::kReferencedDataNotFound, "no such application (not registered, or erased)"}});
  }
  if (o.json) {
    JsonWriter w;
    w.BeginObject().Bool("ok", true).String("aid", ToHex(*aid));
    if (found.ok()) w.String("name", name);
    w.String("via", gp ? "gp" : "management").EndObject();
    std::printf("%s\n", w.Take().c_str());
  } else {
    std::printf("deleted %s\n", label.c_str());
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// card set-date, card date

int SetDate(const LinkOptions& o, const Args& a, const std::string& command) {
  const Reporter rep(command, o.json);
  if (a.operands.size() != 1) return rep.Usage("give the date as YYMMDD");
  auto bcd = ParseYymmdd(a.operands[0]);
  if (!bcd.ok()) return rep.Usage("'" + a.operands[0] + "': " + bcd.status().message());
  if (*bcd == Bytes(3, 0)) return rep.Usage("000000 is no date");
  if (auto e = CardUsageError(o); !e.empty()) return rep.Usage(e);
  if (o.scp03.empty()) {
    return rep.Usage("setting the date needs the issuer's secure channel: give --scp03 KEYS");
  }
  auto session = CardSession::Open(o);
  if (!session.ok()) return rep.Fail(session.status());
  CardSession& s = **session;
  if (auto st = s.OpenScp03({}); !st.ok()) return rep.Fail(st);
  auto up = s.StoreData(EncodeTlv(0xDF72, *bcd));
  if (!up.ok()) return rep.Fail(up.status());
  if (up->sw != sw::kOk) {
    return rep.CardFail("STORE DATA DF72 (date " + DateDisplay(*bcd) + ")", up->sw,
                        {{sw::kConditionsNotSatisfied,
                          "the card's date never moves backwards (it holds a later one)"},
                         {sw::kWrongData, "the card does not take this date object"}});
  }
  if (o.json) {
    JsonWriter w;
    w.BeginObject().Bool("ok", true).String("date", YymmddText(*bcd)).EndObject();
    std::printf("%s\n", w.Take().c_str());
  } else {
    std::printf("the card's date is now %s\n", DateDisplay(*bcd).c_str());
  }
  return 0;
}

int ShowDate(const LinkOptions& o, const Args& a) {
  const Reporter rep("card date", o.json);
  if (!a.operands.empty()) return rep.Usage("unexpected argument '" + a.operands[0] + "'");
  if (auto e = CardUsageError(o); !e.empty()) return rep.Usage(e);
  auto session = CardSession::Open(o);
  if (!session.ok()) return rep.Fail(session.status());
  CardSession& s = **session;
  auto sel = s.Select(IsdAid());
  if (!sel.ok()) return rep.Fail(sel.status());
  auto r = s.Plain(CommandApdu{0x80, 0xCA, 0xDF, 0x72, {}, 256, false});
  if (!r.ok()) return rep.Fail(r.status());
  std::optional<Bytes> date;
  if (r->sw == sw::kOk) {
    auto t = ParseTlv(r->data);
    if (!t.ok() || t->tag != 0xDF72 || t->value.size() != 3) {
      return rep.Fail("GET DATA DF72: not a DF72 03 YYMMDD object: " + ToHex(r->data));
    }
    date = Bytes(t->value.begin(), t->value.end());
  } else if (r->sw != sw::kReferencedDataNotFound) {
    return rep.CardFail("GET DATA DF72 (the card's date)", r->sw);
  }
  if (o.json) {
    JsonWriter w;
    w.BeginObject().Bool("ok", true).Bool("set", date.has_value());
    if (date) w.String("date", YymmddText(*date));
    w.EndObject();
    std::printf("%s\n", w.Take().c_str());
  } else {
    std::printf("%s\n", date ? DateDisplay(*date).c_str() : "no date set");
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// admin add, admin list

// 88 L {key length, AES-CBC(DEK, zero IV, key padded with zeros to whole blocks)} 03 KCV, as
// PUT KEY sends a key (GP Amendment D).
Result<Bytes> WrapKey(ByteView dek, ByteView key) {
  crypto::SecureBuffer padded(key.begin(), key.end());
  padded.resize((key.size() + 15) / 16 * 16, 0);
  TESSERA_ASSIGN_OR_RETURN(Bytes enc, crypto::AesCbcEncrypt(dek, Bytes(16, 0), padded));
  TESSERA_ASSIGN_OR_RETURN(Bytes kcv, crypto::scp03::KeyCheckValue(key));
  Bytes out{0x88, static_cast<uint8_t>(1 + enc.size()), static_cast<uint8_t>(key.size())};
  Append(out, enc);
  out.push_back(0x03);
  Append(out, kcv);
  return out;
}

Result<int> ParseId(const std::string& text) {
  char* end = nullptr;
  const long v = std::strtol(text.c_str(), &end, 0);
  if (text.empty() || *end != '\0' || v < 0 || v > 127) {
    return InvalidArgument("--id '" + text + "': give 0..127 (0 = the card issuer)");
  }
  return static_cast<int>(v);
}

int AdminAdd(const LinkOptions& o, const Args& a) {
  const Reporter rep("admin add", o.json);
  if (!a.operands.empty()) return rep.Usage("unexpected argument '" + a.operands[0] + "'");
  for (const char* need : {"--id", "--name", "--public-key"}) {
    if (!a.has(need)) return rep.Usage(std::string(need) + " is required");
  }
  auto id = ParseId(a.value("--id"));
  if (!id.ok()) return rep.Usage(id.status().message());
  const std::string name = a.value("--name");
  if (name.empty() || name.size() > 32 || !IsPrintableUtf8(name)) {
    return rep.Usage("--name: give 1..32 bytes of UTF-8 text");
  }
  if (a.has("--keys") != a.has("--key-kvn")) {
    return rep.Usage("--keys KEYFILE and --key-kvn XX go together");
  }
  std::optional<uint8_t> kvn;
  if (a.has("--key-kvn")) {
    auto b = FromHex(a.value("--key-kvn"));
    if (!b.ok() || b->size() != 1 || (*b)[0] == 0 || (*b)[0] > 0x7F) {
      return rep.Usage("--key-kvn '" + a.value("--key-kvn") + "': give one hex byte 01..7F");
    }
    kvn = (*b)[0];
  }
  if (*id == 0 && kvn) {
    return rep.Usage(
        "administrator 0 is the card issuer: it uses the ISD's key sets, so it "
        "takes no --keys");
  }
  if (auto e = CardUsageError(o); !e.empty()) return rep.Usage(e);
  if (o.scp03.empty()) {
    return rep.Usage(
        "registering an administrator needs the issuer's secure channel: give "
        "--scp03 KEYS");
  }
  auto public_key = LoadP256PublicKeyPem(a.value("--public-key"));
  if (!public_key.ok()) return rep.Fail(public_key.status());
  std::optional<crypto::scp03::StaticKeys> new_keys;
  if (kvn) {
    auto k = LoadKeyFile(a.value("--keys"));
    if (!k.ok()) return rep.Fail(k.status());
    if (k->enc.size() != k->mac.size() || k->mac.size() != k->dek.size()) {
      return rep.Fail(a.value("--keys") + ": enc, mac and dek must have the same length");
    }
    if (crypto::scp03::IsTestKeys(*k)) {
      rep.Warn(a.value("--keys") +
               " holds the well-known test keys 404142..4F; anyone can open its sessions");
    }
    new_keys = std::move(*k);
  }
  auto session = CardSession::Open(o);
  if (!session.ok()) return rep.Fail(session.status());
  CardSession& s = **session;
  if (auto st = s.OpenScp03({}); !st.ok()) return rep.Fail(st);
  Bytes content;
  AppendTlv(content, 0xC1, Bytes{static_cast<uint8_t>(*id)});
  AppendTlv(content, 0xC0, ToBytes(name));
  AppendTlv(content, 0x86, *public_key);
  if (new_keys) {
    crypto::SecureBuffer set{*kvn};
    for (const auto* key : {&new_keys->enc, &new_keys->mac, &new_keys->dek}) {
      auto wrapped = WrapKey(s.keys().dek, *key);
      if (!wrapped.ok()) return rep.Fail(wrapped.status());
      set.insert(set.end(), wrapped->begin(), wrapped->end());
    }
    AppendTlv(content, 0xD8, set);
  }
  const Bytes object = EncodeTlv(0xBF71, content);
  auto up = s.StoreData(object);
  if (!up.ok()) return rep.Fail(up.status());
  if (up->sw != sw::kOk) {
    return rep.CardFail("registering administrator " + std::to_string(*id) + " (" + name + ")",
                        up->sw,
                        {{sw::kFileExists, "an administrator with this id exists"},
                         {sw::kConditionsNotSatisfied,
                          "the key version number is in use (by the issuer security "
                          "domain or another administrator)"},
                         {0x9485,
                          "bad key check value (was the session's DEK the one of "
                          "--scp03?)"},
                         {sw::kNotEnoughMemory, "no room: at most 8 administrators"},
                         {sw::kWrongData, "the card refused the administrator object as malformed"},
                         {sw::kWrongP1P2, "a STORE DATA block out of sequence"}});
  }
  if (o.json) {
    JsonWriter w;
    w.BeginObject()
        .Bool("ok", true)
        .Number("id", static_cast<uint64_t>(*id))
        .String("name", name)
        .String("public_key", ToHex(*public_key));
    if (kvn) w.String("kvn", HexByte(*kvn));
    w.EndObject();
    std::printf("%s\n", w.Take().c_str());
  } else {
    std::printf("registered administrator %d (%s) with a signing key%s\n", *id,
                Printable(name).c_str(), kvn ? (" and key set " + HexByte(*kvn)).c_str() : "");
  }
  return 0;
}

int AdminList(const LinkOptions& o, const Args& a) {
  const Reporter rep("admin list", o.json);
  if (!a.operands.empty()) return rep.Usage("unexpected argument '" + a.operands[0] + "'");
  if (auto e = CardUsageError(o); !e.empty()) return rep.Usage(e);
  auto session = CardSession::Open(o);
  if (!session.ok()) return rep.Fail(session.status());
  auto admins = ReadAdministrators(**session, rep);
  if (!admins.ok()) return rep.Fail(admins.status());
  if (o.json) {
    JsonWriter w;
    w.BeginArray();
    for (const auto& ad : *admins) {
      w.BeginObject().Number("id", ad.id).String("name", ad.name);
      if (!ad.public_key.empty()) w.String("public_key", ToHex(ad.public_key));
      if (ad.kvn) w.String("kvn", HexByte(*ad.kvn));
      w.EndObject();
    }
    w.EndArray();
    std::printf("%s\n", w.Take().c_str());
    return 0;
  }
  if (admins->empty()) {
    std::printf("no administrators\n");
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& ad : *admins) {
    std::string key = "none";
    if (!ad.public_key.empty()) {
      key = ToHex(ByteView(ad.public_key).first(std::min<size_t>(9, ad.public_key.size())));
      if (ad.public_key.size() > 9) key += "...";
    }
    rows.push_back({HexByte(ad.id), Printable(ad.name), key, ad.kvn ? HexByte(*ad.kvn) : "none"});
  }
  PrintTable({"ID", "NAME", "SIGNING KEY", "KEY SET"}, rows);
  return 0;
}

}  // namespace

int ManagementOptionArity(const std::string& option) {
  for (const auto& o : kOptions) {
    if (option == o.name) return o.arity;
  }
  return -1;
}

int RunManagement(const std::string& group, const LinkOptions& link,
                  const std::vector<std::string>& args) {
  const bool help = WantsHelp(args);
  std::vector<std::string> rest;
  for (const auto& x : args) {
    if (x != "--help" && x != "-h") rest.push_back(x);
  }
  const std::string sub = rest.empty() ? "" : rest[0];
  if (!rest.empty()) rest.erase(rest.begin());
  const std::string command = group + (sub.empty() ? "" : " " + sub);
  const char* group_help = group == "apps"    ? kAppsHelp
                           : group == "admin" ? kAdminHelp
                                              : kSetDateHelp;
  struct Sub {
    const char* group;
    const char* name;
    const char* help;
    std::vector<std::string> options;
    int (*run)(const LinkOptions&, const Args&);
  };
  static const Sub kSubs[] = {
      {"apps", "make-install-file", kMakeHelp, {"--key", "-o", "--unsigned"}, MakeInstallFile},
      {"apps", "list", kListHelp, {}, List},
      {"apps", "install", kInstallHelp, {}, Install},
      {"apps", "set-status", kSetStatusHelp, {"--restore-to", "--sign-key", "--gp"}, SetStatus},
      {"apps", "delete", kDeleteHelp, {"--yes", "--gp"}, Delete},
      {"apps",
       "set-date",
       kSetDateHelp,
       {},
       [](const LinkOptions& o, const Args& a) { return SetDate(o, a, "apps set-date"); }},
      {"card",
       "set-date",
       kSetDateHelp,
       {},
       [](const LinkOptions& o, const Args& a) { return SetDate(o, a, "card set-date"); }},
      {"card", "date", kSetDateHelp, {}, ShowDate},
      {"admin",
       "add",
       kAdminHelp,
       {"--id", "--name", "--public-key", "--keys", "--key-kvn"},
       AdminAdd},
      {"admin", "list", kAdminHelp, {}, AdminList},
  };
  for (const Sub& s : kSubs) {
    if (group != s.group || sub != s.name) continue;
    if (help) return Help(s.help);
    Args parsed;
    if (auto e = SplitArgs(rest, s.options, command, &parsed); !e.empty()) {
      return Reporter(command, link.json).Usage(e);
    }
    return s.run(link, parsed);
  }
  if (help && sub.empty()) return Help(group_help);
  const Reporter rep(group, link.json);
  if (sub.empty()) {
    std::fputs(group_help, stderr);
    return 2;
  }
  return rep.Usage("unknown subcommand '" + sub + "'");
}

}  // namespace tessera::tools
