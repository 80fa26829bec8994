#include "tests/harness.h"

#include <bpf/bpf.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace tracectl::testing {
namespace fs = std::filesystem;
namespace {

void SleepMs(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

}  // namespace

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

int CountMatching(const std::string& text, const std::string& pattern) {
  const std::regex re(pattern);
  int n = 0;
  for (const std::string& line : Lines(text)) {
    if (std::regex_search(line, re)) ++n;
  }
  return n;
}

std::unique_ptr<Process> Process::Start(const std::vector<std::string>& argv,
                                        const RunOptions& options) {
  std::unique_ptr<Process> p(new Process());
  char tmpl[] = "/tmp/tracectl-run-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp");
  p->out_path_ = std::string(tmpl) + "/out";
  p->err_path_ = std::string(tmpl) + "/err";
  std::vector<std::string> full;
  if (options.as_nobody) {
    full = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"};
  }
  full.insert(full.end(), argv.begin(), argv.end());
  std::vector<char*> args;
  for (auto& a : full) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  int in_pipe[2] = {-1, -1};
  if (options.stdin_pipe && pipe2(in_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe");
  }
  const int out =
      open(p->out_path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  const int err =
      open(p->err_path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  p->pid_ = fork();
  if (p->pid_ == 0) {
    const int in =
        options.stdin_pipe ? in_pipe[0] : open("/dev/null", O_RDONLY);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(out);
  close(err);
  if (options.stdin_pipe) {
    close(in_pipe[0]);
    p->stdin_fd_ = in_pipe[1];
  }
  return p;
}

Process::~Process() {
  if (!reaped_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status_, 0);
  }
  CloseStdin();
  fs::remove_all(fs::path(out_path_).parent_path());
}

void Process::WriteStdin(const std::string& data) {
  if (write(stdin_fd_, data.data(), data.size()) !=
      static_cast<ssize_t>(data.size())) {
    throw std::runtime_error("write to stdin");
  }
}

void Process::CloseStdin() {
  if (stdin_fd_ >= 0) close(stdin_fd_);
  stdin_fd_ = -1;
}

void Process::Signal(int sig) {
  if (!reaped_) kill(pid_, sig);
}

bool Process::Running() {
  if (reaped_) return false;
  if (waitpid(pid_, &status_, WNOHANG) == pid_) reaped_ = true;
  return !reaped_;
}

namespace {

bool WaitForText(const std::string& path, const std::string& text,
                 int timeout_ms) {
  for (int waited = 0; waited <= timeout_ms; waited += 10) {
    if (ReadFile(path).find(text) != std::string::npos) return true;
    SleepMs(10);
  }
  return false;
}

}  // namespace

bool Process::WaitForOutput(const std::string& text, int timeout_ms) {
  return WaitForText(out_path_, text, timeout_ms);
}

bool Process::WaitForError(const std::string& text, int timeout_ms) {
  return WaitForText(err_path_, text, timeout_ms);
}

std::string Process::ErrorSoFar() const { return ReadFile(err_path_); }

RunResult Process::Wait(int timeout_ms) {
  RunResult result;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  bool timed_out = false;
  while (Running()) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status_, 0);
      reaped_ = true;
      timed_out = true;
      break;
    }
    SleepMs(5);
  }
  if (timed_out) {
    result.exit_code = -1;
  } else if (WIFEXITED(status_)) {
    result.exit_code = WEXITSTATUS(status_);
  } else if (WIFSIGNALED(status_)) {
    result.exit_code = 128 + WTERMSIG(status_);
  }
  result.out = ReadFile(out_path_);
  result.err = ReadFile(err_path_);
  return result;
}

RunResult RunProgram(const std::vector<std::string>& argv,
                     const RunOptions& options) {
  return Process::Start(argv, options)->Wait(options.timeout_ms);
}

Sandbox::Sandbox() {
  char tmpl[] = "/tmp/tracectl-test-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp");
  dir_ = tmpl;
  chmod(dir_.c_str(), 0755);
  for (const char* bin :
       {TRACECTL_BIN, TRACECTLD_BIN, SYSCALL_HELPER_BIN, HOT_HELPER_BIN,
        HOT_CPP_HELPER_BIN, JIT_HELPER_BIN, CALLS_HELPER_BIN, NO_BPF_BIN}) {
    const fs::path to = fs::path(dir_) / fs::path(bin).filename();
    fs::copy_file(bin, to);
    chmod(to.c_str(), 0755);
  }
}

Sandbox::~Sandbox() { fs::remove_all(dir_); }

