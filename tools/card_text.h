// The names the host gives the card's values when it prints them (`tessera image ls` and
// `check`): file types and life cycles, access conditions as rules, GlobalPlatform life cycles
// and security levels. The checker (card/check/) finds; this says it in words.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "card/fs/file_node.h"

namespace tessera::tools {

// One access rule of a file: the modes that share a condition.
struct AccessRule {
  std::vector<std::string> modes;  // "read", "update", ... (access_control.h)
  std::string condition;           // "always", "never", "PIN 81", "PIN 81 or secure messaging"
};

// Human-readable names of a file's properties, for listings.
std::string FileTypeName(const card::FileNode& node);  // "DF", "transparent", "linear fixed", ...
std::string LifeCycleName(uint8_t lcs);                // "activated", "deactivated", ...
// The compact security attributes (FCP 8C, access_control.h) as rules, in AM bit order, modes
// with the same condition together; modes without a condition are "always".
std::vector<AccessRule> AccessRules(const card::FileNode& node);
// "read, update: PIN 81; others: always".
std::string DescribeAccess(const card::FileNode& node);
// A security condition byte: "always", "never", "PIN 81", "secure messaging and PIN 82", ...
std::string DescribeCondition(uint8_t sc);
// GlobalPlatform names of the card life cycle and of a secure-channel security level.
std::string GpLifeCycleName(uint8_t life_cycle);
std::string SecurityLevelName(uint8_t level);

}  // namespace tessera::tools
