// -y: which path each file descriptor of each traced process leads to, as
// far as the traced calls themselves tell: a successful open, openat,
// openat2 or creat names the path of the descriptor it returns; dup, dup2,
// dup3 and fcntl(F_DUPFD) copy it; close, close_range and execve (for
// close-on-exec descriptors) forget it; fork, vfork and clone hand the
// parent's table to the child; exit_group drops the process.
//
// Unlike strace, which asks /proc, tracectl knows nothing of descriptors
// opened before tracing began (stdin, stdout, stderr, whatever a --pid
// process had open) nor of sockets, pipes and the like: those print as
// plain numbers. A relative path prints as the program gave it (joined to
// the directory descriptor's path for *at calls when that is known);
// strace prints the absolute, resolved path.
#ifndef TRACECTL_CLIENT_FD_PATHS_H_
#define TRACECTL_CLIENT_FD_PATHS_H_

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "client/trace_event.h"
#include "tracectl/v1/tracectl.pb.h"

namespace tracectl {

class FdPaths {
 public:
  // The path of descriptor `fd` of process `tgid` now, or "" when unknown.
  std::string PathOf(uint32_t tgid, int fd) const;

  // The path of the descriptor `event` returns (open, dup, ...), or "" when
  // it returns none or its path is unknown. Call before Learn(event).
  std::string ResultPath(const TraceEvent& event) const;

  // Updates the table from one completed (or exiting) call.
  void Learn(const TraceEvent& event);

  // Starts a --pid process's table from the descriptors it held when the
  // session started (what /proc/PID/fd links show: a path, or "socket:[N]",
  // "pipe:[N]", ... as strace -y prints them). What the trace taught wins.
  void AddInitialState(const v1::ProcessState& state);

  // The system calls whose records keep the table right: the kernel must
  // select them whenever -y is on, even when they are not printed.
  static const std::vector<std::string>& CallsToWatch();

 private:
  struct Fd {
    std::string path;  // "" when known to lead to no path we know
    bool close_on_exec = false;
  };
  // close_range(first, last, flags) that a child made before its parent's
  // table was copied to it (the child ran first).
  struct ClosedRange {
    uint32_t first, last;
    bool close_on_exec;  // CLOSE_RANGE_CLOEXEC: marked, not closed
  };
  struct Process {
    std::unordered_map<int, Fd> fds;
    bool exec_seen = false;
    bool parent_table_copied = false;
    std::vector<ClosedRange> early_ranges;
  };
  // The entry the descriptor `event` returns gets, if it returns one.
  bool NewFd(const TraceEvent& event, Fd* fd) const;
  const Fd* Find(uint32_t tgid, int fd) const;

  std::unordered_map<uint32_t, Process> processes_;
};

}  // namespace tracectl

#endif  // TRACECTL_CLIENT_FD_PATHS_H_
