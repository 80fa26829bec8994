#include "daemon/bpf_syscall_counter.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <string.h>
#include <unistd.h>

#include <map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/syscall_names.h"
#include "daemon/bpf_task_filter.h"
#include "daemon/libbpf_status.h"
#include "daemon/log2_histogram.h"
#include "daemon/status_macros.h"
#include "syscalls.h"
#include "syscalls.skel.h"

namespace tracectl {
namespace {

static_assert(sizeof(syscall_key) == 8);
static_assert(sizeof(errno_key) == 16);
static_assert(offsetof(syscall_stats, hist) == 32);
static_assert(offsetof(syscall_stats, comm) == 32 + 8 * SYSCALL_HIST_SLOTS);
static_assert(sizeof(syscall_stats) == 32 + 8 * SYSCALL_HIST_SLOTS + 16);

constexpr uint32_t kStatsRowsPerProcess = 8192;
constexpr uint32_t kErrnoRows = 4096;
constexpr uint32_t kErrnoRowsPerProcess = 8192;

constexpr const char* kDropReasons[DROP_REASON_COUNT] = {
    "syscall rows: map full",          "errno counts: map full",
    "followed children: pid map full", "entry times: no task storage",
    "syscall numbers out of range",
};

// stats_by_nr's index to the syscall_key.nr the errno map uses.
uint32_t RowToSyscall(uint32_t row) {
  return row < COMPAT_ROW_BASE ? row
                               : (row - COMPAT_ROW_BASE) | COMPAT_SYSCALL_BIT;
}

// Reads every key of a per-CPU map and sums its values with `add`.
template <typename Key, typename Value, typename Add>
absl::Status ForEachPerCpu(int map_fd, Add add) {
  const int ncpus = libbpf_num_possible_cpus();
  if (ncpus <= 0) return LibbpfError("counting CPUs", ncpus);
  constexpr size_t kStride = (sizeof(Value) + 7) / 8 * 8;
  std::vector<char> values(kStride * ncpus);
  Key key{}, next{};
  const Key* prev = nullptr;
  while (bpf_map_get_next_key(map_fd, prev, &next) == 0) {
    if (bpf_map_lookup_elem(map_fd, &next, values.data()) == 0) {
      for (int cpu = 0; cpu < ncpus; ++cpu) {
        add(next, *reinterpret_cast<const Value*>(&values[kStride * cpu]));
      }
    }
    key = next;
    prev = &key;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<BpfSyscallCounter>> BpfSyscallCounter::Start(
    const KernelFilter& filter, bool per_process) {
  syscalls_bpf* skel = syscalls_bpf::open();
  if (skel == nullptr) return LibbpfError("opening BPF object", -errno);
  // From here on the skeleton is owned, so every error path frees it.
  std::unique_ptr<BpfSyscallCounter> session(
      new BpfSyscallCounter(skel, per_process));

  ConfigureTaskFilter(skel, filter);
  skel->rodata->per_process = per_process;

  // Only one of the two row maps is used; the other gets one entry.
  bpf_map__set_max_entries(skel->maps.stats,
                           per_process ? kStatsRowsPerProcess : 1);
  bpf_map__set_max_entries(skel->maps.stats_by_nr,
                           per_process ? 1 : MAX_SYSCALL_NR);
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
  return session;
}

BpfSyscallCounter::~BpfSyscallCounter() { syscalls_bpf::destroy(skel_); }

absl::StatusOr<v1::SyscallsSummary> BpfSyscallCounter::Snapshot() const {
  std::map<std::pair<uint32_t, uint32_t>, syscall_stats> rows;
  auto add = [&rows](const syscall_key& key, const syscall_stats& v) {
    if (v.calls == 0) return;
    syscall_stats& sum = rows[{key.tgid, key.nr}];
    sum.calls += v.calls;
    sum.errors += v.errors;
    sum.total_ns += v.total_ns;
    sum.max_ns = std::max(sum.max_ns, v.max_ns);
    for (int k = 0; k < SYSCALL_HIST_SLOTS; ++k) sum.hist[k] += v.hist[k];
    if (v.comm[0] != '\0') memcpy(sum.comm, v.comm, sizeof(sum.comm));
  };
  absl::Status status = per_process_
                            ? ForEachPerCpu<syscall_key, syscall_stats>(
                                  bpf_map__fd(skel_->maps.stats), add)
                            : ForEachPerCpu<uint32_t, syscall_stats>(
                                  bpf_map__fd(skel_->maps.stats_by_nr),
                                  [&add](uint32_t row, const syscall_stats& v) {
                                    add(syscall_key{0, RowToSyscall(row)}, v);
                                  });
  if (!status.ok()) return status;

  std::map<std::pair<uint32_t, uint32_t>, std::map<uint32_t, uint64_t>> errs;
  status = ForEachPerCpu<errno_key, uint64_t>(
      bpf_map__fd(skel_->maps.errnos),
      [&](const errno_key& key, const uint64_t& count) {
        errs[{key.tgid, key.nr}][key.err] += count;
      });
  if (!status.ok()) return status;

  v1::SyscallsSummary summary;
  summary.set_elapsed_seconds(absl::ToDoubleSeconds(absl::Now() - started_));
  for (const auto& [key, v] : rows) {
    v1::SyscallRow* row = summary.add_syscalls();
    const bool compat = key.second & COMPAT_SYSCALL_BIT;
    const int nr = key.second & ~COMPAT_SYSCALL_BIT;
    row->set_name(SyscallName(nr, compat));
    row->set_number(nr);
    row->set_compat(compat);
    if (per_process_) {
      row->set_pid(key.first);
      row->set_comm(std::string(v.comm, strnlen(v.comm, sizeof(v.comm))));
    }
    row->set_calls(v.calls);
    row->set_errors(v.errors);
    row->set_total_ns(v.total_ns);
    row->set_max_ns(v.max_ns);
    std::vector<uint64_t> hist(v.hist, v.hist + SYSCALL_HIST_SLOTS);
    row->set_p50_ns(Log2Quantile(hist, 0.50, v.max_ns));
    row->set_p99_ns(Log2Quantile(hist, 0.99, v.max_ns));
    while (!hist.empty() && hist.back() == 0) hist.pop_back();
    for (uint64_t count : hist) row->add_histogram(count);

    std::vector<std::pair<uint64_t, uint32_t>> by_count;
    for (const auto& [err, count] : errs[key]) by_count.push_back({count, err});
    std::sort(
        by_count.begin(), by_count.end(), [](const auto& a, const auto& b) {
          return a.first != b.first ? a.first > b.first : a.second < b.second;
        });
    for (const auto& [count, err] : by_count) {
      v1::ErrnoCount* e = row->add_errnos();
      e->set_name(ErrnoName(err));
      e->set_value(err);
      e->set_count(count);
    }
  }

  for (uint32_t reason = 0; reason < DROP_REASON_COUNT; ++reason) {
    v1::DropCounter* drop = summary.add_drops();
    drop->set_reason(kDropReasons[reason]);
    drop->set_count(SumPerCpuCounter(skel_->maps.drops, reason));
  }
  return summary;
}

}  // namespace tracectl
