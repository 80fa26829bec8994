#include "daemon/ptrace/tracees.h"

#include <errno.h>
#include <linux/audit.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/small_file.h"
#include "daemon/authorizer.h"
#include "daemon/proc_tasks.h"
#include "syscalls.h"

namespace tracectl {
namespace {

// Interrupts the tracer thread's waitpid when Finish asks it to let go.
constexpr int kWakeSignal = SIGURG;

void NoOp(int) {}

void InstallWakeHandler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action {};
    action.sa_handler = NoOp;  // no SA_RESTART: waitpid returns EINTR
    sigemptyset(&action.sa_mask);
    sigaction(kWakeSignal, &action, nullptr);
  });
}

// Sessions with a seccomp filter, running or shepherding.
std::atomic<int> seccomp_sessions{0};

uint64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// How long the tracer thread waits, once stopping, for every task to stop
// and be detached; then it ends, and the kernel detaches the rest.
constexpr uint64_t kLetGoNs = 1000 * 1000 * 1000;

bool IsStopSignal(int sig) {
  return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

}  // namespace

absl::StatusOr<std::shared_ptr<Tracees>> Tracees::Seize(
    const KernelFilter& filter, bool observe_restarts, Observer* observer,
    bool seccomp) {
  if (filter.tgids.empty()) {
    return absl::InvalidArgumentError("ptrace needs processes to attach to");
  }
  InstallWakeHandler();
  seccomp = seccomp && filter.held_command;
  if (seccomp && seccomp_sessions.fetch_add(1) >= kMaxSeccompSessions) {
    seccomp_sessions.fetch_sub(1);
    seccomp = false;  // every call stops then: slower, still exact
  }
  std::shared_ptr<Tracees> t(
      new Tracees(filter, observe_restarts, observer, seccomp));
  std::thread thread([t] {
    t->Run();
    if (t->seccomp_) seccomp_sessions.fetch_sub(1);
  });
  t->thread_ = thread.native_handle();
  thread.detach();
  absl::Status attached;
  {
    absl::MutexLock lock(&t->mu_);
    t->mu_.Await(absl::Condition(&t->attached_));
    attached = t->attach_status_;
  }
  if (!attached.ok()) {
    t->Stop();
    return attached;
  }
  return t;
}

void Tracees::Run() {
  sigset_t wake;
  sigemptyset(&wake);
  sigaddset(&wake, kWakeSignal);
  pthread_sigmask(SIG_UNBLOCK, &wake, nullptr);
  const absl::Status seized = SeizeAll();
  {
    absl::MutexLock lock(&mu_);
    attached_ = true;
    attach_status_ = seized;
  }
  if (!seized.ok()) BeginStopping();
  uint64_t stopping_since_ns = 0;
  while (true) {
    if (stop_requested_ && !stopping_) BeginStopping();
    if (stopping_ && stopping_since_ns == 0) {
      stopping_since_ns = MonotonicNs();
      if (shepherding_) {
        absl::MutexLock lock(&mu_);
        shepherd_acked_ = true;
      }
    }
    // A task that never stops again (a zombie leader, a task asleep in
    // the kernel for good) is let go by the kernel when this thread ends.
    if (stopping_ && !shepherding_ &&
        MonotonicNs() - stopping_since_ns > kLetGoNs) {
      break;
    }
    if (tasks_.empty()) {
      if (stopping_) break;
      // Every task is gone: wait for Finish.
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(
          absl::Condition(
              +[](std::atomic<bool>* stop) { return stop->load(); },
              &stop_requested_),
          absl::Milliseconds(200));
      continue;
    }
    int status = 0;
    const pid_t tid = waitpid(-1, &status, __WALL | __WNOTHREAD);
    if (tid < 0) {
      if (errno == ECHILD) {
        absl::MutexLock lock(&mu_);
        lost_tasks_ += tasks_.size();
        tasks_.clear();
      }
      continue;  // EINTR: Finish woke us
    }
    OnStop(tid, status);
  }
  absl::MutexLock lock(&mu_);
  done_ = true;
}

absl::Status Tracees::SeizeAll() {
  for (pid_t tgid : filter_.tgids) {
    // Threads made while seizing are seized by PTRACE_O_TRACECLONE once
    // their creator is; read the list again until it has nothing new.
    std::set<pid_t> seen;
    for (int round = 0; round < 8; ++round) {
      bool added = false;
      for (pid_t tid : ThreadsOf(tgid)) {
        if (!seen.insert(tid).second) continue;
        added = true;
        if (absl::Status s = Seize(tid, tgid); !s.ok()) return s;
      }
      if (!added) break;
    }
    if (seen.empty()) {
      return absl::NotFoundError(absl::StrCat("no process ", tgid));
    }
  }
  return absl::OkStatus();
}

