#include "daemon/thread_stopper.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "daemon/proc_tasks.h"
#include "profile.h"  // bpf/

namespace tracectl {
namespace {

// How often /proc/PID/task is listed again for threads started while the
// others were being stopped.
constexpr int kMaxListings = 3;
// What the parent allows the child beyond its deadlines (copying 256
// stacks takes milliseconds).
constexpr absl::Duration kChildMargin = absl::Milliseconds(500);

enum SlotState : int32_t {
  kSlotAttached = 1,  // seized and interrupted, its stop not seen yet
  kSlotStopped,
  kSlotNotStopped,
  kSlotGone,
  kSlotRefused,  // PTRACE_SEIZE failed (not ESRCH)
};

// What the child writes, in the mapping it shares with the daemon. Written
// before the child's one-byte message on the socket, read after it.
struct Header {
  int32_t count;        // slots used
  int32_t over_limit;   // listed threads beyond max_threads
  int32_t setup_errno;  // the identity could not be taken
  int32_t setup_step;   // which call failed (kStep*)
};

enum SetupStep : int32_t {
  kStepCapabilities = 1,
  kStepGroups,
  kStepGid,
  kStepUid,
  kStepCheck,
  kStepProcess,
};

struct Slot {
  int32_t tid;
  int32_t state;
  int32_t signal;  // passed on at PTRACE_DETACH: a signal-delivery-stop's
  int32_t error;
  profile_sample sample;
};

size_t SlotsOffset() {
  return (sizeof(Header) + alignof(Slot) - 1) / alignof(Slot) * alignof(Slot);
}

// All the child reads, prepared before the fork: the child allocates
// nothing (another daemon thread may have held the allocator's lock when
// the process forked).
struct ChildContext {
  pid_t pid;
  const pid_t* tids;
  size_t tid_count;
  int max_threads;
  const char* task_dir;  // "/proc/PID/task"
  int socket;
  Header* header;
  Slot* slots;
  bool take_identity;
  uid_t uid;
  gid_t gid;
  pid_t daemon;
  int64_t stop_deadline_ns;  // CLOCK_MONOTONIC
  int64_t resume_deadline_ns;
};

int64_t MonotonicNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

int64_t ToMonotonicNs(absl::Time t) {
  const absl::Duration left = t - absl::Now();
  return MonotonicNs() + absl::ToInt64Nanoseconds(left);
}

// ---- The child: system calls only, no allocation, no locks. ----

[[noreturn]] void SetupFailed(const ChildContext& c, SetupStep step) {
  c.header->setup_errno = errno != 0 ? errno : EPERM;
  c.header->setup_step = step;
  _exit(1);
}

// Capabilities back into the effective set (the forking thread may have
// had them lowered), then the caller's identity wholly.
void TakeIdentity(const ChildContext& c) {
  __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3];
  if (syscall(SYS_capget, &header, caps) != 0) {
    SetupFailed(c, kStepCapabilities);
  }
  for (auto& cap : caps) cap.effective = cap.permitted;
  if (syscall(SYS_capset, &header, caps) != 0) {
    SetupFailed(c, kStepCapabilities);
  }
  if (!c.take_identity) return;
  // Raw system calls: glibc's wrappers would signal threads this process
  // does not have.
  if (syscall(SYS_setgroups, 0, nullptr) != 0) SetupFailed(c, kStepGroups);
  if (syscall(SYS_setresgid, c.gid, c.gid, c.gid) != 0) {
    SetupFailed(c, kStepGid);
  }
  if (syscall(SYS_setresuid, c.uid, c.uid, c.uid) != 0) {
    SetupFailed(c, kStepUid);
  }
  uid_t r = 0, e = 0, s = 0;
  gid_t gr = 0, ge = 0, gs = 0;
  if (syscall(SYS_getresuid, &r, &e, &s) != 0 ||
      syscall(SYS_getresgid, &gr, &ge, &gs) != 0 || r != c.uid || e != c.uid ||
      s != c.uid || gr != c.gid || ge != c.gid || gs != c.gid) {
    errno = EPERM;
    SetupFailed(c, kStepCheck);
  }
  if (c.uid != 0) {
    // Leaving uid 0 wholly cleared every capability; make sure.
    header = {_LINUX_CAPABILITY_VERSION_3, 0};
    if (syscall(SYS_capget, &header, caps) != 0) SetupFailed(c, kStepCheck);
    for (const auto& cap : caps) {
      if (cap.permitted != 0 || cap.effective != 0) {
        errno = EPERM;
        SetupFailed(c, kStepCheck);
      }
    }
  }
}

// Nothing of the daemon's but the socket (moved to fd 0), no handler of
// the daemon's, not dumpable, and dead with the thread that forked it.
void BecomeChild(const ChildContext& c, int* socket) {
  if (*socket != 0) {
    if (dup2(*socket, 0) != 0) SetupFailed(c, kStepProcess);
    *socket = 0;
  }
  syscall(SYS_close_range, 1u, ~0u, 0u);
  for (int sig = 1; sig < NSIG; ++sig) {
    struct sigaction old;
    if (sigaction(sig, nullptr, &old) != 0) continue;
    if (!(old.sa_flags & SA_SIGINFO) &&
        (old.sa_handler == SIG_DFL || old.sa_handler == SIG_IGN)) {
      continue;
    }
    struct sigaction dfl = {};
    dfl.sa_handler = SIG_DFL;
    sigaction(sig, &dfl, nullptr);
  }
  TakeIdentity(c);
  // After the identity: changing it cleared both.
  if (prctl(PR_SET_DUMPABLE, 0) != 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
    SetupFailed(c, kStepProcess);
  }
  if (getppid() != c.daemon) _exit(1);
}

// Seizes and interrupts `tid` unless it has a slot already; false when
// there is no slot left for it.
bool Seize(const ChildContext& c, pid_t tid) {
  Header& h = *c.header;
  for (int i = 0; i < h.count; ++i) {
    if (c.slots[i].tid == tid) return true;
  }
  if (h.count >= c.max_threads) return false;
  Slot& slot = c.slots[h.count++];
  slot.tid = tid;
  if (ptrace(PTRACE_SEIZE, tid, nullptr, nullptr) != 0) {
    // EPERM also for a thread that is exiting (a zombie main thread): the
    // daemon tells them apart.
    slot.error = errno;
    slot.state = errno == ESRCH ? kSlotGone : kSlotRefused;
    return true;
  }
  slot.state = kSlotAttached;
  if (ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) != 0) {
    // Gone between the two calls: PTRACE_DETACH is not needed.
    slot.error = errno;
    slot.state = kSlotGone;
  }
  return true;
}

