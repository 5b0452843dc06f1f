#include "apps_help.h"

namespace tessera::tools {

const char* const kAppsHelp =
    "Application management (docs/applications.md). An application is a registry entry, its\n"
    "DF and its record in the application list of the management application\n"
    "(F054455353455241 01). 'tessera apps SUBCOMMAND --help' explains each subcommand.\n"
    "CARD is --image PATH, --connect EP or --reader NAME; --scp03 KEYS, --kvn, --level and\n"
    "--s16 choose the secure channel ('tessera --help').\n"
    "\n"
    "Exit codes: 0 done; 1 the card refused (its status word and what it means here are\n"
    "printed), or the card, a file or the secure channel failed; 2 usage error.\n";

const char* const kMakeHelp =
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

const char* const kListHelp =
    "Reads the application list (SELECT F054455353455241 01, READ RECORD 1, 2, ... until\n"
    "6A83) and the administrators' signing keys (GET DATA BF71 on the issuer security domain),\n"
    "and checks each record's signature on the host: valid, invalid, unsigned, or no-key (its\n"
    "administrator has no signing key on the card). With --scp03 it also reads the GP life\n"
    "cycle of every application (GET STATUS P1 40 in an SCP03 session with the issuer\n"
    "security domain); applications GP lists without a record (the management application)\n"
    "are shown too.\n"
    "Prints a table (AID, NAME, ADMINISTRATOR, START, EXPIRY, STATUS, SIGNATURE[, GP]); --json\n"
    "{\"ok\", \"applications\": [...]}, each with record, aid, name, admin_id, admin_name,\n"
    "use_start, expiration as YYMMDD, status, signature[, gp_lcs, gp_lcs_name]\n"
    "(docs/cli-json.md §2.6).\n"
    "Exit codes: 0 listed (maybe none); 1 the card refused or could not be reached; 2 usage.\n";

const char* const kInstallHelp =
    "Installs an application: uploads FILE (an installation file as make-install-file writes\n"
    "it, or its hex as text) to the issuer security domain in STORE DATA blocks of at most\n"
    "200 bytes (P1 10, 90 for the last; P2 = block number) inside an SCP03 session with the\n"
    "issuer's keys (--scp03 KEYS, --kvn). The card checks and installs it in one step on the\n"
    "last block. A refusal names its status word and meaning, e.g. 6A89: an application with\n"
    "this AID exists; 6982: bad or missing signature; 6A88: unknown module or administrator.\n"
    "Exit codes: 0 installed; 1 the card refused, FILE is not an installation file, or the\n"
    "card or the secure channel failed; 2 usage error (e.g. no --scp03).\n";

const char* const kSetStatusHelp =
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

const char* const kDeleteHelp =
    "Deletes the application AID: its record, its registry entry, its DF and every file\n"
    "below it, wiped. Asks 'delete application AID (name)? this wipes its data [y/N]' on the\n"
    "terminal unless --yes is given; without a terminal and without --yes it refuses.\n"
    "Sends ERASE RECORD (84 0C n 0C) inside an SCP03 session opened with the management\n"
    "application (the record's administrator's key set, or the issuer's); --gp sends\n"
    "GlobalPlatform DELETE (80 E4 00 00 4F AID) to the issuer security domain instead.\n"
    "Exit codes: 0 deleted; 1 the card refused or failed, or the answer was not yes; 2 usage\n"
    "error (also: no terminal to ask on and no --yes).\n";

const char* const kSetDateHelp =
    "set-date sets the card's trusted current date (STORE DATA DF72 03 YYMMDD to the issuer\n"
    "security domain in an SCP03 session); the card never moves it backwards (6985). With a\n"
    "date, applications outside their validity window no longer select. 'card date' shows\n"
    "the date the card holds (GET DATA DF72), or none. 'tessera apps set-date' is the same.\n"
    "Exit codes: 0 done; 1 the card refused or failed; 2 usage error.\n";

const char* const kAdminHelp =
    "add registers an administrator (STORE DATA BF71 to the issuer security domain in an\n"
    "SCP03 session, docs/applications.md §5.3): id N (1..127; 0 is the card issuer, who may\n"
    "register a signing key but no key set), NAME (1..32 bytes), the signing public key from\n"
    "PEM (a public key, or the private key whose public half is taken) and, with --keys, a key\n"
    "set: KEYFILE holds enc=, mac=, dek= lines in hex (as --scp03), sent as version --key-kvn\n"
    "(01..7F), each key encrypted with the session's static DEK and with its check value.\n"
    "Key bytes are never printed.\n"
    "list shows the administrators (GET DATA BF71, no session needed): id, name, signing key,\n"
    "key set version; --json {\"ok\", \"administrators\": [{id, name, public_key, kvn}...]}.\n"
    "Exit codes: 0 done; 1 the card refused (e.g. 6A89: the id exists; 6985: the KVN is in\n"
    "use; 9485: bad key check value) or failed; 2 usage error.\n";

}  // namespace tessera::tools
