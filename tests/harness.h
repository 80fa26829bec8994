// Runs real programs for the integration tests: tracectld on a temporary
// socket, tracectl, helpers, as root or as an unprivileged user.
#ifndef TRACECTL_TESTS_HARNESS_H_
#define TRACECTL_TESTS_HARNESS_H_

#include <gtest/gtest.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tracectl::testing {

inline constexpr uid_t kNobody = 65534;

struct RunResult {
  int exit_code = -1;  // 128+N when killed by signal N; -1 on timeout
  std::string out;
  std::string err;
};

struct RunOptions {
  bool as_nobody = false;   // setpriv to uid/gid 65534, no groups
  bool stdin_pipe = false;  // else stdin is /dev/null
  int timeout_ms = 60000;
};

// A program running in the background, its output going to files.
class Process {
 public:
  static std::unique_ptr<Process> Start(const std::vector<std::string>& argv,
                                        const RunOptions& options = {});
  ~Process();  // kills it if still running

  pid_t pid() const { return pid_; }
  void WriteStdin(const std::string& data);
  void CloseStdin();
  void Signal(int sig);
  bool Running();
  // Waits up to timeout_ms for `text` in its standard output.
  bool WaitForOutput(const std::string& text, int timeout_ms = 10000);
  // The same, in its standard error.
  bool WaitForError(const std::string& text, int timeout_ms = 10000);
  // What it has written to its standard error so far.
  std::string ErrorSoFar() const;
  // Waits for exit (or kills it after timeout_ms) and collects its output.
  RunResult Wait(int timeout_ms = 60000);

 private:
  Process() = default;
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  std::string out_path_, err_path_;
};

RunResult RunProgram(const std::vector<std::string>& argv,
                     const RunOptions& options = {});

// A world-readable temporary directory holding copies of the binaries under
// test, so that an unprivileged user can run them, and the daemon's socket.
class Sandbox {
 public:
  Sandbox();
  ~Sandbox();
  const std::string& dir() const { return dir_; }
  std::string socket() const { return dir_ + "/tracectld.sock"; }
  std::string tracectl() const { return dir_ + "/tracectl"; }
  std::string tracectld() const { return dir_ + "/tracectld"; }
  std::string helper() const { return dir_ + "/syscall_helper"; }
  std::string hot_helper() const { return dir_ + "/hot_helper"; }
  std::string no_bpf() const { return dir_ + "/no_bpf"; }

 private:
  std::string dir_;
};

// Whether a 64-bit program may make 32-bit system calls (int 0x80) here:
// some hypervisors give a guest none (seen in a PVM guest on 6.18 with
// CONFIG_IA32_EMULATION=y: the helper dies of SIGSEGV untraced).
bool Int80Works(const Sandbox& sandbox);

// A tracectld serving a socket of its own.
class Daemon {
 public:
  // Starts it (after `launcher`, a program that runs it, if any) and waits
  // until `tracectl info` answers.
  explicit Daemon(const Sandbox& sandbox,
                  const std::vector<std::string>& extra_flags = {},
                  const std::vector<std::string>& launcher = {});
  ~Daemon();
  Process& process() { return *process_; }
  // Stops it with SIGTERM; returns its result.
  RunResult Stop();

 private:
  std::unique_ptr<Process> process_;
};

// A test suite sharing one sandbox and one daemon.
class DaemonTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();

  // tracectl --socket SOCKET ARGS...
  static std::vector<std::string> Tracectl(std::vector<std::string> args);
  static RunResult RunTracectl(std::vector<std::string> args,
                               const RunOptions& options = {});
  // Starts tracectl in the background and returns once its session's
  // sys_enter and sys_exit programs are attached.
  static std::unique_ptr<Process> StartSession(std::vector<std::string> args,
                                               const RunOptions& options = {});

  static Sandbox* sandbox_;
  static Daemon* daemon_;
};

// A suite run against both backends: each test runs against a BPF daemon
// and against `tracectld --backend ptrace`, with the same assertions
// (INSTANTIATE_TEST_SUITE_P with ::testing::Values("bpf", "ptrace")).
class BackendsTest : public ::testing::TestWithParam<const char*> {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  bool ptrace() const { return std::string(GetParam()) == "ptrace"; }
  const Sandbox& sandbox() const {
    return ptrace() ? *ptrace_sandbox_ : *bpf_sandbox_;
  }
  Daemon& daemon() { return ptrace() ? *ptrace_ : *bpf_; }
  // tracectl --socket SOCKET ARGS... of this test's daemon.
  std::vector<std::string> Tracectl(std::vector<std::string> args) const;
  RunResult RunTracectl(std::vector<std::string> args,
                        const RunOptions& options = {}) {
    return RunProgram(Tracectl(std::move(args)), options);
  }
  // Starts a session on `pid` and returns once it traces: its programs are
  // attached (BPF), or `pid` has a tracer (ptrace).
  std::unique_ptr<Process> StartPidSession(std::vector<std::string> args,
                                           pid_t pid,
                                           const RunOptions& options = {});

  static Sandbox* bpf_sandbox_;
  static Sandbox* ptrace_sandbox_;
  static Daemon* bpf_;
  static Daemon* ptrace_;
};

// A file's whole contents ("" if it cannot be read).
std::string ReadFile(const std::string& path);
// The lines of `text`, without their newlines.
std::vector<std::string> Lines(const std::string& text);
// How many lines of `text` match the regular expression `pattern`.
int CountMatching(const std::string& text, const std::string& pattern);

// The TracerPid of process `pid` (0: none; -1: no such process).
int TracerOf(pid_t pid);

// Every BPF program loaded in the kernel right now.
int CountBpfPrograms();
// Every BPF link (attached program) in the kernel right now.
int CountBpfLinks();
// Waits up to 5 s until at least `at_least` BPF links exist (a session has
// attached); returns how many there are then.
int WaitForBpfLinks(int at_least);
// The count once it has not changed for half a second (at most 5 s), so
// that sessions ending from earlier tests are not counted.
int SettledBpfProgramCount();
// Waits up to timeout_ms until CountBpfPrograms() == n; returns the last count.
int WaitForBpfPrograms(int n, int timeout_ms);

// One row of `tracectl syscalls --json`.
struct SyscallFigures {
  std::string name;
  int pid = 0;
  std::string comm;
  uint64_t calls = 0;
  uint64_t errors = 0;
  std::map<std::string, uint64_t> errnos;
  uint64_t total_ns = 0;
};
std::vector<SyscallFigures> ParseSyscallsJson(const std::string& json);
// The row named `name` (and pid, when nonzero); calls == 0 when absent.
SyscallFigures FindRow(const std::vector<SyscallFigures>& rows,
                       const std::string& name, int pid = 0);

// `strace -c` rows by syscall name: {calls, errors}.
std::map<std::string, std::pair<uint64_t, uint64_t>> ParseStraceSummary(
    const std::string& table);

// One folded line: frames root first, and the count.
struct FoldedStack {
  std::vector<std::string> frames;
  uint64_t samples = 0;
};
// `tracectl flame --format folded` output, line by line.
std::vector<FoldedStack> ParseFolded(const std::string& text);
// Samples whose stack holds `chain` as consecutive frames, ending at the
// leaf when `at_leaf`.
uint64_t SamplesWith(const std::vector<FoldedStack>& stacks,
                     const std::vector<std::string>& chain, bool at_leaf);
uint64_t Total(const std::vector<FoldedStack>& stacks);

}  // namespace tracectl::testing

#endif  // TRACECTL_TESTS_HARNESS_H_
