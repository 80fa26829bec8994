// The tasks being traced, counted as strace counts its tracees, for the
// "[pid N] " that strace -f puts before each line while more than one task
// is traced: a task counts from its first record, or from the fork, vfork
// or clone that created it, until its exit or its process's exit_group.
// Only the calls the kernel sends are seen: tracectl trace asks for the
// calls that create and end tasks whatever -e trace= selects.
#ifndef TRACECTL_CLIENT_TRACED_TASKS_H_
#define TRACECTL_CLIENT_TRACED_TASKS_H_

#include <cstdint>
#include <unordered_map>

#include "client/trace_event.h"

namespace tracectl {

class TracedTasks {
 public:
  // Before `event`'s line is printed: its task is alive.
  void Saw(const TraceEvent& event);
  // After `event`'s line is printed: the tasks it created or ended.
  void Learn(const TraceEvent& event);
  // More than one task is alive.
  bool Several() const { return tgid_of_.size() > 1; }

 private:
  std::unordered_map<uint32_t, uint32_t> tgid_of_;  // tid -> tgid
};

}  // namespace tracectl

#endif  // TRACECTL_CLIENT_TRACED_TASKS_H_
