// The ptrace backend's syscall counter: a tracer thread of its own seizes
// every thread of the target processes (and, following, their new
// threads and children), stops them at each call's entry and exit, and
// counts the call at its exit as the BPF programs do. PTRACE_GET_SYSCALL_INFO
// (Linux 5.3) gives the number, the architecture and the result.
#ifndef TRACECTL_DAEMON_PTRACE_PTRACE_SYSCALL_COUNTER_H_
#define TRACECTL_DAEMON_PTRACE_PTRACE_SYSCALL_COUNTER_H_

#include <pthread.h>
#include <sys/types.h>

#include <atomic>
#include <map>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/backend.h"
#include "daemon/kernel_filter.h"
#include "daemon/syscall_rows.h"

namespace tracectl {

class PtraceSyscallCounter final : public SyscallCounter {
 public:
  // Seizes every thread of filter.tgids before returning: a held command
  // is stopped before it runs a single call of its own. FAILED_PRECONDITION
  // naming the tracer when one of them is already traced.
  static absl::StatusOr<std::unique_ptr<PtraceSyscallCounter>> Start(
      const KernelFilter& filter, const SyscallCountSettings& settings);
  // Detaches from everything (Finish) first.
  ~PtraceSyscallCounter() override;
  PtraceSyscallCounter(const PtraceSyscallCounter&) = delete;
  PtraceSyscallCounter& operator=(const PtraceSyscallCounter&) = delete;

  absl::StatusOr<v1::SyscallsSummary> Snapshot() override;
  // Stops counting, detaches from every task (each runs on untraced, a
  // signal it was about to get delivered), then returns the counts.
  absl::StatusOr<v1::SyscallsSummary> Finish() override;

 private:
  // A traced thread, as the tracer thread knows it.
  struct Task {
    pid_t tgid = 0;
    bool in_call = false;  // between its entry stop and its exit stop
    uint32_t nr = 0;       // with COMPAT_SYSCALL_BIT for a 32-bit call
    uint64_t entered_ns = 0;
    // The call it was blocked in when seized (-1: none): its restart is
    // not counted.
    long blocked_in = -1;
    bool uncounted = false;  // the call in progress is not counted
    bool fresh = false;      // seized by an event: its first stop is to come
    bool detaching = false;  // to be let go at its next stop
  };

  PtraceSyscallCounter(const KernelFilter& filter,
                       const SyscallCountSettings& settings)
      : filter_(filter), settings_(settings), started_(absl::Now()) {}

  // The tracer thread: seizes, then serves stops until Finish has let go
  // of every task. attached_ is set once seizing is done.
  void Run();
  absl::Status SeizeAll();
  absl::Status Seize(pid_t tid, pid_t tgid);
  // One wait status of `tid`.
  void OnStop(pid_t tid, int status);
  void OnSyscallStop(pid_t tid, Task& task);
  // Counts the task's call, ending now with `rval`.
  void Count(const Task& task, bool is_error, int64_t rval);
  // Resumes `tid` to its next call stop, delivering `signal`, or lets it go
  // when stopping.
  void Resume(pid_t tid, int signal);
  // A new thread or child, known by an event or by its first stop.
  void Adopt(pid_t tid);
  // Forgets `tid` (it exited, or was let go).
  void Drop(pid_t tid);
  void BeginStopping();
  v1::SyscallsSummary Summary() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const KernelFilter filter_;
  const SyscallCountSettings settings_;
  const absl::Time started_;

  // Tracer thread only.
  std::map<pid_t, Task> tasks_;
  bool stopping_ = false;

  std::thread thread_;
  pthread_t thread_handle_{};
  std::atomic<bool> stop_requested_{false};

  mutable absl::Mutex mu_;
  bool attached_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status attach_status_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;  // the tracer thread let go
  std::map<SyscallRowKey, SyscallRowTotals> totals_ ABSL_GUARDED_BY(mu_);
  absl::Time finished_at_ ABSL_GUARDED_BY(mu_);
  uint64_t lost_tasks_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_PTRACE_PTRACE_SYSCALL_COUNTER_H_
