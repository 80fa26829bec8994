// End to end: a real tracectld on a temporary socket, real tracectl, real
// workloads, exact figures where the workload makes them exact.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "tests/harness.h"

namespace tracectl::testing {
namespace {

class SyscallsTest : public DaemonTest {};

// What holds for either backend (tests/harness.h).
class BothBackendsTest : public BackendsTest {};
INSTANTIATE_TEST_SUITE_P(Backends, BothBackendsTest,
                         ::testing::Values("bpf", "ptrace"),
                         [](const auto& info) {
                           return std::string(info.param);
                         });

// A syscalls session loads sys_enter, sys_exit and sched_switch.
constexpr int kSyscallsPrograms = 3;

// A thread of `pid` that is not its main thread.
pid_t AnotherThreadOf(pid_t pid) {
  for (const auto& entry : std::filesystem::directory_iterator(
           "/proc/" + std::to_string(pid) + "/task")) {
    const pid_t tid = std::stoi(entry.path().filename());
    if (tid != pid) return tid;
  }
  ADD_FAILURE() << "pid " << pid << " has one thread";
  return pid;
}

TEST_F(SyscallsTest, InfoReportsBackendAndCaller) {
  RunResult r = RunTracectl({"info"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("backend:  bpf"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("uid 0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("administrator"), std::string::npos) << r.out;

  RunResult nobody = RunTracectl({"info", "--json"}, {.as_nobody = true});
  ASSERT_EQ(nobody.exit_code, 0) << nobody.err;
  EXPECT_NE(nobody.out.find("\"uid\":65534"), std::string::npos) << nobody.out;
  EXPECT_NE(nobody.out.find("\"admin\":false"), std::string::npos)
      << nobody.out;
}

TEST_P(BothBackendsTest, ExactCountsOfAKnownWorkloadMatchStrace) {
  RunResult r = RunTracectl(
      {"syscalls", "--json", "--", sandbox().helper(), "1234", "321", "55"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = ParseSyscallsJson(r.out);
  const SyscallFigures getppid = FindRow(rows, "getppid");
  const SyscallFigures openat = FindRow(rows, "openat");
  const SyscallFigures pipe2 = FindRow(rows, "pipe2");
  EXPECT_EQ(getppid.calls, 1234u) << r.out;
  EXPECT_EQ(getppid.errors, 0u);
  EXPECT_EQ(openat.calls, 321u) << r.out;
  EXPECT_EQ(openat.errors, 321u);
  EXPECT_EQ(openat.errnos.at("ENOENT"), 321u) << r.out;
  EXPECT_EQ(pipe2.calls, 55u) << r.out;
  EXPECT_EQ(pipe2.errors, 0u);
  EXPECT_EQ(FindRow(rows, "close").calls, 110u) << r.out;

  // The same helper under strace -f -c gives the same figures.
  const std::string strace_out = sandbox().dir() + "/strace.txt";
  RunResult s = RunProgram({"strace", "-f", "-c", "-o", strace_out,
                            sandbox().helper(), "1234", "321", "55"});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  RunResult table = RunProgram({"cat", strace_out});
  const auto strace_rows = ParseStraceSummary(table.out);
  for (const char* name : {"getppid", "openat", "pipe2", "close"}) {
    ASSERT_TRUE(strace_rows.count(name)) << name << " missing in\n"
                                         << table.out;
    const SyscallFigures ours = FindRow(rows, name);
    EXPECT_EQ(ours.calls, strace_rows.at(name).first) << name;
    EXPECT_EQ(ours.errors, strace_rows.at(name).second) << name;
  }
}

TEST_F(SyscallsTest, ThirtyTwoBitCallsGetTheirOwnRows) {
  // 77 getppid through int 0x80 (ia32 number 64, which is semget natively),
  // and one native getppid to check the answer.
  if (!Int80Works(*sandbox_)) {
    GTEST_SKIP() << "int 0x80 kills the helper untraced on this machine";
  }
  for (const char* split : {"", "--per-process"}) {
    std::vector<std::string> args = {"syscalls", "--json"};
    if (*split) args.push_back(split);
    args.insert(args.end(), {"--", sandbox_->helper(), "--int80", "77"});
    RunResult r = RunTracectl(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto rows = ParseSyscallsJson(r.out);
    EXPECT_EQ(FindRow(rows, "ia32:getppid").calls, 77u) << split << r.out;
    EXPECT_EQ(FindRow(rows, "getppid").calls, 77u) << split << r.out;
    EXPECT_EQ(FindRow(rows, "semget").calls, 0u) << split << r.out;
  }
}

TEST_P(BothBackendsTest, CommandExitStatusAndOrphanedDescendantsAreKept) {
  // sh exits 7 at once; its background child makes 9 pipe2 calls later,
  // re-parented to tracectl, which waits for it.
  const std::string script =
      "(sleep 0.3; " + sandbox().helper() + " 0 0 9) & exit 7";
  RunResult r =
      RunTracectl({"syscalls", "--json", "--", "/bin/sh", "-c", script});
  EXPECT_EQ(r.exit_code, 7) << r.err;
  EXPECT_EQ(FindRow(ParseSyscallsJson(r.out), "pipe2").calls, 9u) << r.out;
}

TEST_F(SyscallsTest, SignalToTracectlGoesToTheCommandWhoseExitEndsTheSession) {
  auto session = StartSession(
      {"syscalls", "--json", "--", sandbox_->helper(), "--loop", "30"});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  session->Signal(SIGTERM);  // not from a terminal: forwarded
  RunResult r = session->Wait(10000);
  EXPECT_EQ(r.exit_code, 128 + SIGTERM) << r.err;
  EXPECT_GT(FindRow(ParseSyscallsJson(r.out), "getppid").calls, 0u) << r.out;
}

TEST_P(BothBackendsTest, SessionEndingFirstPrintsThenWaitsForTheCommand) {
  auto session = Process::Start(Tracectl({"syscalls", "--duration", "0.5", "--",
                                          sandbox().helper(), "--loop", "30"}));
  ASSERT_TRUE(session->WaitForOutput("total"));  // the summary is out
  session->Signal(SIGTERM);                      // still goes to the command
  RunResult r = session->Wait(10000);
  EXPECT_EQ(r.exit_code, 128 + SIGTERM) << r.err;
  EXPECT_NE(r.err.find("waiting for"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("getppid"), std::string::npos) << r.out;
}

TEST_F(SyscallsTest, CtrlCStopsWaitingForLingeringDescendants) {
  // sh exits at once; the sleep it left behind would keep tracectl waiting.
  auto session = StartSession(
      {"syscalls", "--json", "--", "/bin/sh", "-c", "sleep 20 & exit 0"});
  // Long enough for sh to exit: a signal before that would go to sh.
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  session->Signal(SIGINT);
  RunResult r = session->Wait(5000);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(FindRow(ParseSyscallsJson(r.out), "execve").calls, 2u) << r.out;
}

TEST_F(SyscallsTest, CommFilterCountsOnlyMatchingTasks) {
  // python3 waits for "go", makes 777 getppid calls, and says "done".
  auto python = Process::Start({"/usr/bin/python3", "-c",
                                "import os, sys\n"
                                "sys.stdin.readline()\n"
                                "for _ in range(777): os.getppid()\n"
                                "print('done', flush=True)\n"
                                "sys.stdin.readline()\n"},
                               {.stdin_pipe = true});
  auto session =
      StartSession({"syscalls", "--comm", "python", "--per-process", "--json"});
  // Another program makes getppid calls at the same time.
  auto other = Process::Start({sandbox_->helper(), "1234", "0", "0"});
  python->WriteStdin("go\n");
  ASSERT_EQ(other->Wait().exit_code, 0);
  ASSERT_TRUE(python->WaitForOutput("done"));
  python->CloseStdin();
  RunResult py = python->Wait();
  ASSERT_NE(py.out.find("done"), std::string::npos) << py.err;
  session->Signal(SIGINT);
  RunResult r = session->Wait();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = ParseSyscallsJson(r.out);
  ASSERT_FALSE(rows.empty()) << r.out;
  uint64_t getppid_calls = 0;
  for (const SyscallFigures& row : rows) {
    EXPECT_EQ(row.comm.rfind("python", 0), 0u) << "row of " << row.comm;
    if (row.name == "getppid") getppid_calls += row.calls;
  }
  EXPECT_EQ(getppid_calls, 777u) << r.out;
}

TEST_F(SyscallsTest, UnprivilegedUserMayNotTracePidOne) {
  RunResult r = RunTracectl({"syscalls", "--pid", "1", "--duration", "1"},
                            {.as_nobody = true});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("permission denied"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("pid 1 "), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;

  RunResult uid = RunTracectl({"syscalls", "--uid", "0", "--duration", "1"},
                              {.as_nobody = true});
  EXPECT_NE(uid.exit_code, 0);
  EXPECT_NE(uid.err.find("permission denied"), std::string::npos) << uid.err;
}

// As ptrace: a process of the caller's uid that is not dumpable (root that
// dropped to uid 65534 without becoming dumpable again) is refused, as
// `strace -p` gets EPERM; and a process in a user namespace the caller
// made (`unshare -r`) is the caller's, as the kernel says.
TEST_F(SyscallsTest, PidRuleFollowsDumpableAndOwnedUserNamespaces) {
  std::unique_ptr<Process> dropped =
      Process::Start({"/usr/bin/python3", "-c",
                      "import os, time\n"
                      "os.setgroups([]); os.setresgid(65534, 65534, 65534)\n"
                      "os.setresuid(65534, 65534, 65534)\n"
                      "print('ready', flush=True); time.sleep(30)\n"});
  ASSERT_TRUE(dropped->WaitForOutput("ready"));
  RunResult refused =
      RunTracectl({"syscalls", "--pid", std::to_string(dropped->pid()),
                   "--duration", "0.2"},
                  {.as_nobody = true});
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  EXPECT_NE(refused.err.find("permission denied"), std::string::npos)
      << refused.err;

  // Its own namespace: every getppid of the helper inside is counted...
  RunResult inside = RunTracectl({"syscalls", "--json", "--", "unshare", "-r",
                                  sandbox_->helper(), "1234", "0", "0"},
                                 {.as_nobody = true});
  ASSERT_EQ(inside.exit_code, 0) << inside.err;
  EXPECT_EQ(FindRow(ParseSyscallsJson(inside.out), "getppid").calls, 1234u)
      << inside.out;
  // ...and a process running there may be named by pid.
  std::unique_ptr<Process> sleeper = Process::Start(
      {"unshare", "-r", "/bin/sh", "-c", "echo ready; exec sleep 30"},
      {.as_nobody = true});
  ASSERT_TRUE(sleeper->WaitForOutput("ready"));
  RunResult by_pid =
      RunTracectl({"syscalls", "--pid", std::to_string(sleeper->pid()),
                   "--duration", "0.2"},
                  {.as_nobody = true});
  EXPECT_EQ(by_pid.exit_code, 0) << by_pid.err;
}

TEST_P(BothBackendsTest, UnprivilegedUserMayTraceItsOwnCommand) {
  RunResult r = RunTracectl(
      {"syscalls", "--json", "--", sandbox().helper(), "12", "3", "1"},
      {.as_nobody = true});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = ParseSyscallsJson(r.out);
  EXPECT_EQ(FindRow(rows, "getppid").calls, 12u) << r.out;
  EXPECT_EQ(FindRow(rows, "openat").errors, 3u) << r.out;

  RunResult t = RunTracectl({"syscalls", "--json", "--", "/bin/true"},
                            {.as_nobody = true});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_EQ(FindRow(ParseSyscallsJson(t.out), "execve").calls, 1u) << t.out;
}

TEST_F(SyscallsTest, UnprivilegedSystemWideSeesOwnTasksAndNoneOfRoots) {
  // root and nobody both make getppid calls throughout the session.
  auto root_loop = Process::Start({sandbox_->helper(), "--loop", "10"});
  auto own_loop =
      Process::Start({sandbox_->helper(), "--loop", "10"}, {.as_nobody = true});
  RunResult r =
      RunTracectl({"syscalls", "--per-process", "--json", "--duration", "2"},
                  {.as_nobody = true});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(root_loop->Running() && own_loop->Running())
      << "a workload ended too soon";
  const auto rows = ParseSyscallsJson(r.out);
  EXPECT_GT(FindRow(rows, "getppid", own_loop->pid()).calls, 0u) << r.out;
  for (const SyscallFigures& row : rows) {
    EXPECT_NE(row.pid, root_loop->pid()) << r.out;
    EXPECT_NE(row.pid, daemon_->process().pid()) << r.out;
    EXPECT_NE(row.comm, "tracectl") << "the asking client is not traced";
  }
  // The same query as root does see the root workload.
  RunResult as_root =
      RunTracectl({"syscalls", "--per-process", "--json", "--duration", "1"});
  ASSERT_EQ(as_root.exit_code, 0) << as_root.err;
  ASSERT_TRUE(root_loop->Running());
  EXPECT_GT(FindRow(ParseSyscallsJson(as_root.out), "getppid", root_loop->pid())
                .calls,
            0u);
}

TEST_F(SyscallsTest, PerProcessRowsAreNamedAfterTheProcess) {
  // python3 names a thread "worker"; its calls count under python3.
  RunResult r = RunTracectl(
      {"syscalls", "--per-process", "--json", "--", "/usr/bin/python3", "-c",
       "import os, threading, ctypes\n"
       "def work():\n"
       "    libc = ctypes.CDLL(None)\n"
       "    libc.prctl(15, b'worker', 0, 0, 0)\n"
       "    for _ in range(500): os.getppid()\n"
       "t = threading.Thread(target=work); t.start(); t.join()\n"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = ParseSyscallsJson(r.out);
  ASSERT_FALSE(rows.empty());
  for (const SyscallFigures& row : rows) {
    EXPECT_EQ(row.comm, "python3") << r.out;
  }
  uint64_t getppid = 0;
  for (const SyscallFigures& row : rows) {
    if (row.name == "getppid") getppid += row.calls;
  }
  EXPECT_EQ(getppid, 500u) << r.out;
}

TEST_F(SyscallsTest, UidFilterSelectsThatUsersTasksOnly) {
  auto nobody_loop =
      Process::Start({sandbox_->helper(), "--loop", "10"}, {.as_nobody = true});
  auto root_loop = Process::Start({sandbox_->helper(), "--loop", "10"});
  RunResult r = RunTracectl({"syscalls", "--uid", "65534", "--per-process",
                             "--json", "--duration", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(nobody_loop->Running() && root_loop->Running());
  const auto rows = ParseSyscallsJson(r.out);
  EXPECT_GT(FindRow(rows, "getppid", nobody_loop->pid()).calls, 0u) << r.out;
  for (const SyscallFigures& row : rows) {
    EXPECT_NE(row.pid, root_loop->pid()) << r.out;
  }
}

// A set-uid program run by an unprivileged caller's command runs as root:
// from its execve on, the caller sees none of its calls (under ptrace too,
// where a root tracer lets the kernel grant the set-uid).
TEST_P(BothBackendsTest, SetUidProgramLeavesTheUnprivilegedCallersSight) {
  const std::vector<std::string> args = {
      "syscalls", "--json", "--",
      "/bin/sh",  "-c",     "/usr/bin/passwd --help > /dev/null; exit 3"};
  RunResult nobody = RunTracectl(args, {.as_nobody = true});
  ASSERT_EQ(nobody.exit_code, 3) << nobody.err;
  const auto rows = ParseSyscallsJson(nobody.out);
  EXPECT_EQ(FindRow(rows, "execve").calls, 2u) << nobody.out;
  EXPECT_EQ(FindRow(rows, "vfork").calls + FindRow(rows, "clone").calls +
                FindRow(rows, "clone3").calls,
            1u)
      << nobody.out;
  // passwd writes its help; sh writes nothing.
  EXPECT_EQ(FindRow(rows, "write").calls, 0u) << nobody.out;
  RunResult root = RunTracectl(args);
  ASSERT_EQ(root.exit_code, 3) << root.err;
  EXPECT_GT(FindRow(ParseSyscallsJson(root.out), "write").calls, 0u)
      << root.out;
}

TEST_P(BothBackendsTest, FollowAddsChildrenOfTracedPids) {
  // sh waits for "go", then runs the helper as a child: 31 getppid calls.
  // One session at a time: ptrace allows one tracer per process.
  auto session_of_sh = [&](bool follow) {
    const std::string script = "read line; " + sandbox().helper() +
                               " 31 0 0; echo ran; read line; exit 0";
    auto sh = Process::Start({"/bin/sh", "-c", script}, {.stdin_pipe = true});
    std::vector<std::string> args = {"syscalls", "--json", "--pid",
                                     std::to_string(sh->pid())};
    if (follow) args.push_back("--follow");
    auto session = StartPidSession(args, sh->pid());
    sh->WriteStdin("go\n");
    EXPECT_TRUE(sh->WaitForOutput("ran"));
    session->Signal(SIGINT);
    RunResult r = session->Wait();
    sh->CloseStdin();
    EXPECT_EQ(sh->Wait().exit_code, 0);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r;
  };
  const RunResult with = session_of_sh(true);
  const RunResult without = session_of_sh(false);
  EXPECT_EQ(FindRow(ParseSyscallsJson(with.out), "getppid").calls, 31u)
      << with.out;
  EXPECT_EQ(FindRow(ParseSyscallsJson(without.out), "getppid").calls, 0u)
      << without.out;
  EXPECT_GT(FindRow(ParseSyscallsJson(without.out), "read").calls, 0u)
      << "sh's own calls are there: " << without.out;
}

TEST_F(SyscallsTest, KilledClientLeavesNoProgramsBehind) {
  const int before = SettledBpfProgramCount();
  auto session = StartSession({"syscalls"});
  ASSERT_EQ(WaitForBpfPrograms(before + kSyscallsPrograms, 1000),
            before + kSyscallsPrograms);
  session->Signal(SIGKILL);
  session->Wait();
  EXPECT_EQ(WaitForBpfPrograms(before, 2000), before);
}

TEST_F(SyscallsTest, CtrlCPrintsTheSummary) {
  auto session = StartSession({"syscalls", "--pid", std::to_string(getpid())});
  // For half a second: the links exist a moment before the session has
  // started (and calls made before its start are not its own).
  const auto until =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  while (std::chrono::steady_clock::now() < until) {
    getppid();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  session->Signal(SIGINT);
  RunResult r = session->Wait();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("getppid"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("total"), std::string::npos) << r.out;
}

TEST_F(SyscallsTest, IntervalAppendsSnapshotsWhenNotATerminal) {
  RunResult r =
      RunTracectl({"syscalls", "--interval", "0.2", "--duration", "1.1",
                   "--pid", std::to_string(daemon_->process().pid())});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  size_t snapshots = 0;
  for (size_t at = r.out.find("--- "); at != std::string::npos;
       at = r.out.find("--- ", at + 1)) {
    ++snapshots;
  }
  EXPECT_GE(snapshots, 4u) << r.out;
  EXPECT_EQ(r.out.find("\033["), std::string::npos) << "no escapes in a file";

  // As JSON: one object per line, the last one marked final.
  RunResult json =
      RunTracectl({"syscalls", "--json", "--interval", "0.2", "--duration",
                   "1.1", "--pid", std::to_string(daemon_->process().pid())});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const size_t lines = std::count(json.out.begin(), json.out.end(), '\n');
  EXPECT_GE(lines, 5u) << json.out;
  size_t finals = 0;
  for (size_t at = json.out.find("{\"final\":true"); at != std::string::npos;
       at = json.out.find("{\"final\":true", at + 1)) {
    ++finals;
  }
  EXPECT_EQ(finals, 1u) << json.out;
  EXPECT_EQ(json.out.rfind("{\"final\":true"), json.out.rfind("\n{") + 1)
      << "the final object is the last line";
}

TEST_P(BothBackendsTest, BadInputGetsOneLineAndNonZeroExit) {
  pid_t unused = 4000000;
  while (kill(unused, 0) == 0 || errno != ESRCH) --unused;
  const std::vector<std::vector<std::string>> cases = {
      {"syscalls", "--pid", std::to_string(unused)},
      {"syscalls", "--duration", "0"},
      {"syscalls", "--duration", "-3"},
      {"syscalls", "--comm", ""},
      {"syscalls", "--"},
      {"syscalls", "--", "/nonexistent/command"},
      {"syscalls", "--", "no-such-command-tracectl"},
      {"syscalls", "--no-such-flag"},
      {"syscalls", "--sort", "bogus"},
      {"syscalls", "--comm", "a-very-long-comm-prefix"},
      {"syscalls", "--follow", "--comm", "x"},
      {"syscalls", "--pid",
       std::to_string(AnotherThreadOf(daemon().process().pid()))},
      {"no-such-subcommand"},
      {"syscalls", "--top", "-1"},
  };
  for (const auto& args : cases) {
    RunResult r = RunTracectl(args, {.timeout_ms = 10000});
    const std::string what = args.back();
    EXPECT_GT(r.exit_code, 0) << what;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1)
        << what << ": " << r.err;
    EXPECT_EQ(r.err.rfind("tracectl: ", 0), 0u) << what << ": " << r.err;
    EXPECT_TRUE(r.out.empty()) << what << ": " << r.out;
  }
  RunResult pid = RunTracectl({"syscalls", "--pid", std::to_string(unused)});
  EXPECT_NE(pid.err.find("no process with pid " + std::to_string(unused)),
            std::string::npos)
      << pid.err;
  RunResult missing =
      RunTracectl({"syscalls", "--", "no-such-command-tracectl"});
  EXPECT_EQ(missing.exit_code, 127);
  // The daemon still serves.
  EXPECT_EQ(RunTracectl({"info"}).exit_code, 0);
}

TEST(DaemonTest, SigtermEndsSessionsWithSummaryAndDetachesPrograms) {
  Sandbox sandbox;
  const int before = SettledBpfProgramCount();
  Daemon daemon(sandbox);
  const int links_before = CountBpfLinks();
  auto session = Process::Start(
      {sandbox.tracectl(), "--socket", sandbox.socket(), "syscalls"});
  ASSERT_EQ(WaitForBpfPrograms(before + kSyscallsPrograms, 5000),
            before + kSyscallsPrograms);
  // Attached, not only loaded: a session still loading when SIGTERM comes
  // may miss the daemon's 500 ms for ending sessions on a slow machine.
  WaitForBpfLinks(links_before + kSyscallsPrograms);
  ASSERT_GE(CountBpfLinks(), links_before + kSyscallsPrograms);
  // The links exist a moment before the session has started; a SIGTERM in
  // between ends the call without a summary (seen: "Broken pipe").
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto sigterm = std::chrono::steady_clock::now();
  daemon.process().Signal(SIGTERM);
  EXPECT_EQ(WaitForBpfPrograms(before, 1000), before);
  EXPECT_LT(std::chrono::steady_clock::now() - sigterm,
            std::chrono::seconds(1));
  RunResult d = daemon.Stop();
  EXPECT_EQ(d.exit_code, 0) << d.err;
  // The client got its final summary, as on Ctrl-C.
  RunResult client = session->Wait(5000);
  EXPECT_EQ(client.exit_code, 0) << client.err;
  EXPECT_NE(client.out.find("total"), std::string::npos) << client.out;
}

TEST(DaemonTest, RefusesASocketAnotherDaemonServes) {
  Sandbox sandbox;
  Daemon daemon(sandbox);
  RunResult second =
      RunProgram({sandbox.tracectld(), "--socket", sandbox.socket()},
                 {.timeout_ms = 10000});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.err.find("another tracectld is listening"),
            std::string::npos)
      << second.err;
  // The first one still serves.
  EXPECT_EQ(
      RunProgram({sandbox.tracectl(), "--socket", sandbox.socket(), "info"})
          .exit_code,
      0);
}

TEST(DaemonTest, LimitsSessionsPerUser) {
  Sandbox sandbox;
  Daemon daemon(sandbox, {"--max-sessions-per-user", "1"});
  const int before = CountBpfPrograms();
  auto first = Process::Start(
      {sandbox.tracectl(), "--socket", sandbox.socket(), "syscalls"});
  ASSERT_EQ(WaitForBpfPrograms(before + kSyscallsPrograms, 5000),
            before + kSyscallsPrograms);
  RunResult second =
      RunProgram({sandbox.tracectl(), "--socket", sandbox.socket(), "syscalls",
                  "--duration", "1"});
  EXPECT_NE(second.exit_code, 0);
  EXPECT_NE(second.err.find("limit reached"), std::string::npos) << second.err;
  first->Signal(SIGINT);
  EXPECT_EQ(first->Wait().exit_code, 0);
}

TEST(DaemonTest, WithoutPrivilegesSaysWhichIsMissing) {
  Sandbox sandbox;
  RunResult r =
      RunProgram({sandbox.tracectld(), "--socket", sandbox.dir() + "/x.sock"},
                 {.as_nobody = true, .timeout_ms = 10000});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("missing CAP_BPF"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace tracectl::testing