bool Int80Works(const Sandbox& sandbox) {
  return RunProgram({sandbox.helper(), "--int80", "1"}).exit_code == 0;
}

Daemon::Daemon(const Sandbox& sandbox,
               const std::vector<std::string>& extra_flags,
               const std::vector<std::string>& launcher) {
  std::vector<std::string> argv = launcher;
  argv.insert(argv.end(), {sandbox.tracectld(), "--socket", sandbox.socket()});
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  process_ = Process::Start(argv);
  for (int i = 0; i < 200; ++i) {
    if (!process_->Running()) break;
    if (RunProgram({sandbox.tracectl(), "--socket", sandbox.socket(), "info"})
            .exit_code == 0) {
      return;
    }
    SleepMs(50);
  }
  RunResult r = Stop();
  throw std::runtime_error("tracectld did not start: " + r.err);
}

Daemon::~Daemon() {
  if (process_->Running()) Stop();
}

RunResult Daemon::Stop() {
  process_->Signal(SIGTERM);
  return process_->Wait(10000);
}

int TracerOf(pid_t pid) {
  const std::string status =
      ReadFile("/proc/" + std::to_string(pid) + "/status");
  const size_t at = status.find("\nTracerPid:");
  if (at == std::string::npos) return -1;
  return std::atoi(status.c_str() + at + strlen("\nTracerPid:"));
}

int CountBpfPrograms() {
  int count = 0;
  __u32 id = 0;
  while (bpf_prog_get_next_id(id, &id) == 0) ++count;
  return count;
}

int CountBpfLinks() {
  int count = 0;
  __u32 id = 0;
  while (bpf_link_get_next_id(id, &id) == 0) ++count;
  return count;
}

int WaitForBpfLinks(int at_least) {
  int count = CountBpfLinks();
  for (int i = 0; i < 500 && count < at_least; ++i) {
    SleepMs(10);
    count = CountBpfLinks();
  }
  return count;
}

int SettledBpfProgramCount() {
  int count = CountBpfPrograms();
  for (int stable = 0, waited = 0; stable < 500 && waited < 5000;
       waited += 10) {
    SleepMs(10);
    const int now = CountBpfPrograms();
    stable = now == count ? stable + 10 : 0;
    count = now;
  }
  return count;
}

int WaitForBpfPrograms(int n, int timeout_ms) {
  int count = CountBpfPrograms();
  for (int waited = 0; count != n && waited < timeout_ms; waited += 10) {
    SleepMs(10);
    count = CountBpfPrograms();
  }
  return count;
}

std::vector<SyscallFigures> ParseSyscallsJson(const std::string& json) {
  static const std::regex row(
      R"re(\{"name":"([^"]+)","number":-?\d+(?:,"pid":(\d+),"comm":"((?:[^"\\]|\\.)*)")?,"calls":(\d+),"errors":(\d+),"errnos":\{([^}]*)\},"total_ns":(\d+))re");
  static const std::regex errno_entry(R"re("(E[A-Z0-9]+)":(\d+))re");
  std::vector<SyscallFigures> rows;
  for (auto it = std::sregex_iterator(json.begin(), json.end(), row);
       it != std::sregex_iterator(); ++it) {
    const std::smatch& m = *it;
    SyscallFigures f;
    f.name = m[1];
    if (m[2].matched) f.pid = std::stoi(m[2]);
    f.comm = m[3];
    f.calls = std::stoull(m[4]);
    f.errors = std::stoull(m[5]);
    const std::string errnos = m[6];
    for (auto e =
             std::sregex_iterator(errnos.begin(), errnos.end(), errno_entry);
         e != std::sregex_iterator(); ++e) {
      f.errnos[(*e)[1]] = std::stoull((*e)[2]);
    }
    f.total_ns = std::stoull(m[7]);
    rows.push_back(std::move(f));
  }
  return rows;
}

SyscallFigures FindRow(const std::vector<SyscallFigures>& rows,
                       const std::string& name, int pid) {
  for (const SyscallFigures& f : rows) {
    if (f.name == name && (pid == 0 || f.pid == pid)) return f;
  }
  SyscallFigures none;
  none.name = name;
  return none;
}

std::map<std::string, std::pair<uint64_t, uint64_t>> ParseStraceSummary(
    const std::string& table) {
  // "% time seconds usecs/call calls errors syscall": errors may be blank.
  static const std::regex row(
      R"re(^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:(\d+)\s+)?([a-z_0-9]+)\s*$)re");
  std::map<std::string, std::pair<uint64_t, uint64_t>> rows;
  std::istringstream in(table);
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, row) && m[3] != "total") {
      rows[m[3]] = {std::stoull(m[1]), m[2].matched ? std::stoull(m[2]) : 0};
    }
  }
  return rows;
}

