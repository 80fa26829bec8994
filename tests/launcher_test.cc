#include "client/launcher.h"

#include <gtest/gtest.h>

namespace tracectl {
namespace {

TEST(FindExecutableTest, SearchesPathAndReportsWhatIsWrong) {
  auto sh = FindExecutable("sh");
  ASSERT_TRUE(sh.ok());
  EXPECT_EQ(sh->back(), 'h');
  EXPECT_EQ(FindExecutable("/bin/sh").value(), "/bin/sh");
  EXPECT_EQ(FindExecutable("no-such-command-tracectl").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(FindExecutable("/etc/passwd").status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(LauncherTest, RunsOnlyWhenReleasedAndReportsExitStatus) {
  auto launcher = Launcher::Prepare({"/bin/sh", "-c", "exit 3"});
  ASSERT_TRUE(launcher.ok());
  (*launcher)->Release();
  EXPECT_EQ((*launcher)->WaitAll(), 3);

  auto killed = Launcher::Prepare({"/bin/sh", "-c", "kill -9 $$"});
  ASSERT_TRUE(killed.ok());
  (*killed)->Release();
  EXPECT_EQ((*killed)->WaitAll(), 128 + 9);
}

TEST(LauncherTest, NeverReleasedChildDoesNotRun) {
  char path[] = "/tmp/tracectl-launcher-XXXXXX";
  ASSERT_NE(mkdtemp(path), nullptr);
  const std::string marker = std::string(path) + "/ran";
  {
    auto launcher = Launcher::Prepare({"/usr/bin/touch", marker});
    ASSERT_TRUE(launcher.ok());
  }
  EXPECT_NE(access(marker.c_str(), F_OK), 0);
  rmdir(path);
}

}  // namespace
}  // namespace tracectl
