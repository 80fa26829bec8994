// Runs `-- CMD ARGS` as the calling user, held before its first instruction
// until the daemon's filter is in place, and waits for it and every process
// it starts.
#ifndef TRACECTL_CLIENT_LAUNCHER_H_
#define TRACECTL_CLIENT_LAUNCHER_H_

#include <linux/filter.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tracectl {

class Launcher {
 public:
  // Resolves argv[0] on PATH (NOT_FOUND, PERMISSION_DENIED) and forks a
  // child that waits for Release() before it execs. Returns once the child
  // is blocked waiting: it makes no system call before Release but the end
  // of that wait.
  static absl::StatusOr<std::unique_ptr<Launcher>> Prepare(
      const std::vector<std::string>& argv);
  // A child never released exits without running the command. A released
  // command is the user's: it is left to run.
  ~Launcher();
  Launcher(const Launcher&) = delete;
  Launcher& operator=(const Launcher&) = delete;

  pid_t pid() const { return pid_; }
  // Lets the child exec the command; with `seccomp_trace`, after it has
  // installed SeccompTraceFilter(seccomp_trace) (it exits 126 saying why
  // when it cannot).
  void Release(const std::vector<uint32_t>& seccomp_trace = {});
  // Waits until the command and all its descendants have exited (this
  // process is their subreaper); returns the command's exit status as a
  // shell reports it (128+N when killed by signal N).
  int WaitAll();
  // Whether the command itself (not its descendants) has exited, and how.
  bool CommandExited() const { return exited_; }
  int ExitCode() const { return exit_code_; }

 private:
  Launcher(pid_t pid, int release_fd) : pid_(pid), release_fd_(release_fd) {}

  const pid_t pid_;
  int release_fd_;
  std::atomic<bool> exited_{false};
  std::atomic<int> exit_code_{0};
};

// A classic BPF seccomp program: SECCOMP_RET_TRACE for the x86_64 calls
// `numbers`, SECCOMP_RET_ALLOW for every other call (strace
// --seccomp-bpf's filter, as a linear list).
std::vector<sock_filter> SeccompTraceFilter(
    const std::vector<uint32_t>& numbers);

// The executable argv0 names, searched on $PATH when it has no '/'.
absl::StatusOr<std::string> FindExecutable(const std::string& argv0);

}  // namespace tracectl

#endif  // TRACECTL_CLIENT_LAUNCHER_H_
