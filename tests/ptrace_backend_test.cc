// The ptrace backend (daemon/ptrace/): what it refuses and why, attaching
// to a running program and letting it go, one tracer per process, and the
// daemon's own choice of it where bpf(2) fails. What it shares with the
// BPF backend runs against both in syscalls_integration_test.cc
// (BothBackendsTest).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "tests/harness.h"

namespace tracectl::testing {
namespace {

class PtraceBackendTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    sandbox_ = new Sandbox();
    daemon_ = new Daemon(*sandbox_, {"--backend", "ptrace"});
  }
  static void TearDownTestSuite() {
    delete daemon_;
    delete sandbox_;
  }
  static RunResult Tracectl(std::vector<std::string> args,
                            const RunOptions& options = {}) {
    args.insert(args.begin(),
                {sandbox_->tracectl(), "--socket", sandbox_->socket()});
    return RunProgram(args, options);
  }
  static Sandbox* sandbox_;
  static Daemon* daemon_;
};
Sandbox* PtraceBackendTest::sandbox_ = nullptr;
Daemon* PtraceBackendTest::daemon_ = nullptr;

TEST_F(PtraceBackendTest, InfoSaysTheBackendAndWhatItCannotDo) {
  RunResult r = Tracectl({"info"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("backend:  ptrace (syscalls, trace, profile)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("limits:   system-wide, --comm and --uid targets, "
                       "calls, call stacks (-k) and Python frames need the "
                       "BPF backend (tracectld --backend ptrace was given)"),
            std::string::npos)
      << r.out;
  RunResult json = Tracectl({"info", "--json"});
  EXPECT_NE(json.out.find("\"backend\":\"ptrace\""), std::string::npos)
      << json.out;
}

// FAILED_PRECONDITION with the reason, never an empty result.
TEST_F(PtraceBackendTest, WhatNeedsBpfIsRefusedWithTheReason) {
  const std::string reason =
      "this daemon runs the ptrace backend because tracectld --backend "
      "ptrace was given";
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"syscalls", "--duration", "1"}, "system-wide tracing needs"},
      {{"syscalls", "--comm", "sh", "--duration", "1"}, "--comm needs"},
      {{"syscalls", "--uid", "0", "--duration", "1"}, "--uid needs"},
      {{"trace", "-k", "--", "/bin/true"}, "call stacks (-k) need"},
      {{"files", "--duration", "1"}, "system-wide tracing needs"},
      {{"flame", "--duration", "1", "--format", "folded"},
       "system-wide tracing needs"},
      {{"top", "--comm", "sh", "--duration", "1"}, "--comm needs"},
      {{"calls", "-e", "libc:getenv", "--", "/bin/true"}, "calls needs"}};
  for (const auto& [args, what] : cases) {
    RunResult r = Tracectl(args, {.timeout_ms = 10000});
    EXPECT_EQ(r.exit_code, 1) << args[0] << ": " << r.err;
    EXPECT_NE(r.err.find(what + " the BPF backend; " + reason),
              std::string::npos)
        << args[0] << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}

