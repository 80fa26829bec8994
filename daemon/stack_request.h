// tracectl stack: every thread's stack of one process, once, as the caller
// may see it. Native frames: each thread stopped for a moment (ptrace, by a
// child with the caller's identity: daemon/thread_stopper.h), its registers
// and stack top copied and unwound with DWARF CFI (daemon/symbolizer.h).
// Python frames: read from memory (daemon/python) while the threads are
// stopped, and put in place of the eval loop's native frames
// (daemon/python_merge.h). MODE_PYTHON_ONLY reads Python alone, without
// stopping anything.
#ifndef TRACECTL_DAEMON_STACK_REQUEST_H_
#define TRACECTL_DAEMON_STACK_REQUEST_H_

#include "absl/status/statusor.h"
#include "daemon/caller.h"
#include "daemon/session_services.h"
#include "tracectl/v1/tracectl.pb.h"

namespace tracectl {

// Checks the request (one pid, nothing else), admits it as any session
// (authorization and a slot of the caller's), and reads the stacks with
// the caller's identity when the caller is not an admin: the kernel's
// ptrace checks then apply to the stop and to the target's memory. Every
// thread runs again within 2 s of the request, whatever happens.
absl::StatusOr<v1::StackResponse> ReadStacks(
    const absl::StatusOr<Caller>& caller, const SessionServices& services,
    const v1::StackRequest& request);

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_STACK_REQUEST_H_