absl::Status Tracees::Seize(pid_t tid, pid_t tgid) {
  if (tasks_.count(tid)) return absl::OkStatus();
  long options =
      PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC | PTRACE_O_TRACECLONE;
  if (seccomp_) options |= PTRACE_O_TRACESECCOMP;
  if (filter_.follow_children) {
    options |= PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK;
  }
  // The call it is blocked in, if any: "NR ARGS..." in /proc/TID/syscall
  // ("running", or -1 when in none).
  long blocked_in = -1;
  if (absl::StatusOr<std::string> syscall =
          ReadSmallFile(absl::StrCat("/proc/", tid, "/syscall"), 512);
      syscall.ok()) {
    const std::string first = syscall->substr(0, syscall->find(' '));
    if (!absl::SimpleAtoi(first, &blocked_in)) blocked_in = -1;
  }
  if (ptrace(PTRACE_SEIZE, tid, nullptr, options) != 0) {
    if (errno == ESRCH) return absl::OkStatus();  // it exited meanwhile
    const int err = errno;
    const long tracer = StatusField(tid, "TracerPid");
    // A thread an already seized one made: ours by PTRACE_O_TRACECLONE.
    if (tracer == getpid()) {
      Adopt(tid);
      return absl::OkStatus();
    }
    // Exiting, or a zombie (a leader whose other threads run on): there
    // is nothing to trace in it.
    if (tracer <= 0 && TaskExiting(tid)) return absl::OkStatus();
    if (tracer > 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "pid ", tgid, " is already traced by pid ", tracer, " (",
          CommOf(tracer),
          "): a process has one tracer at a time; end that one first"));
    }
    return absl::FailedPreconditionError(
        absl::StrCat("cannot trace pid ", tgid, " (thread ", tid,
                     "): ptrace: ", strerror(err)));
  }
  ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr);
  Task& task = tasks_[tid];
  task.tgid = tgid;
  task.blocked_in = blocked_in;
  return absl::OkStatus();
}

void Tracees::BeginStopping() {
  stopping_ = true;
  for (auto& [tid, task] : tasks_) {
    // Under the filter, a task let go would get ENOSYS for its selected
    // calls: it is shepherded until it exits. One without a filter (the
    // command was never released, or the client's word was wrong) is let
    // go.
    if (seccomp_ && StatusField(tid, "Seccomp") > 0) {
      task.shepherded = true;
      shepherding_ = true;
      continue;
    }
    task.detaching = true;
    ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr);
  }
}

void Tracees::Adopt(pid_t tid) {
  if (tasks_.count(tid)) return;
  Task& task = tasks_[tid];
  const long tgid = StatusField(tid, "Tgid");
  task.tgid = tgid > 0 ? tgid : tid;
  task.fresh = true;
  // A process made by an odd clone() while children are not followed:
  // let it go at its first stop.
  const bool known = std::find(filter_.tgids.begin(), filter_.tgids.end(),
                               task.tgid) != filter_.tgids.end();
  bool followed = known || filter_.follow_children;
  for (const auto& [other, t] : tasks_) {
    if (other != tid && t.tgid == task.tgid) followed = true;
  }
  if (stopping_ && shepherding_) {
    task.shepherded = true;  // a child of a shepherded task: it has the filter
  } else if (!followed || stopping_) {
    task.detaching = true;
  }
}

void Tracees::Drop(pid_t tid) {
  tasks_.erase(tid);
  if (!stopping_) observer_->OnGone(tid);
}

void Tracees::Resume(pid_t tid, int signal) {
  auto it = tasks_.find(tid);
  if (it == tasks_.end()) return;
  // Under the filter nothing is let go: unobserved, it runs on.
  if (it->second.shepherded ||
      (seccomp_ && !stopping_ && it->second.detaching)) {
    ptrace(PTRACE_CONT, tid, nullptr, signal);
    return;
  }
  if (stopping_ || it->second.detaching) {
    ptrace(PTRACE_DETACH, tid, nullptr, signal);
    Drop(tid);
    return;
  }
  // Under the filter, it stops at the filter's events, and at the exit of
  // a call it stopped in; else at every call's entry and exit.
  const bool every_call = !seccomp_ || it->second.in_call;
  // ESRCH: its exit comes.
  ptrace(every_call ? PTRACE_SYSCALL : PTRACE_CONT, tid, nullptr, signal);
}

