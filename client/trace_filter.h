// What tracectl trace prints, from strace's spellings: -e trace=SET (any
// number of them, merged), -e status=SET, -e decode-fds=SET, -z, -Z and
// -y; split into what the kernel selects (cheap, early) and what the
// client then drops (what -y needs the kernel to send but the user did
// not ask to see).
#ifndef TRACECTL_CLIENT_TRACE_FILTER_H_
#define TRACECTL_CLIENT_TRACE_FILTER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/trace_event.h"

namespace tracectl {

struct TraceFlags {
  std::vector<std::string> expressions;  // each -e, as given
  bool successful = false;               // -z
  bool failed = false;                   // -Z
  bool decode_fds = false;               // -y, -yy
};

struct TraceFilter {
  // For the TraceRequest: the selection ("" for every call) and the
  // kernel's -z / -Z.
  std::string kernel_selection;
  // The calls of kernel_selection that only keep the client's state right:
  // never shown ("" when there are none).
  std::string kernel_unshown;
  bool kernel_only_successful = false;
  bool kernel_only_failed = false;

  // Show the paths of file descriptors (-y, -e decode-fds=path).
  bool decode_fds = false;

  // Whether the line of `event` is printed.
  bool Shows(const TraceEvent& event) const;

  // The calls the user selected (indexed by x86_64 number); empty for
  // every call.
  std::vector<bool> shown_calls;
  bool show_successful = true;
  bool show_failed = true;
  bool show_unfinished = true;  // calls that do not return: exit_group
};

// Reads the flags as strace does, except that several -e trace= are
// merged into their union (strace 6.1 keeps only the last one). Usage
// errors (INVALID_ARGUMENT) say what to type instead.
absl::StatusOr<TraceFilter> BuildTraceFilter(const TraceFlags& flags);

}  // namespace tracectl

#endif  // TRACECTL_CLIENT_TRACE_FILTER_H_
