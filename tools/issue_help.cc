// The help texts of `tessera issue` (tools/issue_commands.cc) and `tessera image write-group`.
#include "issue_help.h"

namespace tessera::tools {

const char* const kIssueHelp =
    "Self-issuance (docs/self-issuance.md): card functions are command groups stored in the\n"
    "issuance application (F054455353455241 02) and run inside the card on one EXECUTE\n"
    "ISSUANCE request. 'tessera issue SUBCOMMAND --help' explains each subcommand.\n"
    "CARD is --image PATH, --connect EP or --reader NAME; --scp03 KEYS, --kvn, --level choose\n"
    "the secure channel, --trace decodes every exchange ('tessera --help'). N is the function\n"
    "id, 1..254 (or hex as 0x01..0xFE). Key bytes are never printed or logged.\n"
    "\n"
    "Exit codes:\n"
    "  0  done: compiled, installed (or already installed), loaded; for run: every command\n"
    "     succeeded and the run is acknowledged (or, with --no-ack, succeeded)\n"
    "  1  failure: a bad group file (its FILE:LINE errors are printed), the card cannot be\n"
    "     reached (also after the reconnection attempts), the card refused a step (its\n"
    "     status word and meaning are printed), a state or log file cannot be written\n"
    "  2  usage error (unknown option, missing --function, no --scp03 where it is needed)\n"
    "  3  the issuance stopped on a command's non-transient failure (partial): the command\n"
    "     index and its status word are printed; the run stays unacknowledged, for\n"
    "     'tessera issue retry-failed' once the cause is fixed\n";

const char* const kCompileHelp =
    "Compiles a command group's text form (one hex command APDU a line, options 'harmless'\n"
    "and 'sw=XXXX[,XXXX]', '#' comments; tools/issue_group.h) to the card's form\n"
    "(docs/self-issuance.md §3) and prints its command count, size in bytes and SHA-256 (the\n"
    "digest the card checks before every run). -o OUT writes the compiled bytes, which\n"
    "load-group and 'image write-group' accept as GROUP too. GROUP '-' is standard input.\n"
    "--json: {\"ok\", \"file\", \"count\", \"bytes\", \"sha256\"[, \"output\"]}\n"
    "(docs/cli-json.md).\n"
    "Exit codes: 0 compiled; 1 the group has errors (every one as FILE:LINE: what, on stderr;\n"
    "nothing is written) or OUT cannot be written; 2 usage error.\n";

const char* const kInstallAppHelp =
    "Installs the issuance application F054455353455241 02 from the module ISSUANCE\n"
    "(GlobalPlatform INSTALL [for install and make selectable], privileges 800000) inside an\n"
    "SCP03 session with the issuer security domain (--scp03 KEYS: the ISD's keys).\n"
    "Exit codes: 0 installed, or already installed (6A89, said so); 1 the card refused or\n"
    "failed; 2 usage error (no --scp03).\n";

const char* const kLoadGroupHelp =
    "Loads GROUP (a text group, compiled here, or compiled bytes from 'issue compile -o',\n"
    "which start 47 01) as card function N: SELECT of the issuance application, an SCP03\n"
    "session with it (its sessions use the issuer's key sets: --scp03 KEYS, --kvn), then\n"
    "STORE DATA BF73 { C1 N, C3 V, [4F AID], C5 policy, C6 group }. The card writes the group\n"
    "file 03NN and the table record and sets the function's journal to idle.\n"
    "Exit codes: 0 loaded; 1 a bad group (FILE:LINE errors), or the card refused (e.g. 6985:\n"
    "the function's last run is not acknowledged; 6A84: 16 functions exist) or failed; 2 usage.\n";

const char* const kRunHelp =
    "Issues card function N as the external device of the seed patent (claims 10-12):\n"
    " 1. the card's serial is read (GET DATA CF of the ISD). The run id (--run-id, or 8\n"
    "    random bytes) is written to the state file (default tessera-issue-SERIAL-NN.state in\n"
    "    the current directory: one per card and function) durably - temporary file, fsync,\n"
    "    rename, fsync of the directory - before any EXECUTE ISSUANCE is sent. A state file of\n"
    "    another card is refused (exit 1). A state file holding a run that is not\n"
    "    acknowledged means an earlier 'issue run' was interrupted: this run resumes that run\n"
    "    id (and says so); another --run-id is then refused (exit 1).\n"
    " 2. SELECT of the issuance application, EXECUTE ISSUANCE status (P1 03), then start\n"
    "    (P1 00) - or resume (P1 01) when the card holds this run id interrupted, or nothing\n"
    "    when it holds it done (a replay executes nothing). A function the card holds done\n"
    "    and acknowledged by another run is issued already: refused (exit 1), unless --again,\n"
    "    which starts a new run of the whole group (every command runs again: an INSTALL\n"
    "    of an application that exists then fails).\n"
    " 3. every answer's E5 template is logged and shown, a line per command (ok, failed SW,\n"
    "    not run; ranges for groups of more than 64 commands) and a progress bar on a terminal.\n"
    " 4. a command that failed with a transient status word (6581 memory failure, 6F00 no\n"
    "    precise diagnosis) is retried (retry failed, P1 02) up to --retries times (default\n"
    "    3; 0..10) after 50 ms, 100 ms, 200 ms, ...; any other failure stops (exit 3).\n"
    " 5. a lost link (the card process restarted, the socket closed, the reader gone) is\n"
    "    reconnected - attempts after 100, 200, 400, 800 ms then every second, for up to 10 s -\n"
    "    then SELECT, status and resume with the same run id (the same card: its serial is\n"
    "    checked). Two resumes in a row that leave the run where it was stop it (exit 3).\n"
    " 6. once every command succeeded: the log is fsync'ed, the run acknowledged (P1 04) and\n"
    "    the state file records it (acked=1). --no-ack stops before the acknowledgement.\n"
    "A function whose policy has b3 (secure channel required), or any run with --scp03 KEYS,\n"
    "sends EXECUTE ISSUANCE inside an SCP03 session with the issuance application.\n"
    "--log FILE: the JSON-lines log (default: the state file's name with .log), one object a\n"
    "step: t, step (status, start, response, retry, reconnect, resume, stopped, refused, ack),\n"
    "function, run_id, sw, state, count, succeeded, failed_index, failed_sw, attempt.\n"
    "--json prints one object at the end: ok, function, run_id, state, count, succeeded,\n"
    "commands, acked, replay, retries, reconnects, state_file, log[, first_pending,\n"
    "failed_sw, failed_meaning][, error] (docs/cli-json.md §2.13).\n"
    "Exit codes: 0 issued; 1 tool, link or card failure; 2 usage; 3 stopped on a command's\n"
    "non-transient failure (the run stays unacknowledged; 'issue retry-failed' continues it).\n";

const char* const kStatusHelp =
    "Shows function N: its table record (group file, version, command count, policy, target)\n"
    "and its journal (EXECUTE ISSUANCE P1 03, and READ RECORD of the journal for the\n"
    "acknowledgement): state (idle, running, interrupted, done, partial), run id, commands\n"
    "succeeded and which, the first failed or unanswered command and its status word with its\n"
    "meaning. Nothing is executed.\n"
    "--json: the run's object (docs/cli-json.md §2.13) with \"target\", and with --scp03 the\n"
    "table record's \"version\", \"policy\", \"group_fid\", \"sha256\".\n"
    "Exit codes: 0 shown; 1 the card refused (6A88: no such function) or failed; 2 usage.\n";

const char* const kStepHelp =
    "The single steps of a run, for an operator: resume (EXECUTE ISSUANCE P1 01) continues an\n"
    "interrupted or partial run from its first unanswered command; retry-failed (P1 02) runs\n"
    "again the commands that did not succeed; ack (P1 04) acknowledges the run (the next\n"
    "'issue run' may then start a new one). The run id is --run-id, or the one in the state\n"
    "file (--state, default tessera-issue-SERIAL-NN.state); ack records acked=1 there when it\n"
    "holds that run. Steps are logged to --log, or next to the state file when one is used. "
    "Prints\n"
    "the template as 'issue status' does. A secure-channel policy (or --scp03) sends resume\n"
    "and retry-failed inside an SCP03 session with the issuance application.\n"
    "Exit codes: 0 the run is done (ack: acknowledged); 1 the card refused (e.g. 6985: no such\n"
    "unacknowledged run) or failed; 2 usage; 3 the run stopped again on a command's failure.\n";

const char* const kImageWriteGroupHelp =
    "The memory path of self-issuance (US 7,428,992 claim 2): writes the command group GROUP\n"
    "(text or compiled) into the issuance application of the card image IMAGE as function N,\n"
    "offline. It opens the image in this process (as 'tessera --image IMAGE') and does what\n"
    "'tessera issue load-group' does, in an SCP03 session with the issuance application with\n"
    "the issuer's keys: --scp03 KEYS (default 'test', the well-known keys, with a warning).\n"
    "--install-app installs the issuance application first when the image has none. The\n"
    "image must not be served by a running card meanwhile.\n"
    "Exit codes: 0 written; 1 a bad group, or the card refused or failed; 2 usage error.\n";

}  // namespace tessera::tools
