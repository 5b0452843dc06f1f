// `tessera issue run` and the single steps `issue resume|retry-failed|ack`: the run engine
// (host/issuance_run.h) over the card (host/issuance_channel.h), with the state file, the log,
// progress on stderr and the outcome printed. Exit codes: 0 issued / done, 1 a tool, link or
// card failure, 2 usage, 3 the issuance stopped on a command's non-transient failure.
#pragma once

#include <string>

#include "cli_args.h"
#include "host/issuance_protocol.h"
#include "host/link_options.h"

namespace tessera::tools {

int RunCommand(const host::LinkOptions& o, const Args& a);
int StepCommand(const host::LinkOptions& o, const Args& a, host::IssueOp op,
                const std::string& name);

}  // namespace tessera::tools
