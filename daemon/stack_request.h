// tracectl stack: every thread's Python stack of one process, read once
// from its memory (daemon/python), as the caller may see it.
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
// ptrace check then applies to the target's memory.
absl::StatusOr<v1::StackResponse> ReadStacks(
    const absl::StatusOr<Caller>& caller, const SessionServices& services,
    const v1::StackRequest& request);

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_STACK_REQUEST_H_
