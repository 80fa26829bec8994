#include "daemon/ptrace/perf_cpu_sampler.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "daemon/authorizer.h"
#include "daemon/online_cpus.h"
#include "daemon/proc_tasks.h"

namespace tracectl {
namespace {

// asm/perf_regs.h (x86-64): the registers a sample carries, in the order of
// their bits, and where each goes in DWARF order (rax rdx rcx rbx rsi rdi
// rbp rsp r8-r15 rip).
enum PerfReg {
  kAx = 0,
  kBx = 1,
  kCx = 2,
  kDx = 3,
  kSi = 4,
  kDi = 5,
  kBp = 6,
  kSp = 7,
  kIp = 8,
  kR8 = 16,
  kR15 = 23,
};
constexpr uint64_t kUserRegsMask =
    ((uint64_t{1} << (kIp + 1)) - 1) |
    (((uint64_t{1} << (kR15 - kR8 + 1)) - 1) << kR8);
// Index in the sample (bit order) -> DWARF register.
constexpr int kDwarfOfSampleReg[PROFILE_USER_REGS] = {
    0 /*ax*/, 3 /*bx*/, 2 /*cx*/,  1 /*dx*/, 4 /*si*/, 5 /*di*/,
    6 /*bp*/, 7 /*sp*/, 16 /*ip*/, 8,        9,        10,
    11,       12,       13,        14,       15 /*r8-r15*/};
constexpr int kDwarfSp = 7;
// What a sample copies of the user stack (above the stack pointer).
constexpr uint32_t kStackBytes = PROFILE_USTACK_BYTES - PROFILE_PAGE_SIZE;
constexpr absl::Duration kConsumeBudget = absl::Milliseconds(50);
// Perf events one session may open (its fds).
constexpr size_t kMaxEvents = 4096;

int PerfEventOpen(perf_event_attr* attr, pid_t tid, int cpu) {
  return static_cast<int>(
      syscall(SYS_perf_event_open, attr, tid, cpu, -1, PERF_FLAG_FD_CLOEXEC));
}

// Reads `n` bytes at `offset` of a ring's data area, which may wrap.
void CopyFromRing(const uint8_t* data, size_t size, uint64_t offset, void* out,
                  size_t n) {
  const size_t at = offset % size;
  const size_t first = std::min(n, size - at);
  memcpy(out, data + at, first);
  if (first < n) memcpy(static_cast<uint8_t*>(out) + first, data, n - first);
}

// Reads a u64 at *at of a record, moving on; false past its end.
bool Take(const uint8_t* record, size_t size, size_t* at, uint64_t* value) {
  if (*at + sizeof(*value) > size) return false;
  memcpy(value, record + *at, sizeof(*value));
  *at += sizeof(*value);
  return true;
}

}  // namespace

PerfCpuSampler::PerfCpuSampler(const KernelFilter& filter,
                               const ProfileSettings& settings)
    : filter_(filter),
      settings_(settings),
      sample_(std::make_unique<profile_sample>()) {}

absl::StatusOr<std::unique_ptr<PerfCpuSampler>> PerfCpuSampler::Start(
    const KernelFilter& filter, const ProfileSettings& settings) {
  std::unique_ptr<PerfCpuSampler> sampler(new PerfCpuSampler(filter, settings));
  const std::vector<int> cpus = OnlineCpus();
  // Each CPU's share of the buffer, a power of two of pages.
  const size_t page = sysconf(_SC_PAGESIZE);
  size_t ring_bytes = page;
  while (ring_bytes * 2 * cpus.size() <= settings.buffer_bytes &&
         ring_bytes < (size_t{64} << 20)) {
    ring_bytes *= 2;
  }
  ring_bytes = std::max(ring_bytes, size_t{16} * page);
  for (pid_t tgid : filter.tgids) {
    const std::vector<pid_t> tids = ThreadsOf(tgid);
    if (tids.empty()) {
      return absl::NotFoundError(absl::StrCat("no process ", tgid));
    }
    // An event per thread and CPU, each an fd of the daemon's.
    if (sampler->fds_.size() + tids.size() * cpus.size() > kMaxEvents) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "the ptrace backend samples with a perf event per thread and CPU: ",
          tids.size(), " threads on ", cpus.size(), " CPUs need more than ",
          kMaxEvents));
    }
    for (pid_t tid : tids) {
      if (absl::Status s = sampler->OpenThread(tid, cpus, ring_bytes);
          !s.ok()) {
        return s;
      }
    }
  }
  return sampler;
}

