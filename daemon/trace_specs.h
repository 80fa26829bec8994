// What a trace session captures of each system call, whichever backend
// traces: bpf/syscall_events.h's syscall_spec per native number.
#ifndef TRACECTL_DAEMON_TRACE_SPECS_H_
#define TRACECTL_DAEMON_TRACE_SPECS_H_

#include <vector>

#include "common/syscall_table.h"
#include "daemon/backend.h"
#include "syscall_events.h"

namespace tracectl {

// What is captured for each argument of `info`: paths, buffers, sockaddrs,
// argv, environment counts, fd pairs, stat structures, at most
// EVENT_MAX_CAPTURES of them; only the kPath arguments with `paths_only`.
syscall_spec CaptureSpec(const SyscallInfo& info, bool paths_only = false);

// MAX_TRACE_NR specs: the selected calls (every one with settings.all)
// with their captures and SPEC_SELECTED, the unshown ones SPEC_UNSHOWN.
std::vector<syscall_spec> TraceSpecs(const TraceSettings& settings);

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_TRACE_SPECS_H_
