// The ptrace backend's syscall counter: counts each call of the tracees
// (daemon/ptrace/tracees.h) at its exit stop, as the BPF programs count at
// sys_exit. PTRACE_GET_SYSCALL_INFO (Linux 5.3) gives the number, the
// architecture and the result; times are between the two stops, on the
// wall clock.
#ifndef TRACECTL_DAEMON_PTRACE_PTRACE_SYSCALL_COUNTER_H_
#define TRACECTL_DAEMON_PTRACE_PTRACE_SYSCALL_COUNTER_H_

#include <map>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/backend.h"
#include "daemon/kernel_filter.h"
#include "daemon/ptrace/tracees.h"
#include "daemon/syscall_rows.h"

namespace tracectl {

class PtraceSyscallCounter final : public SyscallCounter,
                                   private Tracees::Observer {
 public:
  // Seizes every thread of filter.tgids before returning: a held command
  // is stopped before it runs a single call of its own.
  static absl::StatusOr<std::unique_ptr<PtraceSyscallCounter>> Start(
      const KernelFilter& filter, const SyscallCountSettings& settings);
  ~PtraceSyscallCounter() override;

  absl::StatusOr<v1::SyscallsSummary> Snapshot() override;
  // Stops counting, lets every task go, then returns the counts.
  absl::StatusOr<v1::SyscallsSummary> Finish() override;

 private:
  explicit PtraceSyscallCounter(const SyscallCountSettings& settings)
      : settings_(settings), started_(absl::Now()) {}
  void OnEntry(pid_t, const Tracees::Task&,
               const __ptrace_syscall_info&) override {}
  void OnExit(pid_t tid, const Tracees::Task& task, bool is_error, int64_t rval,
              uint64_t duration_ns) override;
  v1::SyscallsSummary Summary() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const SyscallCountSettings settings_;
  const absl::Time started_;
  std::shared_ptr<Tracees> tracees_;
  mutable absl::Mutex mu_;
  std::map<SyscallRowKey, SyscallRowTotals> totals_ ABSL_GUARDED_BY(mu_);
  absl::Time finished_at_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_PTRACE_PTRACE_SYSCALL_COUNTER_H_
