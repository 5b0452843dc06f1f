#include "card_text.h"

#include "card/iso/access_control.h"
#include "card/kernel/card_root.h"
#include "core/bytes.h"

namespace tessera::tools {
namespace {

using namespace card;  // NOLINT: the card's constants are this file's vocabulary

struct ModeName {
  uint8_t bit;
  const char* name;
};
constexpr ModeName kEfModes[] = {{kAmRead, "read"},          {kAmUpdate, "update"},
                                 {kAmWrite, "write/append"}, {kAmDeactivate, "deactivate"},
                                 {kAmActivate, "activate"},  {kAmTerminate, "terminate"},
                                 {kAmDeleteSelf, "delete"}};
constexpr ModeName kDfModes[] = {{kAmDeleteChild, "delete child"}, {kAmCreateEf, "create EF"},
                                 {kAmCreateDf, "create DF"},       {kAmDeactivate, "deactivate"},
                                 {kAmActivate, "activate"},        {kAmTerminate, "terminate"},
                                 {kAmDeleteSelf, "delete"}};

}  // namespace

std::string FileTypeName(const card::FileNode& node) {
  if (node.is_df()) return "DF";
  switch (node.structure()) {
    case EfStructure::kTransparent:
      return "transparent";
    case EfStructure::kLinearFixed:
      return "linear fixed";
    case EfStructure::kLinearVariable:
      return "linear variable";
    case EfStructure::kCyclic:
      return "cyclic";
  }
  return "EF structure " + std::to_string(node.fdb & 0x07);
}

std::string LifeCycleName(uint8_t lcs) {
  if (lcs == kLcsCreation) return "creation";
  if (lcs == kLcsInitialisation) return "initialisation";
  if (lcs == 0x05 || lcs == 0x07) return "activated";
  if (lcs == 0x04 || lcs == 0x06) return "deactivated";
  if (lcs >= 0x0C && lcs <= 0x0F) return "terminated";
  return "unknown (" + HexByte(lcs) + ")";
}

std::string DescribeCondition(uint8_t sc) {
  if (sc == 0x00) return "always";
  if (sc == 0xFF) return "never";
  std::vector<std::string> parts;
  if (sc & 0x40) parts.push_back("secure messaging");
  if (sc & 0x20) parts.push_back("external authentication (not offered)");
  if (sc & 0x10)
    parts.push_back((sc & 0x0F) == 0 ? "any PIN" : "PIN " + HexByte(0x80 | (sc & 0x0F)));
  if (parts.empty()) return "never";
  std::string out = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) out += ((sc & 0x80) ? " or " : " and ") + parts[i];
  return out;
}

std::vector<AccessRule> AccessRules(const card::FileNode& node) {
  const auto& modes = node.is_df() ? kDfModes : kEfModes;
  std::vector<AccessRule> rules;
  AccessRule always{{}, "always"};
  auto add = [&](const std::string& condition, const char* mode) {
    if (condition == "always") {
      always.modes.push_back(mode);
      return;
    }
    for (auto& r : rules) {
      if (r.condition == condition) {
        r.modes.push_back(mode);
        return;
      }
    }
    rules.push_back({{mode}, condition});
  };
  const ByteView sec = node.security;
  for (const ModeName& m : modes) {
    if (sec.empty() || (sec[0] & m.bit) == 0) {
      add("always", m.name);
      continue;
    }
    // This mode's SC byte: one per AM bit set, from b7 down to b1 (as CheckAccess counts).
    size_t index = 1;
    for (uint8_t bit = 0x40; bit != m.bit; bit >>= 1) {
      if (sec[0] & bit) ++index;
    }
    add(index < sec.size() ? DescribeCondition(sec[index]) : "never (malformed 8C)", m.name);
  }
  if (!always.modes.empty()) rules.push_back(std::move(always));
  return rules;
}

std::string DescribeAccess(const card::FileNode& node) {
  const auto rules = AccessRules(node);
  if (rules.size() == 1)
    return rules[0].condition == "always" ? "always" : "all: " + rules[0].condition;
  std::string out;
  for (const AccessRule& r : rules) {
    if (!out.empty()) out += "; ";
    if (&r == &rules.back() && r.condition == "always") {
      out += "others: always";
      continue;
    }
    for (size_t i = 0; i < r.modes.size(); ++i) out += (i ? ", " : "") + r.modes[i];
    out += ": " + r.condition;
  }
  return out;
}

std::string GpLifeCycleName(uint8_t v) {
  switch (v) {
    case kGpOpReady:
      return "OP_READY";
    case kGpInitialized:
      return "INITIALIZED";
    case kGpSecured:
      return "SECURED";
    case kGpCardLocked:
      return "CARD_LOCKED";
    case kGpTerminated:
      return "TERMINATED";
  }
  return "unknown";
}

std::string SecurityLevelName(uint8_t level) {
  switch (level) {
    case 0x00:
      return "no secure messaging";
    case 0x01:
      return "C-MAC";
    case 0x03:
      return "C-MAC and C-DECRYPTION";
    case 0x11:
      return "C-MAC and R-MAC";
    case 0x13:
      return "C-MAC, C-DECRYPTION and R-MAC";
    case 0x33:
      return "C-MAC, C-DECRYPTION, R-MAC and R-ENCRYPTION";
  }
  return "unknown";
}

}  // namespace tessera::tools
