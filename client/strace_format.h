// Renders traced system calls the way strace(1) prints them, one line per
// call, or as one JSON object per call.
#ifndef TRACECTL_CLIENT_STRACE_FORMAT_H_
#define TRACECTL_CLIENT_STRACE_FORMAT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "client/trace_event.h"
#include "common/escape.h"
#include "common/syscall_table.h"

namespace tracectl {

class FdPaths;

struct FormatOptions {
  // -s: the most bytes of a buffer or non-path string printed; paths print
  // whole. Must match the size the kernel side captured with.
  int string_size = 32;
  // -T: append the time spent in the call, " <0.000012>".
  bool show_duration = false;
  // 0: none; 1 (-t): HH:MM:SS; 2 (-tt): HH:MM:SS.micro; 3 (-ttt):
  // epoch.micro. Local time of day, as strace.
  int timestamps = 0;
  // How a line names its task: not at all; "[pid  1234] " as strace -f
  // prints to stderr while several tasks are traced; "1234  " as strace -f
  // -o FILE prints on every line.
  enum class PidPrefix { kNone, kBracketed, kBare };
  PidPrefix pid_prefix = PidPrefix::kNone;
  // -y: descriptors print with their paths, "read(3</etc/passwd>, ...",
  // as far as this table knows them; nullptr for plain numbers.
  const FdPaths* fd_paths = nullptr;
  // Added to syscall_event.enter_ns (CLOCK_MONOTONIC) to get CLOCK_REALTIME.
  int64_t realtime_offset_ns = 0;
};

// `[[pid N] ][timestamp ]name(args) = ret[ <duration>]`, without a newline,
// e.g. `openat(AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3`.
std::string FormatStraceLine(const TraceEvent& event,
                             const FormatOptions& options);

// The lines strace -k prints under a call, innermost frame first, each
// with its newline: " > libc.so.6(__getppid+0x7) [0xcd1b7]" (the module,
// the function and the offset in it, the offset in the module), with
// " (file.c:12)" after it when debug info gives the source;
// " > libc.so.6() [0xcd1b7]" when no symbol covers it;
// " > ask_parent (<string>:3)" for a Python function. Every name is made
// Printable.
std::string FormatStackLines(const v1::CallStack& stack);

// One JSON object without a newline: pid, tid, comm, syscall, nr, args (as
// the strace line prints them), raw_args (six hex strings), ret (null for a
// call that does not return), errno (when it failed), duration_ns, time
// (CLOCK_REALTIME seconds), and captures_truncated / unreadable /
// read_at_exit when true; with -k, stack: the frames innermost first, each
// {"kind", "function", "module", "offset", "function_offset", "file",
// "line"} (what is known of it), and stack_truncated when it was cut.
std::string FormatEventJson(const TraceEvent& event,
                            const FormatOptions& options);

// Argument `arg_index` of `event` printed as type `type` says; e.g. kPath
// gives "\"/etc/passwd\"" from the event's capture of that argument.
std::string FormatArgument(const TraceEvent& event, int arg_index, ArgType type,
                           const FormatOptions& options);

}  // namespace tracectl

#endif  // TRACECTL_CLIENT_STRACE_FORMAT_H_
