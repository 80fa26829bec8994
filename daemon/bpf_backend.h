// The BPF backend: CO-RE programs on raw tracepoints.
#ifndef TRACECTL_DAEMON_BPF_BACKEND_H_
#define TRACECTL_DAEMON_BPF_BACKEND_H_

#include <memory>

#include "absl/status/statusor.h"
#include "daemon/backend.h"

namespace tracectl {

// FAILED_PRECONDITION naming the missing privilege or kernel feature when
// this process cannot load tracing programs.
absl::StatusOr<std::unique_ptr<Backend>> OpenBpfBackend();

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_BPF_BACKEND_H_