// One look at a thread's stop, without waiting.
void Reap(Slot& slot) {
  int status = 0;
  const pid_t r = waitpid(slot.tid, &status, __WALL | WNOHANG);
  if (r == 0 || (r < 0 && errno == EINTR)) return;
  if (r < 0 || !WIFSTOPPED(status)) {
    slot.state = kSlotGone;
    return;
  }
  slot.state = kSlotStopped;
  // A PTRACE_EVENT_STOP is our interrupt or a group-stop (kept by the
  // kernel after PTRACE_DETACH); any other stop is a signal on its way to
  // the thread, to be passed on.
  slot.signal = (status >> 16) == 0 ? WSTOPSIG(status) : 0;
}

void WaitForStops(const ChildContext& c) {
  for (;;) {
    bool waiting = false;
    for (int i = 0; i < c.header->count; ++i) {
      Slot& slot = c.slots[i];
      if (slot.state != kSlotAttached) continue;
      Reap(slot);
      if (slot.state == kSlotAttached) waiting = true;
    }
    if (!waiting || MonotonicNs() >= c.stop_deadline_ns) return;
    const struct timespec pause = {0, 500 * 1000};
    nanosleep(&pause, nullptr);
  }
}

// Seizes the threads /proc/PID/task lists that have no slot yet, while
// slots last; returns how many it seized.
int SeizeListed(const ChildContext& c) {
  const int fd = open(c.task_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return 0;
  struct Dirent64 {
    uint64_t ino;
    int64_t off;
    unsigned short reclen;
    unsigned char type;
    char name[1];
  };
  alignas(8) char buffer[4096];
  const int before = c.header->count;
  for (;;) {
    const long n = syscall(SYS_getdents64, fd, buffer, sizeof(buffer));
    if (n <= 0) break;
    for (long off = 0; off < n;) {
      const auto* d = reinterpret_cast<const Dirent64*>(buffer + off);
      off += d->reclen;
      pid_t tid = 0;
      const char* p = d->name;
      for (; *p >= '0' && *p <= '9' && tid < 100000000; ++p) {
        tid = tid * 10 + (*p - '0');
      }
      if (*p == '\0' && tid > 0) Seize(c, tid);
    }
  }
  close(fd);
  return c.header->count - before;
}

// Registers in x86-64 DWARF order, and whole pages of stack from the one
// holding rsp up to the first that cannot be read, as the profiler copies.
void Copy(const ChildContext& c, Slot& slot) {
  struct user_regs_struct regs;
  if (ptrace(PTRACE_GETREGS, slot.tid, nullptr, &regs) != 0) {
    slot.error = errno;
    slot.state = kSlotGone;
    return;
  }
  profile_sample& s = slot.sample;
  s.tgid = static_cast<uint32_t>(c.pid);
  s.tid = static_cast<uint32_t>(slot.tid);
  s.flags = SAMPLE_USER_REGS;
  const uint64_t dwarf[PROFILE_USER_REGS] = {
      regs.rax, regs.rdx, regs.rcx, regs.rbx, regs.rsi, regs.rdi,
      regs.rbp, regs.rsp, regs.r8,  regs.r9,  regs.r10, regs.r11,
      regs.r12, regs.r13, regs.r14, regs.r15, regs.rip};
  memcpy(s.user_regs, dwarf, sizeof(dwarf));
  const uint64_t page =
      regs.rsp & ~static_cast<uint64_t>(PROFILE_PAGE_SIZE - 1);
  s.ustack_addr = page;
  struct iovec local[PROFILE_USTACK_PAGES];
  struct iovec remote[PROFILE_USTACK_PAGES];
  for (int i = 0; i < PROFILE_USTACK_PAGES; ++i) {
    local[i] = {s.ustack + i * PROFILE_PAGE_SIZE, PROFILE_PAGE_SIZE};
    remote[i] = {reinterpret_cast<void*>(page + i * PROFILE_PAGE_SIZE),
                 PROFILE_PAGE_SIZE};
  }
  // Partial reads end at a whole element: a page.
  const ssize_t n = process_vm_readv(slot.tid, local, PROFILE_USTACK_PAGES,
                                     remote, PROFILE_USTACK_PAGES, 0);
  s.ustack_bytes =
      n > 0 ? static_cast<uint32_t>(n) / PROFILE_PAGE_SIZE * PROFILE_PAGE_SIZE
            : 0;
}

void DetachAll(const ChildContext& c) {
  for (int i = 0; i < c.header->count; ++i) {
    Slot& slot = c.slots[i];
    // A stop that came late still needs its signal passed on.
    if (slot.state == kSlotAttached || slot.state == kSlotNotStopped) {
      const int32_t state = slot.state;
      Reap(slot);
      if (slot.state == kSlotAttached) slot.state = state;
    }
    if (slot.state == kSlotStopped ||
        (slot.state == kSlotGone && slot.signal != 0)) {
      ptrace(PTRACE_DETACH, slot.tid, nullptr,
             reinterpret_cast<void*>(static_cast<intptr_t>(slot.signal)));
    }
    // Threads that never stopped are detached by the kernel when this
    // process exits.
  }
}

void Say(int socket, char what) { send(socket, &what, 1, MSG_NOSIGNAL); }

[[noreturn]] void ChildMain(const ChildContext& c, int socket) {
  BecomeChild(c, &socket);
  for (size_t i = 0; i < c.tid_count; ++i) {
    if (!Seize(c, c.tids[i])) ++c.header->over_limit;
  }
  // Threads started meanwhile (the ones stopped start none).
  for (int listing = 0; listing < kMaxListings; ++listing) {
    WaitForStops(c);
    if (MonotonicNs() >= c.stop_deadline_ns) break;
    if (SeizeListed(c) == 0) break;
  }
  WaitForStops(c);
  for (int i = 0; i < c.header->count; ++i) {
    Slot& slot = c.slots[i];
    if (slot.state == kSlotAttached) slot.state = kSlotNotStopped;
    if (slot.state == kSlotStopped) Copy(c, slot);
  }
  Say(socket, 'r');
  // Held until the daemon has read what it reads while they are stopped,
  // or the deadline.
  for (;;) {
    const int64_t left_ms =
        (c.resume_deadline_ns - MonotonicNs() + 999999) / 1000000;
    if (left_ms <= 0) break;
    struct pollfd pfd = {socket, POLLIN, 0};
    const int r =
        poll(&pfd, 1, static_cast<int>(std::min<int64_t>(left_ms, 1000)));
    if (r > 0 || (r < 0 && errno != EINTR)) break;
  }
  DetachAll(c);
  _exit(0);
}

// ---- The daemon's side. ----

absl::Status Errno(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", strerror(errno)));
}

// Waits until `fd` is readable (or at EOF) or `deadline`.
bool WaitReadable(int fd, absl::Time deadline) {
  for (;;) {
    const int64_t ms = absl::ToInt64Milliseconds(
        absl::Ceil(deadline - absl::Now(), absl::Milliseconds(1)));
    if (ms <= 0) return false;
    struct pollfd pfd = {fd, POLLIN, 0};
    const int r = poll(&pfd, 1, static_cast<int>(std::min<int64_t>(ms, 1000)));
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return false;
  }
}

// SIGKILL to the child, which is the caller's: a lowered thread has no
// CAP_KILL in its effective set, so raise it for this one call.
void KillChild(pid_t child) {
  if (kill(child, SIGKILL) == 0 || errno != EPERM) return;
  __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct saved[_LINUX_CAPABILITY_U32S_3];
  if (syscall(SYS_capget, &header, saved) != 0) return;
  __user_cap_data_struct raised[_LINUX_CAPABILITY_U32S_3];
  memcpy(raised, saved, sizeof(raised));
  raised[CAP_TO_INDEX(CAP_KILL)].effective |=
      raised[CAP_TO_INDEX(CAP_KILL)].permitted & CAP_TO_MASK(CAP_KILL);
  header = {_LINUX_CAPABILITY_VERSION_3, 0};
  if (syscall(SYS_capset, &header, raised) != 0) return;
  kill(child, SIGKILL);
  header = {_LINUX_CAPABILITY_VERSION_3, 0};
  syscall(SYS_capset, &header, saved);
}

const char* StepName(int32_t step) {
  switch (step) {
    case kStepCapabilities:
      return "capset";
    case kStepGroups:
      return "setgroups";
    case kStepGid:
      return "setresgid";
    case kStepUid:
      return "setresuid";
    case kStepCheck:
      return "identity check";
    default:
      return "process setup";
  }
}

// Why PTRACE_SEIZE was refused, for the caller.
absl::Status Refusal(pid_t pid, pid_t tid, int error, pid_t child) {
  const long tracer = StatusField(tid, "TracerPid");
  if (tracer > 0 && tracer != child) {
    return absl::FailedPreconditionError(
        absl::StrCat("pid ", pid, " is traced by pid ", tracer, " (",
                     CommOf(tracer), "): a thread has one tracer at a time"));
  }
  std::string yama;
  std::ifstream scope("/proc/sys/kernel/yama/ptrace_scope");
  int value = 0;
  if (scope >> value && value > 0) {
    yama = absl::StrCat(" (kernel.yama.ptrace_scope is ", value, ")");
  }
  return absl::PermissionDeniedError(
      absl::StrCat("may not ptrace pid ", pid, " (thread ", tid,
                   "): ", strerror(error), yama));
}

}  // namespace

