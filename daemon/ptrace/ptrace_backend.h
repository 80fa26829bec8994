// The ptrace backend: for kernels (or containers, or policies) where BPF
// programs cannot be loaded. It serves `syscalls` for processes it can
// attach to (--pid, -- CMD) and refuses the rest with the reason.
#ifndef TRACECTL_DAEMON_PTRACE_PTRACE_BACKEND_H_
#define TRACECTL_DAEMON_PTRACE_PTRACE_BACKEND_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "daemon/backend.h"

namespace tracectl {

// `why`: why this daemon runs without BPF, in words ("bpf(2) returned
// ENOSYS", "--backend ptrace was given"); every refusal repeats it.
// FAILED_PRECONDITION without CAP_SYS_PTRACE.
absl::StatusOr<std::unique_ptr<Backend>> OpenPtraceBackend(
    const std::string& why);

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_PTRACE_PTRACE_BACKEND_H_
