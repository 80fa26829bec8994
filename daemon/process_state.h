// What a process has when a session starts, for the Trace call's
// initial_state: the files it maps (/proc/PID/maps) and the descriptors it
// holds (/proc/PID/fd). tracectld reads these as root on behalf of any local
// user, so every read is bounded (bytes of maps, descriptors, bytes of text
// kept, time), and the caller must already be authorized for the pid; for a
// user's session the reading thread also takes that user's file-system
// identity, so the kernel's own ptrace check applies to every /proc file
// (see TraceReactor).
#ifndef TRACECTL_DAEMON_PROCESS_STATE_H_
#define TRACECTL_DAEMON_PROCESS_STATE_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tracectl/v1/tracectl.pb.h"

namespace tracectl {

struct ProcessStateLimits {
  // Bytes of /proc/PID/maps read.
  size_t max_maps_bytes = 4 << 20;
  // Descriptors listed.
  size_t max_fds = 65536;
  // Bytes of paths and link texts kept in one ProcessState.
  size_t max_text_bytes = 2 << 20;
  // Time for every process of a session together.
  absl::Duration time = absl::Seconds(2);
  // Reading stops here (the start plus `time`); what is left is counted.
  absl::Time deadline = absl::InfiniteFuture();
};

// What the bounds cut, summed over the processes of one session.
struct ProcessStateLosses {
  // Processes gone, or no longer readable, when their state was read.
  uint64_t unread = 0;
  // Processes not read because the session's time for them was up.
  uint64_t out_of_time = 0;
  // Processes whose mapped files were cut short by a bound.
  uint64_t maps_cut = 0;
  // Descriptors not listed because of a bound.
  uint64_t fds_left_out = 0;

  // One counter each, for TraceSummary.drops, naming the limits.
  std::vector<v1::DropCounter> Drops(const ProcessStateLimits& limits) const;
};

// Adds the distinct file-backed mappings of /proc/PID/maps text to `state`,
// each once, in order of first mapping. Only whole lines are read. False if
// `max_text_bytes` of paths (counting those already in `state`) stopped it.
bool ParseMappedFiles(std::string_view maps, size_t max_text_bytes,
                      v1::ProcessState* state);

// The kind of file a /proc/PID/fd link's text names.
v1::OpenFileKind KindOfFdLink(std::string_view link);

// Reads pid's comm, executable, mapped files and descriptors. NOT_FOUND
// when the process is gone or may not be read (any more).
absl::StatusOr<v1::ProcessState> ReadProcessState(
    pid_t pid, const ProcessStateLimits& limits, ProcessStateLosses* losses);

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_PROCESS_STATE_H_
