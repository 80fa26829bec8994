// The processes one ptrace session traces, on a tracer thread of its own
// (ptrace requests come from the thread that attached; it waits with
// __WNOTHREAD, so sessions never see each other's tracees): every thread of
// the targets is seized and interrupted before Seize returns, new threads
// and (when followed) children are seized as they come, exec is followed,
// signals are delivered, group stops kept with PTRACE_LISTEN, and Stop lets
// every task go, running on untraced. An Observer sees each call's entry
// and exit stops, on the tracer thread.
//
// With a seccomp filter in a held command (strace --seccomp-bpf's way), the
// tasks run on with PTRACE_CONT and stop only at the filter's
// PTRACE_EVENT_SECCOMP (a call's entry) and that call's exit. Such a task
// cannot be let go: the filter stays, and without a tracer its calls would
// fail with ENOSYS. Stop then stops observing and returns, and the thread
// goes on resuming them (a shepherd) until they exit.
#ifndef TRACECTL_DAEMON_PTRACE_TRACEES_H_
#define TRACECTL_DAEMON_PTRACE_TRACEES_H_

#include <pthread.h>
#include <sys/ptrace.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>

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
    bool uncounted = false;   // the call in progress is not observed
    bool fresh = false;       // seized by an event: its first stop is to come
    bool detaching = false;   // to be let go at its next stop
    bool shepherded = false;  // under the filter after Stop: resumed only
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
    // A thread other than the leader exec'd: it is `tid` (the leader's id)
    // from now on, `former` is gone; its execve is still in progress.
    virtual void OnTidChange(pid_t former, pid_t tid) {}
    // The thread exited (or was let go): nothing more comes of it.
    virtual void OnGone(pid_t tid) {}
  };

  // Seizes every thread of filter.tgids; FAILED_PRECONDITION naming the
  // tracer when one is already traced. `observe_restarts`: also observe
  // the restart of a call a task was blocked in when seized. `seccomp`:
  // filter.held_command will install a SECCOMP_RET_TRACE filter before its
  // exec (taken only while fewer than kMaxSeccompSessions run or shepherd:
  // seccomp() says which). The tracer thread holds a reference of its own.
  static absl::StatusOr<std::shared_ptr<Tracees>> Seize(
      const KernelFilter& filter, bool observe_restarts, Observer* observer,
      bool seccomp = false);
  static constexpr int kMaxSeccompSessions = 64;
  // Stop() must have been called.
  ~Tracees() = default;
  Tracees(const Tracees&) = delete;
  Tracees& operator=(const Tracees&) = delete;

  // Observes no more calls and lets every task go (a signal it was about
  // to get still delivered): detached, or under a seccomp filter
  // shepherded until it exits. No Observer call comes after it returns.
  // Idempotent.
  void Stop();
  bool seccomp() const { return seccomp_; }
  // Threads that vanished from ptrace unseen (ECHILD).
  uint64_t lost() const;

 private:
  Tracees(const KernelFilter& filter, bool observe_restarts, Observer* observer,
          bool seccomp)
      : filter_(filter),
        observe_restarts_(observe_restarts),
        observer_(observer),
        seccomp_(seccomp) {}

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
  const bool seccomp_;

  // Tracer thread only.
  std::map<pid_t, Task> tasks_;
  bool stopping_ = false;
  bool shepherding_ = false;

  pthread_t thread_{};  // detached: it ends by itself
  std::atomic<bool> stop_requested_{false};

  mutable absl::Mutex mu_;
  bool attached_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status attach_status_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;  // the tracer thread let go
  // Stop is done: the tasks left are shepherded, nothing is observed.
  bool shepherd_acked_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t lost_tasks_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_PTRACE_TRACEES_H_