// --pid: the program is traced for the session, then runs on untraced,
// its output as it would have been: signals sent to it meanwhile reach it
// (a handled SIGUSR1, a SIGSTOP and SIGCONT).
TEST_F(PtraceBackendTest, AttachedProgramRunsOnUntracedAfterTheSession) {
  // Counts to 40 in about 2 s, a line each, then exits 0.
  auto counter = Process::Start(
      {"/bin/sh", "-c",
       "trap 'echo usr1' USR1; i=0; while [ $i -lt 40 ]; do i=$((i+1)); "
       "echo $i; sleep 0.05; done"});
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto session = Process::Start(
      {sandbox_->tracectl(), "--socket", sandbox_->socket(), "syscalls",
       "--json", "--pid", std::to_string(counter->pid()), "--duration", "1"});
  for (int i = 0; i < 200 && TracerOf(counter->pid()) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_NE(TracerOf(counter->pid()), 0);
  kill(counter->pid(), SIGUSR1);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  kill(counter->pid(), SIGSTOP);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const std::string state =
      ReadFile("/proc/" + std::to_string(counter->pid()) + "/stat");
  const size_t paren = state.rfind(')');
  ASSERT_NE(paren, std::string::npos);
  EXPECT_TRUE(state[paren + 2] == 'T' || state[paren + 2] == 't') << state;
  kill(counter->pid(), SIGCONT);
  RunResult r = session->Wait();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = ParseSyscallsJson(r.out);
  // sh forks a sleep for each line and waits for it.
  EXPECT_GE(FindRow(rows, "wait4").calls, 3u) << r.out;
  EXPECT_EQ(TracerOf(counter->pid()), 0);
  RunResult out = counter->Wait(10000);
  EXPECT_EQ(out.exit_code, 0) << out.err;
  std::string numbers;
  int usr1 = 0;
  for (const std::string& line : Lines(out.out)) {
    if (line == "usr1") {
      ++usr1;
    } else {
      numbers += line + "\n";
    }
  }
  std::string expected;
  for (int i = 1; i <= 40; ++i) expected += std::to_string(i) + "\n";
  EXPECT_EQ(numbers, expected);
  EXPECT_EQ(usr1, 1) << out.out;
}

// A killed client ends its session: the target is let go at once.
TEST_F(PtraceBackendTest, KilledClientLetsItsTargetGo) {
  auto sleeper = Process::Start({"/bin/sleep", "30"});
  auto session =
      Process::Start({sandbox_->tracectl(), "--socket", sandbox_->socket(),
                      "syscalls", "--pid", std::to_string(sleeper->pid())});
  for (int i = 0; i < 200 && TracerOf(sleeper->pid()) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_NE(TracerOf(sleeper->pid()), 0);
  session->Signal(SIGKILL);
  session->Wait();
  for (int i = 0; i < 200 && TracerOf(sleeper->pid()) != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(TracerOf(sleeper->pid()), 0);
  EXPECT_TRUE(sleeper->Running());
}

// trace -e with a command: a seccomp filter in it stops only the selected
// calls (as strace --seccomp-bpf), and the records are as exact as ever.
TEST_F(PtraceBackendTest, SelectedCallsStopAloneUnderASeccompFilter) {
  RunResult r = Tracectl({"trace", "-e", "trace=getppid", "--",
                          sandbox_->helper(), "7", "3", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(CountMatching(r.err, "^getppid\\(\\) = [0-9]+$"), 7) << r.err;
  EXPECT_EQ(CountMatching(r.err, "openat"), 0) << r.err;
  RunResult status = Tracectl({"trace", "-e", "trace=openat", "--", "grep",
                               "Seccomp:", "/proc/self/status"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(status.out, "Seccomp:\t2\n");
  // Every call traced: no filter.
  RunResult all =
      Tracectl({"trace", "--", "grep", "Seccomp:", "/proc/self/status"});
  EXPECT_EQ(all.out, "Seccomp:\t0\n");
}

// A session that ends before its command (--duration) leaves the command
// under its filter: the daemon goes on resuming it, so its selected calls
// still work (let go, they would fail with ENOSYS).
TEST_F(PtraceBackendTest, CommandOutlivingItsFilteredSessionStillWorks) {
  RunResult r =
      Tracectl({"trace", "-e", "trace=openat", "--duration", "0.5", "--",
                "/bin/sh", "-c", "sleep 1.5; cat /etc/hostname"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, ReadFile("/etc/hostname"));
  EXPECT_NE(r.err.find("the session has ended; waiting for /bin/sh"),
            std::string::npos)
      << r.err;
}

// A process under strace already has its tracer: the error names it.
TEST_F(PtraceBackendTest, TargetUnderStraceGetsItsTracerNamed) {
  auto helper = Process::Start({sandbox_->helper(), "--loop", "20"});
  auto strace = Process::Start(
      {"strace", "-o", "/dev/null", "-p", std::to_string(helper->pid())});
  for (int i = 0; i < 500 && TracerOf(helper->pid()) != strace->pid(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(TracerOf(helper->pid()), strace->pid());
  RunResult r = Tracectl({"syscalls", "--pid", std::to_string(helper->pid()),
                          "--duration", "0.5"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("pid " + std::to_string(helper->pid()) +
                       " is already traced by pid " +
                       std::to_string(strace->pid()) + " (strace)"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  // The helper is strace's still, and runs on.
  EXPECT_EQ(TracerOf(helper->pid()), strace->pid());
  EXPECT_TRUE(helper->Running());
  strace->Signal(SIGINT);  // strace detaches
  strace->Wait();
  helper->Signal(SIGKILL);
  helper->Wait();
}

// Under a seccomp filter that makes bpf(2) fail with ENOSYS, the daemon
// picks the ptrace backend by itself, says why, and counts exactly.
TEST(PtraceAutoTest, DaemonWithoutBpfChoosesPtraceAndCountsExactly) {
  Sandbox sandbox;
  Daemon daemon(sandbox, {}, {sandbox.no_bpf()});
  EXPECT_TRUE(daemon.process().WaitForError(
      "no BPF (bpf(2) returned ENOSYS loading a two-instruction program): "
      "using the ptrace backend",
      1000))
      << daemon.process().ErrorSoFar();
  RunResult info =
      RunProgram({sandbox.tracectl(), "--socket", sandbox.socket(), "info"});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_NE(info.out.find("backend:  ptrace"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("(bpf(2) returned ENOSYS"), std::string::npos)
      << info.out;
  RunResult r =
      RunProgram({sandbox.tracectl(), "--socket", sandbox.socket(), "syscalls",
                  "--json", "--", sandbox.helper(), "1234", "321", "55"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = ParseSyscallsJson(r.out);
  EXPECT_EQ(FindRow(rows, "getppid").calls, 1234u) << r.out;
  EXPECT_EQ(FindRow(rows, "openat").errnos.at("ENOENT"), 321u) << r.out;
  EXPECT_EQ(FindRow(rows, "pipe2").calls, 55u) << r.out;
}

}  // namespace
}  // namespace tracectl::testing
