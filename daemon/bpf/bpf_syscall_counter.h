// The BPF backend's syscall counter: a session's own programs and maps,
// attached while the object lives and detached when it is destroyed.
#ifndef TRACECTL_DAEMON_BPF_BPF_SYSCALL_COUNTER_H_
#define TRACECTL_DAEMON_BPF_BPF_SYSCALL_COUNTER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/backend.h"
#include "daemon/kernel_filter.h"
#include "daemon/syscall_rows.h"
#include "syscalls.h"
#include "tracectl/v1/tracectl.pb.h"

struct syscalls_bpf;

namespace tracectl {

class BpfSyscallCounter final : public SyscallCounter {
 public:
  // Loads and attaches the programs with `filter` in place. Processes in
  // filter.tgids are selected before any program runs.
  static absl::StatusOr<std::unique_ptr<BpfSyscallCounter>> Start(
      const KernelFilter& filter, const SyscallCountSettings& settings);
  ~BpfSyscallCounter() override;
  BpfSyscallCounter(const BpfSyscallCounter&) = delete;
  BpfSyscallCounter& operator=(const BpfSyscallCounter&) = delete;

  // Switches the kernel to the other generation of rows and adds the
  // finished one to the totals (bpf/syscalls.h), so every row is of the
  // moment of the switch.
  absl::StatusOr<v1::SyscallsSummary> Snapshot() override;
  absl::StatusOr<v1::SyscallsSummary> Finish() override;

 private:
  // (tgid, syscall_key.nr) -> totals over the generations read so far.
  using RowKey = SyscallRowKey;

  BpfSyscallCounter(syscalls_bpf* skel, const SyscallCountSettings& settings)
      : skel_(skel), settings_(settings), started_(absl::Now()) {}

  // Tells the kernel to count into `next` (or COUNT_STOPPED), waits until no
  // program is still counting into the current generation, then moves that
  // generation's rows into totals_ and clears them.
  absl::Status SwitchGeneration(uint32_t next);
  absl::Status CollectRows(uint32_t generation);
  absl::Status CollectErrnos(uint32_t generation);
  v1::SyscallsSummary Summary() const;

  syscalls_bpf* skel_;
  SyscallCountSettings settings_;
  absl::Time started_;
  absl::Time read_at_;
  uint32_t generation_ = 0;
  std::map<RowKey, SyscallRowTotals> totals_;
  // Reads that went ahead before every CPU had left the old generation.
  uint64_t busy_reads_ = 0;
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_BPF_BPF_SYSCALL_COUNTER_H_
