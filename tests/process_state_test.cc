#include "daemon/process_state.h"

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "daemon/thread_credentials.h"

namespace tracectl {
namespace {

constexpr char kMaps[] =
    "00400000-00421000 r--p 00000000 fe:01 1312    /usr/bin/python3.11\n"
    "00421000-006b3000 r-xp 00021000 fe:01 1312    /usr/bin/python3.11\n"
    "01b8e000-01c6d000 rw-p 00000000 00:00 0       [heap]\n"
    "7f00a000-7f00b000 r--p 00000000 fe:01 77      "
    "/usr/lib/locale/C.utf8/LC_CTYPE\n"
    "7f00c000-7f00d000 r--p 00000000 fe:01 55      /usr/lib/x86_64 linux/lib "
    "c.so.6\n"
    "7f00d000-7f00e000 r-xp 00001000 fe:01 55      /usr/lib/x86_64 linux/lib "
    "c.so.6\n"
    "7f00e000-7f00f000 rw-s 00000000 00:01 9       /dev/zero (deleted)\n"
    "7f00f000-7f010000 rw-p 00000000 00:00 0       [anon:tracectl]\n"
    "7ffd000-7ffe000 r-xp 00000000 00:00 0         [vdso]\n"
    "7fff000-7fff100 r-xp 00000000 fe:01 56      /usr/lib/partial-line.so";

TEST(ParseMappedFilesTest, DistinctFilesInAddressOrder) {
  v1::ProcessState state;
  EXPECT_TRUE(ParseMappedFiles(kMaps, 1 << 20, &state));
  ASSERT_EQ(state.mapped_files_size(), 4);
  EXPECT_EQ(state.mapped_files(0).path(), "/usr/bin/python3.11");
  EXPECT_TRUE(state.mapped_files(0).executable());
  EXPECT_EQ(state.mapped_files(1).path(), "/usr/lib/locale/C.utf8/LC_CTYPE");
  EXPECT_FALSE(state.mapped_files(1).executable());
  // Spaces in a path are kept; executable if any mapping of it is.
  EXPECT_EQ(state.mapped_files(2).path(), "/usr/lib/x86_64 linux/lib c.so.6");
  EXPECT_TRUE(state.mapped_files(2).executable());
  EXPECT_EQ(state.mapped_files(3).path(), "/dev/zero (deleted)");
}

TEST(ParseMappedFilesTest, StopsAtTheTextBound) {
  v1::ProcessState state;
  // Room for the first path (19 bytes) only.
  EXPECT_FALSE(ParseMappedFiles(kMaps, 30, &state));
  ASSERT_EQ(state.mapped_files_size(), 1);
  EXPECT_EQ(state.mapped_files(0).path(), "/usr/bin/python3.11");
}

TEST(KindOfFdLinkTest, Kinds) {
  EXPECT_EQ(KindOfFdLink("/etc/passwd"), v1::OPEN_FILE_PATH);
  EXPECT_EQ(KindOfFdLink("/tmp/x (deleted)"), v1::OPEN_FILE_PATH);
  EXPECT_EQ(KindOfFdLink("socket:[1234]"), v1::OPEN_FILE_SOCKET);
  EXPECT_EQ(KindOfFdLink("pipe:[99]"), v1::OPEN_FILE_PIPE);
  EXPECT_EQ(KindOfFdLink("anon_inode:[eventfd]"), v1::OPEN_FILE_ANON_INODE);
  EXPECT_EQ(KindOfFdLink("net:[4026531840]"), v1::OPEN_FILE_OTHER);
  EXPECT_EQ(KindOfFdLink(""), v1::OPEN_FILE_OTHER);
}

const v1::ProcessState::OpenFile* FindFd(const v1::ProcessState& state,
                                         int fd) {
  for (const auto& file : state.open_files()) {
    if (file.fd() == fd) return &file;
  }
  return nullptr;
}

TEST(ReadProcessStateTest, ReadsThisProcess) {
  char path[] = "/tmp/process_state_test.XXXXXX";
  const int file_fd = mkstemp(path);
  ASSERT_GE(file_fd, 0);
  int sockets[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sockets), 0);
  ProcessStateLosses losses;
  absl::StatusOr<v1::ProcessState> state =
      ReadProcessState(getpid(), ProcessStateLimits{}, &losses);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->pid(), getpid());
  EXPECT_FALSE(state->comm().empty());
  EXPECT_FALSE(state->exe().empty());
  bool libc = false;
  for (const auto& file : state->mapped_files()) {
    if (file.path().find("/libc.so.6") != std::string::npos) {
      libc = file.executable();
    }
  }
  EXPECT_TRUE(libc);
  const auto* f = FindFd(*state, file_fd);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->target(), path);
  EXPECT_EQ(f->kind(), v1::OPEN_FILE_PATH);
  const auto* s = FindFd(*state, sockets[0]);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->kind(), v1::OPEN_FILE_SOCKET);
  EXPECT_EQ(losses.unread + losses.maps_cut + losses.fds_left_out, 0u);
  // In fd order.
  for (int i = 1; i < state->open_files_size(); ++i) {
    EXPECT_LT(state->open_files(i - 1).fd(), state->open_files(i).fd());
  }

  // Bounds: two descriptors listed, the rest counted.
  ProcessStateLimits small;
  small.max_fds = 2;
  ProcessStateLosses cut;
  state = ReadProcessState(getpid(), small, &cut);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->open_files_size(), 2);
  EXPECT_GE(cut.fds_left_out, 3u);
  // Maps of 100 bytes: cut short, and counted.
  small.max_maps_bytes = 100;
  cut = {};
  state = ReadProcessState(getpid(), small, &cut);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(cut.maps_cut, 1u);
  EXPECT_LE(state->mapped_files_size(), 1);

  close(sockets[0]);
  close(sockets[1]);
  close(file_fd);
  unlink(path);
}

