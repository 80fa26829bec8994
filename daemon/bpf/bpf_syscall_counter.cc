#include "daemon/bpf/bpf_syscall_counter.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "daemon/bpf/bpf_task_filter.h"
#include "daemon/bpf/libbpf_status.h"
#include "daemon/status_macros.h"
#include "daemon/syscall_rows.h"
#include "syscalls.h"
#include "syscalls.skel.h"

namespace tracectl {
namespace {

static_assert(sizeof(syscall_key) == 16);
static_assert(sizeof(errno_key) == 16);
static_assert(offsetof(errno_key, generation) == 12);
static_assert(offsetof(syscall_stats, hist) == 32);
static_assert(offsetof(syscall_stats, comm) == 32 + 8 * SYSCALL_HIST_SLOTS);
static_assert(sizeof(syscall_stats) == 32 + 8 * SYSCALL_HIST_SLOTS + 16);
static_assert(sizeof(exit_busy_slot) == 64);

// Both generations share the hash maps.
constexpr uint32_t kStatsRowsPerProcess = 2 * 8192;
constexpr uint32_t kErrnoRows = 2 * 4096;
constexpr uint32_t kErrnoRowsPerProcess = 2 * 8192;
// How long a read waits for programs still counting into the old
// generation. They run with preemption off, so this is never reached.
constexpr absl::Duration kExitWait = absl::Seconds(1);

constexpr const char* kDropReasons[DROP_REASON_COUNT] = {
    "syscall rows: map full",          "errno counts: map full",
    "followed children: pid map full", "entry times: no task storage",
    "syscall numbers out of range",
};
constexpr const char* kBusyReads =
    "snapshots read before every CPU left the old rows";

// stats_by_nr's row within a generation to the syscall_key.nr the errno
// map uses.
uint32_t RowToSyscall(uint32_t row) {
  return row < COMPAT_ROW_BASE ? row
                               : (row - COMPAT_ROW_BASE) | COMPAT_SYSCALL_BIT;
}

// A buffer for one key's values on every CPU.
class PerCpuValues {
 public:
  static absl::StatusOr<PerCpuValues> Make(size_t value_size) {
    const int ncpus = libbpf_num_possible_cpus();
    if (ncpus <= 0) return LibbpfError("counting CPUs", ncpus);
    return PerCpuValues(value_size, ncpus);
  }
  void* data() { return bytes_.data(); }
  int cpus() const { return ncpus_; }
  template <typename Value>
  const Value& at(int cpu) const {
    return *reinterpret_cast<const Value*>(&bytes_[stride_ * cpu]);
  }
  void Clear() { std::fill(bytes_.begin(), bytes_.end(), 0); }

 private:
  PerCpuValues(size_t value_size, int ncpus)
      : stride_((value_size + 7) / 8 * 8),
        ncpus_(ncpus),
        bytes_(stride_ * ncpus) {}
  size_t stride_;
  int ncpus_;
  std::vector<char> bytes_;
};

// The keys of a hash map that belong to `generation`. Keys of that
// generation are neither added nor removed while this runs.
template <typename Key>
std::vector<Key> KeysOfGeneration(int map_fd, uint32_t generation,
                                  uint32_t max_entries) {
  std::vector<Key> keys;
  Key key{}, next{};
  const Key* prev = nullptr;
  // Bounded: keys of the other generation come and go meanwhile.
  for (uint64_t seen = 0; seen < 2ull * max_entries + 16; ++seen) {
    if (bpf_map_get_next_key(map_fd, prev, &next) != 0) break;
    if (next.generation == generation) keys.push_back(next);
    key = next;
    prev = &key;
  }
  std::sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) {
    return memcmp(&a, &b, sizeof(Key)) < 0;
  });
  keys.erase(std::unique(keys.begin(), keys.end(),
                         [](const Key& a, const Key& b) {
                           return memcmp(&a, &b, sizeof(Key)) == 0;
                         }),
             keys.end());
  return keys;
}

