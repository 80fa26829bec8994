#include "daemon/ptrace/ptrace_syscall_counter.h"

#include <cstdio>
#include <string>

#include "daemon/proc_tasks.h"

namespace tracectl {

absl::StatusOr<std::unique_ptr<PtraceSyscallCounter>>
PtraceSyscallCounter::Start(const KernelFilter& filter,
                            const SyscallCountSettings& settings) {
  std::unique_ptr<PtraceSyscallCounter> counter(
      new PtraceSyscallCounter(settings));
  // Counting at exit alone, the BPF programs count a call in progress at
  // the start: so does this.
  auto tracees = Tracees::Seize(filter, settings.count_only, counter.get());
  if (!tracees.ok()) return tracees.status();
  counter->tracees_ = std::move(*tracees);
  return counter;
}

PtraceSyscallCounter::~PtraceSyscallCounter() {
  if (tracees_) tracees_->Stop();
}

void PtraceSyscallCounter::OnExit(pid_t, const Tracees::Task& task,
                                  bool is_error, int64_t rval,
                                  uint64_t duration_ns) {
  const uint32_t nr = task.nr;
  if ((nr & ~COMPAT_SYSCALL_BIT) >= MAX_SYSCALL_NR) return;
  const SyscallRowKey key{settings_.per_process ? task.tgid : 0, nr};
  absl::MutexLock lock(&mu_);
  SyscallRowTotals& row = totals_[key];
  if (row.stats.calls == 0 && settings_.per_process) {
    const std::string comm = CommOf(task.tgid);
    snprintf(row.stats.comm, sizeof(row.stats.comm), "%s", comm.c_str());
  }
  ++row.stats.calls;
  if (is_error) {
    ++row.stats.errors;
    ++row.errnos[static_cast<uint32_t>(-rval)];
  }
  if (!settings_.count_only) AddCallTime(duration_ns, &row.stats);
}

absl::StatusOr<v1::SyscallsSummary> PtraceSyscallCounter::Snapshot() {
  absl::MutexLock lock(&mu_);
  return Summary();
}

absl::StatusOr<v1::SyscallsSummary> PtraceSyscallCounter::Finish() {
  {
    absl::MutexLock lock(&mu_);
    if (finished_at_ == absl::Time()) finished_at_ = absl::Now();
  }
  tracees_->Stop();
  absl::MutexLock lock(&mu_);
  return Summary();
}

v1::SyscallsSummary PtraceSyscallCounter::Summary() const {
  v1::SyscallsSummary summary;
  const absl::Time end =
      finished_at_ == absl::Time() ? absl::Now() : finished_at_;
  summary.set_elapsed_seconds(absl::ToDoubleSeconds(end - started_));
  // Times are between the two stops of a call, on the wall clock.
  summary.set_wall_time(!settings_.count_only);
  summary.set_count_only(settings_.count_only);
  AddSyscallRows(totals_, settings_.per_process, &summary);
  v1::DropCounter* lost = summary.add_drops();
  lost->set_reason("threads gone from ptrace unseen (ECHILD)");
  lost->set_count(tracees_->lost());
  return summary;
}

}  // namespace tracectl
