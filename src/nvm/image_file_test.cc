#include "nvm/image_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

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

TEST_F(ImageFileTest, ReplacingAnImageACardHoldsIsRefused) {
  ASSERT_TRUE(ImageFile::Create(path_, g_, false).ok());
  struct stat before;
  ASSERT_EQ(::stat(path_.c_str(), &before), 0);
  {
    auto card = ImageFile::Open(path_);  // what a running card holds
    ASSERT_TRUE(card.ok());
    auto store = NvmStore::Mount((*card)->device(), g_);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Begin().ok());
    ASSERT_TRUE((*store)->Write((*store)->layout().root_offset, ToBytes("card's")).ok());
    ASSERT_TRUE((*store)->Commit().ok());

    const Status s = ImageFile::Create(path_, g_, true);
    EXPECT_EQ(s.code(), ErrorCode::kBusy) << s.ToString();
    EXPECT_NE(s.message().find("is in use by a running card (pid "), std::string::npos)
        << s.message();
    EXPECT_NE(s.message().find("stop it first"), std::string::npos) << s.message();
    struct stat now;
    ASSERT_EQ(::stat(path_.c_str(), &now), 0);
    EXPECT_EQ(now.st_ino, before.st_ino);  // the card's file is still the one at the path
    for (const auto& e : fs::directory_iterator(dir_)) {  // and nothing was left beside it
      EXPECT_EQ(e.path().filename(), "card.img");
    }
  }
  auto img = ImageFile::Open(path_);  // the card's write is in the file at the path
  ASSERT_TRUE(img.ok());
  auto store = NvmStore::Mount((*img)->device(), g_);
  ASSERT_TRUE(store.ok());
  Bytes out(6);
  ASSERT_TRUE((*store)->Read((*store)->layout().root_offset, out).ok());
  EXPECT_EQ(out, ToBytes("card's"));
  img->reset();
  EXPECT_TRUE(ImageFile::Create(path_, g_, true).ok());  // once the card is gone, it works
}

