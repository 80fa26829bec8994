// The BPF backend's syscall counter: a session's own programs and maps,
// attached while the object lives and detached when it is destroyed.
#ifndef TRACECTL_DAEMON_BPF_SYSCALL_COUNTER_H_
#define TRACECTL_DAEMON_BPF_SYSCALL_COUNTER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/backend.h"
#include "daemon/kernel_filter.h"
#include "tracectl/v1/tracectl.pb.h"

struct syscalls_bpf;

namespace tracectl {

class BpfSyscallCounter final : public SyscallCounter {
 public:
  // Loads and attaches the programs with `filter` in place. Processes in
  // filter.tgids are selected before any program runs.
  static absl::StatusOr<std::unique_ptr<BpfSyscallCounter>> Start(
      const KernelFilter& filter, bool per_process);
  ~BpfSyscallCounter() override;
  BpfSyscallCounter(const BpfSyscallCounter&) = delete;
  BpfSyscallCounter& operator=(const BpfSyscallCounter&) = delete;

  // Everything counted since Start, summed over CPUs, with drop counters.
  absl::StatusOr<v1::SyscallsSummary> Snapshot() const override;

 private:
  BpfSyscallCounter(syscalls_bpf* skel, bool per_process)
      : skel_(skel), per_process_(per_process), started_(absl::Now()) {}

  syscalls_bpf* skel_;
  bool per_process_;
  absl::Time started_;
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_BPF_SYSCALL_COUNTER_H_
