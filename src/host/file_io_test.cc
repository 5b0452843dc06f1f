#include "host/file_io.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace tessera::host {
namespace {

class FileIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char t[] = "/tmp/tessera-file-io-XXXXXX";
    ASSERT_NE(::mkdtemp(t), nullptr);
    dir_ = t;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string p = dir_ + "/" + name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  std::string dir_;
};

TEST(DisplayNameTest, KeepsUtf8AndEscapesEverythingElse) {
  EXPECT_EQ(DisplayName("profiles/emoney.group"), "profiles/emoney.group");
  EXPECT_EQ(DisplayName("caf\xC3\xA9.toml"), "caf\xC3\xA9.toml");
  EXPECT_EQ(DisplayName("g\xFF\xFE.group"), "g\\xFF\\xFE.group");
  EXPECT_EQ(DisplayName("a\nb\\c"), "a\\x0Ab\\x5Cc");
  EXPECT_EQ(DisplayName("\xC3"), "\\xC3");  // a truncated sequence
}

TEST_F(FileIoTest, ReadsAWholeFile) {
  const std::string p = Write("k.keys", "enc=00\n");
  auto r = ReadInputFile(p, {.what = "key file"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(std::string(r->begin(), r->end()), "enc=00\n");
}

TEST_F(FileIoTest, RefusesADirectoryAMissingFileAndAnOversizedOne) {
  auto d = ReadInputFile(dir_, {.what = "group file"});
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("cannot open group file '" + dir_ +
                                      "': it is a directory, not a file"),
            std::string::npos)
      << d.status().message();
  auto m = ReadInputFile(dir_ + "/none", {.what = "group file"});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(m.status().message().find("No such file or directory"), std::string::npos);
  const std::string big = Write("big", std::string(101, 'x'));
  auto b = ReadInputFile(big, {.what = "key file", .max_bytes = 100});
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("has 101 bytes; a key file has at most 100"),
            std::string::npos)
      << b.status().message();
  EXPECT_TRUE(
      ReadInputFile(Write("ok", std::string(100, 'x')), {.what = "key file", .max_bytes = 100})
          .ok());
}

TEST_F(FileIoTest, AReadErrorIsAnErrorNamingTheFile) {
  // /proc/self/mem opens, and reading its first page (never mapped) fails with EIO.
  auto r = ReadInputFile("/proc/self/mem", {.what = "script"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("cannot read script '/proc/self/mem'"), std::string::npos)
      << r.status().message();
}

TEST_F(FileIoTest, AFifoWithoutAWriterDoesNotBlock) {
  const std::string p = dir_ + "/fifo";
  ASSERT_EQ(::mkfifo(p.c_str(), 0600), 0);
  auto r = ReadInputFile(p, {.what = "group file"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->empty());
}

TEST_F(FileIoTest, DashIsAFileUnlessStandardInputIsAllowed) {
  auto r = ReadInputFile("-", {.what = "key file"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kNotFound);  // no file named "-" here
}

TEST(NextLineTest, SplitsOnNewlines) {
  const std::string text = "a=1\n\nb=2";
  const ByteView v(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  size_t pos = 0;
  std::string line;
  ASSERT_TRUE(NextLine(v, &pos, &line));
  EXPECT_EQ(line, "a=1");
  ASSERT_TRUE(NextLine(v, &pos, &line));
  EXPECT_EQ(line, "");
  ASSERT_TRUE(NextLine(v, &pos, &line));
  EXPECT_EQ(line, "b=2");
  EXPECT_FALSE(NextLine(v, &pos, &line));
  EXPECT_TRUE(line.empty());
}

}  // namespace
}  // namespace tessera::host