TEST_F(ImageFileTest, ReplacingAnImageLockedByAnotherProcessIsRefused) {
  ASSERT_TRUE(ImageFile::Create(path_, g_, false).ok());
  int ready[2], done[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(done), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {  // holds the lock as flock(1) or a card would, until told to stop
    const int fd = ::open(path_.c_str(), O_RDONLY);
    const bool locked = fd >= 0 && ::flock(fd, LOCK_EX) == 0;
    char c = locked ? 'y' : 'n';
    (void)!::write(ready[1], &c, 1);
    (void)!::read(done[0], &c, 1);
    ::_exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  const Status s = ImageFile::Create(path_, g_, true);
  EXPECT_EQ(s.code(), ErrorCode::kBusy);
  // The holder is named when the system says who it is.
  const bool named = s.message().find("(pid " + std::to_string(pid) + ")") != std::string::npos ||
                     s.message().find("(pid unknown)") != std::string::npos;
  EXPECT_TRUE(named) << s.message();
  (void)!::write(done[1], "x", 1);
  int status = 0;
  ::waitpid(pid, &status, 0);
  for (int fd : {ready[0], ready[1], done[0], done[1]}) ::close(fd);
  EXPECT_TRUE(ImageFile::Create(path_, g_, true).ok());
}

TEST_F(ImageFileTest, SnapshotsReadHeldAndReadOnlyImagesWithoutChangingThem) {
  ASSERT_TRUE(ImageFile::Create(path_, g_, false).ok());
  auto card = ImageFile::Open(path_);
  ASSERT_TRUE(card.ok());
  auto store = NvmStore::Mount((*card)->device(), g_);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Begin().ok());
  ASSERT_TRUE((*store)->Write((*store)->layout().root_offset, ToBytes("served")).ok());
  ASSERT_TRUE((*store)->Commit().ok());

  auto served = ImageSnapshot::Read(path_);  // while the card holds its lock
  ASSERT_TRUE(served.ok()) << served.status().ToString();
  EXPECT_TRUE((*served)->served());
  EXPECT_EQ((*served)->geometry(), g_);
  const uint32_t root = (*store)->layout().root_offset;
  EXPECT_EQ(Bytes((*served)->device().cells().begin() + root,
                  (*served)->device().cells().begin() + root + 6),
            ToBytes("served"));
  for (uint32_t p = 0; p < (*card)->device().page_count(); ++p) {
    ASSERT_EQ((*served)->device().wear(p), (*card)->device().wear(p));
  }
  store->reset();
  card->reset();

  const Bytes before = ReadFile();
  ASSERT_EQ(::chmod(path_.c_str(), 0444), 0);
  auto quiet = ImageSnapshot::Read(path_);
  ASSERT_TRUE(quiet.ok()) << quiet.status().ToString();
  EXPECT_FALSE((*quiet)->served());
  EXPECT_EQ((*quiet)->reads(), 1u);  // nothing wrote while it was read
  EXPECT_EQ(ReadFile(), before);
  ASSERT_EQ(::chmod(path_.c_str(), 0644), 0);
  EXPECT_TRUE(ImageFile::Open(path_).ok());  // the snapshot left no lock behind
}

TEST_F(ImageFileTest, SnapshotsRefuseWhatOpenRefuses) {
  ASSERT_TRUE(ImageFile::Create(path_, g_, false).ok());
  Bytes damaged = ReadFile();
  damaged[17] ^= 0x01;
  WriteFile(damaged);
  EXPECT_EQ(ImageSnapshot::Read(path_).status().code(), ErrorCode::kCorruption);
  WriteFile(ToBytes("not an image at all, just text"));
  EXPECT_EQ(ImageSnapshot::Read(path_).status().code(), ErrorCode::kMalformed);
  fs::remove(path_);
  EXPECT_EQ(ImageSnapshot::Read(path_).status().code(), ErrorCode::kIOError);
}

// A snapshot taken while a card commits transactions is a state a power cut could leave: it
// mounts (recovery finishes whatever was under way), and a transaction's two writes, on pages
// far apart, are both there or neither.
TEST_F(ImageFileTest, SnapshotsOfAnImageBeingWrittenAreConsistent) {
  g_.nvm_size = 1024 * 1024;  // long enough to read that commits happen meanwhile
  g_.journal_capacity = 16 * 1024;
  ASSERT_TRUE(ImageFile::Create(path_, g_, false).ok());
  auto card = ImageFile::Open(path_);
  ASSERT_TRUE(card.ok());
  auto store = NvmStore::Mount((*card)->device(), g_);
  ASSERT_TRUE(store.ok());
  const Layout layout = (*store)->layout();
  // One write at the start of the data area (the root), one in the last block.
  ASSERT_TRUE((*store)->Begin().ok());
  uint32_t last = 0;
  for (uint32_t i = 0; i < layout.block_count; ++i) {
    auto blk = (*store)->AllocateBlock();
    ASSERT_TRUE(blk.ok());
    last = std::max(last, *blk);
  }
  ASSERT_TRUE((*store)->Commit().ok());
  const uint32_t a = layout.root_offset, b = layout.BlockOffset(last);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> commits{0};
  std::thread writer([&] {
    for (uint64_t n = 1; !stop; ++n) {
      Bytes v(8);
      PutU64(v.data(), n);
      if (!(*store)->Begin().ok() || !(*store)->Write(a, v).ok() || !(*store)->Write(b, v).ok() ||
          !(*store)->Commit().ok()) {
        ADD_FAILURE() << "the writer's transaction failed";
        return;
      }
      ++commits;
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  });
  int consistent = 0, busy = 0;
  for (int i = 0; i < 40; ++i) {
    auto snap = ImageSnapshot::Read(path_);
    if (!snap.ok()) {
      EXPECT_EQ(snap.status().code(), ErrorCode::kBusy) << snap.status().ToString();
      ++busy;
      continue;
    }
    EXPECT_TRUE((*snap)->served());
    auto copy = RamNvm::CopyOf((*snap)->device());
    auto mounted = NvmStore::Mount(copy->device(), g_);
    ASSERT_TRUE(mounted.ok()) << mounted.status().ToString();
    Bytes va(8), vb(8);
    ASSERT_TRUE((*mounted)->Read(a, va).ok());
    ASSERT_TRUE((*mounted)->Read(b, vb).ok());
    EXPECT_EQ(va, vb) << "snapshot " << i << " holds half a transaction";
    ++consistent;
  }
  stop = true;
  writer.join();
  std::printf("%d consistent snapshots, %d busy, during %llu commits\n", consistent, busy,
              static_cast<unsigned long long>(commits.load()));
}

}  // namespace
}  // namespace tessera::nvm
