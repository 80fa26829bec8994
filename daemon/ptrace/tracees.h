// The processes one ptrace session traces, on a tracer thread of its own
// (ptrace requests come from the thread that attached; it waits with
// __WNOTHREAD, so sessions never see each other's tracees): every thread of
// the targets is seized and interrupted before Seize returns, new threads
// and (when followed) children are seized as they come, exec is followed,
// signals are delivered, group stops kept with PTRACE_LISTEN, and Stop lets
// every task go, running on untraced. An Observer sees each call's entry
// and exit stops, on the tracer thread.
#ifndef TRACECTL_DAEMON_PTRACE_TRACEES_H_
#define TRACECTL_DAEMON_PTRACE_TRACEES_H_

#include <pthread.h>
#include <sys/ptrace.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "daemon/kernel_filter.h"

namespace tracectl {

class Tracees {
 public:
  // A traced thread, as the tracer thread knows it.
  struct Task {
    pid_t tgid = 0;
    bool in_call = false;     // between its entry stop and its exit stop
    uint32_t nr = 0;          // with COMPAT_SYSCALL_BIT for a 32-bit call
    uint64_t entered_ns = 0;  // CLOCK_MONOTONIC at the entry stop
    // The call it was blocked in when seized (-1: none): its restart is
    // not observed.
    long blocked_in = -1;
    bool uncounted = false;  // the call in progress is not observed
    bool fresh = false;      // seized by an event: its first stop is to come
    bool detaching = false;  // to be let go at its next stop
  };

  class Observer {
   public:
    virtual ~Observer() = default;
    // A call began (task.nr, task.entered_ns are set).
    virtual void OnEntry(pid_t tid, const Task& task,
                         const __ptrace_syscall_info& info) = 0;
    // It ended `duration_ns` later with `rval`. An execve that makes the
    // process one the caller may not trace ends here as a success, and
    // nothing of the process is observed after it.
    virtual void OnExit(pid_t tid, const Task& task, bool is_error,
                        int64_t rval, uint64_t duration_ns) = 0;
  };

  // Seizes every thread of filter.tgids; FAILED_PRECONDITION naming the
  // tracer when one is already traced. `observe_restarts`: also observe
  // the restart of a call a task was blocked in when seized.
  static absl::StatusOr<std::unique_ptr<Tracees>> Seize(
      const KernelFilter& filter, bool observe_restarts, Observer* observer);
  // Stop()s first.
  ~Tracees();
  Tracees(const Tracees&) = delete;
  Tracees& operator=(const Tracees&) = delete;

  // Observes no more calls, lets every task go (a signal it was about to
  // get still delivered), and ends the tracer thread. Idempotent.
  void Stop();
  // Threads that vanished from ptrace unseen (ECHILD).
  uint64_t lost() const;

 private:
  Tracees(const KernelFilter& filter, bool observe_restarts, Observer* observer)
      : filter_(filter),
        observe_restarts_(observe_restarts),
        observer_(observer) {}

  // The tracer thread: seizes, then serves stops until Stop has let go of
  // every task. attached_ is set once seizing is done.
  void Run();
  absl::Status SeizeAll();
  absl::Status Seize(pid_t tid, pid_t tgid);
  // One wait status of `tid`.
  void OnStop(pid_t tid, int status);
  void OnSyscallStop(pid_t tid, Task& task);
  // Resumes `tid` to its next call stop, delivering `signal`, or lets it go
  // when stopping.
  void Resume(pid_t tid, int signal);
  // A new thread or child, known by an event or by its first stop.
  void Adopt(pid_t tid);
  // Forgets `tid` (it exited, or was let go).
  void Drop(pid_t tid);
  void BeginStopping();

  const KernelFilter filter_;
  const bool observe_restarts_;
  Observer* const observer_;

  // Tracer thread only.
  std::map<pid_t, Task> tasks_;
  bool stopping_ = false;

  std::thread thread_;
  std::atomic<bool> stop_requested_{false};

  mutable absl::Mutex mu_;
  bool attached_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status attach_status_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;  // the tracer thread let go
  uint64_t lost_tasks_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_PTRACE_TRACEES_H_