absl::Status PerfCpuSampler::OpenThread(pid_t tid, const std::vector<int>& cpus,
                                        size_t ring_bytes) {
  perf_event_attr attr{};
  attr.size = sizeof(attr);
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_CPU_CLOCK;
  attr.freq = 1;
  attr.sample_freq = settings_.frequency_hz;
  attr.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU;
  if (settings_.kernel_stacks) {
    attr.sample_type |= PERF_SAMPLE_CALLCHAIN;
    attr.exclude_callchain_user = 1;
  }
  if (settings_.user_stacks) {
    attr.sample_type |= PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
    attr.sample_regs_user = kUserRegsMask;
    attr.sample_stack_user = kStackBytes;
  }
  // Threads and children made later get the events too.
  attr.inherit = 1;
  attr.comm = 1;
  attr.comm_exec = 1;
  attr.watermark = 1;
  attr.wakeup_watermark = ring_bytes / 4;
  for (int cpu : cpus) {
    int fd = PerfEventOpen(&attr, tid, cpu);
    if (fd < 0 && (errno == EACCES || errno == EPERM) &&
        !settings_.kernel_stacks && !attr.exclude_kernel) {
      // perf_event_paranoid may allow user-mode samples only.
      attr.exclude_kernel = 1;
      fd = PerfEventOpen(&attr, tid, cpu);
    }
    if (fd < 0) {
      if (errno == ESRCH) return absl::OkStatus();  // the thread is gone
      if (errno == ENODEV) continue;                // the CPU went offline
      return absl::FailedPreconditionError(absl::StrCat(
          "perf events are not allowed here either: perf_event_open: ",
          strerror(errno)));
    }
    fds_.push_back(fd);
    auto ring = rings_.find(cpu);
    if (ring != rings_.end()) {
      if (ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, ring->second.fd) != 0) {
        return absl::InternalError(
            absl::StrCat("PERF_EVENT_IOC_SET_OUTPUT: ", strerror(errno)));
      }
      continue;
    }
    const size_t page = sysconf(_SC_PAGESIZE);
    void* base = mmap(nullptr, page + ring_bytes, PROT_READ | PROT_WRITE,
                      MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) {
      return absl::ResourceExhaustedError(
          absl::StrCat("mapping a perf ring buffer: ", strerror(errno)));
    }
    rings_[cpu] = Ring{fd, base, ring_bytes};
  }
  return absl::OkStatus();
}

PerfCpuSampler::~PerfCpuSampler() {
  const size_t page = sysconf(_SC_PAGESIZE);
  for (auto& [cpu, ring] : rings_) munmap(ring.base, page + ring.data_bytes);
  for (int fd : fds_) close(fd);
}

absl::StatusOr<size_t> PerfCpuSampler::Read(
    absl::Duration timeout, int wake_fd,
    const std::function<void(const profile_sample&)>& on_sample) {
  if (!detached_) {
    // A ring whose events' tasks are all gone hangs up for good: it is
    // left out of the wait, or the wait would end at once every time.
    std::vector<pollfd> fds;
    for (const auto& [cpu, ring] : rings_) {
      fds.push_back({ring.hung_up ? -1 : ring.fd, POLLIN, 0});
    }
    if (wake_fd >= 0) fds.push_back({wake_fd, POLLIN, 0});
    poll(fds.data(), fds.size(),
         static_cast<int>(absl::ToInt64Milliseconds(timeout)));
    size_t i = 0;
    for (auto& [cpu, ring] : rings_) {
      if (fds[i++].revents & (POLLHUP | POLLERR)) ring.hung_up = true;
    }
  }
  const absl::Time deadline = absl::Now() + std::max(timeout, kConsumeBudget);
  size_t read = 0;
  for (auto& [cpu, ring] : rings_) {
    if (!Consume(ring, deadline, on_sample, &read)) break;
  }
  return read;
}

bool PerfCpuSampler::Consume(
    Ring& ring, absl::Time deadline,
    const std::function<void(const profile_sample&)>& on_sample, size_t* read) {
  auto* meta = static_cast<perf_event_mmap_page*>(ring.base);
  const uint8_t* data =
      static_cast<const uint8_t*>(ring.base) + sysconf(_SC_PAGESIZE);
  const uint64_t head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
  uint64_t tail = meta->data_tail;
  std::vector<uint8_t> record;
  bool in_budget = true;
  while (tail < head) {
    perf_event_header header;
    CopyFromRing(data, ring.data_bytes, tail, &header, sizeof(header));
    if (header.size < sizeof(header) || tail + header.size > head) break;
    record.resize(header.size);
    CopyFromRing(data, ring.data_bytes, tail, record.data(), header.size);
    tail += header.size;
    const uint8_t* body = record.data() + sizeof(header);
    const size_t body_size = header.size - sizeof(header);
    if (header.type == PERF_RECORD_SAMPLE) {
      OnSample(body, body_size, header.misc, on_sample, read);
    } else if (header.type == PERF_RECORD_LOST && body_size >= 16) {
      uint64_t lost = 0;
      memcpy(&lost, body + 8, sizeof(lost));
      lost_ += lost;
    } else if (header.type == PERF_RECORD_COMM && body_size > 8) {
      uint32_t pid = 0, tid = 0;
      memcpy(&pid, body, 4);
      memcpy(&tid, body + 4, 4);
      const char* comm = reinterpret_cast<const char*>(body + 8);
      const std::string name(comm, strnlen(comm, body_size - 8));
      if (header.misc & PERF_RECORD_MISC_COMM_EXEC) ++execs_[pid];
      if (pid == tid) comms_[pid] = name.substr(0, 15);
    }
    if (absl::Now() >= deadline) {
      in_budget = false;
      break;
    }
  }
  __atomic_store_n(&meta->data_tail, tail, __ATOMIC_RELEASE);
  return in_budget;
}