absl::StatusOr<std::unique_ptr<StoppedProcess>> StoppedProcess::Stop(
    pid_t pid, const std::vector<pid_t>& tids, const StopOptions& options) {
  const int max_threads = std::clamp(options.max_threads, 1, 4096);
  std::unique_ptr<StoppedProcess> out(new StoppedProcess());
  out->shared_bytes_ = SlotsOffset() + sizeof(Slot) * max_threads;
  out->shared_ = mmap(nullptr, out->shared_bytes_, PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (out->shared_ == MAP_FAILED) {
    out->shared_ = nullptr;
    return Errno("mmap");
  }
  out->resumed_ = true;  // nothing to resume until the child runs
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    return Errno("socketpair");
  }
  auto* header = static_cast<Header*>(out->shared_);
  Slot* slots =
      reinterpret_cast<Slot*>(static_cast<char*>(out->shared_) + SlotsOffset());
  const std::string task_dir = absl::StrCat("/proc/", pid, "/task");
  ChildContext context = {};
  context.pid = pid;
  context.tids = tids.data();
  context.tid_count = tids.size();
  context.max_threads = max_threads;
  context.task_dir = task_dir.c_str();
  context.header = header;
  context.slots = slots;
  context.take_identity = options.uid.has_value();
  context.uid = options.uid.value_or(0);
  context.gid = options.gid;
  context.daemon = getpid();
  context.stop_deadline_ns = ToMonotonicNs(options.stop_deadline);
  context.resume_deadline_ns = ToMonotonicNs(options.resume_deadline);
  const absl::Time start = absl::Now();

  // _Fork: no atfork handlers (gRPC's, absl's) run in a child that only
  // makes system calls.
  const pid_t child = _Fork();
  if (child < 0) {
    close(sv[0]);
    close(sv[1]);
    return Errno("fork");
  }
  if (child == 0) ChildMain(context, sv[1]);
  close(sv[1]);
  out->child_ = child;
  out->socket_ = sv[0];
  out->resumed_ = false;

  char said = 0;
  const bool ready =
      WaitReadable(out->socket_, options.stop_deadline + kChildMargin) &&
      recv(out->socket_, &said, 1, 0) == 1 && said == 'r';
  out->stop_time_ = absl::Now() - start;
  if (!ready) {
    KillChild(child);
    out->Resume().IgnoreError();
    if (header->setup_errno != 0) {
      return absl::InternalError(
          absl::StrCat("stack: ", StepName(header->setup_step), ": ",
                       strerror(header->setup_errno)));
    }
    return absl::DeadlineExceededError(absl::StrCat(
        "stack: the threads of pid ", pid, " were not stopped in time"));
  }
  const int count = std::clamp(header->count, 0, max_threads);
  for (int i = 0; i < count; ++i) {
    // One refusal lets every thread go: nothing is read.
    if (slots[i].state == kSlotRefused && !TaskExiting(slots[i].tid)) {
      out->Resume().IgnoreError();
      return Refusal(pid, slots[i].tid, slots[i].error, child);
    }
  }
  out->over_limit_ = header->over_limit;
  for (int i = 0; i < count; ++i) {
    const Slot& slot = slots[i];
    StoppedThread thread;
    thread.tid = slot.tid;
    switch (slot.state) {
      case kSlotStopped:
        thread.state = StopState::kStopped;
        break;
      case kSlotNotStopped:
        thread.state = StopState::kNotStopped;
        break;
      default:
        thread.state = StopState::kGone;
    }
    // A thread id reused by another process between the listing and
    // PTRACE_SEIZE is not this process's: stopped, it cannot go away.
    struct stat st;
    if (thread.state == StopState::kStopped &&
        stat(absl::StrCat(task_dir, "/", slot.tid).c_str(), &st) != 0) {
      thread.state = StopState::kGone;
    }
    if (thread.state == StopState::kStopped) {
      if (slot.sample.ustack_bytes > PROFILE_USTACK_BYTES) {
        const_cast<Slot&>(slot).sample.ustack_bytes = 0;
      }
      thread.sample = &slot.sample;
    }
    out->threads_.push_back(thread);
  }
  if (std::none_of(
          out->threads_.begin(), out->threads_.end(),
          [](const StoppedThread& t) { return t.state != StopState::kGone; })) {
    out->Resume().IgnoreError();
    return absl::NotFoundError(absl::StrCat("pid ", pid, ": no such process"));
  }
  return out;
}

absl::Status StoppedProcess::Resume() {
  if (resumed_) return absl::OkStatus();
  resumed_ = true;
  Say(socket_, 'g');
  // The child detaches and exits: its end of the socket closes.
  char byte;
  bool exited = false;
  const absl::Time deadline = absl::Now() + kChildMargin;
  while (WaitReadable(socket_, deadline)) {
    const ssize_t n = recv(socket_, &byte, 1, 0);
    if (n == 0 || (n < 0 && errno != EINTR)) {
      exited = true;
      break;
    }
  }
  if (!exited) KillChild(child_);
  int status = 0;
  while (waitpid(child_, &status, 0) < 0 && errno == EINTR) {
  }
  close(socket_);
  socket_ = -1;
  child_ = -1;
  if (!exited) {
    return absl::DeadlineExceededError(
        "stack: the stopping process did not end in time (killed; the "
        "kernel let its threads go)");
  }
  return absl::OkStatus();
}

StoppedProcess::~StoppedProcess() {
  if (!resumed_) Resume().IgnoreError();
  if (socket_ >= 0) close(socket_);
  if (shared_ != nullptr) munmap(shared_, shared_bytes_);
}

}  // namespace tracectl
