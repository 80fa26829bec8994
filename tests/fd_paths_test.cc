#include "client/fd_paths.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>

#include "client/strace_format.h"
#include "client/traced_tasks.h"
#include "tests/trace_event_builder.h"

namespace tracectl {
namespace {

using ::tracectl::testing::Event;
using ::tracectl::testing::WithCapture;

constexpr uint64_t kAtFdcwd = static_cast<uint64_t>(-100);
constexpr uint64_t kBuf = 0x7ffd0000;

TraceEvent OpenAt(const char* path, int ret, uint64_t flags = O_RDONLY,
                  uint32_t tgid = 100, uint64_t dirfd = kAtFdcwd) {
  return WithCapture(Event("openat", {dirfd, kBuf, flags}, ret, tgid), 1, path);
}

TEST(FdPaths, OpenReadClose) {
  FdPaths fds;
  const TraceEvent open = OpenAt("/etc/passwd", 3);
  EXPECT_EQ(fds.ResultPath(open), "/etc/passwd");
  fds.Learn(open);
  EXPECT_EQ(fds.PathOf(100, 3), "/etc/passwd");
  EXPECT_EQ(fds.PathOf(101, 3), "");  // another process
  EXPECT_EQ(fds.PathOf(100, 4), "");
  fds.Learn(Event("close", {3}, 0));
  EXPECT_EQ(fds.PathOf(100, 3), "");
}

TEST(FdPaths, FailedOrUncapturedOpensTeachNothing) {
  FdPaths fds;
  fds.Learn(OpenAt("/etc/passwd", -2));
  EXPECT_EQ(fds.PathOf(100, static_cast<int>(-2)), "");
  fds.Learn(OpenAt("/etc/passwd", 3));
  fds.Learn(WithCapture(Event("openat", {kAtFdcwd, kBuf, 0}, 3), 1, "/x",
                        CAPTURE_TRUNCATED));
  EXPECT_EQ(fds.PathOf(100, 3), "");  // not the old path
  fds.Learn(WithCapture(Event("open", {kBuf, 0}, 4), 0, "rel/file"));
  EXPECT_EQ(fds.PathOf(100, 4), "rel/file");  // as given
  fds.Learn(WithCapture(Event("creat", {kBuf, 0644}, 5), 0, "/tmp/new"));
  EXPECT_EQ(fds.PathOf(100, 5), "/tmp/new");
}

TEST(FdPaths, RelativeToAKnownDirectory) {
  FdPaths fds;
  fds.Learn(OpenAt("/etc", 3, O_RDONLY | O_DIRECTORY));
  fds.Learn(OpenAt("passwd", 4, O_RDONLY, 100, 3));
  EXPECT_EQ(fds.PathOf(100, 4), "/etc/passwd");
  fds.Learn(OpenAt("group", 5, O_RDONLY, 100, 9));  // unknown directory
  EXPECT_EQ(fds.PathOf(100, 5), "");
}

TEST(FdPaths, DupsCopyAndSocketsForget) {
  FdPaths fds;
  fds.Learn(OpenAt("/etc/hostname", 3));
  const TraceEvent dup2 = Event("dup2", {3, 0}, 0);
  EXPECT_EQ(fds.ResultPath(dup2), "/etc/hostname");
  fds.Learn(dup2);
  fds.Learn(Event("dup", {3}, 7));
  fds.Learn(Event("fcntl", {3, F_DUPFD_CLOEXEC, 10}, 10));
  fds.Learn(Event("dup3", {3, 11, O_CLOEXEC}, 11));
  for (int fd : {0, 7, 10, 11}) EXPECT_EQ(fds.PathOf(100, fd), "/etc/hostname");
  fds.Learn(Event("socket", {2, 1, 0}, 7));
  EXPECT_EQ(fds.PathOf(100, 7), "");
  fds.Learn(Event("fcntl", {0, F_GETFL}, 2));  // not a new descriptor
  EXPECT_EQ(fds.PathOf(100, 2), "");
  const int32_t pipe[2] = {0, 10};
  fds.Learn(WithCapture(
      Event("pipe2", {kBuf, 0}, 0), 0,
      std::string_view(reinterpret_cast<const char*>(pipe), sizeof(pipe))));
  EXPECT_EQ(fds.PathOf(100, 0), "");
  EXPECT_EQ(fds.PathOf(100, 10), "");
  EXPECT_EQ(fds.PathOf(100, 11), "/etc/hostname");
  fds.Learn(Event("close_range", {3, ~0u, 0}, 0));
  EXPECT_EQ(fds.PathOf(100, 11), "");
}

TEST(FdPaths, ExecForgetsCloseOnExecDescriptors) {
  FdPaths fds;
  fds.Learn(OpenAt("/a", 3, O_RDONLY | O_CLOEXEC));
  fds.Learn(OpenAt("/b", 4));
  fds.Learn(OpenAt("/c", 5));
  fds.Learn(Event("fcntl", {5, F_SETFD, FD_CLOEXEC}, 0));
  fds.Learn(Event("execve", {kBuf, kBuf, kBuf}, -2));  // failed: no change
  EXPECT_EQ(fds.PathOf(100, 3), "/a");
  fds.Learn(Event("execve", {kBuf, kBuf, kBuf}, 0));
  EXPECT_EQ(fds.PathOf(100, 3), "");
  EXPECT_EQ(fds.PathOf(100, 4), "/b");
  EXPECT_EQ(fds.PathOf(100, 5), "");
}

TEST(FdPaths, ChildrenInheritTheTable) {
  FdPaths fds;
  fds.Learn(OpenAt("/a", 3));
  fds.Learn(OpenAt("/b", 4, O_RDONLY | O_CLOEXEC));
  fds.Learn(Event("fork", {}, 200));
  EXPECT_EQ(fds.PathOf(200, 3), "/a");
  EXPECT_EQ(fds.PathOf(200, 4), "/b");
  // A thread shares the table: nothing to copy.
  fds.Learn(Event("clone", {CLONE_VM | CLONE_THREAD}, 101));
  EXPECT_EQ(fds.PathOf(101, 3), "");
  // A vfork child runs first: what it did before the parent's record stays.
  fds.Learn(Event("close", {3}, 0, 300));
  fds.Learn(Event("execve", {kBuf, kBuf, kBuf}, 0, 300));
  fds.Learn(Event("vfork", {}, 300));
  EXPECT_EQ(fds.PathOf(300, 3), "");
  EXPECT_EQ(fds.PathOf(300, 4), "");  // close-on-exec, and it exec'd
  // exit_group drops the process: a later one with its pid starts empty.
  fds.Learn(Event("exit_group", {0}, 0, 200));
  EXPECT_EQ(fds.PathOf(200, 3), "");
}

// CPython's subprocess: the child closes every inherited descriptor before
// its parent's clone returns, so the parent's table reaches it later.
TEST(FdPaths, CloseRangeOfAChildThatRanFirst) {
  FdPaths fds;
  fds.Learn(OpenAt("/etc/passwd", 3));
  fds.Learn(OpenAt("/etc/group", 4));
  fds.Learn(OpenAt("/etc/hosts", 9));
  fds.Learn(Event("close_range", {4, ~0u, 0}, 0, 200));
  fds.Learn(Event("close_range", {3, 3, 4 /* CLOSE_RANGE_CLOEXEC */}, 0, 200));
  fds.Learn(Event("clone", {SIGCHLD}, 200));
  EXPECT_EQ(fds.PathOf(200, 3), "/etc/passwd");
  EXPECT_EQ(fds.PathOf(200, 4), "");
  EXPECT_EQ(fds.PathOf(200, 9), "");
  fds.Learn(Event("execve", {kBuf, kBuf, kBuf}, 0, 200));
  EXPECT_EQ(fds.PathOf(200, 3), "");            // marked close-on-exec
  EXPECT_EQ(fds.PathOf(100, 4), "/etc/group");  // the parent keeps its own
}

// glibc's threads come from clone3, whose flags are not in the record: the
// thread's copy goes at its first call.
TEST(FdPaths, Clone3ThreadsLeaveNoTableBehind) {
  FdPaths fds;
  fds.Learn(OpenAt("/etc/passwd", 3));
  fds.Learn(Event("clone3", {kBuf, 88}, 101));
  fds.Learn(Event("getppid", {}, 100, 100, 101));
  EXPECT_EQ(fds.PathOf(101, 3), "");
  EXPECT_EQ(fds.PathOf(100, 3), "/etc/passwd");
}

TEST(FdPaths, StartsFromARunningProcessesDescriptors) {
  v1::ProcessState state;
  state.set_pid(100);
  auto* file = state.add_open_files();
  file->set_fd(3);
  file->set_target("/var/log/app.log");
  file = state.add_open_files();
  file->set_fd(4);
  file->set_target("socket:[4242]");
  FdPaths fds;
  fds.Learn(OpenAt("/etc/hosts", 5));  // the trace came first: it wins
  state.add_open_files()->set_fd(5);
  state.mutable_open_files(2)->set_target("/old");
  fds.AddInitialState(state);
  EXPECT_EQ(fds.PathOf(100, 3), "/var/log/app.log");
  EXPECT_EQ(fds.PathOf(100, 4), "socket:[4242]");
  EXPECT_EQ(fds.PathOf(100, 5), "/etc/hosts");
  fds.Learn(Event("close", {3}, 0));
  EXPECT_EQ(fds.PathOf(100, 3), "");
}

TEST(FdPaths, StraceLinesShowThePaths) {
  FdPaths fds;
  FormatOptions options;
  options.fd_paths = &fds;
  auto line = [&](const TraceEvent& event) {
    std::string text = FormatStraceLine(event, options);
    fds.Learn(event);
    return text;
  };
  EXPECT_EQ(line(OpenAt("/etc/passwd", 3, O_RDONLY | O_CLOEXEC)),
            "openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY|O_CLOEXEC) = "
            "3</etc/passwd>");
  EXPECT_EQ(line(Event("lseek", {3, 0, SEEK_END}, 100)),
            "lseek(3</etc/passwd>, 0, SEEK_END) = 100");
  EXPECT_EQ(line(Event("dup2", {3, 1}, 1)),
            "dup2(3</etc/passwd>, 1) = 1</etc/passwd>");
  EXPECT_EQ(line(OpenAt("group", 4, O_RDONLY, 100, 3)),
            "openat(3</etc/passwd>, \"group\", O_RDONLY) = "
            "4</etc/passwd/group>");
  EXPECT_EQ(line(Event("close", {3}, 0)), "close(3</etc/passwd>) = 0");
  EXPECT_EQ(line(Event("close", {3}, -9)),
            "close(3) = -1 EBADF (Bad file descriptor)");
  EXPECT_EQ(line(WithCapture(Event("openat", {kAtFdcwd, kBuf, 0}, 5), 1,
                             "/tmp/a\nb>")),
            "openat(AT_FDCWD, \"/tmp/a\\nb>\", O_RDONLY) = 5</tmp/a\\nb>>");
  options.fd_paths = nullptr;
  EXPECT_EQ(line(Event("close", {5}, 0)), "close(5) = 0");
}

TEST(PidPrefix, AsStraceFPrintsIt) {
  FormatOptions options;
  options.pid_prefix = FormatOptions::PidPrefix::kBracketed;
  EXPECT_EQ(FormatStraceLine(Event("getppid", {}, 1, 12, 123), options),
            "[pid   123] getppid() = 1");
  EXPECT_EQ(FormatStraceLine(Event("getppid", {}, 1, 12, 1234567), options),
            "[pid 1234567] getppid() = 1");
  options.pid_prefix = FormatOptions::PidPrefix::kBare;
  EXPECT_EQ(FormatStraceLine(Event("getppid", {}, 1, 12, 123), options),
            "123   getppid() = 1");
}

TEST(TracedTasks, SeveralWhileMoreThanOneIsAlive) {
  TracedTasks tasks;
  const TraceEvent first = Event("getppid", {}, 1, 100);
  tasks.Saw(first);
  EXPECT_FALSE(tasks.Several());
  // The fork's own line is printed before the child counts.
  const TraceEvent fork = Event("clone", {SIGCHLD}, 200, 100);
  tasks.Saw(fork);
  EXPECT_FALSE(tasks.Several());
  tasks.Learn(fork);
  EXPECT_TRUE(tasks.Several());
  // The child's exit_group line still has the prefix; after it, none.
  const TraceEvent exit = Event("exit_group", {0}, 0, 200);
  tasks.Saw(exit);
  EXPECT_TRUE(tasks.Several());
  tasks.Learn(exit);
  EXPECT_FALSE(tasks.Several());
  // A thread comes and goes with exit.
  tasks.Learn(Event("clone", {CLONE_VM | CLONE_THREAD}, 101, 100));
  EXPECT_TRUE(tasks.Several());
  tasks.Learn(Event("exit", {0}, 0, 100, 101));
  EXPECT_FALSE(tasks.Several());
  // A task first seen through its records counts too.
  tasks.Saw(Event("getppid", {}, 1, 400));
  EXPECT_TRUE(tasks.Several());
}

}  // namespace
}  // namespace tracectl
