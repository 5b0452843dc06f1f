// The group compiler against the card's parser: what compiles is what the card accepts, and
// every malformed line is named.
#include "host/group_compiler.h"

#include <gtest/gtest.h>

#include "host/issuance_protocol.h"

namespace tessera::host {
namespace {

TEST(IssueGroupTest, CompilesLinesOptionsAndScriptorSpacing) {
  auto g = CompileGroup(
      "# header comment\n"
      "reset\n"
      "00A4040009F05445535345524150 harmless   # select\n"
      "\n"
      "80 52 00 00 04 00 00 03 E8 sw=9000,6310\n"
      "80500000 SW=6A82\n"
      "exit\n"
      "80500000\n",
      "t.group");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  ASSERT_EQ(g->commands.size(), 3u);
  EXPECT_TRUE(g->commands[0].harmless);
  EXPECT_EQ(g->commands[0].line, 3);
  EXPECT_EQ(ToHex(g->commands[1].apdu), "8052000004000003E8");
  EXPECT_EQ(g->commands[1].success, (std::vector<uint16_t>{0x9000, 0x6310}));
  EXPECT_EQ(g->commands[2].success, (std::vector<uint16_t>{0x6A82}));
  // The card's form, byte for byte (docs/self-issuance.md §3).
  EXPECT_EQ(ToHex(g->Encode()),
            "47010003"
            "0100000E00A4040009F05445535345524150"
            "0002900063100009"
            "8052000004000003E8"
            "00016A82000480500000");
  auto back = DecodeGroup(g->Encode());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->Encode(), g->Encode());
}

TEST(IssueGroupTest, ErrorsNameEveryBadLine) {
  auto g = CompileGroup(
      "00A40400\n"          // 1 fine
      "00A4 040 0\n"        // 2 odd digits
      "zz\n"                // 3 not hex
      "84E60C00\n"          // 4 secure messaging
      "10A40400\n"          // 5 chaining
      "01A40400\n"          // 6 logical channel
      "00A4040005AA\n"      // 7 Lc says 5, one byte follows
      "00A40400 sw=90\n"    // 8 short status word
      "00A40400 maybe\n"    // 9 unknown option
      "00A40400\nreset\n",  // 11 reset after a command
      "bad.group");
  ASSERT_FALSE(g.ok());
  const std::string m = g.status().message();
  for (int line : {2, 3, 4, 5, 6, 7, 8, 9, 11}) {
    EXPECT_NE(m.find("bad.group:" + std::to_string(line) + ":"), std::string::npos) << line << m;
  }
  EXPECT_EQ(m.find("bad.group:1:"), std::string::npos) << m;
  EXPECT_EQ(m.find("bad.group:10:"), std::string::npos) << m;
}

TEST(IssueGroupTest, RefusesEmptyAndOversizedGroups) {
  EXPECT_FALSE(CompileGroup("# nothing\n\n", "e.group").ok());
  std::string many;
  for (size_t i = 0; i <= kMaxGroupCommands; ++i) many += "80500000\n";
  auto g = CompileGroup(many, "m.group");
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("at most 256"), std::string::npos);
  std::string big;
  const std::string data(2 * 250, 'A');
  for (int i = 0; i < 70; ++i) big += "80500000FA" + data + "\n";
  g = CompileGroup(big, "b.group");
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("fit the card"), std::string::npos);
}

TEST(IssueGroupTest, ProfilesCompile) {
  for (const char* name : {"emoney", "transit", "membership", "ticketbook"}) {
    auto g = CompileGroupFile(std::string(TESSERA_SOURCE_DIR "/profiles/") + name + ".group");
    EXPECT_TRUE(g.ok()) << name << ": " << g.status().ToString();
  }
}

TEST(IssueGroupTest, TargetIsWhatTheGroupInstalls) {
  // GP INSTALL [for install and make selectable]: the third LV.
  auto gp = CompileGroup(
      "00A4040008A000000151000000\n"
      "80E60C00260AF0544553534552414D010AF0544553534552414D0109F05445535345524151010002C90000\n",
      "gp.group");
  ASSERT_TRUE(gp.ok());
  EXPECT_EQ(ToHex(TargetAid(*gp)), "F05445535345524151");
  // An installation file: its record's 4F.
  auto file = CompileGroup("80E290000EBF700BE1094F07A0000000041010\n", "file.group");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(ToHex(TargetAid(*file)), "A0000000041010");
  auto none = CompileGroup("00A4040008A000000151000000\n80CA006600\n", "none.group");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(TargetAid(*none).empty());
  for (const char* name : {"emoney", "transit", "membership", "ticketbook"}) {
    auto g = CompileGroupFile(std::string(TESSERA_SOURCE_DIR "/profiles/") + name + ".group");
    ASSERT_TRUE(g.ok());
    EXPECT_EQ(TargetAid(*g).size(), 9u) << name;
  }
}

