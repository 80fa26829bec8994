// Stops every thread of a process for a moment and copies what the DWARF
// unwinder needs of each (its user registers, the top of its user stack),
// as pstack or eu-stack do: for `tracectl stack`.
//
// Whose ptrace: the calls come from a child process forked for the request
// that takes the caller's identity wholly (real, effective and saved uid and
// gid, no groups, no capabilities), so the kernel's ptrace check is the
// caller's own. Lowering a daemon thread (daemon/thread_credentials.h) is
// not enough: it changes the fsuid, and PTRACE_SEIZE and process_vm_readv
// check the real uid (PTRACE_MODE_ATTACH_REALCREDS), so a lowered thread
// may still stop a root process that has no more capabilities than the
// daemon; and a daemon thread whose real uid were the caller's could be
// signalled (SIGKILL, SIGSTOP: the whole daemon) by that user.
//
// The child: no daemon file descriptor but its socket, not dumpable (the
// caller cannot ptrace it or open its /proc files), killed with its parent
// thread, bounded by the deadline. It shares with the daemon one mapping,
// where it writes the copies. If it dies, the kernel detaches its tracees
// and they run on; any stop signal they were reporting is kept.
//
// Everything here runs in the calling thread: its credentials may be
// lowered (the child restores the daemon's capabilities before it takes the
// caller's identity).
#ifndef TRACECTL_DAEMON_THREAD_STOPPER_H_
#define TRACECTL_DAEMON_THREAD_STOPPER_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

struct profile_sample;

namespace tracectl {

struct StopOptions {
  // The identity to ptrace as; none: the daemon's own (an admin's request).
  std::optional<uid_t> uid;
  gid_t gid = 0;
  // Threads not stopped by then are left running (and reported so).
  absl::Time stop_deadline;
  // The threads run on by then whatever the caller does: Resume() earlier.
  absl::Time resume_deadline;
  // Threads beyond this many are not stopped (counted).
  int max_threads = 256;
};

enum class StopState {
  kStopped,     // registers and stack copied
  kNotStopped,  // did not stop by the stop deadline
  kGone,        // exited meanwhile
};

struct StoppedThread {
  pid_t tid = 0;
  StopState state = StopState::kGone;
  // kStopped: tgid, tid, flags SAMPLE_USER_REGS, user_regs, ustack_addr,
  // ustack_bytes and ustack, as bpf/profile.bpf.c fills them (the rest
  // zero). Lives as long as the StoppedProcess.
  const profile_sample* sample = nullptr;
};

class StoppedProcess {
 public:
  // Stops the threads `tids` of `pid` (and any it finds started meanwhile
  // in /proc/PID/task), copies their registers and stacks, and returns with
  // them stopped until Resume(). Errors: PERMISSION_DENIED (the identity
  // may not ptrace a thread: every thread is let go), FAILED_PRECONDITION
  // naming the other tracer when a thread is traced already, NOT_FOUND when
  // every thread is gone, DEADLINE_EXCEEDED, INTERNAL.
  static absl::StatusOr<std::unique_ptr<StoppedProcess>> Stop(
      pid_t pid, const std::vector<pid_t>& tids, const StopOptions& options);

  ~StoppedProcess();  // Resume()s
  StoppedProcess(const StoppedProcess&) = delete;
  StoppedProcess& operator=(const StoppedProcess&) = delete;

  // Lets every thread run on (PTRACE_DETACH, passing on any signal it was
  // stopped for) and reaps the child. The copies stay readable.
  absl::Status Resume();

  const std::vector<StoppedThread>& threads() const { return threads_; }
  // Threads beyond max_threads, not stopped.
  int over_limit() const { return over_limit_; }
  // From the first PTRACE_SEIZE until the child said all were stopped.
  absl::Duration stop_time() const { return stop_time_; }

 private:
  StoppedProcess() = default;

  pid_t child_ = -1;
  int socket_ = -1;
  void* shared_ = nullptr;
  size_t shared_bytes_ = 0;
  bool resumed_ = false;
  std::vector<StoppedThread> threads_;
  int over_limit_ = 0;
  absl::Duration stop_time_;
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_THREAD_STOPPER_H_
