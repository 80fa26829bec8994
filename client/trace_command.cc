// tracectl trace: one line per system call, as strace prints them, recorded
// in the kernel and streamed through a ring buffer.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>

#include "client/commands.h"
#include "client/connection.h"
#include "client/report_output.h"
#include "client/strace_format.h"
#include "client/trace_session.h"

namespace tracectl {
namespace {

struct TraceOptions {
  TargetOptions target;
  std::vector<std::string> expressions;  // -e
  bool successful = false;               // -z
  bool failed = false;                   // -Z
  bool durations = false;                // -T
  int timestamps = 0;                    // -t, -tt, -ttt
  std::optional<int> string_size;        // -s
  bool json = false;
  std::string output;  // -o
  std::optional<uint32_t> buffer_bytes;
};

// strace's -e takes QUALIFIER=SET; only trace= is known here.
absl::StatusOr<std::string> TraceSelection(
    const std::vector<std::string>& expressions) {
  std::string selection;
  for (const std::string& e : expressions) {
    std::string set = e;
    const size_t eq = e.find('=');
    if (eq != std::string::npos) {
      const std::string qualifier = e.substr(0, eq);
      if (qualifier != "trace" && qualifier != "t") {
        return absl::InvalidArgumentError("-e " + qualifier +
                                          "= is not supported; use -e trace=");
      }
      set = e.substr(eq + 1);
    }
    if (!selection.empty()) {
      return absl::InvalidArgumentError(
          "give one -e trace= (join the sets with commas)");
    }
    selection = set;
  }
  return selection;
}

int RunTrace(const GlobalOptions& global, const TraceOptions& options) {
  v1::TraceRequest request;
  absl::StatusOr<std::string> selection = TraceSelection(options.expressions);
  if (!selection.ok()) {
    return UsageError(std::string(selection.status().message()));
  }
  if (options.expressions.size() == 1 && selection->empty()) {
    return UsageError("-e trace= needs a set of system calls");
  }
  request.set_selection(*selection);
  if (options.string_size) {
    if (*options.string_size < 0) return UsageError("-s must be 0 or more");
    request.set_string_size(*options.string_size);
  }
  request.set_only_successful(options.successful);
  request.set_only_failed(options.failed);
  if (options.buffer_bytes) request.set_buffer_bytes(*options.buffer_bytes);
  if (options.timestamps > 3)
    return UsageError("-t can be given at most 3 times");

  // Lines go to -o FILE or to a stream of their own on stderr's fd, fully
  // buffered and flushed after each batch; tracectl's own messages still
  // reach stderr at once.
  absl::StatusOr<std::unique_ptr<ReportOutput>> output = ReportOutput::Open(
      options.output, STDERR_FILENO, ReportOutput::FileMode::kInPlace);
  if (!output.ok()) return UsageError(std::string(output.status().message()));
  FILE* out = (*output)->stream();

  FormatOptions format;
  format.show_duration = options.durations;
  format.timestamps = options.timestamps;
  uint64_t lines = 0;
  std::unordered_set<uint32_t> tids;
  TraceSink sink;
  sink.started = [&](const v1::TraceStarted& started) {
    format.string_size = started.string_size();
    format.realtime_offset_ns = started.realtime_offset_ns();
  };
  sink.event = [&](const TraceEvent& event) {
    // As strace -f: pids once more than one task shows up.
    if (!format.show_pid && tids.insert(event.header.tid).second &&
        tids.size() > 1) {
      format.show_pid = true;
    }
    const std::string line = options.json ? FormatEventJson(event, format)
                                          : FormatStraceLine(event, format);
    fputs(line.c_str(), out);
    fputc('\n', out);
    ++lines;
  };
  sink.batch_done = [&] { fflush(out); };
  sink.end = [&](const v1::TraceSummary& summary) {
    if (options.json) {
      std::string drops;
      for (const v1::DropCounter& d : summary.drops()) {
        if (!drops.empty()) drops += ",";
        drops += "{\"reason\":\"" + d.reason() +
                 "\",\"count\":" + std::to_string(d.count()) + "}";
      }
      fprintf(out, "{\"final\":true,\"records\":%llu,\"drops\":[%s]}\n",
              static_cast<unsigned long long>(summary.records()),
              drops.c_str());
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
      "--pid/--comm/--uid, or for [-- CMD ARGS...]");
  auto o = std::make_shared<TraceOptions>();
  AddTargetOptions(cmd, &o->target);
  cmd->add_option("-e", o->expressions,
                  "trace=SET: names and %classes (%file %process %network "
                  "%signal %ipc %desc %memory %creds %stat), ! to negate");
  cmd->add_flag("-z,--successful", o->successful, "only calls that succeeded");
  cmd->add_flag("-Z,--failed", o->failed, "only calls that failed");
  cmd->add_flag("-T", o->durations, "show the time spent in each call");
  cmd->add_flag("-t", o->timestamps,
                "time of day; -tt with microseconds; -ttt since the epoch");
  cmd->add_option("-s", o->string_size,
                  "bytes of buffers and argv strings to show (default 32, "
                  "at most 4094; paths are always whole)");
  cmd->add_flag("--json", o->json, "one JSON object per call");
  AddOutputOption(cmd, &o->output, "stderr");
  cmd->add_option("--buffer-size", o->buffer_bytes,
                  "kernel ring buffer in bytes, a power of two (default "
                  "8388608); lost records are counted");
  cmd->footer(
      "Lines go to stderr, as strace's do. With -- CMD ARGS, CMD runs as "
      "you, traced from its first instruction with all its descendants, and "
      "tracectl exits with its status.");
  cmd->callback([&global, exit_code, o] { *exit_code = RunTrace(global, *o); });
}

}  // namespace tracectl
