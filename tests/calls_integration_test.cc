// tracectl calls end to end: a real tracectld, real uprobes, exact counts.
//
// calls_helper is built with -fno-plt -Wl,-z,now: every call goes through
// the GOT, and `ltrace -c -e getenv+frexp calls_helper N` reports 0 calls
// (checked by hand on Debian 12, ltrace 0.7.3), while the uprobes count
// every one.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/harness.h"

namespace tracectl::testing {
namespace {

class CallsTest : public DaemonTest {
 protected:
  std::string Helper() const { return sandbox_->dir() + "/calls_helper"; }
};

// The calls of `function` in `tracectl calls --json` output, or -1.
long long CallsOf(const std::string& json, const std::string& function) {
  const std::string key = "{\"function\":\"" + function + "\",";
  const size_t at = json.find(key);
  if (at == std::string::npos) return -1;
  const size_t calls = json.find("\"calls\":", at);
  if (calls == std::string::npos) return -1;
  return std::stoll(json.substr(calls + 8));
}

// Where `calls --list --json` says its functions are: (path, file offset).
std::vector<std::pair<std::string, uint64_t>> ListedSites(
    const std::string& json) {
  std::vector<std::pair<std::string, uint64_t>> sites;
  const std::regex site("\"path\":\"([^\"]*)\",\"offset\":([0-9]+)");
  for (auto it = std::sregex_iterator(json.begin(), json.end(), site);
       it != std::sregex_iterator(); ++it) {
    sites.emplace_back((*it)[1], std::stoull((*it)[2]));
  }
  return sites;
}

// The byte at file offset `offset` of the file named like `path` as process
// `pid` maps it for execution, read from its memory: 0xcc (int3) where a
// uprobe is installed. -1 if it is not mapped there.
int CodeByte(pid_t pid, const std::string& path, uint64_t offset) {
  const std::string name = std::filesystem::path(path).filename();
  std::istringstream maps(ReadFile("/proc/" + std::to_string(pid) + "/maps"));
  std::string line;
  while (std::getline(maps, line)) {
    unsigned long long start, end, pgoff;
    char perms[5] = {};
    char mapped[4096] = {};
    if (sscanf(line.c_str(), "%llx-%llx %4s %llx %*s %*s %4095s", &start, &end,
               perms, &pgoff, mapped) != 5 ||
        perms[2] != 'x' || std::filesystem::path(mapped).filename() != name ||
        offset < pgoff || offset >= pgoff + (end - start)) {
      continue;
    }
    const std::string mem = "/proc/" + std::to_string(pid) + "/mem";
    const int fd = open(mem.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    unsigned char byte = 0;
    const ssize_t n = pread(fd, &byte, 1, start + (offset - pgoff));
    close(fd);
    return n == 1 ? byte : -1;
  }
  return -1;
}

// How many of `sites` hold a breakpoint in process `pid`.
int Breakpoints(pid_t pid,
                const std::vector<std::pair<std::string, uint64_t>>& sites) {
  int count = 0;
  for (const auto& [path, offset] : sites) {
    if (CodeByte(pid, path, offset) == 0xcc) ++count;
  }
  return count;
}

TEST_F(CallsTest, ExactCountsThroughTheGot) {
  RunResult r = RunTracectl({"calls", "--json", "-e", "libc:getenv", "-e",
                             "libm:frexp", "--", Helper(), "1000"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(CallsOf(r.out, "getenv"), 1000) << r.out;
  EXPECT_EQ(CallsOf(r.out, "frexp"), 3000) << r.out;

  RunResult table =
      RunTracectl({"calls", "-e", "libc:getenv", "--", Helper(), "250"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_EQ(CountMatching(table.out, "^100\\.00 +250  getenv +libc\\.so\\.6$"),
            1)
      << table.out;
}

TEST_F(CallsTest, UnprivilegedCallerCountsItsOwnProgram) {
  RunResult r = RunTracectl(
      {"calls", "--json", "-e", "libc:getenv", "--", Helper(), "777"},
      {.as_nobody = true});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(CallsOf(r.out, "getenv"), 777) << r.out;
}

// A system-wide session of uid 65534 traps in root's helper too, but the
// task filter counts only the calls of uid 65534's own helper. (frexp:
// other processes of uid 65534 on a shared host do call getenv.)
TEST_F(CallsTest, UnprivilegedSystemWideSeesNoneOfRootsCalls) {
  auto session = Process::Start(
      Tracectl({"calls", "--json", "--duration", "4", "-e", "libm:frexp"}),
      {.as_nobody = true});
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  RunResult root = RunProgram({Helper(), "500"});
  ASSERT_EQ(root.exit_code, 0) << root.err;
  RunResult own = RunProgram({Helper(), "100"}, {.as_nobody = true});
  ASSERT_EQ(own.exit_code, 0) << own.err;
  RunResult r = session->Wait();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(CallsOf(r.out, "frexp"), 300) << r.out;
}

// --pid: the breakpoints are the target's; another process running the
// same code at the same time is not counted.
TEST_F(CallsTest, PidSessionCountsOnlyItsTarget) {
  auto target =
      Process::Start({Helper(), "400", "pause"}, {.stdin_pipe = true});
  ASSERT_TRUE(target->WaitForOutput("ready"));
  const int links = CountBpfLinks();
  auto session = Process::Start(
      Tracectl({"calls", "--json", "--pid", std::to_string(target->pid()), "-e",
                "libc:getenv", "-e", "libm:frexp"}));
  WaitForBpfLinks(links + 2);
  ASSERT_GE(CountBpfLinks(), links + 2) << "the session did not start";
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  RunResult neighbour = RunProgram({Helper(), "900"});
  ASSERT_EQ(neighbour.exit_code, 0);
  target->WriteStdin("\n");
  ASSERT_TRUE(target->WaitForOutput("done"));
  session->Signal(SIGINT);
  RunResult r = session->Wait();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(CallsOf(r.out, "getenv"), 400) << r.out;
  EXPECT_EQ(CallsOf(r.out, "frexp"), 1200) << r.out;
  target->WriteStdin("\n");
  target->Wait();
}

// libc's strlen is an IFUNC: its symbol is the resolver, which runs once
// (a uprobe there, as `bpftrace -e 'uprobe:libc:strlen'`, counts 0 or 1
// calls). The probe goes on the implementation this CPU selects, so every
// call counts.
TEST_F(CallsTest, IfuncCountsTheImplementationThisCpuSelects) {
  auto target =
      Process::Start({Helper(), "500", "strlen-pause"}, {.stdin_pipe = true});
  ASSERT_TRUE(target->WaitForOutput("ready"));
  const int links = CountBpfLinks();
  auto session = Process::Start(
      Tracectl({"calls", "--json", "--pid", std::to_string(target->pid()), "-e",
                "libc:strlen"}));
  WaitForBpfLinks(links + 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  target->WriteStdin("\n");
  ASSERT_TRUE(target->WaitForOutput("done"));
  session->Signal(SIGINT);
  RunResult r = session->Wait();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(CallsOf(r.out, "strlen"), 1000) << r.out;
  target->WriteStdin("\n");
  target->Wait();

  // The same under -- CMD: the program's own 1000, and whatever its
  // start-up adds.
  RunResult cmd = RunTracectl({"calls", "--json", "-e", "libc:strlen", "--",
                               Helper(), "500", "strlen"});
  ASSERT_EQ(cmd.exit_code, 0) << cmd.err;
  EXPECT_GE(CallsOf(cmd.out, "strlen"), 1000) << cmd.out;
  EXPECT_LT(CallsOf(cmd.out, "strlen"), 1100) << cmd.out;
}

// A JSON field of `function`'s row, or -1.
long long FieldOf(const std::string& json, const std::string& function,
                  const std::string& field) {
  const size_t at = json.find("{\"function\":\"" + function + "\",");
  if (at == std::string::npos) return -1;
  const size_t end = json.find('}', at);
  const size_t value = json.find("\"" + field + "\":", at);
  if (value == std::string::npos || value > end) return -1;
  return std::stoll(json.substr(value + field.size() + 3));
}

// --latency: every call timed, from entry to return; usleep(2000) takes at
// least 2 ms, and the quantiles are bucket bounds capped at the maximum.
TEST_F(CallsTest, LatencyTimesEveryCall) {
  RunResult r =
      RunTracectl({"calls", "--json", "--latency", "-e", "libc:usleep", "-e",
                   "libc:getenv", "--", Helper(), "20", "usleep"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(FieldOf(r.out, "usleep", "calls"), 20) << r.out;
  EXPECT_EQ(FieldOf(r.out, "usleep", "timed"), 20) << r.out;
  EXPECT_GE(FieldOf(r.out, "usleep", "avg_ns"), 2000000) << r.out;
  EXPECT_GE(FieldOf(r.out, "usleep", "p50_ns"), 2000000) << r.out;
  EXPECT_LE(FieldOf(r.out, "usleep", "p50_ns"),
            FieldOf(r.out, "usleep", "p99_ns"));
  EXPECT_LE(FieldOf(r.out, "usleep", "p99_ns"),
            FieldOf(r.out, "usleep", "max_ns"));
  EXPECT_EQ(FieldOf(r.out, "getenv", "calls"), 0) << r.out;

  RunResult exact =
      RunTracectl({"calls", "--json", "--latency", "-e", "libc:getenv", "-e",
                   "libm:frexp", "--", Helper(), "1000"});
  ASSERT_EQ(exact.exit_code, 0) << exact.err;
  EXPECT_EQ(FieldOf(exact.out, "getenv", "calls"), 1000) << exact.out;
  EXPECT_EQ(FieldOf(exact.out, "getenv", "timed"), 1000) << exact.out;
  EXPECT_EQ(FieldOf(exact.out, "frexp", "timed"), 3000) << exact.out;

  RunResult table = RunTracectl({"calls", "--latency", "-e", "libc:usleep",
                                 "--", Helper(), "3", "usleep"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("usecs/call"), std::string::npos) << table.out;
  EXPECT_EQ(CountMatching(table.out, " 3  usleep +libc\\.so\\.6$"), 1)
      << table.out;
}

// The "callers" of `function`'s row in --json --by-caller output: module
// to calls. Empty when the row or its callers are missing.
std::map<std::string, long long> CallersOf(const std::string& json,
                                           const std::string& function) {
  std::map<std::string, long long> callers;
  const size_t at = json.find("{\"function\":\"" + function + "\",");
  if (at == std::string::npos) return callers;
  const size_t begin = json.find("\"callers\":[", at);
  if (begin == std::string::npos) return callers;
  const size_t end = json.find(']', begin);
  const std::string list = json.substr(begin, end - begin);
  static const std::regex entry(
      "\\{\"module\":\"([^\"]*)\",\"calls\":([0-9]+),\"exe\":(true|false)\\}");
  for (auto it = std::sregex_iterator(list.begin(), list.end(), entry);
       it != std::sregex_iterator(); ++it) {
    // The process's executable is "exe NAME", as the table shows it.
    callers[((*it)[3] == "true" ? "exe " : "") + (*it)[1].str()] =
        std::stoll((*it)[2]);
  }
  return callers;
}

// --by-caller: each call is counted under the file holding its return
// address. The helper's own calls come from its executable (through the
// GOT or a dlsym pointer alike); each getenv calls strlen once from inside
// libc (glibc 2.36); together the callers are the row's calls.
TEST_F(CallsTest, ByCallerSplitsCallsByTheCallingFile) {
  RunResult r =
      RunTracectl({"calls", "--json", "--by-caller", "-e", "libc:getenv", "-e",
                   "libm:frexp", "-e", "libc:strlen", "--", Helper(), "600"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(CallersOf(r.out, "getenv"),
            (std::map<std::string, long long>{{"exe calls_helper", 600}}))
      << r.out;
  EXPECT_EQ(CallersOf(r.out, "frexp"),
            (std::map<std::string, long long>{{"exe calls_helper", 1800}}))
      << r.out;
  EXPECT_EQ(CallersOf(r.out, "strlen"),
            (std::map<std::string, long long>{{"libc.so.6", 600}}))
      << r.out;

  RunResult strlen_run =
      RunTracectl({"calls", "--json", "--by-caller", "-e", "libc:strlen", "--",
                   Helper(), "500", "strlen"});
  ASSERT_EQ(strlen_run.exit_code, 0) << strlen_run.err;
  const auto callers = CallersOf(strlen_run.out, "strlen");
  ASSERT_EQ(callers.count("exe calls_helper"), 1u) << strlen_run.out;
  EXPECT_EQ(callers.at("exe calls_helper"), 1000) << strlen_run.out;
  long long sum = 0;
  for (const auto& [module, calls] : callers) sum += calls;
  EXPECT_EQ(sum, CallsOf(strlen_run.out, "strlen")) << strlen_run.out;

  // The table, with --latency too: a Callers section, one line per pair.
  RunResult table = RunTracectl({"calls", "--by-caller", "--latency", "-e",
                                 "libc:getenv", "--", Helper(), "250"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_EQ(CountMatching(table.out, "^Callers "), 1) << table.out;
  EXPECT_EQ(CountMatching(table.out,
                          "^ +250  exe calls_helper -> libc\\.so\\.6:getenv$"),
            1)
      << table.out;
}

// --list resolves as -e would and attaches nothing; with -- CMD the
// command only names the program, and does not run.
TEST_F(CallsTest, ListShowsWhatProbesMatchWithoutAttaching) {
  const int links = CountBpfLinks();
  const std::string marker = sandbox_->dir() + "/ran";
  RunResult r = RunTracectl({"calls", "--list", "-e", "libc:getenv", "-e",
                             "libm:frexp", "--", "/usr/bin/touch", marker});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(
      CountMatching(r.out,
                    "^libc\\.so\\.6:getenv +0x[0-9a-f]+  /.*/libc\\.so\\.6$"),
      1)
      << r.out;
  EXPECT_EQ(CountMatching(r.out, "^libm\\.so\\.6:frexp +0x[0-9a-f]+  /"), 1)
      << r.out;
  EXPECT_FALSE(std::filesystem::exists(marker)) << "the command ran";
  EXPECT_EQ(CountBpfLinks(), links);
  RunResult exe =
      RunTracectl({"calls", "--list", "-e", "exe:main", "--", Helper(), "1"});
  ASSERT_EQ(exe.exit_code, 0) << exe.err;
  EXPECT_EQ(CountMatching(exe.out,
                          "^calls_helper:main +0x[0-9a-f]+  /.*/calls_helper$"),
            1)
      << exe.out;

  // More than a session may attach, as JSON rows that counted nothing.
  RunResult all = RunTracectl({"calls", "--list", "--json", "-e", "libc:*"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_NE(all.out.find("\"list_only\":true"), std::string::npos);
  EXPECT_GT(CountMatching(all.out, "\"function\":"), 0);
  size_t rows = 0;
  for (size_t at = all.out.find("{\"function\":"); at != std::string::npos;
       at = all.out.find("{\"function\":", at + 1)) {
    ++rows;
  }
  EXPECT_GT(rows, 1000u) << all.out.substr(0, 300);
  EXPECT_EQ(all.out.find("\"calls\":1"), std::string::npos);

  RunResult bad =
      RunTracectl({"calls", "--list", "--latency", "-e", "libc:getenv"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  RunResult missing = RunTracectl(
      {"calls", "--list", "-e", "libc:getenv", "--", "/no/such/program"});
  EXPECT_EQ(missing.exit_code, 127) << missing.err;
  EXPECT_NE(missing.err.find("command not found: /no/such/program"),
            std::string::npos)
      << missing.err;
}

// A library the dynamic linker finds through its cache (a directory of
// /etc/ld.so.conf.d), not in the standard directories, is found by name.
// This machine's cache must hold one: the smallest such x86-64 file.
TEST_F(CallsTest, LibraryInTheLinkersCacheIsFoundByName) {
  std::string chosen;
  uintmax_t smallest = UINTMAX_MAX;
  for (const std::string& line :
       Lines(RunProgram({"/sbin/ldconfig", "-p"}).out)) {
    const size_t arrow = line.find(" => ");
    if (arrow == std::string::npos ||
        line.find("x86-64") == std::string::npos) {
      continue;
    }
    const std::filesystem::path path = line.substr(arrow + 4);
    const std::string dir = path.parent_path().string();
    if (dir == "/lib/x86_64-linux-gnu" || dir == "/usr/lib/x86_64-linux-gnu" ||
        std::filesystem::is_symlink(path)) {
      continue;
    }
    std::error_code ec;
    const uintmax_t size = std::filesystem::file_size(path, ec);
    if (!ec && size < smallest) {
      smallest = size;
      chosen = path.string();
    }
  }
  if (chosen.empty()) {
    GTEST_SKIP() << "ld.so.cache has no library outside the standard "
                    "directories on this machine";
  }
  const std::string name = std::filesystem::path(chosen).filename().string();
  RunResult r = RunTracectl({"calls", "--list", "--json", "-e", name + ":*"});
  // Found: its functions, or (a file without any) the error naming it.
  if (r.exit_code == 0) {
    EXPECT_NE(r.out.find("\"path\":\"" + chosen + "\""), std::string::npos)
        << chosen << ": " << r.out.substr(0, 400);
  } else {
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("matches no function in " + chosen), std::string::npos)
        << r.err;
  }
}

// C++ functions match by their demangled names too, and are shown so; the
// mangled name still matches, and is then shown as matched.
TEST_F(CallsTest, CxxFunctionsMatchDemangled) {
  const std::string helper = sandbox_->dir() + "/hot_cpp_helper";
  RunResult list = RunTracectl(
      {"calls", "--list", "-e", "exe:demo::Spinner*::Spin*", "--", helper});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(CountMatching(list.out,
                          "^hot_cpp_helper:demo::Spinner<unsigned long>::Spin"
                          "\\(unsigned long\\) +0x"),
            1)
      << list.out;
  RunResult mangled = RunTracectl(
      {"calls", "--list", "-e", "exe:_ZN4demo7Spinner*", "--", helper});
  ASSERT_EQ(mangled.exit_code, 0) << mangled.err;
  EXPECT_EQ(CountMatching(mangled.out, "^hot_cpp_helper:_ZN4demo7Spinner"), 1)
      << mangled.out;

  RunResult r = RunTracectl({"calls", "--json", "-e",
                             "exe:demo::Spinner<unsigned long>::Spin*", "--",
                             helper, "0.2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GT(CallsOf(r.out, "demo::Spinner<unsigned long>::Spin(unsigned long)"),
            0)
      << r.out;
}

// A stripped program's functions come from its debug file, found through
// .gnu_debuglink next to it (as gdb and the symbolizer find it); without
// the debug file they are not there at all.
TEST_F(CallsTest, StrippedProgramUsesItsDebugFile) {
  const std::string dir = sandbox_->dir();
  const std::string stripped = dir + "/stripped_helper";
  ASSERT_EQ(RunProgram({"/usr/bin/objcopy", "--only-keep-debug", Helper(),
                        dir + "/stripped_helper.debug"})
                .exit_code,
            0);
  ASSERT_EQ(RunProgram({"/usr/bin/objcopy", "--strip-all",
                        "--add-gnu-debuglink=" + dir + "/stripped_helper.debug",
                        Helper(), stripped})
                .exit_code,
            0);
  RunResult r =
      RunTracectl({"calls", "--json", "-e", "exe:main", "--", stripped, "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(CallsOf(r.out, "main"), 1) << r.out;

  std::filesystem::remove(dir + "/stripped_helper.debug");
  RunResult gone =
      RunTracectl({"calls", "--list", "-e", "exe:main", "--", stripped, "3"});
  EXPECT_EQ(gone.exit_code, 1) << gone.err;
  EXPECT_NE(gone.err.find("matches no function"), std::string::npos)
      << gone.err;
}

// --top cuts the table (totals stay every row's), --sort orders it.
TEST_F(CallsTest, TopAndSortChooseTheRowsShown) {
  RunResult top = RunTracectl({"calls", "--top", "1", "-e", "libc:getenv", "-e",
                               "libm:frexp", "--", Helper(), "100"});
  ASSERT_EQ(top.exit_code, 0) << top.err;
  EXPECT_EQ(CountMatching(top.out, "^ 75\\.00 +300  frexp +libm\\.so\\.6$"), 1)
      << top.out;
  EXPECT_EQ(CountMatching(top.out, "getenv"), 0) << top.out;
  EXPECT_EQ(
      CountMatching(top.out, "^\\(1 more function not shown: --top 1\\)$"), 1)
      << top.out;
  EXPECT_EQ(CountMatching(top.out, "^100\\.00 +400  total$"), 1) << top.out;

  RunResult json =
      RunTracectl({"calls", "--json", "--sort", "name", "--top", "1", "-e",
                   "libm:frexp", "-e", "libc:getenv", "--", Helper(), "10"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(CallsOf(json.out, "frexp"), 30) << json.out;
  EXPECT_EQ(CallsOf(json.out, "getenv"), -1) << json.out;

  for (const char* key : {"time", "errors", "bogus"}) {
    RunResult bad = RunTracectl(
        {"calls", "--sort", key, "-e", "libc:getenv", "--", Helper(), "1"});
    EXPECT_EQ(bad.exit_code, 2) << key << ": " << bad.err;
    EXPECT_EQ(Lines(bad.err).size(), 1u) << bad.err;
  }
}

// A child inherits its parent's breakpoints at fork, and the kernel takes
// them out of it as not the target's: without -f the children of a shell
// count nothing; with -f (probes everywhere, the task filter choosing) every
// call of the family counts, and nothing of a process outside it.
TEST_F(CallsTest, ForkedChildrenCountWithFollow) {
  const std::string script = Helper() + " 100; " + Helper() + " 200; true";
  RunResult own = RunTracectl(
      {"calls", "--json", "-e", "libm:frexp", "--", "/bin/sh", "-c", script});
  ASSERT_EQ(own.exit_code, 0) << own.err;
  EXPECT_EQ(CallsOf(own.out, "frexp"), 0) << own.out;
  EXPECT_NE(own.out.find("forked children not counted (-f counts them)"),
            std::string::npos)
      << own.out;

  // An outsider makes its 3000 calls while the family's session traps
  // everywhere.
  auto outsider =
      Process::Start({Helper(), "1000", "pause"}, {.stdin_pipe = true});
  ASSERT_TRUE(outsider->WaitForOutput("ready"));
  const int links = CountBpfLinks();
  auto family =
      Process::Start(Tracectl({"calls", "--json", "-f", "-e", "libm:frexp",
                               "--", "/bin/sh", "-c", script + "; sleep 1"}));
  WaitForBpfLinks(links + 1);
  ASSERT_GE(CountBpfLinks(), links + 1) << "the session did not start";
  outsider->WriteStdin("\n");
  ASSERT_TRUE(outsider->WaitForOutput("done"));
  RunResult r = family->Wait();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(CallsOf(r.out, "frexp"), 900) << r.out;
  EXPECT_NE(r.out.find("forked children counted"), std::string::npos) << r.out;
  outsider->WriteStdin("\n");
  outsider->Wait();
}

// The breakpoints themselves, read from the target's code: with the daemon
// of `sandbox`, a --pid session on `probes` puts int3 at the start of each
// function they match (at least `at_least` of them), and each has its own
// instruction again within 2 s of kill -9 of the client. Returns how many
// sites were listed and the killed client's stderr.
std::pair<size_t, std::string> KillClientAndCheckBreakpoints(
    const Sandbox& sandbox, const std::vector<std::string>& probes,
    size_t at_least) {
  const std::vector<std::string> tracectl = {sandbox.tracectl(), "--socket",
                                             sandbox.socket(), "calls"};
  auto target = Process::Start({sandbox.dir() + "/calls_helper", "1", "pause"},
                               {.stdin_pipe = true});
  EXPECT_TRUE(target->WaitForOutput("ready"));
  std::vector<std::string> list = tracectl;
  list.insert(list.end(),
              {"--list", "--json", "--pid", std::to_string(target->pid())});
  list.insert(list.end(), probes.begin(), probes.end());
  RunResult listed = RunProgram(list);
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  const auto sites = ListedSites(listed.out);
  EXPECT_GE(sites.size(), at_least) << listed.out;
  EXPECT_EQ(Breakpoints(target->pid(), sites), 0);
  for (const auto& [path, offset] : sites) {
    EXPECT_GE(CodeByte(target->pid(), path, offset), 0)
        << path << " " << offset;
  }

  std::vector<std::string> count = tracectl;
  count.insert(count.end(), {"--pid", std::to_string(target->pid())});
  count.insert(count.end(), probes.begin(), probes.end());
  auto session = Process::Start(count);
  auto waited = std::chrono::steady_clock::now();
  while (Breakpoints(target->pid(), sites) < static_cast<int>(at_least) &&
         std::chrono::steady_clock::now() - waited < std::chrono::seconds(20)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const int armed = Breakpoints(target->pid(), sites);
  EXPECT_GE(armed, static_cast<int>(at_least)) << "of " << sites.size();
  session->Signal(SIGKILL);
  const RunResult ended = session->Wait();
  const auto killed = std::chrono::steady_clock::now();
  while (Breakpoints(target->pid(), sites) > 0 &&
         std::chrono::steady_clock::now() - killed < std::chrono::seconds(2)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(Breakpoints(target->pid(), sites), 0) << "of " << armed;
  target->WriteStdin("\n\n");
  target->Wait();
  return {sites.size(), ended.err};
}

// Some 70 functions in two files, attached with progress on stderr.
TEST_F(CallsTest, KilledClientLeavesNoBreakpointBehind) {
  const auto [sites, err] = KillClientAndCheckBreakpoints(
      *sandbox_, {"-e", "libc:mem*", "-e", "libc:str*", "-e", "libm:frexp*"},
      40);
  EXPECT_NE(err.find("attaching " + std::to_string(sites) +
                     " probes in 2 files (libc.so.6, libm.so.6)"),
            std::string::npos)
      << err;
}

TEST_F(CallsTest, BadInputGetsOneLineAndNonZeroExit) {
  struct Case {
    std::string probe;
    int code;
    std::string says;
  } cases[] = {
      {"libc", 2, "malformed probe"},
      {"libc:", 2, "malformed probe"},
      {"libc:no_such_function_here*", 1, "matches no function"},
      {"libnosuchlib:f", 1, "unknown library libnosuchlib"},
      {"usdt:exe:function__return", 1, "has no USDT probes"},
      {"usdt:libc", 2, "malformed probe"},
      {"libc:*", 1, "functions; at most 1000 per session"},
  };
  for (const Case& c : cases) {
    RunResult r = RunTracectl(
        {"calls", "--duration", "0.2", "-e", c.probe, "--", Helper(), "1"});
    EXPECT_EQ(r.exit_code, c.code) << c.probe << ": " << r.err;
    EXPECT_EQ(Lines(r.err).size(), 1u) << c.probe << ": " << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos)
        << c.probe << ": " << r.err;
  }
}

TEST_F(CallsTest, UnreadableLibraryIsPermissionDenied) {
  const std::string copy = sandbox_->dir() + "/libsecret.so";
  std::filesystem::copy_file("/lib/x86_64-linux-gnu/libm.so.6", copy,
                             std::filesystem::copy_options::overwrite_existing);
  chmod(copy.c_str(), 0600);
  RunResult r =
      RunTracectl({"calls", "--duration", "0.2", "-e", copy + ":frexp"},
                  {.as_nobody = true});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("permission denied"), std::string::npos) << r.err;
  RunResult root =
      RunTracectl({"calls", "--duration", "0.2", "-e", copy + ":frexp"});
  EXPECT_EQ(root.exit_code, 0) << root.err;
}

// A daemon that attaches each uprobe with a perf event of its own, as it
// must on kernels before 6.6 (no uprobe_multi links): the same exact counts
// and latencies, and the same cleanup (one RCU wait per probe, so fewer
// probes than above fit in the 2 s).
class CallsPerfUprobeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    sandbox_ = new Sandbox();
    daemon_ = new Daemon(*sandbox_, {"--no-uprobe-multi"});
  }
  static void TearDownTestSuite() {
    delete daemon_;
    delete sandbox_;
  }
  static RunResult RunTracectl(std::vector<std::string> args) {
    args.insert(args.begin(),
                {sandbox_->tracectl(), "--socket", sandbox_->socket()});
    return RunProgram(args);
  }
  static Sandbox* sandbox_;
  static Daemon* daemon_;
};
Sandbox* CallsPerfUprobeTest::sandbox_ = nullptr;
Daemon* CallsPerfUprobeTest::daemon_ = nullptr;

TEST_F(CallsPerfUprobeTest, ExactCountsAndLatencies) {
  RunResult info = RunTracectl({"info"});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_EQ(info.out.find("uprobe_multi"), std::string::npos) << info.out;
  const std::string helper = sandbox_->dir() + "/calls_helper";
  RunResult r =
      RunTracectl({"calls", "--json", "--latency", "-e", "libc:getenv", "-e",
                   "libm:frexp", "--", helper, "1000"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(FieldOf(r.out, "getenv", "calls"), 1000) << r.out;
  EXPECT_EQ(FieldOf(r.out, "getenv", "timed"), 1000) << r.out;
  EXPECT_EQ(FieldOf(r.out, "frexp", "calls"), 3000) << r.out;
  EXPECT_EQ(FieldOf(r.out, "frexp", "timed"), 3000) << r.out;

  RunResult slept = RunTracectl({"calls", "--json", "--latency", "-e",
                                 "libc:usleep", "--", helper, "5", "usleep"});
  ASSERT_EQ(slept.exit_code, 0) << slept.err;
  EXPECT_EQ(FieldOf(slept.out, "usleep", "timed"), 5) << slept.out;
  EXPECT_GE(FieldOf(slept.out, "usleep", "avg_ns"), 2000000) << slept.out;
}

TEST_F(CallsPerfUprobeTest, KilledClientLeavesNoBreakpointBehind) {
  KillClientAndCheckBreakpoints(*sandbox_,
                                {"-e", "libc:getenv", "-e", "libm:frexp*"}, 3);
}

}  // namespace
}  // namespace tracectl::testing
