// The POSIX Env: each file kind round-trips its bytes, the directory and
// size operations do what env.h says, and OS errors keep their meaning:
// a missing file is NotFound, a full disk ResourceExhausted naming the file,
// anything else IOError.
#include "tinykv/common/env.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include <gtest/gtest.h>

#include "posix_error.h"
#include "tinykv/testing/test_util.h"

namespace tinykv {
namespace {

class EnvTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) const { return dir_.str() + "/" + name; }
  std::string Contents(const std::string& fname) {
    std::string s;
    EXPECT_OK(ReadFileToString(env_, fname, &s));
    return s;
  }
  static bool Contains(const Status& s, const std::string& text) {
    return s.ToString().find(text) != std::string::npos;
  }

  testing::TempDir dir_;
  Env* env_ = Env::Default();
};

TEST_F(EnvTest, WritableFileCreatesOrTruncatesAndRoundTrips) {
  const std::string f = Path("a");
  ASSERT_OK(WriteStringToFile(env_, "hello world", f, /*sync=*/true));
  EXPECT_EQ("hello world", Contents(f));
  // A big append goes around the 64 KiB buffer.
  const std::string big(200000, 'x');
  auto file = env_->NewWritableFile(f);
  ASSERT_OK(file);
  ASSERT_OK((*file)->Append("ab"));
  ASSERT_OK((*file)->Append(big));
  ASSERT_OK((*file)->Sync());
  ASSERT_OK((*file)->Close());
  EXPECT_EQ("ab" + big, Contents(f));
  auto size = env_->GetFileSize(f);
  ASSERT_OK(size);
  EXPECT_EQ(big.size() + 2, *size);
}

TEST_F(EnvTest, AppendableFileCreatesIfMissingAndKeepsContents) {
  const std::string f = Path("log");
  {
    auto file = env_->NewAppendableFile(f);
    ASSERT_OK(file);
    ASSERT_OK((*file)->Append("one,"));
    ASSERT_OK((*file)->Close());
  }
  {
    auto file = env_->NewAppendableFile(f);
    ASSERT_OK(file);
    ASSERT_OK((*file)->Append("two"));
    ASSERT_OK((*file)->Sync());
    ASSERT_OK((*file)->Close());
  }
  EXPECT_EQ("one,two", Contents(f));
}

TEST_F(EnvTest, TruncateFileCutsOrExtendsWithZeros) {
  const std::string f = Path("t");
  ASSERT_OK(WriteStringToFile(env_, "0123456789", f, false));
  ASSERT_OK(env_->TruncateFile(f, 4));
  EXPECT_EQ("0123", Contents(f));
  ASSERT_OK(env_->TruncateFile(f, 6));
  EXPECT_EQ(std::string("0123\0\0", 6), Contents(f));
  // Appending after a truncation continues at the new end.
  auto file = env_->NewAppendableFile(f);
  ASSERT_OK(file);
  ASSERT_OK((*file)->Append("x"));
  ASSERT_OK((*file)->Close());
  EXPECT_EQ(std::string("0123\0\0x", 7), Contents(f));
  Status s = env_->TruncateFile(Path("missing"), 0);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
}

TEST_F(EnvTest, SequentialAndRandomAccessReads) {
  const std::string f = Path("r");
  ASSERT_OK(WriteStringToFile(env_, "abcdefghij", f, false));
  auto seq = env_->NewSequentialFile(f);
  ASSERT_OK(seq);
  char scratch[16];
  Slice got;
  ASSERT_OK((*seq)->Read(3, &got, scratch));
  EXPECT_EQ("abc", got.ToString());
  ASSERT_OK((*seq)->Skip(4));
  ASSERT_OK((*seq)->Read(16, &got, scratch));
  EXPECT_EQ("hij", got.ToString());  // short at the end
  ASSERT_OK((*seq)->Read(16, &got, scratch));
  EXPECT_TRUE(got.empty());

  auto ra = env_->NewRandomAccessFile(f);
  ASSERT_OK(ra);
  ASSERT_OK((*ra)->Read(2, 3, &got, scratch));
  EXPECT_EQ("cde", got.ToString());
  ASSERT_OK((*ra)->Read(8, 10, &got, scratch));
  EXPECT_EQ("ij", got.ToString());
  ASSERT_OK((*ra)->Read(100, 10, &got, scratch));
  EXPECT_TRUE(got.empty());
}

TEST_F(EnvTest, DirectoriesListRemoveAndRemoveRecursively) {
  const std::string d = Path("d");
  ASSERT_OK(env_->CreateDir(d));
  EXPECT_FALSE(env_->CreateDir(d).ok());  // exists
  ASSERT_OK(WriteStringToFile(env_, "1", d + "/x", false));
  ASSERT_OK(env_->CreateDir(d + "/sub"));
  ASSERT_OK(WriteStringToFile(env_, "2", d + "/sub/y", false));
  std::vector<std::string> children;
  ASSERT_OK(env_->GetChildren(d, &children));
  std::sort(children.begin(), children.end());
  EXPECT_EQ((std::vector<std::string>{"sub", "x"}), children);
  ASSERT_OK(env_->SyncDir(d));

  Status s = env_->RemoveDir(d);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_TRUE(Contains(s, d + ": rmdir: Directory not empty")) << s.ToString();
  ASSERT_OK(env_->RemoveDirRecursively(d));
  EXPECT_FALSE(env_->FileExists(d));
  ASSERT_OK(env_->RemoveDirRecursively(d));  // already gone: OK

  ASSERT_OK(env_->CreateDir(d));
  ASSERT_OK(env_->RemoveDir(d));
  EXPECT_FALSE(env_->FileExists(d));
}

