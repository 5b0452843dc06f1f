// Human-readable decoding of commands and responses for --trace: the command's name, its class
// byte (channel, chaining, secure messaging), what P1/P2 select, the lengths, and the status
// word's name and meaning. Never prints anything the bytes do not contain.
#pragma once

#include <string>

#include "core/bytes.h"

namespace tessera::host {

std::string InstructionName(uint8_t cla, uint8_t ins);
std::string DescribeCommand(ByteView command);
std::string DescribeResponse(ByteView response);

}  // namespace tessera::host
