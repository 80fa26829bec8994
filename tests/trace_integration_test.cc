// End to end for tracectl trace, files and libs: a real tracectld on a
// temporary socket, real programs, compared with strace where strace gives
// the answer.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/harness.h"

namespace tracectl::testing {
namespace {

class TraceTest : public DaemonTest {
 protected:
  // A file in the sandbox the test writes through -o.
  static std::string OutputPath(const std::string& name) {
    return sandbox_->dir() + "/" + name;
  }
};

// What holds for either backend: the BPF programs' records, or the same
// records made by the ptrace backend from each call's two stops.
class TraceBothBackendsTest : public BackendsTest {
 protected:
  std::string OutputPath(const std::string& name) const {
    return sandbox().dir() + "/" + name;
  }
};
INSTANTIATE_TEST_SUITE_P(Backends, TraceBothBackendsTest,
                         ::testing::Values("bpf", "ptrace"),
                         [](const auto& info) {
                           return std::string(info.param);
                         });

// The quoted strings that look like shared objects, in lines that
// `grep 'lib.*\.so'` selects, as the talk does.
std::set<std::string> SharedObjectPaths(const std::string& text) {
  const std::regex grep("lib.*\\.so");
  const std::regex quoted("\"(/[^\"]*lib[^\"]*\\.so[^\"]*)\"");
  std::set<std::string> paths;
  for (const std::string& line : Lines(text)) {
    if (!std::regex_search(line, grep)) continue;
    for (auto it = std::sregex_iterator(line.begin(), line.end(), quoted);
         it != std::sregex_iterator(); ++it) {
      paths.insert((*it)[1]);
    }
  }
  return paths;
}

// "tracectl: N records lost: ring buffer full" on stderr; 0 when absent.
uint64_t RecordsLost(const std::string& err) {
  std::smatch m;
  if (std::regex_search(err, m,
                        std::regex("tracectl: ([0-9]+) records lost"))) {
    return std::stoull(m[1]);
  }
  return 0;
}

const char* const kNumpyScript =
    "import numpy; a=numpy.ones(10); b=numpy.ones(10); d=a*b";

TEST_P(TraceBothBackendsTest, NumpyLibrariesAsStraceFindsThem) {
  // Warm the caches, so both runs see the same files.
  ASSERT_EQ(RunProgram({"/usr/bin/python3", "-c", kNumpyScript}).exit_code, 0);
  RunResult traced =
      RunTracectl({"trace", "--", "/usr/bin/python3", "-c", kNumpyScript});
  ASSERT_EQ(traced.exit_code, 0) << traced.err.substr(0, 2000);
  const std::string strace_out = OutputPath("numpy.strace");
  RunResult st = RunProgram({"strace", "-f", "-o", strace_out,
                             "/usr/bin/python3", "-c", kNumpyScript});
  ASSERT_EQ(st.exit_code, 0) << st.err;

  const std::set<std::string> ours = SharedObjectPaths(traced.err);
  const std::set<std::string> theirs = SharedObjectPaths(ReadFile(strace_out));
  EXPECT_GT(theirs.size(), 20u);
  EXPECT_EQ(ours, theirs);
  EXPECT_TRUE(ours.count("/lib/x86_64-linux-gnu/libblas.so.3"));
  // The fd depends on what the test runner leaves open.
  EXPECT_EQ(CountMatching(traced.err,
                          "^openat\\(AT_FDCWD, "
                          "\"/lib/x86_64-linux-gnu/libc\\.so\\.6\", "
                          "O_RDONLY\\|O_CLOEXEC\\) = [0-9]+$"),
            1);
  EXPECT_EQ(RecordsLost(traced.err), 0u);
}

TEST_P(TraceBothBackendsTest, WhichProbesEveryPathDirectory) {
  const std::vector<std::string> dirs = {"/usr/local/sbin", "/usr/local/bin",
                                         "/usr/sbin", "/usr/bin"};
  RunResult r = RunTracectl(
      {"trace", "-e", "trace=file", "--", "/usr/bin/env",
       "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
       "which", "ls"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "/usr/bin/ls\n");
  // One stat of DIR/ls per directory, up to the one that has it.
  for (const std::string& dir : dirs) {
    EXPECT_EQ(CountMatching(r.err, "stat[a-z0-9]*\\((AT_FDCWD, )?\"" + dir +
                                       "/ls\", .* = "),
              1)
        << dir << " in\n"
        << r.err;
  }
  // Only %file calls: nothing like read or mmap.
  EXPECT_EQ(CountMatching(r.err, "^([0-9]+ )?(read|mmap|close)\\("), 0)
      << r.err;
}

TEST_P(TraceBothBackendsTest, LongPathsAndCountsMatchStrace) {
  const std::string out = OutputPath("helper.trace");
  RunResult r = RunTracectl({"trace", "-o", out, "--", sandbox().helper(),
                             "--path-len", "300", "0", "7", "5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string strace_out = OutputPath("helper.strace");
  ASSERT_EQ(RunProgram({"strace", "-f", "-o", strace_out, sandbox().helper(),
                        "--path-len", "300", "0", "7", "5"})
                .exit_code,
            0);
  const std::string ours = ReadFile(out);
  const std::string theirs = ReadFile(strace_out);
  const std::string path =
      "/nonexistent/tracectl-" + std::string(300 - 22, 'a');
  const std::string openat = "openat\\(AT_FDCWD, \"" + path +
                             "\", O_RDONLY\\) += -1 ENOENT \\(No such file or "
                             "directory\\)$";
  const std::string pipe2 = "pipe2\\(\\[[0-9]+, [0-9]+\\], O_CLOEXEC\\) += 0$";
  const std::string close = "close\\([0-9]+\\) += 0$";
  EXPECT_EQ(CountMatching(ours, openat), 7) << ours;
  EXPECT_EQ(CountMatching(ours, pipe2), 5) << ours;
  EXPECT_EQ(CountMatching(ours, close), 10) << ours;
  EXPECT_EQ(CountMatching(ours, openat), CountMatching(theirs, openat));
  EXPECT_EQ(CountMatching(ours, pipe2), CountMatching(theirs, pipe2));
  EXPECT_EQ(CountMatching(ours, close), CountMatching(theirs, close));
  EXPECT_EQ(CountMatching(ours, "."), CountMatching(theirs, "^[0-9]+ +[a-z]"))
      << "every call strace saw\n"
      << ours << "\n---\n"
      << theirs;
}

TEST_F(TraceTest, PathNotPagedInAtEntryIsReadAtExit) {
  RunResult r = RunTracectl({"trace", "--json", "-e", "trace=openat", "--",
                             sandbox_->helper(), "--unpaged", "5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(CountMatching(r.err,
                          "\"syscall\":\"openat\",.*"
                          "/nonexistent/tracectl-unpaged-path.*"
                          "\"errno\":\"ENOENT\".*\"read_at_exit\":true"),
            5)
      << r.err;
  EXPECT_EQ(CountMatching(r.err, "\"unreadable\""), 0) << r.err;
  EXPECT_EQ(CountMatching(r.err,
                          "\"reason\":\"captures of user memory "
                          "failed[^\"]*\",\"count\":0"),
            1)
      << r.err;
}

// The lines of `text` that match `pattern`, with addresses and a leading
// pid ("[pid N] " or "N ") taken out and strace's column padding closed up.
std::vector<std::string> Normalized(const std::string& text,
                                    const std::string& pattern) {
  const std::regex re(pattern);
  std::vector<std::string> out;
  for (std::string line : Lines(text)) {
    line = std::regex_replace(line,
                              std::regex("^(\\[pid +[0-9]+\\] |[0-9]+ +)"), "");
    if (!std::regex_search(line, re)) continue;
    line = std::regex_replace(line, std::regex("0x[0-9a-f]{6,}"), "ADDR");
    line = std::regex_replace(line, std::regex(" +="), " =");
    out.push_back(line);
  }
  return out;
}

// A shell's forked child runs /bin/echo: argv and the environment's shape
// as strace prints them.
TEST_P(TraceBothBackendsTest, ExecveOfAForkedChildAsStrace) {
  const std::vector<std::string> cmd = {"/bin/sh", "-c", "/bin/echo a b; true"};
  std::vector<std::string> args = {"trace", "-e", "trace=execve", "--"};
  args.insert(args.end(), cmd.begin(), cmd.end());
  RunResult r = RunTracectl(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(CountMatching(r.err,
                          "^\\[pid +[0-9]+\\] execve\\(\"/bin/echo\", "
                          "\\[\"/bin/echo\", "
                          "\"a\", \"b\"\\], 0x[0-9a-f]+ /\\* [0-9]+ vars "
                          "\\*/\\) = 0$"),
            1)
      << r.err;
  const std::string strace_out = OutputPath("execve.strace");
  std::vector<std::string> strace = {"strace",       "-f", "-e",
                                     "trace=execve", "-o", strace_out};
  strace.insert(strace.end(), cmd.begin(), cmd.end());
  ASSERT_EQ(RunProgram(strace).exit_code, 0);
  EXPECT_EQ(Normalized(r.err, "^execve\\(\"/bin/echo\""),
            Normalized(ReadFile(strace_out), "^execve\\(\"/bin/echo\""));
  EXPECT_EQ(CountMatching(r.err, "unreadable"), 0) << r.err;
}

// A forked child's execve of strings it never touched (string literals):
// not readable at entry, read from the new program (or, when the call
// failed, at exit); the count of unreadable captures is what is printed.
TEST_F(TraceTest, ExecveArgvNotPagedInAtEntry) {
  RunResult r = RunTracectl({"trace", "--json", "-e", "trace=execve", "--",
                             sandbox_->helper(), "--exec-unpaged", "/bin/echo",
                             "a", "b"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(
      CountMatching(r.err,
                    "\"args\":\\[\"\\\\\"/bin/echo\\\\\"\",\"\\[\\\\\"/"
                    "bin/echo\\\\\", \\\\\"a\\\\\", \\\\\"b\\\\\"\\]\",\"0x"
                    "[0-9a-f]+ /\\* [0-9]+ vars \\*/\"\\].*"
                    "\"read_at_exec\":true"),
      1)
      << r.err;
  EXPECT_EQ(CountMatching(r.err, "\"unreadable\":true"), 0) << r.err;

  RunResult failed =
      RunTracectl({"trace", "-e", "trace=execve", "--", sandbox_->helper(),
                   "--exec-unpaged", "/nonexistent/tracectl", "y"});
  EXPECT_EQ(CountMatching(failed.err,
                          "execve\\(\"/nonexistent/tracectl\", "
                          "\\[\"/nonexistent/tracectl\", \"y\"\\], 0x[0-9a-f]+ "
                          "/\\* [0-9]+ vars \\*/\\) = -1 ENOENT"),
            1)
      << failed.err;

  // A script's interpreter takes argv[0]'s place in the new program: that
  // argv is lost, shown as unreadable and counted once.
  const std::string script = OutputPath("script.sh");
  {
    std::ofstream out(script);
    out << "#!/bin/sh\nexit 0\n";
  }
  ASSERT_EQ(chmod(script.c_str(), 0755), 0);
  RunResult lost = RunTracectl({"trace", "-e", "trace=execve", "--",
                                sandbox_->helper(), "--exec-unpaged", script});
  ASSERT_EQ(lost.exit_code, 0) << lost.err;
  EXPECT_EQ(CountMatching(lost.err, "execve\\(\"" + script +
                                        "\", 0x[0-9a-f]+ /\\* unreadable \\*/"),
            1)
      << lost.err;
  EXPECT_EQ(CountMatching(lost.err, "unreadable \\*/"), 1) << lost.err;
  EXPECT_EQ(
      CountMatching(lost.err, "^tracectl: 1 captures of user memory failed"), 1)
      << lost.err;
}

// Unreadable paths: trace's markers, its drop line, files' lines and its
// JSON count agree.
TEST_F(TraceTest, UnreadableCountsAgreeWithWhatIsShown) {
  RunResult trace = RunTracectl({"trace", "-e", "trace=openat", "--",
                                 sandbox_->helper(), "--bad-path", "3"});
  ASSERT_EQ(trace.exit_code, 0) << trace.err;
  EXPECT_EQ(CountMatching(trace.err,
                          "openat\\(AT_FDCWD, 0x10 /\\* unreadable \\*/, "
                          "O_RDONLY\\) = -1 EFAULT"),
            3)
      << trace.err;
  EXPECT_EQ(
      CountMatching(trace.err, "^tracectl: 3 captures of user memory failed"),
      1)
      << trace.err;

  // With -y the kernel also sends the openat calls, to learn descriptors;
  // not shown, their failed captures are not counted either.
  RunResult hidden = RunTracectl({"trace", "-y", "--json", "-e", "trace=close",
                                  "--", sandbox_->helper(), "--bad-path", "3"});
  ASSERT_EQ(hidden.exit_code, 0) << hidden.err;
  EXPECT_EQ(CountMatching(hidden.err, "\"records\":[1-9][0-9]*,\"lines\":0,"),
            1)
      << "the openat records came, unshown: " << hidden.err;
  EXPECT_EQ(CountMatching(hidden.err, "unreadable\\)\",\"count\":0\\}"), 1)
      << hidden.err;

  RunResult files = RunTracectl(
      {"files", "--json", "--", sandbox_->helper(), "--bad-path", "3"});
  ASSERT_EQ(files.exit_code, 0) << files.err;
  EXPECT_NE(files.out.find("\"unreadable\":3,"), std::string::npos)
      << files.out;
  EXPECT_EQ(
      CountMatching(files.err, "^tracectl: 3 captures of user memory failed"),
      1)
      << files.err;
}

// stat, statx and statfs structures as strace prints them.
TEST_P(TraceBothBackendsTest, StatStructuresAsStrace) {
  const std::string file = OutputPath("stat-me");
  {
    std::ofstream out(file);
    out << std::string(1234, 'x');
  }
  ASSERT_EQ(chmod(file.c_str(), 0640), 0);
  const std::string calls = "newfstatat,fstat,statx,statfs,fstatfs";
  RunResult r = RunTracectl({"trace", "-e", "trace=" + calls, "--",
                             sandbox().helper(), "--stat", file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(CountMatching(r.err, "^newfstatat\\(AT_FDCWD, \"" + file +
                                     "\", \\{st_mode=S_IFREG\\|0640, "
                                     "st_size=1234, \\.\\.\\.\\}, 0\\) = 0$"),
            1)
      << r.err;
  EXPECT_EQ(CountMatching(r.err,
                          "^fstat\\([0-9]+, \\{st_mode=S_IFREG\\|0640, "
                          "st_size=1234, \\.\\.\\.\\}\\) = 0$"),
            1)
      << r.err;
  EXPECT_EQ(CountMatching(r.err, "stx_mode=S_IFREG\\|0640, stx_size=1234, "), 1)
      << r.err;
  EXPECT_EQ(CountMatching(r.err, "^newfstatat\\(AT_FDCWD, \"" + file +
                                     "/nonexistent\", 0x[0-9a-f]+, 0\\) = -1 "
                                     "ENOTDIR"),
            1)
      << r.err;
  const std::string strace_out = OutputPath("stat.strace");
  ASSERT_EQ(RunProgram({"strace", "-e", "trace=" + calls, "-o", strace_out,
                        sandbox().helper(), "--stat", file})
                .exit_code,
            0);
  // Free blocks and inodes may change between the runs, and descriptors
  // the test runner leaves open differ.
  const auto without_free = [](std::vector<std::string> lines) {
    for (std::string& l : lines) {
      l = std::regex_replace(l, std::regex("f_(bfree|bavail|ffree)=[0-9]+"),
                             "f_$1=N");
      l = std::regex_replace(l, std::regex("^(fstat|fstatfs)\\([0-9]+,"),
                             "$1(FD,");
    }
    return lines;
  };
  const std::string pattern = "^(newfstatat|fstat|statx|statfs|fstatfs)\\(";
  EXPECT_EQ(without_free(Normalized(r.err, pattern)),
            without_free(Normalized(ReadFile(strace_out), pattern)));
}

TEST_P(TraceBothBackendsTest, GetrandomAsStrace) {
  RunResult r =
      RunTracectl({"trace", "-e", "trace=getrandom", "--", "/usr/bin/python3",
                   "-c", "import os; os.getrandom(16, os.GRND_NONBLOCK)"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(CountMatching(r.err,
                          "^getrandom\\(\"(\\\\x[0-9a-f]{2}){16}\", 16, "
                          "GRND_NONBLOCK\\) = 16$"),
            1)
      << r.err;
  RunResult bad = RunTracectl({"trace", "-e", "trace=getrandom", "--",
                               sandbox().helper(), "--getrandom", "4", "9"});
  EXPECT_EQ(CountMatching(bad.err,
                          "^getrandom\\(0x[0-9a-f]+, 4, GRND_NONBLOCK\\|0x8\\) "
                          "= -1 EINVAL"),
            1)
      << bad.err;
}

TEST_F(TraceTest, RingBufferOverflowIsCounted) {
  constexpr int kCalls = 30000;
  const std::string out = OutputPath("overflow.trace");
  RunResult r = RunTracectl(
      {"trace", "--buffer-size", "16384", "-e", "trace=getppid", "-o", out,
       "--", sandbox_->helper(), std::to_string(kCalls), "0", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const int lines = CountMatching(ReadFile(out), "getppid\\(\\) = [0-9]+$");
  const uint64_t lost = RecordsLost(r.err);
  EXPECT_GT(lost, 0u) << r.err;
  EXPECT_EQ(lines + lost, static_cast<uint64_t>(kCalls)) << r.err;
}

TEST_P(TraceBothBackendsTest, JsonHasOneObjectPerCallAndTheDrops) {
  RunResult r = RunTracectl({"trace", "--json", "-e", "trace=openat,pipe2",
                             "--", sandbox().helper(), "0", "3", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(CountMatching(r.err,
                          "^\\{.*\"syscall\":\"openat\".*"
                          "\"errno\":\"ENOENT\""),
            3)
      << r.err;
  EXPECT_EQ(CountMatching(r.err, "^\\{.*\"syscall\":\"pipe2\".*\"ret\":0"), 2)
      << r.err;
  EXPECT_EQ(CountMatching(r.err, "^\\{\"final\":true,.*\"drops\":\\[\\{"), 1)
      << r.err;
}

TEST_P(TraceBothBackendsTest, FailedOnlyAndSuccessfulOnly) {
  RunResult failed = RunTracectl({"trace", "-Z", "-e", "trace=openat,pipe2",
                                  "--", sandbox().helper(), "0", "4", "3"});
  ASSERT_EQ(failed.exit_code, 0) << failed.err;
  EXPECT_EQ(CountMatching(failed.err, "openat\\(.*ENOENT"), 4);
  EXPECT_EQ(CountMatching(failed.err, "pipe2\\("), 0);
  RunResult ok = RunTracectl({"trace", "-z", "-e", "trace=openat,pipe2", "--",
                              sandbox().helper(), "0", "4", "3"});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(CountMatching(ok.err, "openat\\(.*ENOENT"), 0);
  EXPECT_EQ(CountMatching(ok.err, "pipe2\\(.* = 0"), 3);
}

TEST_F(TraceTest, UnprivilegedCallerSeesOnlyItsOwnTasks) {
  auto session = StartSession(
      {"trace", "-e", "trace=getppid", "--duration", "3"}, {.as_nobody = true});
  auto root_load = Process::Start({sandbox_->helper(), "--loop", "1"});
  RunResult mine =
      RunProgram({sandbox_->helper(), "555", "0", "0"}, {.as_nobody = true});
  ASSERT_EQ(mine.exit_code, 0);
  root_load->Wait();
  RunResult r = session->Wait();
  ASSERT_EQ(r.exit_code, 0) << r.err.substr(0, 2000);
  EXPECT_EQ(CountMatching(r.err, "getppid\\(\\) = "), 555)
      << r.err.substr(0, 2000);
}

TEST_F(TraceTest, BadInputIsRefusedWithOneLine) {
  const std::vector<std::vector<std::string>> cases = {
      {"trace", "-e", "trace=nosuchcall", "--", "/bin/true"},
      {"trace", "-e", "signal=all", "--", "/bin/true"},
      {"trace", "-s", "-1", "--", "/bin/true"},
      {"trace", "-s", "100000", "--", "/bin/true"},
      {"trace", "--buffer-size", "5000", "--", "/bin/true"},
      {"trace", "-z", "-Z", "--", "/bin/true"},
      {"trace", "-k", "--buffer-size", "131072", "--", "/bin/true"},
      {"trace", "-tttt", "--", "/bin/true"},
      {"files", "--comm", "", "--duration", "1"},
      {"libs", "--pid", "999999999"},
  };
  for (const auto& args : cases) {
    RunResult r = RunTracectl(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_NE(r.exit_code, 0) << joined;
    EXPECT_EQ(r.out, "") << joined;
    EXPECT_EQ(CountMatching(r.err, "."), 1) << joined << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("tracectl: ", 0), 0u) << joined << "\n" << r.err;
  }
  RunResult bad =
      RunTracectl({"trace", "-e", "trace=nosuchcall", "--", "/bin/true"});
  EXPECT_NE(bad.err.find("nosuchcall"), std::string::npos) << bad.err;
  EXPECT_EQ(RunTracectl({"info"}).exit_code, 0);
}

// The " > " lines under each line that matches `call`, one list per call.
std::vector<std::vector<std::string>> StacksUnder(const std::string& text,
                                                  const std::string& call) {
  std::vector<std::vector<std::string>> stacks;
  bool in_stack = false;
  for (const std::string& line : Lines(text)) {
    if (std::regex_search(line, std::regex(call))) {
      stacks.emplace_back();
      in_stack = true;
    } else if (in_stack && line.rfind(" > ", 0) == 0) {
      stacks.back().push_back(line);
    } else {
      in_stack = false;
    }
  }
  return stacks;
}

// Where `pattern` first matches in `lines`; lines.size() when nowhere.
size_t FindLine(const std::vector<std::string>& lines,
                const std::string& pattern) {
  const std::regex re(pattern);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (std::regex_search(lines[i], re)) return i;
  }
  return lines.size();
}

TEST_F(TraceTest, StackTraceNamesThePythonFunctionThatMadeTheCall) {
  // The program ends right after its call: the daemon names its Python
  // frames from its memory, and on a loaded machine the process may be
  // gone by then. That loss is counted, and only then is it tried again.
  constexpr char kLost[] = "Python stacks ended at an unreadable code object";
  RunResult r;
  for (int attempt = 0; attempt < 3; ++attempt) {
    r = RunTracectl({"trace", "-k", "-e", "trace=getppid", "--",
                     "/usr/bin/python3", "-c",
                     "import os\n"
                     "def ask_parent():\n"
                     "    return os.getppid()\n"
                     "ask_parent()"});
    if (r.err.find(kLost) == std::string::npos) break;
  }
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto stacks = StacksUnder(r.err, "^getppid\\(\\) = [0-9]+$");
  ASSERT_EQ(stacks.size(), 1u) << r.err;
  const std::vector<std::string>& stack = stacks[0];
  // The leaf in libc, as strace -k prints it; then, in place of the eval
  // loop, the Python function at the line that calls, and its caller.
  const size_t libc = FindLine(stack,
                               "^ > libc\\.so\\.6\\(_*getppid\\+0x[0-9a-f]+\\) "
                               "\\[0x[0-9a-f]+\\]");
  const size_t ask = FindLine(stack, "^ > ask_parent \\(<string>:3\\)$");
  const size_t module = FindLine(stack, "^ > <module> \\(<string>:4\\)$");
  EXPECT_EQ(libc, 0u) << r.err;
  EXPECT_LT(ask, stack.size()) << r.err;
  EXPECT_EQ(module, ask + 1) << r.err;
  EXPECT_EQ(FindLine(stack, "_PyEval_EvalFrameDefault"), stack.size()) << r.err;
  // Nothing lost or cut.
  EXPECT_EQ(CountMatching(r.err, "^tracectl: [0-9]+ (call )?stacks"), 0)
      << r.err;
}

TEST_F(TraceTest, StackTraceNamesTheCallingFunctionOfAProgram) {
  // The helper is static, built with debug info: its own functions and
  // libc's, with source lines for its own.
  RunResult r = RunTracectl({"trace", "-k", "-e", "trace=getppid", "--",
                             sandbox_->helper(), "--stack", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto stacks = StacksUnder(r.err, "^getppid\\(\\) = [0-9]+$");
  ASSERT_EQ(stacks.size(), 3u) << r.err;
  for (const std::vector<std::string>& stack : stacks) {
    const size_t probe =
        FindLine(stack,
                 "^ > syscall_helper\\(helper_stack_probe\\+0x[0-9a-f]+\\) "
                 "\\[0x[0-9a-f]+\\] \\(.*syscall_helper\\.c:[0-9]+\\)$");
    ASSERT_LT(probe, stack.size()) << r.err;
    EXPECT_EQ(FindLine(stack, "^ > syscall_helper\\(main\\+"), probe + 1)
        << r.err;
    EXPECT_EQ(FindLine(stack, "^ > syscall_helper\\(syscall\\+"), 0u) << r.err;
  }
  // --json: the same frames in each call's "stack".
  RunResult json = RunTracectl({"trace", "-k", "--json", "-e", "trace=getppid",
                                "--", sandbox_->helper(), "--stack", "2"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(CountMatching(json.err,
                          "^\\{\"pid\".*\"syscall\":\"getppid\".*\"stack\":\\["
                          ".*\"function\":\"helper_stack_probe\".*"
                          "\"function\":\"main\""),
            2)
      << json.err;
}

TEST_F(TraceTest, StackTraceOfAnUnprivilegedCaller) {
  // Unwound and named as the caller: its own program, read as it.
  RunResult r = RunTracectl({"trace", "-k", "-e", "trace=getppid", "--",
                             sandbox_->helper(), "--stack", "1"},
                            {.as_nobody = true});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto stacks = StacksUnder(r.err, "^getppid\\(\\) = [0-9]+$");
  ASSERT_EQ(stacks.size(), 1u) << r.err;
  EXPECT_LT(FindLine(stacks[0], "\\(helper_stack_probe\\+"), stacks[0].size())
      << r.err;
}

TEST_F(TraceTest, NoStacksWithoutStackTrace) {
  RunResult r = RunTracectl({"trace", "-e", "trace=getppid", "--",
                             sandbox_->helper(), "2", "0", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(CountMatching(r.err, "^getppid\\(\\) = "), 2) << r.err;
  EXPECT_EQ(CountMatching(r.err, "^ > "), 0) << r.err;
  RunResult json = RunTracectl({"trace", "--json", "-e", "trace=getppid", "--",
                                sandbox_->helper(), "2", "0", "0"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(CountMatching(json.err, "\"syscall\":\"getppid\""), 2) << json.err;
  EXPECT_EQ(CountMatching(json.err, "\"stack"), 0) << json.err;
}

TEST_P(TraceBothBackendsTest, FilesSummarizesUsedAndFailedPaths) {
  const std::vector<std::string> command = {
      "--", "/bin/sh", "-c",
      "cat /etc/hostname >/dev/null; "
      "cat /nonexistent/tracectl.conf 2>/dev/null; "
      "cat /nonexistent/tracectl.conf 2>/dev/null; "
      "true"};
  std::vector<std::string> args = {"files"};
  args.insert(args.end(), command.begin(), command.end());
  // By default: the summary alone.
  RunResult summary = RunTracectl(args);
  ASSERT_EQ(summary.exit_code, 0) << summary.err;
  EXPECT_EQ(summary.out.rfind("paths used (", 0), 0u) << summary.out;
  EXPECT_EQ(CountMatching(summary.out, " = "), 0) << summary.out;
  EXPECT_EQ(CountMatching(summary.out, "/nonexistent/tracectl.conf +ENOENT x2"),
            1)
      << summary.out;

  args.insert(args.begin() + 1, "--each-call");
  RunResult r = RunTracectl(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Each call on its own line, then the summary.
  EXPECT_EQ(
      CountMatching(r.out, " openat +/nonexistent/tracectl.conf .*ENOENT"), 2)
      << r.out;
  const size_t used = r.out.find("/etc/hostname", r.out.rfind("\n\n"));
  EXPECT_NE(used, std::string::npos) << r.out;
  EXPECT_EQ(CountMatching(r.out, "/nonexistent/tracectl.conf +ENOENT x2"), 1)
      << r.out;
}

TEST_P(TraceBothBackendsTest, LibsShowsWhatLddDoesNot) {
  RunResult r =
      RunTracectl({"libs", "--", "/usr/bin/python3", "-c", "import numpy"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(
      CountMatching(r.out, "_multiarray_umath\\.cpython.*\\.so .*not in ldd"),
      1)
      << r.out;
  EXPECT_EQ(CountMatching(r.out, "/libblas\\.so\\.3 .*not in ldd"), 1) << r.out;
  EXPECT_EQ(CountMatching(r.out, "/liblapack\\.so\\.3 .*not in ldd"), 1)
      << r.out;
  EXPECT_EQ(CountMatching(r.out, "/libc\\.so\\.6 +ldd$"), 1) << r.out;
}

// A Python program already running: it has imported numpy (which dlopen()s
// libblas and liblapack) before tracectl starts, and waits for a line on
// stdin to import one more extension module.
std::unique_ptr<Process> StartNumpyServer() {
  auto p = Process::Start(
      {"/usr/bin/python3", "-c",
       "import numpy, sys; print('ready', flush=True); sys.stdin.readline(); "
       "import _decimal; print('imported', flush=True); sys.stdin.readline()"},
      {.stdin_pipe = true});
  EXPECT_TRUE(p->WaitForOutput("ready", 30000));
  return p;
}

TEST_P(TraceBothBackendsTest, LibsOfARunningProgramStartFromWhatItHasMapped) {
  auto server = StartNumpyServer();
  const std::string pid = std::to_string(server->pid());
  RunResult r = RunTracectl({"libs", "--pid", pid, "--duration", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("pid " + pid + " /usr/bin/python3", 0), 0u) << r.out;
  EXPECT_EQ(
      CountMatching(
          r.out, "^  -  .*/libblas\\.so\\.3.* not in ldd, before the session$"),
      1)
      << r.out;
  EXPECT_EQ(
      CountMatching(
          r.out,
          "^  -  .*/liblapack\\.so\\.3.* not in ldd, before the session$"),
      1)
      << r.out;
  EXPECT_EQ(
      CountMatching(r.out, "^  -  .*/libc\\.so\\.6 +ldd, before the session$"),
      1)
      << r.out;
  EXPECT_EQ(CountMatching(r.out, "_multiarray_umath\\.cpython.*not in ldd"), 1)
      << r.out;

  // What it loads during the session comes after, numbered in load order.
  auto session =
      StartPidSession({"libs", "--pid", pid, "--duration", "4"}, server->pid());
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  server->WriteStdin("\n");
  EXPECT_TRUE(server->WaitForOutput("imported"));
  RunResult during = session->Wait();
  ASSERT_EQ(during.exit_code, 0) << during.err;
  EXPECT_EQ(
      CountMatching(during.out,
                    "^  1  .*/_decimal\\.cpython.*\\.so +dlopen, not in ldd$"),
      1)
      << during.out;
  EXPECT_EQ(CountMatching(during.out, "libblas.*before the session$"), 1)
      << during.out;
  server->CloseStdin();
  server->Wait();
}

TEST_P(TraceBothBackendsTest,
       FilesOfARunningProgramStartFromItsOpenDescriptors) {
  // As uid 65534, for a program of its own: the daemon reads /proc as that
  // user.
  for (const bool as_nobody : {false, true}) {
    auto held =
        Process::Start({"/usr/bin/python3", "-c",
                        "import sys, tempfile; f = tempfile.NamedTemporaryFile("
                        "prefix='tracectl-held-'); print(f.name, flush=True); "
                        "sys.stdin.readline(); open('/etc/hostname').read(); "
                        "print('done', flush=True); sys.stdin.readline()"},
                       {.as_nobody = as_nobody, .stdin_pipe = true});
    ASSERT_TRUE(held->WaitForOutput("tracectl-held-"));
    const std::string pid = std::to_string(held->pid());
    auto session = StartPidSession({"files", "--pid", pid, "--duration", "3"},
                                   held->pid(), {.as_nobody = as_nobody});
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    held->WriteStdin("\n");
    EXPECT_TRUE(held->WaitForOutput("done"));
    RunResult r = session->Wait();
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.rfind("open when the session started (", 0), 0u) << r.out;
    EXPECT_EQ(CountMatching(r.out, "^  " + pid +
                                       " python3 fd [0-9]+  "
                                       "/tmp/tracectl-held-[^ ]+$"),
              1)
        << r.out;
    const size_t used = r.out.find("paths used (");
    ASSERT_NE(used, std::string::npos) << r.out;
    EXPECT_NE(r.out.find("  /etc/hostname  openat", used), std::string::npos)
        << r.out;
    EXPECT_EQ(r.err, "") << r.err;
    held->CloseStdin();
    held->Wait();
  }
}

TEST_F(TraceTest, OutputFileHoldsTheReportAndTheProgramsOutputIsItsOwn) {
  const std::vector<std::string> command = {
      "--", "/bin/sh", "-c",
      "echo tracectl-known-line; cat /etc/hostname >/dev/null"};
  // Each command, and a line its report surely has.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"syscalls", "total"},
      {"trace", "execve("},
      {"files", "/etc/hostname  openat"},
      {"libs", "libc.so.6"}};
  for (const auto& [subcommand, expected] : cases) {
    const std::string path = OutputPath(subcommand + ".out");
    std::vector<std::string> args = {subcommand, "-o", path};
    args.insert(args.end(), command.begin(), command.end());
    RunResult r = RunTracectl(args);
    ASSERT_EQ(r.exit_code, 0) << subcommand << "\n" << r.err;
    EXPECT_EQ(r.out, "tracectl-known-line\n") << subcommand;
    const std::string report = ReadFile(path);
    EXPECT_NE(report.find(expected), std::string::npos) << subcommand << "\n"
                                                        << report;
    // (trace shows the line, as the argument of the write that printed it.)
    if (subcommand != "trace") {
      EXPECT_EQ(report.find("tracectl-known-line"), std::string::npos)
          << subcommand << "\n"
          << report;
    }
  }
  // A path that cannot be written fails before anything runs.
  RunResult bad = RunTracectl(
      {"libs", "-o", "/nonexistent/dir/libs.out", "--", "/bin/echo", "ran"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_EQ(bad.out, "");
  EXPECT_NE(bad.err.find("cannot write /nonexistent/dir/libs.out"),
            std::string::npos)
      << bad.err;
}

TEST_F(TraceTest, ProgramsAreGoneWhenTheClientIsKilled) {
  const int before = SettledBpfProgramCount();
  auto session = StartSession({"trace", "-o", "/dev/null"});
  EXPECT_GT(CountBpfPrograms(), before);
  session->Signal(SIGKILL);
  session->Wait();
  EXPECT_EQ(WaitForBpfPrograms(before, 2000), before);
}

}  // namespace
}  // namespace tracectl::testing
