#include "client/traced_tasks.h"

#include <sched.h>

#include "common/syscall_table.h"

namespace tracectl {

void TracedTasks::Saw(const TraceEvent& event) {
  tgid_of_[event.header.tid] = event.header.tgid;
}

void TracedTasks::Learn(const TraceEvent& event) {
  if (event.compat()) return;
  const SyscallInfo* info = FindSyscall(event.nr());
  if (info == nullptr) return;
  if (info->name == "exit_group") {
    for (auto it = tgid_of_.begin(); it != tgid_of_.end();) {
      it = it->second == event.header.tgid ? tgid_of_.erase(it) : ++it;
    }
  } else if (info->name == "exit") {
    tgid_of_.erase(event.header.tid);
  } else if (info->name == "fork" || info->name == "vfork" ||
             info->name == "clone" || info->name == "clone3") {
    if (event.no_return() || event.header.ret <= 0) return;
    const uint32_t child = static_cast<uint32_t>(event.header.ret);
    const bool thread =
        info->name == "clone" && (event.header.args[0] & CLONE_THREAD) != 0;
    // clone3's flags are in a structure: the child's first record corrects
    // its process when it is a thread.
    tgid_of_.emplace(child, thread ? event.header.tgid : child);
  }
}

}  // namespace tracectl