TEST(ReadProcessStateTest, GoneProcessIsNotFoundAndCounted) {
  ProcessStateLosses losses;
  absl::StatusOr<v1::ProcessState> state =
      ReadProcessState(999999999, ProcessStateLimits{}, &losses);
  EXPECT_EQ(state.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(losses.unread, 1u);
}

// A process of the caller's that turns non-dumpable after the request was
// authorized: read with the caller's identity, the kernel refuses it (none
// of the daemon's capabilities, CAP_PERFMON included, lets the read past).
TEST(ReadProcessStateTest, NonDumpableProcessIsNotReadAsTheUser) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to become uid 65534";
  constexpr uid_t kNobody = 65534;
  auto start = [&](bool dumpable) {
    int ready[2];
    EXPECT_EQ(pipe(ready), 0);
    const pid_t pid = fork();
    if (pid == 0) {
      if (setgroups(0, nullptr) != 0 || setresgid(kNobody, kNobody, kNobody) ||
          setresuid(kNobody, kNobody, kNobody) ||
          prctl(PR_SET_DUMPABLE, dumpable ? 1 : 0) != 0) {
        _exit(1);
      }
      (void)!write(ready[1], "x", 1);
      pause();
      _exit(0);
    }
    char c;
    EXPECT_EQ(read(ready[0], &c, 1), 1);
    close(ready[0]);
    close(ready[1]);
    return pid;
  };
  const pid_t hidden = start(false);
  const pid_t open = start(true);
  {
    std::unique_ptr<ScopedThreadCredentials> lowered;
    ASSERT_TRUE(
        ScopedThreadCredentials::Lower(kNobody, kNobody, &lowered).ok());
    ProcessStateLosses losses;
    EXPECT_FALSE(ReadProcessState(hidden, {}, &losses).ok());
    EXPECT_EQ(losses.unread, 1u);
    absl::StatusOr<v1::ProcessState> readable =
        ReadProcessState(open, {}, &losses);
    ASSERT_TRUE(readable.ok()) << readable.status();
    EXPECT_GT(readable->mapped_files_size(), 0);
  }
  // Root again: the non-dumpable one reads.
  ProcessStateLosses losses;
  EXPECT_TRUE(ReadProcessState(hidden, {}, &losses).ok());
  for (pid_t pid : {hidden, open}) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
}

}  // namespace
}  // namespace tracectl