Sandbox* DaemonTest::sandbox_ = nullptr;
Daemon* DaemonTest::daemon_ = nullptr;

void DaemonTest::SetUpTestSuite() {
  sandbox_ = new Sandbox();
  daemon_ = new Daemon(*sandbox_);
}

void DaemonTest::TearDownTestSuite() {
  delete daemon_;
  daemon_ = nullptr;
  delete sandbox_;
  sandbox_ = nullptr;
}

Sandbox* BackendsTest::bpf_sandbox_ = nullptr;
Sandbox* BackendsTest::ptrace_sandbox_ = nullptr;
Daemon* BackendsTest::bpf_ = nullptr;
Daemon* BackendsTest::ptrace_ = nullptr;

void BackendsTest::SetUpTestSuite() {
  bpf_sandbox_ = new Sandbox();
  bpf_ = new Daemon(*bpf_sandbox_);
  ptrace_sandbox_ = new Sandbox();
  ptrace_ = new Daemon(*ptrace_sandbox_, {"--backend", "ptrace"});
}

void BackendsTest::TearDownTestSuite() {
  delete bpf_;
  delete ptrace_;
  delete bpf_sandbox_;
  delete ptrace_sandbox_;
  bpf_ = ptrace_ = nullptr;
  bpf_sandbox_ = ptrace_sandbox_ = nullptr;
}

std::vector<std::string> BackendsTest::Tracectl(
    std::vector<std::string> args) const {
  args.insert(args.begin(),
              {sandbox().tracectl(), "--socket", sandbox().socket()});
  return args;
}

std::unique_ptr<Process> BackendsTest::StartPidSession(
    std::vector<std::string> args, pid_t pid, const RunOptions& options) {
  const int links = CountBpfLinks();
  auto session = Process::Start(Tracectl(std::move(args)), options);
  for (int i = 0; i < 500; ++i) {
    if (ptrace() ? TracerOf(pid) != 0 : CountBpfLinks() >= links + 2) break;
    SleepMs(10);
  }
  // The BPF session starts a moment after its links exist.
  SleepMs(300);
  return session;
}

std::vector<std::string> DaemonTest::Tracectl(std::vector<std::string> args) {
  args.insert(args.begin(),
              {sandbox_->tracectl(), "--socket", sandbox_->socket()});
  return args;
}

RunResult DaemonTest::RunTracectl(std::vector<std::string> args,
                                  const RunOptions& options) {
  return RunProgram(Tracectl(std::move(args)), options);
}

std::unique_ptr<Process> DaemonTest::StartSession(std::vector<std::string> args,
                                                  const RunOptions& options) {
  const int before = CountBpfLinks();
  auto p = Process::Start(Tracectl(std::move(args)), options);
  for (int i = 0; i < 500 && CountBpfLinks() < before + 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE(CountBpfLinks(), before + 2) << "the session did not start";
  return p;
}

std::vector<FoldedStack> ParseFolded(const std::string& text) {
  std::vector<FoldedStack> stacks;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    const size_t space = line.rfind(' ');
    FoldedStack stack;
    EXPECT_NE(space, absl::string_view::npos) << line;
    if (space == absl::string_view::npos) continue;
    EXPECT_TRUE(absl::SimpleAtoi(line.substr(space + 1), &stack.samples))
        << line;
    stack.frames = absl::StrSplit(line.substr(0, space), ';');
    stacks.push_back(std::move(stack));
  }
  return stacks;
}

// Samples whose stack holds `chain` as consecutive frames, ending at the
// leaf when `at_leaf`.
uint64_t SamplesWith(const std::vector<FoldedStack>& stacks,
                     const std::vector<std::string>& chain, bool at_leaf) {
  uint64_t n = 0;
  for (const FoldedStack& s : stacks) {
    if (s.frames.size() < chain.size()) continue;
    for (size_t i = 0; i + chain.size() <= s.frames.size(); ++i) {
      if (at_leaf && i + chain.size() != s.frames.size()) continue;
      if (std::equal(chain.begin(), chain.end(), s.frames.begin() + i)) {
        n += s.samples;
        break;
      }
    }
  }
  return n;
}

uint64_t Total(const std::vector<FoldedStack>& stacks) {
  uint64_t n = 0;
  for (const FoldedStack& s : stacks) n += s.samples;
  return n;
}

}  // namespace tracectl::testing
