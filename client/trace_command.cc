// tracectl trace: one line per system call, as strace prints them, recorded
// in the kernel and streamed through a ring buffer.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>

#include "client/commands.h"
#include "client/connection.h"
#include "client/fd_paths.h"
#include "client/report_output.h"
#include "client/strace_format.h"
#include "client/trace_filter.h"
#include "client/trace_session.h"
#include "client/traced_tasks.h"

namespace tracectl {
namespace {

struct TraceOptions {
  TargetOptions target;
  TraceFlags flags;                // -e, -z, -Z
  int decode_fds = 0;              // -y, -yy
  bool durations = false;          // -T
  int timestamps = 0;              // -t, -tt, -ttt
  std::optional<int> string_size;  // -s
  bool json = false;
  bool stacks = false;  // -k
  bool quiet = false;   // -q, -qq: nothing to silence
  std::string output;   // -o
  std::optional<uint32_t> buffer_bytes;
};

int RunTrace(const GlobalOptions& global, const TraceOptions& options) {
  v1::TraceRequest request;
  TraceFlags flags = options.flags;
  flags.decode_fds |= options.decode_fds > 0;
  absl::StatusOr<TraceFilter> filter = BuildTraceFilter(flags);
  if (!filter.ok()) return UsageError(std::string(filter.status().message()));
  request.set_selection(filter->kernel_selection);
  request.set_unshown(filter->kernel_unshown);
  // -y on running processes: the descriptors they hold already.
  request.set_initial_state(filter->decode_fds && !options.target.pids.empty());
  if (options.string_size) {
    if (*options.string_size < 0) return UsageError("-s must be 0 or more");
    request.set_string_size(*options.string_size);
  }
  request.set_only_successful(filter->kernel_only_successful);
  request.set_only_failed(filter->kernel_only_failed);
  if (options.buffer_bytes) request.set_buffer_bytes(*options.buffer_bytes);
  request.set_stacks(options.stacks);
  if (options.timestamps > 3)
    return UsageError("-t can be given at most 3 times");

  // Lines go to -o FILE or to a stream of their own on stderr's fd, fully
  // buffered and flushed after each batch; tracectl's own messages still
  // reach stderr at once.
  absl::StatusOr<std::unique_ptr<ReportOutput>> output = ReportOutput::Open(
      options.output, STDERR_FILENO, ReportOutput::FileMode::kInPlace);
  if (!output.ok()) return UsageError(std::string(output.status().message()));
  FILE* out = (*output)->stream();
  const bool to_file = !options.output.empty();

  FormatOptions format;
  format.show_duration = options.durations;
  format.timestamps = options.timestamps;
  FdPaths fd_paths;
  if (filter->decode_fds) format.fd_paths = &fd_paths;
  TracedTasks tasks;
  std::unordered_set<uint32_t> tids;  // every task seen, for -o
  uint64_t lines = 0;                 // records shown
  uint64_t hidden_unreadable = 0;     // failed captures of records not shown
  TraceSink sink;
  sink.started = [&](const v1::TraceStarted& started) {
    format.string_size = started.string_size();
    format.realtime_offset_ns = started.realtime_offset_ns();
  };
  sink.initial_state = [&](const v1::ProcessState& state) {
    fd_paths.AddInitialState(state);
  };
  sink.event = [&](const TraceEvent& event) {
    tasks.Saw(event);
    if (to_file) {
      // strace -f -o FILE: the thread id on every line. tracectl follows
      // children without -f too: then from the second task on.
      tids.insert(event.header.tid);
      if (options.target.follow || tids.size() > 1) {
        format.pid_prefix = FormatOptions::PidPrefix::kBare;
      }
    } else {
      // strace -f to stderr: "[pid N] " while several tasks are traced.
      format.pid_prefix = tasks.Several() ? FormatOptions::PidPrefix::kBracketed
                                          : FormatOptions::PidPrefix::kNone;
    }
    if (filter->Shows(event)) {
      const std::string line = options.json ? FormatEventJson(event, format)
                                            : FormatStraceLine(event, format);
      fputs(line.c_str(), out);
      fputc('\n', out);
      if (event.stack != nullptr && !options.json) {
        fputs(FormatStackLines(*event.stack).c_str(), out);
      }
      ++lines;
    } else {
      // Asked for to keep -y and the [pid N] prefixes right, not shown: its
      // failed captures are not among the unreadable ones printed.
      for (const Capture& c : event.captures) {
        if ((c.flags & CAPTURE_UNREAD) != 0) ++hidden_unreadable;
      }
    }
    tasks.Learn(event);
    fd_paths.Learn(event);
  };
  sink.batch_done = [&] { fflush(out); };
  sink.end = [&](const v1::TraceSummary& received) {
    v1::TraceSummary summary = received;
    for (v1::DropCounter& d : *summary.mutable_drops()) {
      if (d.reason() == TRACE_DROP_UNREADABLE_REASON) {
        d.set_count(d.count() - std::min(d.count(), hidden_unreadable));
      }
    }
    if (options.json) {
      std::string drops;
      for (const v1::DropCounter& d : summary.drops()) {
        if (!drops.empty()) drops += ",";
        drops += "{\"reason\":\"" + d.reason() +
                 "\",\"count\":" + std::to_string(d.count()) + "}";
      }
      fprintf(out,
              "{\"final\":true,\"records\":%llu,\"lines\":%llu,"
              "\"drops\":[%s]}\n",
              static_cast<unsigned long long>(summary.records()),
              static_cast<unsigned long long>(lines), drops.c_str());
    }
    fflush(out);
    PrintDrops(summary.drops(), stderr);
  };
  const int code = RunTraceSession(global, options.target, request, sink);
  return ReportClosed((*output)->Close(true), code);
}

}  // namespace

void AddTraceCommand(CLI::App& app, const GlobalOptions& global,
                     int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "trace",
      "Print each system call as strace does, system-wide, for "
      "--pid/--comm/--uid, or for [--] CMD [ARGS...]");
  auto o = std::make_shared<TraceOptions>();
  AddTargetOptions(cmd, &o->target);
  cmd->add_option(
      "-e", o->flags.expressions,
      "trace=SET: names and %classes (%file %process %network %signal %ipc "
      "%desc %memory %creds %stat), ! to negate; several -e trace= add up. "
      "status=SET: successful, failed, unfinished (calls that do not "
      "return), unavailable, all, none, ! to negate. decode-fds=path: -y");
  cmd->add_flag("-z,--successful", o->flags.successful,
                "only calls that succeeded (-e status=successful)");
  cmd->add_flag("-Z,--failed", o->flags.failed,
                "only calls that failed (-e status=failed)");
  cmd->add_flag("-y,--decode-fds", o->decode_fds,
                "show the path of each descriptor, read(3</etc/passwd>, ...), "
                "as far as the traced open, dup and close calls tell; -yy "
                "is the same");
  cmd->add_flag("-q", o->quiet,
                "accepted for strace's sake: tracectl prints no attach or "
                "exit messages");
  cmd->add_flag("-T", o->durations, "show the time spent in each call");
  cmd->add_flag("-t", o->timestamps,
                "time of day; -tt with microseconds; -ttt since the epoch");
  cmd->add_option("-s", o->string_size,
                  "bytes of buffers and argv strings to show (default 32, "
                  "at most 4094; paths are always whole)");
  cmd->add_flag("-k,--stack-trace", o->stacks,
                "print each call's user stack under it, as strace -k does: "
                "\" > libc.so.6(__getppid+0x7) [0xcd1b7]\", and for Python "
                "programs the Python functions, \" > main (app.py:12)\"; "
                "unwound and named by the daemon, as you (64-bit calls "
                "only; --json adds a \"stack\" array)");
  cmd->add_flag("--json", o->json, "one JSON object per call");
  AddOutputOption(cmd, &o->output, "stderr");
  cmd->add_option("--buffer-size", o->buffer_bytes,
                  "kernel ring buffer in bytes, a power of two (default "
                  "8388608); lost records are counted");
  cmd->footer(
      "Lines go to stderr, as strace's do. A command's children are traced "
      "with or without -f. While several tasks are traced, each line "
      "starts with \"[pid N] \", as strace -f prints it; with -o FILE, "
      "with the bare thread id (on every line with -f, as strace -f -o). "
      "-ff is -f: one output holds every process. With -k, the stack is "
      "the one the call was made from, copied when it began (the top "
      "16 KiB of it); stacks the daemon could not keep up with are "
      "counted at the end, and their calls print without one.");
  cmd->callback([&global, exit_code, o] { *exit_code = RunTrace(global, *o); });
}

}  // namespace tracectl