void AddStats(const syscall_stats& v, syscall_stats* sum) {
  sum->calls += v.calls;
  sum->errors += v.errors;
  sum->total_ns += v.total_ns;
  sum->max_ns = std::max(sum->max_ns, v.max_ns);
  for (int k = 0; k < SYSCALL_HIST_SLOTS; ++k) sum->hist[k] += v.hist[k];
  if (v.comm[0] != '\0') memcpy(sum->comm, v.comm, sizeof(sum->comm));
}

// Waits until no sys_exit program is inside a generation it read before
// the switch (bpf/syscalls.bpf.c). False if that took longer than
// kExitWait.
bool WaitForExits(syscalls_bpf* skel, int ncpus) {
  const int slots = std::min(ncpus, EXIT_BUSY_SLOTS);
  const absl::Time deadline = absl::Now() + kExitWait;
  for (int slot = 0; slot < slots; ++slot) {
    const volatile __u64* count = &skel->bss->exit_busy[slot].count;
    for (int spins = 1; __atomic_load_n(count, __ATOMIC_SEQ_CST) != 0;
         ++spins) {
      if (spins % 64 != 0) continue;
      if (absl::Now() > deadline) return false;
      sched_yield();
    }
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<BpfSyscallCounter>> BpfSyscallCounter::Start(
    const KernelFilter& filter, const SyscallCountSettings& settings) {
  syscalls_bpf* skel = syscalls_bpf::open();
  if (skel == nullptr) return LibbpfError("opening BPF object", -errno);
  // From here on the skeleton is owned, so every error path frees it.
  std::unique_ptr<BpfSyscallCounter> session(
      new BpfSyscallCounter(skel, settings));

  ConfigureTaskFilter(skel, filter);
  const bool per_process = settings.per_process;
  skel->rodata->per_process = per_process;
  skel->rodata->wall_time = settings.wall_time;
  skel->rodata->count_only = settings.count_only;
  // Wall time needs no clock stopped while a task is switched out; counts
  // alone need one program at exit.
  const bool timed = !settings.count_only;
  bpf_program__set_autoload(skel->progs.sched_switch,
                            timed && !settings.wall_time);
  bpf_program__set_autoload(skel->progs.sys_enter, timed);
  bpf_program__set_autoload(skel->progs.sys_exit, timed);
  bpf_program__set_autoload(skel->progs.sys_exit_count, !timed);

  // Only one of the two row maps is used; the other gets one entry.
  bpf_map__set_max_entries(skel->maps.stats,
                           per_process ? kStatsRowsPerProcess : 1);
  bpf_map__set_max_entries(
      skel->maps.stats_by_nr,
      per_process ? 1 : COUNT_GENERATIONS * MAX_SYSCALL_NR);
  bpf_map__set_max_entries(skel->maps.errnos,
                           per_process ? kErrnoRowsPerProcess : kErrnoRows);

  if (int err = syscalls_bpf::load(skel); err != 0) {
    return LibbpfError("loading BPF programs", err);
  }
  RETURN_IF_ERROR(AddTrackedProcesses(skel, filter));
  if (int err = syscalls_bpf::attach(skel); err != 0) {
    return LibbpfError("attaching to the raw_syscalls tracepoints", err);
  }
  session->started_ = absl::Now();
  session->read_at_ = session->started_;
  return session;
}

BpfSyscallCounter::~BpfSyscallCounter() { syscalls_bpf::destroy(skel_); }

absl::StatusOr<v1::SyscallsSummary> BpfSyscallCounter::Snapshot() {
  if (generation_ != COUNT_STOPPED) {
    RETURN_IF_ERROR(SwitchGeneration(generation_ ^ 1));
  }
  return Summary();
}

absl::StatusOr<v1::SyscallsSummary> BpfSyscallCounter::Finish() {
  if (generation_ != COUNT_STOPPED) {
    RETURN_IF_ERROR(SwitchGeneration(COUNT_STOPPED));
  }
  return Summary();
}

absl::Status BpfSyscallCounter::SwitchGeneration(uint32_t next) {
  const uint32_t old = generation_;
  // A sequentially consistent store: a full barrier before the reads of
  // the busy counters.
  __atomic_store_n(&skel_->bss->generation, next, __ATOMIC_SEQ_CST);
  read_at_ = absl::Now();
  generation_ = next;
  if (!WaitForExits(skel_, libbpf_num_possible_cpus())) ++busy_reads_;
  RETURN_IF_ERROR(CollectRows(old));
  return CollectErrnos(old);
}

absl::Status BpfSyscallCounter::CollectRows(uint32_t generation) {
  ASSIGN_OR_RETURN(PerCpuValues values,
                   PerCpuValues::Make(sizeof(syscall_stats)));
  // Adds one key's values to its totals; true if there was anything.
  auto add = [&](const RowKey& row) {
    bool any = false;
    for (int cpu = 0; cpu < values.cpus(); ++cpu) {
      const syscall_stats& v = values.at<syscall_stats>(cpu);
      if (v.calls == 0) continue;
      AddStats(v, &totals_[row].stats);
      any = true;
    }
    return any;
  };
  if (settings_.per_process) {
    const int fd = bpf_map__fd(skel_->maps.stats);
    for (const syscall_key& key :
         KeysOfGeneration<syscall_key>(fd, generation, kStatsRowsPerProcess)) {
      if (bpf_map_lookup_elem(fd, &key, values.data()) != 0) continue;
      add({key.tgid, key.nr});
      bpf_map_delete_elem(fd, &key);
    }
    return absl::OkStatus();
  }
  const int fd = bpf_map__fd(skel_->maps.stats_by_nr);
  for (uint32_t row = 0; row < MAX_SYSCALL_NR; ++row) {
    const uint32_t index = generation * MAX_SYSCALL_NR + row;
    if (bpf_map_lookup_elem(fd, &index, values.data()) != 0) {
      return LibbpfError("reading syscall rows", -errno);
    }
    if (!add({0, RowToSyscall(row)})) continue;
    values.Clear();
    if (bpf_map_update_elem(fd, &index, values.data(), BPF_ANY) != 0) {
      return LibbpfError("clearing syscall rows", -errno);
    }
  }
  return absl::OkStatus();
}

absl::Status BpfSyscallCounter::CollectErrnos(uint32_t generation) {
  ASSIGN_OR_RETURN(PerCpuValues values, PerCpuValues::Make(sizeof(uint64_t)));
  const int fd = bpf_map__fd(skel_->maps.errnos);
  const uint32_t max_entries =
      settings_.per_process ? kErrnoRowsPerProcess : kErrnoRows;
  for (const errno_key& key :
       KeysOfGeneration<errno_key>(fd, generation, max_entries)) {
    if (bpf_map_lookup_elem(fd, &key, values.data()) != 0) continue;
    uint64_t count = 0;
    for (int cpu = 0; cpu < values.cpus(); ++cpu) {
      count += values.at<uint64_t>(cpu);
    }
    if (count != 0) totals_[{key.tgid, key.nr}].errnos[key.err] += count;
    bpf_map_delete_elem(fd, &key);
  }
  return absl::OkStatus();
}

v1::SyscallsSummary BpfSyscallCounter::Summary() const {
  v1::SyscallsSummary summary;
  summary.set_elapsed_seconds(absl::ToDoubleSeconds(read_at_ - started_));
  summary.set_wall_time(settings_.wall_time);
  summary.set_count_only(settings_.count_only);
  AddSyscallRows(totals_, settings_.per_process, &summary);

  for (uint32_t reason = 0; reason < DROP_REASON_COUNT; ++reason) {
    v1::DropCounter* drop = summary.add_drops();
    drop->set_reason(kDropReasons[reason]);
    drop->set_count(SumPerCpuCounter(skel_->maps.drops, reason));
  }
  v1::DropCounter* busy = summary.add_drops();
  busy->set_reason(kBusyReads);
  busy->set_count(busy_reads_);
  return summary;
}

}  // namespace tracectl
