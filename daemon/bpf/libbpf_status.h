// libbpf errors and per-CPU counters, as the daemon reports them.
#ifndef TRACECTL_DAEMON_BPF_LIBBPF_STATUS_H_
#define TRACECTL_DAEMON_BPF_LIBBPF_STATUS_H_

#include <bpf/libbpf.h>

#include <cstdint>

#include "absl/status/status.h"
#include "absl/time/time.h"

struct python_proc;

namespace tracectl {

// PERMISSION_DENIED for EPERM/EACCES, UNAVAILABLE otherwise: "what: reason".
absl::Status LibbpfError(const char* what, int err);

// The sum over CPUs of slot `index` of a per-CPU array of u64; 0 if it
// cannot be read.
uint64_t SumPerCpuCounter(const bpf_map* map, uint32_t index);

// Waits up to `timeout` until `ring` has data or `wake_fd` (when >= 0) is
// readable, then consumes what is there through the ring's callback.
// Returns ring_buffer__consume's result (EINTR counts as nothing read).
int PollAndConsume(ring_buffer* ring, absl::Duration timeout, int wake_fd);

// Puts process `tgid`'s interpreter in a program's python_procs map
// (bpf/python_frames.bpf.h), so that its stacks carry Python frames.
absl::Status WatchPythonIn(bpf_map* python_procs, uint32_t tgid,
                           const python_proc& config);

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_BPF_LIBBPF_STATUS_H_