void Tracees::OnStop(pid_t tid, int status) {
  if (WIFEXITED(status) || WIFSIGNALED(status)) {
    Drop(tid);
    return;
  }
  if (!WIFSTOPPED(status)) return;
  if (!tasks_.count(tid)) Adopt(tid);  // its first stop before the event
  Task& task = tasks_[tid];
  const int sig = WSTOPSIG(status);
  const int event = static_cast<unsigned>(status) >> 16;
  if (sig == (SIGTRAP | 0x80)) {
    OnSyscallStop(tid, task);
    Resume(tid, 0);
    return;
  }
  switch (event) {
    case PTRACE_EVENT_STOP:
      if (task.fresh) {  // a new thread or child's first stop
        task.fresh = false;
      } else if (IsStopSignal(sig) &&
                 (task.shepherded || (seccomp_ && !stopping_) ||
                  !(stopping_ || task.detaching))) {
        // A group stop: it stays stopped, and SIGCONT still wakes it.
        ptrace(PTRACE_LISTEN, tid, nullptr, nullptr);
        return;
      }
      Resume(tid, 0);
      return;
    case PTRACE_EVENT_SECCOMP:  // the filter's: a selected call's entry
      OnSyscallStop(tid, task);
      Resume(tid, 0);
      return;
    case PTRACE_EVENT_FORK:
    case PTRACE_EVENT_VFORK:
    case PTRACE_EVENT_CLONE: {
      unsigned long child = 0;
      if (ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &child) == 0 && child > 0) {
        Adopt(static_cast<pid_t>(child));
      }
      Resume(tid, 0);
      return;
    }
    case PTRACE_EVENT_EXEC: {
      // A thread other than the leader that execs takes the leader's id;
      // its own is gone.
      // Its execve is still in progress: its exit stop comes next, and
      // counts as the BPF programs count it.
      unsigned long former = 0;
      if (ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &former) == 0 &&
          static_cast<pid_t>(former) != tid &&
          tasks_.count(static_cast<pid_t>(former))) {
        task = tasks_[static_cast<pid_t>(former)];
        tasks_.erase(static_cast<pid_t>(former));
        observer_->OnTidChange(static_cast<pid_t>(former), tid);
      }
      // A set-id program gains privileges under a root tracer: an
      // unprivileged caller loses sight of it from here on.
      if (filter_.owner && !OwnerMayTrace(task.tgid, *filter_.owner)) {
        // The execve was the caller's own: it counts, what follows not.
        if (task.in_call && !stopping_ && !task.uncounted) {
          observer_->OnExit(tid, task, false, 0,
                            MonotonicNs() - task.entered_ns);
        }
        task.in_call = false;
        task.detaching = true;
      }
      Resume(tid, 0);
      return;
    }
    default:
      break;
  }
  // A signal on its way to the task: delivered when it resumes.
  Resume(tid, event == 0 ? sig : 0);
}

void Tracees::OnSyscallStop(pid_t tid, Task& task) {
  __ptrace_syscall_info info{};
  if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, sizeof(info), &info) <= 0) return;
  // A seccomp stop holds the call's number and arguments as an entry does.
  if (info.op == PTRACE_SYSCALL_INFO_ENTRY ||
      info.op == PTRACE_SYSCALL_INFO_SECCOMP) {
    const bool compat = info.arch == AUDIT_ARCH_I386;
    task.nr = static_cast<uint32_t>(info.entry.nr) |
              (compat ? COMPAT_SYSCALL_BIT : 0);
    task.in_call = true;
    task.entered_ns = MonotonicNs();
    // The call it was blocked in when seized, restarted: begun before the
    // session, so it is left out, as the BPF programs leave it out.
    task.uncounted = task.blocked_in >= 0 && !observe_restarts_ &&
                     (info.entry.nr == task.blocked_in ||
                      info.entry.nr == SYS_restart_syscall);
    task.blocked_in = -1;
    if (!task.uncounted && !stopping_ && !task.detaching) {
      observer_->OnEntry(tid, task, info);
    }
    return;
  }
  if (info.op != PTRACE_SYSCALL_INFO_EXIT || !task.in_call) return;
  task.in_call = false;
  if (stopping_ || task.detaching || task.uncounted) return;
  observer_->OnExit(tid, task, info.exit.is_error, info.exit.rval,
                    MonotonicNs() - task.entered_ns);
}

void Tracees::Stop() {
  absl::MutexLock lock(&mu_);
  stop_requested_ = true;
  // The tracer thread may be in waitpid, or about to call it: wake it
  // until it says it has let go of everything (or shepherds what is left).
  // It ends only after setting done_ under the lock: while the lock is held
  // and done_ is false, it is there to be signalled.
  auto stopped = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return done_ || shepherd_acked_;
  };
  while (
      !mu_.AwaitWithTimeout(absl::Condition(&stopped), absl::Milliseconds(5))) {
    pthread_kill(thread_, kWakeSignal);
  }
}

uint64_t Tracees::lost() const {
  absl::MutexLock lock(&mu_);
  return lost_tasks_;
}

}  // namespace tracectl
