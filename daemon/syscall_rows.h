// A syscalls session's rows as the client gets them, whichever backend
// counted them: both keep bpf/syscalls.h's per-row figures.
#ifndef TRACECTL_DAEMON_SYSCALL_ROWS_H_
#define TRACECTL_DAEMON_SYSCALL_ROWS_H_

#include <cstdint>
#include <map>
#include <utility>

#include "syscalls.h"
#include "tracectl/v1/tracectl.pb.h"

namespace tracectl {

// One row's totals: calls, errors, times and their log2 histogram, comm;
// and its errors by (positive) errno.
struct SyscallRowTotals {
  syscall_stats stats{};
  std::map<uint32_t, uint64_t> errnos;
};

// (tgid, or 0 when rows are not per process; syscall number, with
// COMPAT_SYSCALL_BIT for a 32-bit call).
using SyscallRowKey = std::pair<uint32_t, uint32_t>;

// One call that took `ns`: its slot of the log2 histogram as the BPF
// programs choose it, the total and the maximum.
void AddCallTime(uint64_t ns, syscall_stats* stats);

// A row per key with calls (pid and comm with `per_process`), its
// quantiles from the histogram, its errnos most frequent first.
void AddSyscallRows(const std::map<SyscallRowKey, SyscallRowTotals>& totals,
                    bool per_process, v1::SyscallsSummary* summary);

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_SYSCALL_ROWS_H_