TEST_F(EnvTest, RenameReplacesAndLinkSharesContents) {
  ASSERT_OK(WriteStringToFile(env_, "new", Path("tmp"), true));
  ASSERT_OK(WriteStringToFile(env_, "old", Path("cur"), true));
  ASSERT_OK(env_->RenameFile(Path("tmp"), Path("cur")));
  EXPECT_FALSE(env_->FileExists(Path("tmp")));
  EXPECT_EQ("new", Contents(Path("cur")));
  ASSERT_OK(env_->LinkFile(Path("cur"), Path("link")));
  ASSERT_OK(env_->RemoveFile(Path("cur")));
  EXPECT_EQ("new", Contents(Path("link")));
  Status s = env_->RenameFile(Path("nope"), Path("x"));
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_TRUE(Contains(s, Path("nope"))) << s.ToString();
}

TEST_F(EnvTest, MissingFileIsNotFoundNamingTheFile) {
  const std::string f = Path("absent");
  EXPECT_FALSE(env_->FileExists(f));
  auto seq = env_->NewSequentialFile(f);
  ASSERT_TRUE(seq.status().IsNotFound()) << seq.status().ToString();
  EXPECT_EQ(f + ": No such file or directory", std::string(seq.status().message()));
  EXPECT_TRUE(env_->NewRandomAccessFile(f).status().IsNotFound());
  EXPECT_TRUE(env_->GetFileSize(f).status().IsNotFound());
  EXPECT_TRUE(env_->RemoveFile(f).IsNotFound());
  std::string data;
  EXPECT_TRUE(ReadFileToString(env_, f, &data).IsNotFound());
}

TEST(PosixError, MapsErrnoToTheDocumentedCodeAndMessage) {
  Status s = PosixError("db/000005.log", "write", ENOSPC);
  EXPECT_TRUE(s.IsResourceExhausted()) << s.ToString();
  EXPECT_EQ("db/000005.log: No space left on device", std::string(s.message()));
  s = PosixError("db/000005.log", "fdatasync", EDQUOT);
  EXPECT_TRUE(s.IsResourceExhausted()) << s.ToString();
  s = PosixError("db/000005.log", "write", EIO);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_EQ("db/000005.log: write: Input/output error", std::string(s.message()));
  s = PosixError("db/CURRENT", nullptr, ENOENT);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_EQ("db/CURRENT: No such file or directory", std::string(s.message()));
  EXPECT_TRUE(PosixError("d", "open", EACCES).IsIOError());
  EXPECT_TRUE(PosixError("d", "open", EROFS).IsIOError());
}

// /dev/full answers every write with ENOSPC: the real errno, through the
// real write path (buffer, flush). Skipped where there is no /dev/full
// (some containers); PosixError above covers the mapping everywhere.
TEST_F(EnvTest, NoSpaceLeftOnDeviceIsResourceExhaustedNamingTheFile) {
  if (::access("/dev/full", W_OK) != 0) GTEST_SKIP() << "no writable /dev/full";
  auto file = env_->NewAppendableFile("/dev/full");
  ASSERT_OK(file);
  ASSERT_OK((*file)->Append("x"));  // buffered
  Status s = (*file)->Flush();
  ASSERT_TRUE(s.IsResourceExhausted()) << s.ToString();
  EXPECT_EQ("/dev/full: No space left on device", std::string(s.message()));
  // An append bigger than the buffer writes through at once.
  s = (*file)->Append(std::string(100000, 'y'));
  EXPECT_TRUE(s.IsResourceExhausted()) << s.ToString();
  (*file)->Close().IgnoreError();
  s = WriteStringToFile(env_, "data", "/dev/full", /*sync=*/false);
  EXPECT_TRUE(s.IsResourceExhausted()) << s.ToString();
}

TEST_F(EnvTest, OtherOsErrorsAreIOErrorNamingTheFile) {
  // Opening a directory for writing: EISDIR.
  auto file = env_->NewWritableFile(dir_.str());
  ASSERT_FALSE(file.ok());
  EXPECT_TRUE(file.status().IsIOError()) << file.status().ToString();
  EXPECT_EQ(dir_.str() + ": Is a directory", std::string(file.status().message()));
  // A path through a regular file: ENOTDIR.
  ASSERT_OK(WriteStringToFile(env_, "x", Path("plain"), false));
  Status s = env_->CreateDir(Path("plain") + "/sub");
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_TRUE(Contains(s, Path("plain") + "/sub: mkdir: Not a directory")) << s.ToString();
}

TEST_F(EnvTest, LockFileIsExclusiveUntilReleased) {
  const std::string f = Path("LOCK");
  auto lock = env_->LockFile(f);
  ASSERT_OK(lock);
  auto again = env_->LockFile(f);
  EXPECT_TRUE(again.status().IsIOError()) << again.status().ToString();
  EXPECT_TRUE(Contains(again.status(), f)) << again.status().ToString();
  lock->reset();
  EXPECT_OK(env_->LockFile(f));
}

}  // namespace
}  // namespace tinykv
