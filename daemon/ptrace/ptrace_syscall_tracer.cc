#include "daemon/ptrace/ptrace_syscall_tracer.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "daemon/proc_tasks.h"
#include "daemon/trace_specs.h"
#include "syscalls.h"

namespace tracectl {
namespace {

constexpr const char* kDropReasons[TRACE_DROP_REASON_COUNT] = {
    "records lost: queue full",
    "calls not traced: no task storage",
    TRACE_DROP_UNREADABLE_REASON,
    "paths or argv cut at the capture limit",
    "followed children not added: pid map full",
    "calls not traced: number outside the table (x32)",
    "records of calls not shown lost: queue full",
    "call stacks not taken: ring buffer a quarter full (the rest is kept "
    "for the calls)",
    "call stacks not copied: user stack unreadable",
};
constexpr uint32_t kSockaddrMax = 128;
// What a record's captures may hold together: as the BPF programs' buffer.
constexpr size_t kDataMax = EVENT_DATA_SIZE + CAPTURE_MAX;

// Reads up to `n` bytes at `addr` of `tid`: as many as are readable from
// the start.
size_t ReadMemory(pid_t tid, uint64_t addr, void* out, size_t n) {
  iovec local{out, n};
  iovec remote{reinterpret_cast<void*>(addr), n};
  const ssize_t got = process_vm_readv(tid, &local, 1, &remote, 1, 0);
  return got < 0 ? 0 : static_cast<size_t>(got);
}

// As bpf_probe_read_user_str with `limit` bytes: the string's length with
// its NUL (`limit` when cut, the last byte then made a NUL), or -1 when it
// cannot be read. Appends the bytes, NUL included, to `data`.
long ReadString(pid_t tid, uint64_t addr, size_t limit, std::string* data) {
  char buf[CAPTURE_MAX];
  limit = std::min<size_t>(limit, sizeof(buf));
  if (limit == 0) return -1;
  const size_t got = ReadMemory(tid, addr, buf, limit);
  const void* nul = memchr(buf, 0, got);
  size_t n = 0;
  if (nul != nullptr) {
    n = static_cast<const char*>(nul) - buf + 1;
  } else if (got == limit) {
    n = limit;
    buf[limit - 1] = 0;
  } else {
    return -1;  // it runs into memory that cannot be read
  }
  data->append(buf, n);
  return static_cast<long>(n);
}

capture* NewCapture(syscall_event* ev, size_t offset, int arg, uint8_t kind) {
  if (ev->ncaptures >= EVENT_MAX_CAPTURES) return nullptr;
  capture* c = &ev->captures[ev->ncaptures++];
  *c = capture{};
  c->offset = static_cast<uint16_t>(offset);
  c->arg = static_cast<uint8_t>(arg);
  c->kind = kind;
  return c;
}

}  // namespace

PtraceSyscallTracer::PtraceSyscallTracer(const TraceSettings& settings,
                                         int ready_fd)
    : settings_(settings),
      specs_(TraceSpecs(settings)),
      string_size_(std::min<uint32_t>(settings.string_size, CAPTURE_MAX - 2)),
      ready_fd_(ready_fd) {}

absl::StatusOr<std::unique_ptr<PtraceSyscallTracer>> PtraceSyscallTracer::Start(
    const KernelFilter& filter, const TraceSettings& settings) {
  const int ready = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (ready < 0) {
    return absl::InternalError(absl::StrCat("eventfd: ", strerror(errno)));
  }
  std::unique_ptr<PtraceSyscallTracer> tracer(
      new PtraceSyscallTracer(settings, ready));
  // A held command and a selected set: a seccomp filter in the command
  // stops it on those calls alone.
  auto tracees =
      Tracees::Seize(filter, false, tracer.get(), /*seccomp=*/!settings.all);
  if (!tracees.ok()) return tracees.status();
  tracer->tracees_ = std::move(*tracees);
  return tracer;
}

PtraceSyscallTracer::~PtraceSyscallTracer() {
  if (tracees_) tracees_->Stop();
  close(ready_fd_);
}

std::vector<uint32_t> PtraceSyscallTracer::SeccompTrace() const {
  std::vector<uint32_t> numbers;
  if (!tracees_ || !tracees_->seccomp()) return numbers;
  for (uint32_t nr = 0; nr < MAX_TRACE_NR; ++nr) {
    if (specs_[nr].flags & SPEC_SELECTED) numbers.push_back(nr);
  }
  return numbers;
}

const std::string& PtraceSyscallTracer::CommOf(pid_t tid) {
  auto it = comms_.find(tid);
  if (it == comms_.end()) {
    if (comms_.size() > 65536) comms_.clear();
    it = comms_.emplace(tid, tracectl::CommOf(tid)).first;
  }
  return it->second;
}

void PtraceSyscallTracer::OnEntry(pid_t tid, const Tracees::Task& task,
                                  const __ptrace_syscall_info& info) {
  const bool compat = task.nr & COMPAT_SYSCALL_BIT;
  const uint32_t nr = task.nr & ~COMPAT_SYSCALL_BIT;
  const syscall_spec* spec = nullptr;
  if (compat) {
    if (!settings_.all) return;
  } else if (nr < MAX_TRACE_NR) {
    spec = &specs_[nr];
    if (!(spec->flags & SPEC_SELECTED)) return;
  } else {
    if (settings_.all) {
      absl::MutexLock lock(&mu_);
      ++drops_[TRACE_DROP_NR_RANGE];
    }
    return;
  }
  Pending& p = pending_[tid];
  p = Pending{};
  p.ev.enter_ns = task.entered_ns;
  p.ev.tgid = task.tgid;
  p.ev.tid = tid;
  p.ev.nr = compat ? (nr | EVENT_COMPAT_BIT) : nr;
  const std::string& comm = CommOf(tid);
  memcpy(p.ev.comm, comm.data(), std::min(comm.size(), sizeof(p.ev.comm) - 1));
  for (int i = 0; i < EVENT_ARGS; ++i) {
    p.ev.args[i] =
        compat ? static_cast<uint32_t>(info.entry.args[i]) : info.entry.args[i];
  }
  bool no_return = compat && (nr == 1 || nr == 252);  // ia32 exit, exit_group
  if (spec != nullptr) {
    if (spec->flags & SPEC_ENTRY_WORK) CaptureAtEntry(tid, *spec, &p);
    no_return = spec->flags & SPEC_NO_RETURN;
  }
  // Nothing will complete these at exit: send them now.
  if (no_return) {
    p.ev.flags = EVENT_NO_RETURN;
    Emit(p);
    pending_.erase(tid);
  }
}

void PtraceSyscallTracer::CaptureAtEntry(pid_t tid, const syscall_spec& spec,
                                         Pending* p) {
  for (int i = 0; i < EVENT_ARGS; ++i) {
    const uint8_t kind = spec.kind[i];
    const uint64_t ptr = p->ev.args[i];
    if (kind == CAPTURE_ARRAY_COUNT && ptr != 0) {
      // Counted now: after a successful exec the memory is gone. Read a
      // block of pointers at a time (up to the first unreadable byte).
      p->envc = -1;
      uint64_t block[512];
      uint64_t count = 0;
      while (count < ARRAY_COUNT_MAX && p->envc < 0) {
        const size_t got =
            ReadMemory(tid, ptr + count * 8, block, sizeof(block)) / 8;
        if (got == 0) break;
        for (size_t k = 0; k < got && count < ARRAY_COUNT_MAX; ++k, ++count) {
          if (block[k] == 0) {
            p->envc = static_cast<int64_t>(count);
            break;
          }
        }
      }
      if (p->envc < 0 && count == ARRAY_COUNT_MAX) {
        p->envc = ARRAY_COUNT_MAX;
        p->envc_truncated = true;
      }
      continue;
    }
    if (kind != CAPTURE_PATH && kind != CAPTURE_IN_BUF &&
        kind != CAPTURE_SOCKADDR && kind != CAPTURE_ARGV) {
      continue;
    }
    if (ptr == 0) continue;  // NULL: nothing to read
    const size_t offset = p->data.size();
    capture* c = NewCapture(&p->ev, offset, i, kind);
    if (c == nullptr) return;
    const uint64_t len =
        spec.len_arg[i] < EVENT_ARGS ? p->ev.args[spec.len_arg[i]] : 0;
    if (offset >= EVENT_DATA_SIZE) {
      c->flags |= CAPTURE_TRUNCATED;
      continue;
    }
    switch (kind) {
      case CAPTURE_PATH: {
        const long n = ReadString(tid, ptr, CAPTURE_MAX, &p->data);
        if (n <= 0) {
          c->flags |= CAPTURE_UNREAD;
          break;
        }
        p->data.pop_back();  // kept without its NUL
        if (n == CAPTURE_MAX) c->flags |= CAPTURE_TRUNCATED;
        c->len = static_cast<uint16_t>(n - 1);
        break;
      }
      case CAPTURE_IN_BUF:
      case CAPTURE_SOCKADDR: {
        const uint64_t limit =
            kind == CAPTURE_IN_BUF ? string_size_ : kSockaddrMax;
        const size_t n = std::min<uint64_t>(len, limit);
        if (len > limit) c->flags |= CAPTURE_TRUNCATED;
        if (n == 0) break;
        std::string bytes(n, '\0');
        if (ReadMemory(tid, ptr, bytes.data(), n) != n) {
          c->flags |= CAPTURE_UNREAD;
          break;
        }
        p->data += bytes;
        c->len = static_cast<uint16_t>(n);
        break;
      }
      case CAPTURE_ARGV: {
        const size_t size = std::min<size_t>(string_size_ + 2, CAPTURE_MAX);
        int strings = 0;
        for (; strings < ARGV_MAX_STRINGS; ++strings) {
          uint64_t s = 0;
          if (ReadMemory(tid, ptr + strings * 8, &s, 8) != 8) {
            c->flags |= CAPTURE_UNREAD;
            break;
          }
          if (s == 0) break;
          if (p->data.size() >= EVENT_DATA_SIZE ||
              p->data.size() - offset >= CAPTURE_MAX) {
            c->flags |= CAPTURE_TRUNCATED;
            break;
          }
          if (ReadString(tid, s, size, &p->data) <= 0) {
            c->flags |= CAPTURE_UNREAD;
            break;
          }
        }
        if (c->flags & CAPTURE_UNREAD) {
          p->data.resize(offset);  // the strings read so far go back
          break;
        }
        uint64_t more = 0;
        if (strings == ARGV_MAX_STRINGS &&
            ReadMemory(tid, ptr + strings * 8, &more, 8) == 8 && more != 0) {
          c->flags |= CAPTURE_TRUNCATED;
        }
        c->len = static_cast<uint16_t>(p->data.size() - offset);
        break;
      }
    }
  }
}

void PtraceSyscallTracer::OnExit(pid_t tid, const Tracees::Task&, bool is_error,
                                 int64_t rval, uint64_t duration_ns) {
  auto it = pending_.find(tid);
  if (it == pending_.end()) return;
  Pending p = std::move(it->second);
  pending_.erase(it);
  if ((settings_.only_failed && !is_error) ||
      (settings_.only_successful && is_error)) {
    return;
  }
  p.ev.ret = rval;
  p.ev.duration_ns = duration_ns;
  const uint32_t nr = p.ev.nr;
  if (nr < MAX_TRACE_NR && (specs_[nr].flags & SPEC_EXIT_WORK)) {
    CaptureAtExit(tid, specs_[nr], rval, &p);
  }
  // After an exec, the thread's name is the new program's.
  if (nr < MAX_TRACE_NR && (specs_[nr].flags & SPEC_EXEC) && rval == 0) {
    comms_.erase(tid);
  }
  Emit(p);
}

void PtraceSyscallTracer::OnTidChange(pid_t former, pid_t tid) {
  auto it = pending_.find(former);
  if (it != pending_.end()) {
    Pending moved = std::move(it->second);
    pending_.erase(it);
    moved.ev.tid = tid;
    pending_[tid] = std::move(moved);
  } else {
    pending_.erase(tid);
  }
  comms_.erase(former);
  comms_.erase(tid);
}

void PtraceSyscallTracer::OnGone(pid_t tid) {
  pending_.erase(tid);
  comms_.erase(tid);
}

void PtraceSyscallTracer::CaptureAtExit(pid_t tid, const syscall_spec& spec,
                                        int64_t ret, Pending* p) {
  for (int i = 0; i < EVENT_ARGS; ++i) {
    const uint8_t kind = spec.kind[i];
    const uint64_t ptr = p->ev.args[i];
    if (ptr == 0) continue;
    const size_t offset = p->data.size();
    if (kind == CAPTURE_ARRAY_COUNT) {
      capture* c = NewCapture(&p->ev, offset, i, kind);
      if (c == nullptr) return;
      if (p->envc < 0) {
        c->flags |= CAPTURE_UNREAD;
        continue;
      }
      if (p->envc_truncated) c->flags |= CAPTURE_TRUNCATED;
      const uint32_t count = static_cast<uint32_t>(p->envc);
      p->data.append(reinterpret_cast<const char*>(&count), sizeof(count));
      c->len = sizeof(count);
      continue;
    }
    uint64_t len = 0, limit = 0;
    switch (kind) {
      case CAPTURE_OUT_BUF:
        len = ret > 0 ? static_cast<uint64_t>(ret) : 0;
        limit = string_size_;
        break;
      case CAPTURE_FD_PAIR:
        len = limit = 8;
        break;
      case CAPTURE_STAT:
        len = limit = STAT_BYTES;
        break;
      case CAPTURE_STATX:
        len = limit = STATX_BYTES;
        break;
      case CAPTURE_STATFS:
        len = limit = STATFS_BYTES;
        break;
      default:
        continue;
    }
    // Read bytes count on any result; structures only on success.
    if (kind == CAPTURE_OUT_BUF ? ret <= 0 : ret != 0) continue;
    capture* c = NewCapture(&p->ev, offset, i, kind);
    if (c == nullptr) return;
    if (len > limit) {
      len = limit;
      c->flags |= CAPTURE_TRUNCATED;
    }
    if (offset >= EVENT_DATA_SIZE) {
      c->flags |= CAPTURE_TRUNCATED;
      continue;
    }
    std::string bytes(len, '\0');
    if (ReadMemory(tid, ptr, bytes.data(), len) != len) {
      c->flags |= CAPTURE_UNREAD;
      continue;
    }
    p->data += bytes;
    c->len = static_cast<uint16_t>(len);
  }
}

void PtraceSyscallTracer::Emit(const Pending& p) {
  syscall_event ev = p.ev;
  const size_t data_len = std::min(p.data.size(), kDataMax);
  ev.data_len = static_cast<uint16_t>(data_len);
  // A capture cut by the record's limit is shortened to what is kept, so
  // that every capture lies within the data the client gets.
  for (int i = 0; i < ev.ncaptures; ++i) {
    capture& c = ev.captures[i];
    if (c.offset + c.len > data_len) {
      c.len = c.offset >= data_len ? 0 : data_len - c.offset;
      c.flags |= CAPTURE_TRUNCATED;
    }
  }
  std::string record(reinterpret_cast<const char*>(&ev), sizeof(ev));
  record.append(p.data, 0, data_len);
  const bool unshown =
      ev.nr < MAX_TRACE_NR && (specs_[ev.nr].flags & SPEC_UNSHOWN) != 0;
  absl::MutexLock lock(&mu_);
  if (queued_bytes_ + record.size() > settings_.buffer_bytes) {
    ++drops_[unshown ? TRACE_DROP_RINGBUF_FULL_UNSHOWN
                     : TRACE_DROP_RINGBUF_FULL];
    return;
  }
  for (int i = 0; i < ev.ncaptures; ++i) {
    if (ev.captures[i].flags & CAPTURE_UNREAD) {
      ++drops_[TRACE_DROP_UNREADABLE];
    }
    if ((ev.captures[i].flags & CAPTURE_TRUNCATED) &&
        (ev.captures[i].kind == CAPTURE_PATH ||
         ev.captures[i].kind == CAPTURE_ARGV)) {
      ++drops_[TRACE_DROP_TRUNCATED];
    }
  }
  queued_bytes_ += record.size();
  queue_.push_back(std::move(record));
  const uint64_t one = 1;
  (void)!write(ready_fd_, &one, sizeof(one));
}

absl::StatusOr<size_t> PtraceSyscallTracer::Read(absl::Duration timeout,
                                                 int wake_fd, size_t max_bytes,
                                                 std::string* out,
                                                 TraceStackSink*) {
  if (out->size() >= max_bytes) return 0;
  bool empty = false;
  {
    absl::MutexLock lock(&mu_);
    empty = queue_.empty();
  }
  if (empty && !detached_) {
    pollfd fds[2] = {{ready_fd_, POLLIN, 0}, {wake_fd, POLLIN, 0}};
    poll(fds, wake_fd >= 0 ? 2 : 1,
         static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  }
  uint64_t ignored = 0;
  (void)!read(ready_fd_, &ignored, sizeof(ignored));
  size_t appended = 0;
  absl::MutexLock lock(&mu_);
  while (!queue_.empty() && out->size() < max_bytes) {
    out->append(queue_.front());
    queued_bytes_ -= queue_.front().size();
    queue_.pop_front();
    ++appended;
  }
  if (!queue_.empty()) {
    const uint64_t one = 1;
    (void)!write(ready_fd_, &one, sizeof(one));
  }
  return appended;
}

void PtraceSyscallTracer::Detach() {
  if (detached_) return;
  tracees_->Stop();
  detached_ = true;
}

std::vector<v1::DropCounter> PtraceSyscallTracer::Drops() const {
  std::vector<v1::DropCounter> drops;
  absl::MutexLock lock(&mu_);
  for (uint32_t reason = 0; reason < TRACE_DROP_REASON_COUNT; ++reason) {
    v1::DropCounter& drop = drops.emplace_back();
    drop.set_reason(kDropReasons[reason]);
    drop.set_count(drops_[reason]);
  }
  return drops;
}

absl::Status PtraceSyscallTracer::WatchPython(uint32_t, const python_proc&) {
  return absl::FailedPreconditionError("Python frames need the BPF backend");
}

}  // namespace tracectl