TEST(IssuanceProtocolTest, RequestAndTemplate) {
  const RunId run{1, 2, 3, 4, 5, 6, 7, 8};
  EXPECT_EQ(ToHex(ExecuteIssuance(IssueOp::kResume, 7, &run).Serialize()),
            "80EA01000DC10107C808010203040506070800");
  EXPECT_EQ(ToHex(ExecuteIssuance(IssueOp::kStatus, 7, nullptr).Serialize()), "80EA030003C1010700");
  const std::string tmpl =
      "E542"
      "C10107"
      "800104"
      "81020003"
      "82020002"
      "8320"
      "05" +
      std::string(62, '0') +
      "84020001"
      "85026A80"
      "C8080102030405060708";
  auto r = ParseRunReport(*FromHex(tmpl));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->function, 7);
  EXPECT_EQ(RunStateName(r->state), "partial");
  EXPECT_EQ(r->count, 3);
  EXPECT_TRUE(r->done(0));
  EXPECT_FALSE(r->done(1));
  EXPECT_TRUE(r->done(2));
  EXPECT_EQ(r->first_pending, 1);
  EXPECT_EQ(r->failed_sw, 0x6A80);
  EXPECT_EQ(r->run_id, run);
  EXPECT_FALSE(ParseRunReport(*FromHex("E503C10107")).ok());
}

// Commands the card will not run from a group are refused where the group is made, with the
// card's reason; the compiled form is checked against the same limits.
TEST(IssueGroupTest, RefusesWhatTheCardWillNotRunAndTheLimits) {
  for (const char* bad : {"00C0000000", "0070000001", "0070800100"}) {
    auto g = CompileGroup(std::string("00A4040000\n") + bad + "\n", "t.group");
    ASSERT_FALSE(g.ok()) << bad;
    EXPECT_NE(g.status().message().find("t.group:2:"), std::string::npos) << g.status().message();
  }
  auto get_response = CompileGroup("00C0000000\n", "t.group");
  EXPECT_NE(get_response.status().message().find("GET RESPONSE"), std::string::npos);
  // A compiled group with a MANAGE CHANNEL, 9 success words, 257 commands, or over 16 KiB.
  auto encoded = [](const std::vector<std::pair<Bytes, int>>& cmds) {
    Bytes g{'G', 0x01};
    AppendU16(g, static_cast<uint16_t>(cmds.size()));
    for (const auto& [apdu, words] : cmds) {
      g.push_back(0);
      g.push_back(static_cast<uint8_t>(words));
      for (int k = 0; k < words; ++k) AppendU16(g, 0x9000);
      AppendU16(g, static_cast<uint16_t>(apdu.size()));
      Append(g, apdu);
    }
    return g;
  };
  const Bytes plain = HexOrDie("00A4000C023F00");
  EXPECT_FALSE(DecodeGroup(encoded({{HexOrDie("0070000001"), 0}})).ok());
  EXPECT_FALSE(DecodeGroup(encoded({{plain, 9}})).ok());
  EXPECT_TRUE(DecodeGroup(encoded({{plain, 8}})).ok());
  EXPECT_FALSE(DecodeGroup(encoded(std::vector<std::pair<Bytes, int>>(257, {plain, 0}))).ok());
  EXPECT_TRUE(DecodeGroup(encoded(std::vector<std::pair<Bytes, int>>(256, {plain, 0}))).ok());
  Bytes big = HexOrDie("80E2000000");
  big.resize(4 + 3 + 16400, 0);  // an extended-length APDU
  big[4] = 0x00;
  big[5] = static_cast<uint8_t>(16400 >> 8);
  big[6] = static_cast<uint8_t>(16400 & 0xFF);
  auto too_big = DecodeGroup(encoded({{big, 0}}));
  ASSERT_FALSE(too_big.ok());
  EXPECT_NE(too_big.status().message().find("16384"), std::string::npos)
      << too_big.status().message();
  // A line longer than the bound is refused without being compiled.
  auto long_line = CompileGroup(std::string(kMaxGroupLine + 2, 'A') + "\n", "t.group");
  ASSERT_FALSE(long_line.ok());
  EXPECT_NE(long_line.status().message().find("t.group:1: the line is"), std::string::npos);
}

}  // namespace
}  // namespace tessera::host
