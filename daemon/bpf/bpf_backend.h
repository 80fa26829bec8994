// The BPF backend: CO-RE programs on raw tracepoints.
#ifndef TRACECTL_DAEMON_BPF_BPF_BACKEND_H_
#define TRACECTL_DAEMON_BPF_BPF_BACKEND_H_

#include <memory>

#include "absl/status/statusor.h"
#include "daemon/backend.h"

namespace tracectl {

struct BpfBackendOptions {
  // One uprobe_multi link per file for `calls` where the kernel has them
  // (Linux 6.6); else a perf-event uprobe per function, as older kernels
  // need (slower to attach and detach: one RCU wait per probe).
  bool uprobe_multi = true;
};

// FAILED_PRECONDITION naming the missing privilege or kernel feature when
// this process cannot load tracing programs.
absl::StatusOr<std::unique_ptr<Backend>> OpenBpfBackend(
    const BpfBackendOptions& options = {});

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_BPF_BPF_BACKEND_H_
