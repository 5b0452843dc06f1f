#include "nvm/image_file.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/crc32.h"
#include "nvm/nvm_store.h"

namespace tessera::nvm {
namespace {

namespace fs = std::filesystem;

class ImageFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tessera-image-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    path_ = (dir_ / "card.img").string();
    g_.nvm_size = 64 * 1024;
    g_.journal_capacity = 4096;
  }
  void TearDown() override { fs::remove_all(dir_); }

  Bytes ReadFile() {
    std::ifstream in(path_, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), {});
  }
  void WriteFile(const Bytes& b) {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  }

  fs::path dir_;
  std::string path_;
  Geometry g_;
};

TEST_F(ImageFileTest, CreateOpenAndPersistAcrossOpens) {
  ASSERT_TRUE(ImageFile::Create(path_, g_, false).ok());
  EXPECT_EQ(fs::file_size(path_), ImageFile::FileSizeFor(g_));
  {
    auto img = ImageFile::Open(path_);
    ASSERT_TRUE(img.ok()) << img.status().ToString();
    EXPECT_EQ((*img)->geometry(), g_);
    auto store = NvmStore::Mount((*img)->device(), g_);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Begin().ok());
    ASSERT_TRUE((*store)->Write((*store)->layout().root_offset, ToBytes("persist")).ok());
    ASSERT_TRUE((*store)->Commit().ok());
  }
  auto img = ImageFile::Open(path_);
  ASSERT_TRUE(img.ok());
  auto store = NvmStore::Mount((*img)->device(), g_);
  ASSERT_TRUE(store.ok());
  Bytes out(7);
  ASSERT_TRUE((*store)->Read((*store)->layout().root_offset, out).ok());
  EXPECT_EQ(out, ToBytes("persist"));
}

TEST_F(ImageFileTest, RefusesToOverwriteUnlessAsked) {
  ASSERT_TRUE(ImageFile::Create(path_, g_, false).ok());
  EXPECT_EQ(ImageFile::Create(path_, g_, false).code(), ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(ImageFile::Create(path_, g_, true).ok());
  Geometry bad = g_;
  bad.page_size = 3;
  EXPECT_EQ(ImageFile::Create(path_, bad, true).code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(ImageFile::Open(path_).ok());  // the failed create left the old image intact
}

TEST_F(ImageFileTest, SecondProcessGetsAClearBusyError) {
  ASSERT_TRUE(ImageFile::Create(path_, g_, false).ok());
  auto held = ImageFile::Open(path_);
  ASSERT_TRUE(held.ok());
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto other = ImageFile::Open(path_);
    const bool busy =
        !other.ok() && other.status().code() == ErrorCode::kBusy &&
        other.status().message().find("in use by another process") != std::string::npos;
    ::_exit(busy ? 0 : 1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  held->reset();
  EXPECT_TRUE(ImageFile::Open(path_).ok());  // released on close
}

TEST_F(ImageFileTest, DamagedTruncatedForeignAndNewerFilesGetClearErrors) {
  ASSERT_TRUE(ImageFile::Create(path_, g_, false).ok());
  const Bytes good = ReadFile();

  Bytes truncated(good.begin(), good.end() - 100);
  WriteFile(truncated);
  auto r = ImageFile::Open(path_);
  EXPECT_EQ(r.status().code(), ErrorCode::kCorruption);
  EXPECT_NE(r.status().message().find("truncated"), std::string::npos);

  WriteFile(Bytes(good.begin(), good.begin() + 20));
  EXPECT_EQ(ImageFile::Open(path_).status().code(), ErrorCode::kCorruption);

  WriteFile(ToBytes("#!/bin/sh\necho this is not a card image\n"));
  r = ImageFile::Open(path_);
  EXPECT_EQ(r.status().code(), ErrorCode::kMalformed);
  EXPECT_NE(r.status().message().find("not a Tessera image"), std::string::npos);

  Bytes damaged = good;
  damaged[17] ^= 0x01;  // NVM size field
  WriteFile(damaged);
  r = ImageFile::Open(path_);
  EXPECT_EQ(r.status().code(), ErrorCode::kCorruption);
  EXPECT_NE(r.status().message().find("checksum"), std::string::npos);

  Bytes newer = good;
  PutU16(&newer[8], 99);
  PutU32(&newer[60], Crc32(ByteView(newer).first(60)));
  WriteFile(newer);
  EXPECT_EQ(ImageFile::Open(path_).status().code(), ErrorCode::kUnsupported);

  WriteFile({});
  EXPECT_EQ(ImageFile::Open(path_).status().code(), ErrorCode::kCorruption);
  fs::remove(path_);
  EXPECT_EQ(ImageFile::Open(path_).status().code(), ErrorCode::kIOError);
}

}  // namespace
}  // namespace tessera::nvm