void PerfCpuSampler::OnSample(
    const uint8_t* record, size_t size, uint16_t misc,
    const std::function<void(const profile_sample&)>& on_sample, size_t* read) {
  profile_sample& s = *sample_;
  size_t at = 0;
  uint64_t tid_word = 0, time = 0, cpu_word = 0;
  if (!Take(record, size, &at, &tid_word) || !Take(record, size, &at, &time) ||
      !Take(record, size, &at, &cpu_word)) {
    return;
  }
  const uint32_t tgid = static_cast<uint32_t>(tid_word);
  if (!Visible(tgid)) return;
  s.tgid = tgid;
  s.tid = static_cast<uint32_t>(tid_word >> 32);
  s.time_ns = time;
  s.cpu = static_cast<uint32_t>(cpu_word);
  s.flags = (misc & PERF_RECORD_MISC_CPUMODE_MASK) == PERF_RECORD_MISC_KERNEL
                ? SAMPLE_IN_KERNEL
                : 0;
  auto comm = comms_.find(tgid);
  if (comm == comms_.end()) comm = comms_.emplace(tgid, CommOf(tgid)).first;
  memset(s.comm, 0, sizeof(s.comm));
  memcpy(s.comm, comm->second.data(),
         std::min(comm->second.size(), sizeof(s.comm) - 1));
  s.mm_id = (uint64_t{tgid} << 32) | execs_[tgid];
  s.kstack_bytes = 0;
  s.ustack_bytes = 0;
  s.ustack_addr = 0;
  s.python.count = 0;
  s.python.status = PYTHON_STACK_NONE;
  if (settings_.kernel_stacks) {
    uint64_t nr = 0;
    if (!Take(record, size, &at, &nr) || at + nr * 8 > size) return;
    uint32_t depth = 0;
    for (uint64_t i = 0; i < nr && depth < PROFILE_KSTACK_DEPTH; ++i) {
      uint64_t ip = 0;
      memcpy(&ip, record + at + i * 8, 8);
      // Context markers (PERF_CONTEXT_KERNEL, ...) are not addresses.
      if (ip < static_cast<uint64_t>(PERF_CONTEXT_MAX)) s.kstack[depth++] = ip;
    }
    at += nr * 8;
    s.kstack_bytes = depth * 8;
  }
  if (settings_.user_stacks) {
    uint64_t abi = 0;
    if (!Take(record, size, &at, &abi)) return;
    if (abi != PERF_SAMPLE_REGS_ABI_NONE) {
      for (int i = 0; i < PROFILE_USER_REGS; ++i) {
        uint64_t value = 0;
        if (!Take(record, size, &at, &value)) return;
        s.user_regs[kDwarfOfSampleReg[i]] = value;
      }
      s.flags |= SAMPLE_USER_REGS;
    } else {
      ++no_user_regs_;
    }
    uint64_t stack_size = 0;
    if (!Take(record, size, &at, &stack_size)) return;
    if (stack_size > 0 && at + stack_size + 8 <= size) {
      uint64_t dyn_size = 0;
      memcpy(&dyn_size, record + at + stack_size, 8);
      const uint64_t n = std::min<uint64_t>(
          {dyn_size, stack_size, uint64_t{PROFILE_USTACK_BYTES}});
      memcpy(s.ustack, record + at, n);
      s.ustack_bytes = static_cast<uint32_t>(n);
      s.ustack_addr = s.user_regs[kDwarfSp];
    }
  }
  on_sample(s);
  ++*read;
}

bool PerfCpuSampler::Visible(uint32_t tgid) {
  const auto key = std::make_pair(tgid, execs_[tgid]);
  auto it = visible_.find(key);
  if (it != visible_.end()) return it->second;
  bool visible = filter_.follow_children ||
                 std::find(filter_.tgids.begin(), filter_.tgids.end(),
                           static_cast<pid_t>(tgid)) != filter_.tgids.end();
  // A set-id program gains privileges even under perf: an unprivileged
  // caller loses sight of its image.
  if (visible && filter_.owner) visible = OwnerMayTrace(tgid, *filter_.owner);
  if (visible_.size() > 65536) visible_.clear();
  visible_[key] = visible;
  return visible;
}

void PerfCpuSampler::Detach() {
  if (detached_) return;
  for (int fd : fds_) ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
  detached_ = true;
}

std::vector<v1::DropCounter> PerfCpuSampler::Drops() const {
  std::vector<v1::DropCounter> drops(2);
  drops[0].set_reason("samples lost: ring buffer full");
  drops[0].set_count(lost_);
  drops[1].set_reason("samples without user registers");
  drops[1].set_count(no_user_regs_);
  return drops;
}

absl::Status PerfCpuSampler::WatchPython(uint32_t, const python_proc&) {
  return absl::FailedPreconditionError("Python frames need the BPF backend");
}

}  // namespace tracectl
