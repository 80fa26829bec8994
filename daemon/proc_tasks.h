// What the daemon reads of a task from /proc for its ptrace work (the ptrace
// backend, the thread stopper), bounded.
#ifndef TRACECTL_DAEMON_PROC_TASKS_H_
#define TRACECTL_DAEMON_PROC_TASKS_H_

#include <sys/types.h>

#include <string>
#include <vector>

namespace tracectl {

// The threads of process `tgid` now (at most 65536).
std::vector<pid_t> ThreadsOf(pid_t tgid);
// A numeric field of /proc/TID/status ("Tgid", "TracerPid"); -1 when
// unknown.
long StatusField(pid_t tid, const std::string& field);
// /proc/PID/comm without its newline; "" when gone.
std::string CommOf(pid_t pid);
// Whether thread `tid` is exiting or gone (a zombie: a main thread whose
// other threads run on): PTRACE_SEIZE refuses it with EPERM.
bool TaskExiting(pid_t tid);

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_PROC_TASKS_H_
