#include "client/report_output.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace tracectl {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

// The entries of `dir` other than . and ..
int CountEntries(const std::string& dir) {
  int n = 0;
  DIR* d = opendir(dir.c_str());
  while (const dirent* e = readdir(d)) {
    if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") ++n;
  }
  closedir(d);
  return n;
}

class ReportOutputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/report_output_test.XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    path_ = dir_ + "/report.txt";
  }
  void TearDown() override {
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  std::string dir_;
  std::string path_;
};

TEST_F(ReportOutputTest, AsideFileReplacesTheOldOneOnlyWhenKept) {
  WriteFile(path_, "old report\n");
  auto out = ReportOutput::Open(path_, STDOUT_FILENO,
                                ReportOutput::FileMode::kReplaceAtEnd);
  ASSERT_TRUE(out.ok()) << out.status();
  fputs("new report\n", (*out)->stream());
  fflush((*out)->stream());
  EXPECT_EQ(ReadFile(path_), "old report\n");  // written aside meanwhile
  EXPECT_FALSE((*out)->is_terminal());
  // Close-on-exec: a traced command never holds it.
  EXPECT_EQ(fcntl(fileno((*out)->stream()), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  ASSERT_TRUE((*out)->Close(true).ok());
  EXPECT_EQ(ReadFile(path_), "new report\n");
  EXPECT_EQ(CountEntries(dir_), 1);
  EXPECT_TRUE((*out)->Close(true).ok());  // once only

  // A session that failed: the old report stays, the aside copy goes.
  out = ReportOutput::Open(path_, STDOUT_FILENO,
                           ReportOutput::FileMode::kReplaceAtEnd);
  ASSERT_TRUE(out.ok());
  fputs("half a report", (*out)->stream());
  EXPECT_TRUE((*out)->Close(false).ok());
  EXPECT_EQ(ReadFile(path_), "new report\n");
  EXPECT_EQ(CountEntries(dir_), 1);

  // Dropped without Close: the same.
  out = ReportOutput::Open(path_, STDOUT_FILENO,
                           ReportOutput::FileMode::kReplaceAtEnd);
  ASSERT_TRUE(out.ok());
  out->reset();
  EXPECT_EQ(ReadFile(path_), "new report\n");
  EXPECT_EQ(CountEntries(dir_), 1);
}

// What renaming would change stays: a symlink's target is written, and a
// replaced file keeps its mode.
TEST_F(ReportOutputTest, SymlinksAndModesSurvive) {
  const std::string target = dir_ + "/target.txt";
  const std::string link = dir_ + "/link.txt";
  WriteFile(target, "old\n");
  ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0);
  auto out = ReportOutput::Open(link, STDOUT_FILENO,
                                ReportOutput::FileMode::kReplaceAtEnd);
  ASSERT_TRUE(out.ok()) << out.status();
  fputs("new\n", (*out)->stream());
  ASSERT_TRUE((*out)->Close(true).ok());
  struct stat st;
  ASSERT_EQ(lstat(link.c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(ReadFile(target), "new\n");
  unlink(link.c_str());
  unlink(target.c_str());

  WriteFile(path_, "private\n");
  ASSERT_EQ(chmod(path_.c_str(), 0600), 0);
  out = ReportOutput::Open(path_, STDOUT_FILENO,
                           ReportOutput::FileMode::kReplaceAtEnd);
  ASSERT_TRUE(out.ok()) << out.status();
  fputs("still private\n", (*out)->stream());
  ASSERT_TRUE((*out)->Close(true).ok());
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(ReadFile(path_), "still private\n");
}

TEST_F(ReportOutputTest, InPlaceFileIsWrittenAsItComes) {
  WriteFile(path_, "an older and longer report\n");
  auto out = ReportOutput::Open(path_, STDOUT_FILENO,
                                ReportOutput::FileMode::kInPlace);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(ReadFile(path_), "");  // truncated
  fputs("line 1\n", (*out)->stream());
  fflush((*out)->stream());
  EXPECT_EQ(ReadFile(path_), "line 1\n");
  ASSERT_TRUE((*out)->Close(true).ok());
  EXPECT_EQ(CountEntries(dir_), 1);
}

TEST_F(ReportOutputTest, SpecialFilesAreWrittenInPlace) {
  auto out = ReportOutput::Open("/dev/null", STDOUT_FILENO,
                                ReportOutput::FileMode::kReplaceAtEnd);
  ASSERT_TRUE(out.ok()) << out.status();
  fputs("nothing", (*out)->stream());
  EXPECT_TRUE((*out)->Close(true).ok());
}

TEST_F(ReportOutputTest, UnwritablePathIsAnError) {
  for (auto mode : {ReportOutput::FileMode::kInPlace,
                    ReportOutput::FileMode::kReplaceAtEnd}) {
    auto out = ReportOutput::Open(dir_ + "/no/such/dir/report.txt",
                                  STDOUT_FILENO, mode);
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.status().message(),
              "cannot write " + dir_ +
                  "/no/such/dir/report.txt: No such file or directory");
  }
}

TEST_F(ReportOutputTest, DefaultIsAStreamOfItsOwnOnTheGivenFd) {
  auto out =
      ReportOutput::Open("", STDERR_FILENO, ReportOutput::FileMode::kInPlace);
  ASSERT_TRUE(out.ok());
  EXPECT_NE(fileno((*out)->stream()), STDERR_FILENO);
  EXPECT_TRUE((*out)->Close(true).ok());
  EXPECT_GE(fcntl(STDERR_FILENO, F_GETFD), 0);  // still open
}

}  // namespace
}  // namespace tracectl
