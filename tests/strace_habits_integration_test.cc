// End to end: strace's spellings that tracectl takes (a command without
// --, -f with a command, several -e trace=, -e status=, -y, "[pid N] "),
// and the ones it refuses with what to type instead. A real tracectld on
// a temporary socket, real programs, compared with strace where it helps.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/harness.h"

namespace tracectl::testing {
namespace {

class StraceHabitsTest : public DaemonTest {};

constexpr char kGetppidLine[] = "^getppid\\(\\) = [0-9]+$";
constexpr char kFailedOpenatLine[] =
    "^openat\\(AT_FDCWD, \"/nonexistent/tracectl-syscall-helper\", "
    "O_RDONLY\\) = -1 ENOENT \\(No such file or directory\\)$";

TEST_F(StraceHabitsTest, CommandWithoutDoubleDashAsStraceTakesIt) {
  RunResult r = RunTracectl(
      {"trace", "-e", "trace=getppid", sandbox_->helper(), "1234", "0", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.err.substr(0, 2000);
  EXPECT_EQ(CountMatching(r.err, kGetppidLine), 1234);
  EXPECT_EQ(Lines(r.err).size(), 1234u);

  // Everything after the command's name is the command's, even what looks
  // like an option: the helper takes --path-len, tracectl does not.
  r = RunTracectl({"trace", "-e", "trace=getppid,openat", sandbox_->helper(),
                   "--path-len", "40", "5", "1", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(CountMatching(r.err, kGetppidLine), 5);
  EXPECT_EQ(CountMatching(r.err,
                          "^openat\\(AT_FDCWD, \"/nonexistent/"
                          "tracectl-a{18}\", O_RDONLY\\) = -1 ENOENT"),
            1)
      << r.err;

  // syscalls takes it too.
  r = RunTracectl({"syscalls", "--json", sandbox_->helper(), "77", "0", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(FindRow(ParseSyscallsJson(r.out), "getppid").calls, 77u);

  // The command's exit status is still tracectl's.
  r = RunTracectl(
      {"trace", "-e", "trace=getppid", sandbox_->helper(), "x", "0", "0"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

TEST_F(StraceHabitsTest, FollowFlagIsAcceptedWithACommand) {
  for (const char* follow : {"-f", "-ff", "--follow"}) {
    RunResult r = RunTracectl({"trace", follow, "-e", "trace=getppid", "--",
                               sandbox_->helper(), "1234", "0", "0"});
    ASSERT_EQ(r.exit_code, 0) << follow << ": " << r.err.substr(0, 2000);
    EXPECT_EQ(CountMatching(r.err, kGetppidLine), 1234) << follow;
    EXPECT_EQ(Lines(r.err).size(), 1234u) << follow;
  }
  // System-wide, -f adds nothing and is accepted.
  RunResult r = RunTracectl({"syscalls", "-f", "--duration", "0.2"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(StraceHabitsTest, SeveralTraceSetsAreMerged) {
  RunResult r = RunTracectl({"trace", "-e", "trace=openat", "-e", "trace=pipe2",
                             "--", sandbox_->helper(), "3", "2", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(CountMatching(r.err, kFailedOpenatLine), 2) << r.err;
  EXPECT_EQ(
      CountMatching(r.err, "^pipe2\\(\\[[0-9]+, [0-9]+\\], O_CLOEXEC\\) = 0$"),
      1)
      << r.err;
  EXPECT_EQ(Lines(r.err).size(), 3u) << r.err;
}

TEST_F(StraceHabitsTest, StatusFailedIsMinusZ) {
  RunResult status = RunTracectl({"trace", "-e", "status=failed", "--",
                                  sandbox_->helper(), "3", "2", "1"});
  RunResult minus_z =
      RunTracectl({"trace", "-Z", "--", sandbox_->helper(), "3", "2", "1"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  ASSERT_EQ(minus_z.exit_code, 0) << minus_z.err;
  EXPECT_EQ(status.err, minus_z.err);
  EXPECT_EQ(CountMatching(status.err, kFailedOpenatLine), 2) << status.err;
  // As strace -Z: no successful calls, and not exit_group's "= ?" either.
  EXPECT_EQ(CountMatching(status.err, "= [0-9?]"), 0) << status.err;

  RunResult successful = RunTracectl({"trace", "-e", "status=successful", "-e",
                                      "trace=pipe2,"
                                      "openat,exit_group",
                                      "--", sandbox_->helper(), "3", "2", "1"});
  ASSERT_EQ(successful.exit_code, 0) << successful.err;
  EXPECT_EQ(Lines(successful.err).size(), 1u) << successful.err;
  EXPECT_EQ(CountMatching(successful.err, "^pipe2\\("), 1) << successful.err;
}

TEST_F(StraceHabitsTest, DecodeFdsShowsThePathOfEachDescriptor) {
  for (const char* y : {"-y", "-yy"}) {
    // cat copies with copy_file_range when its output is a file.
    RunResult r = RunTracectl({"trace", y, "-e",
                               "trace=openat,read,copy_file_range,close",
                               "/usr/bin/cat", "/etc/hostname"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // The descriptor number depends on what the test runner leaves open.
    std::smatch m;
    ASSERT_TRUE(std::regex_search(
        r.err, m,
        std::regex("\nopenat\\(AT_FDCWD, \"/etc/hostname\", O_RDONLY\\) = "
                   "([0-9]+)</etc/hostname>\n")))
        << r.err;
    const std::string fd = m[1];
    EXPECT_EQ(
        CountMatching(r.err, "^close\\(" + fd + "</etc/hostname>\\) = 0$"), 1)
        << r.err;
    EXPECT_GE(CountMatching(r.err, "^(read|copy_file_range)\\(" + fd +
                                       "</etc/hostname>, "),
              1)
        << r.err;
    // Descriptors opened before tracing began are plain numbers.
    EXPECT_EQ(CountMatching(r.err, "^close\\(1\\) = 0$"), 1) << r.err;
    EXPECT_EQ(
        CountMatching(r.err,
                      "^openat\\(AT_FDCWD, \"/etc/ld.so.cache\", "
                      "O_RDONLY\\|O_CLOEXEC\\) = [0-9]+</etc/ld.so.cache>$"),
        1)
        << r.err;
    // -y makes the kernel send execve, fcntl...: not printed.
    EXPECT_EQ(CountMatching(r.err, "^(execve|fcntl|exit_group|dup)"), 0)
        << r.err;
  }
}

// -y on a running program: the descriptors it held before the session
// show their paths too.
TEST_F(StraceHabitsTest, DecodeFdsOfARunningProgramKnowsItsOpenFiles) {
  auto held = Process::Start(
      {"/usr/bin/python3", "-c",
       "import os, sys; fd = os.open('/etc/hostname', os.O_RDONLY); "
       "print(fd, flush=True); sys.stdin.readline(); os.pread(fd, 4, 0); "
       "print('done', flush=True); sys.stdin.readline()"},
      {.stdin_pipe = true});
  ASSERT_TRUE(held->WaitForOutput("\n"));
  auto session = StartSession({"trace", "-y", "-e", "trace=pread64", "--pid",
                               std::to_string(held->pid()), "--duration", "3"});
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  held->WriteStdin("\n");
  EXPECT_TRUE(held->WaitForOutput("done"));
  RunResult r = session->Wait();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(CountMatching(r.err, "^pread64\\([0-9]+</etc/hostname>, "), 1)
      << r.err;
  held->CloseStdin();
  held->Wait();
}

// "[pid 1234] " as strace -f prints it: the thread id in five columns
// at least, right-aligned.
bool HasStracePidPrefix(const std::string& line) {
  std::smatch m;
  if (!std::regex_search(line, m, std::regex("^\\[pid ( *)([0-9]+)\\] "))) {
    return false;
  }
  const size_t digits = m[2].length();
  return m[1].length() == (digits < 5 ? 5 - digits : 0);
}

// strace's lines of calls without their prefix and without strace's
// padding before " = ", sorted: the order of two processes' lines is up to
// the scheduler.
std::vector<std::string> Normalized(const std::string& text) {
  std::vector<std::string> out;
  for (std::string line : Lines(text)) {
    line = std::regex_replace(line, std::regex("^\\[pid +[0-9]+\\] "), "");
    if (line.find("+++") != std::string::npos || line.rfind("---", 0) == 0 ||
        line.rfind("strace: ", 0) == 0) {
      continue;
    }
    line = std::regex_replace(line, std::regex(" +="), " =");
    out.push_back(line);
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST_F(StraceHabitsTest, LinesOfSeveralTasksStartWithPidAsStraceF) {
  const std::vector<std::string> command = {
      "/bin/sh", "-c", "(sleep 0.3; echo a) & echo b; wait; echo c"};
  std::vector<std::string> args = {"trace", "-f", "-e", "trace=write"};
  args.insert(args.end(), command.begin(), command.end());
  RunResult r = RunTracectl(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> lines = Lines(r.err);
  ASSERT_EQ(lines.size(), 3u) << r.err;
  for (const std::string& line : lines) {
    if (line.find("\"c\\n\"") != std::string::npos) {
      // The child is gone: one task again, no prefix.
      EXPECT_EQ(line, "write(1, \"c\\n\", 2) = 2");
    } else {
      EXPECT_TRUE(HasStracePidPrefix(line)) << line;
    }
  }
  std::vector<std::string> strace = {"strace", "-f", "-e", "trace=write"};
  strace.insert(strace.end(), command.begin(), command.end());
  RunResult st = RunProgram(strace);
  ASSERT_EQ(st.exit_code, 0) << st.err;
  // Which of strace's lines get the prefix depends on when ptrace lets it
  // see the child; the prefix itself is the same, and so are the lines.
  int prefixed = 0;
  for (const std::string& line : Lines(st.err)) {
    if (line.rfind("[pid", 0) != 0) continue;
    EXPECT_TRUE(HasStracePidPrefix(line)) << line;
    ++prefixed;
  }
  EXPECT_GT(prefixed, 0) << st.err;
  EXPECT_EQ(Normalized(r.err), Normalized(st.err)) << r.err << "\n" << st.err;
}

TEST_F(StraceHabitsTest, RefusedSpellingsSayWhatToTypeInstead) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"syscalls", "-k", "/bin/true"}, "tracectl trace -k"},
      {{"trace", "-C", "/bin/true"}, "tracectl syscalls"},
      {{"trace", "-x", "/bin/true"}, "raw_args"},
      {{"trace", "-P", "/etc/passwd", "/bin/true"}, "-e trace=%file"},
      {{"trace", "-E", "A=1", "/bin/true"}, "env VAR=VALUE"},
      {{"trace", "-c", "./prog"}, "tracectl syscalls"},
      {{"trace", "-e", "signal=all", "/bin/true"}, "not signals"},
      {{"trace", "-e", "trace=!futex", "-e", "trace=close", "/bin/true"},
       "give one -e trace=!SET"},
      {{"trace", "-e", "status=detached", "/bin/true"}, "leave detached out"},
      {{"trace", "-e", "status=bogus", "/bin/true"}, "use successful, failed"},
      {{"trace", "-e", "decode-fds=socket", "/bin/true"}, "-e decode-fds=path"},
      {{"trace", "-f", "--comm", "x", "--duration", "1"}, "--pid PID -f"},
      {{"trace", "--pid", "1", "/bin/true"}, "--pid 1,2"},
      {{"frobnicate", "x"}, "unknown command 'frobnicate'"},
  };
  for (const auto& [args, hint] : cases) {
    RunResult r = RunTracectl(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(r.exit_code, 2) << joined << "\n" << r.err;
    EXPECT_EQ(r.out, "") << joined;
    EXPECT_EQ(CountMatching(r.err, "."), 1) << joined << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("tracectl: ", 0), 0u) << joined << "\n" << r.err;
    EXPECT_NE(r.err.find(hint), std::string::npos) << joined << "\n" << r.err;
  }
}

TEST_F(StraceHabitsTest, HelpOfEveryCommandRunnerShowsCmd) {
  for (const char* sub :
       {"syscalls", "trace", "files", "libs", "flame", "top"}) {
    RunResult r = RunTracectl({sub, "--help"});
    EXPECT_EQ(r.exit_code, 0) << sub;
    EXPECT_NE(r.out.find("[OPTIONS] [[--] CMD [ARGS...]]"), std::string::npos)
        << sub << "\n"
        << r.out;
    EXPECT_NE(r.out.find("tracectl trace ls -l passes -l to ls"),
              std::string::npos)
        << sub;
  }
}

}  // namespace
}  // namespace tracectl::testing
