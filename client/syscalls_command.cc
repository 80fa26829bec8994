// tracectl syscalls: counts, errors and latency of system calls, like
// strace -c, aggregated in the kernel.
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/commands.h"
#include "client/connection.h"
#include "client/report_output.h"
#include "client/session_runner.h"
#include "client/syscalls_report.h"
#include "client/target_options.h"

namespace tracectl {
namespace {

struct SyscallsOptions {
  TargetOptions target;
  std::optional<double> interval;
  bool per_process = false;
  bool wall_time = false;
  bool count_only = false;
  std::optional<std::string> sort;  // default: time, or calls with counts only
  int top = 0;
  bool json = false;
  bool per_host = false;  // several hosts: a table each
  std::string output;     // -o
};

// Prints a snapshot or the final summary. On a terminal, with --interval,
// each one replaces the last, as top does; otherwise they are appended.
void PrintSnapshot(const v1::SyscallsSummary& summary,
                   const ReportOptions& report, const SyscallsOptions& options,
                   ReportOutput& output, bool final) {
  FILE* out = output.stream();
  if (options.json) {
    fputs(RenderSyscallsJson(summary, report, final).c_str(), out);
  } else if (output.is_terminal()) {
    if (options.interval) fputs("\033[H\033[2J", out);
    fputs(RenderSyscallsTable(summary, report).c_str(), out);
  } else if (final) {
    fputs(RenderSyscallsTable(summary, report).c_str(), out);
  } else {
    const time_t now = time(nullptr);
    tm local;
    char stamp[32];
    strftime(stamp, sizeof(stamp), "%H:%M:%S", localtime_r(&now, &local));
    fprintf(out, "--- %s ---\n%s\n", stamp,
            RenderSyscallsTable(summary, report).c_str());
  }
  fflush(out);
}

// One session on each of several hosts at once, each ending at its
// --duration or at Ctrl-C; then one table of them all with a HOST column,
// or with --per-host each host's own table after a `== HOST ==` line (JSON:
// an object per host, "host" in it and in each row). A host that fails is
// said on stderr and the others still answer.
int RunSyscallsOnHosts(const GlobalOptions& global,
                       const v1::SyscallsClientMessage& start,
                       ReportOptions report, const SyscallsOptions& options,
                       ReportOutput& output) {
  if (options.interval) {
    return UsageError("--interval with several hosts is not done yet");
  }
  std::vector<std::string> scopes(global.hosts.size());
  std::vector<std::optional<v1::SyscallsSummary>> summaries(
      global.hosts.size());
  const std::vector<grpc::Status> statuses =
      RunOnHosts<v1::SyscallsClientMessage, v1::SyscallsServerMessage>(
          global, start, &v1::Tracer::Stub::Syscalls,
          [&](size_t i, const v1::SyscallsServerMessage& message) {
            if (message.has_started()) scopes[i] = message.started().scope();
            if (!message.has_final()) return false;
            summaries[i] = message.final();
            return true;
          });
  int code = 0;
  std::vector<HostSummary> answered;
  std::set<std::string> answered_scopes;
  for (size_t i = 0; i < statuses.size(); ++i) {
    const std::string& host = global.hosts[i];
    if (SayHostFailed(host, statuses[i])) {
      code = 1;
      continue;
    }
    answered.push_back({host, &*summaries[i]});
    answered_scopes.insert(scopes[i]);
    if (!options.json && !options.per_host) continue;
    report.scope = scopes[i];
    report.host = host;
    if (!options.json) fprintf(output.stream(), "== %s ==\n", host.c_str());
    PrintSnapshot(*summaries[i], report, options, output, /*final=*/true);
  }
  if (options.json || options.per_host || answered.empty()) return code;
  v1::SyscallsSummary merged;
  MergeHostSummaries(answered, &merged, &report);
  report.scope =
      answered_scopes.size() == 1
          ? absl::StrCat(*answered_scopes.begin(), " on ", answered.size(),
                         answered.size() == 1 ? " host" : " hosts")
          : absl::StrCat(answered.size(), " hosts");
  PrintSnapshot(merged, report, options, output, /*final=*/true);
  return code;
}

int RunSyscalls(const GlobalOptions& global, const SyscallsOptions& options) {
  v1::SyscallsClientMessage start;
  v1::SyscallsRequest* request = start.mutable_start();
  if (int code = BuildTarget(options.target, global, request->mutable_target(),
                             request->mutable_window());
      code != 0) {
    return code;
  }
  if (options.top < 0) return UsageError("--top must be 0 (every row) or more");
  if (options.count_only && options.wall_time) {
    return UsageError(
        "--count-only measures no time: it cannot be timed with -w/--wall");
  }
  absl::StatusOr<SortKey> sort = ParseSortKey(
      options.sort.value_or(options.count_only ? "calls" : "time"));
  if (!sort.ok()) return UsageError(std::string(sort.status().message()));
  if (options.count_only && *sort == SortKey::kTime) {
    return UsageError(
        "--count-only measures no time: sort by calls, errors or name");
  }
  ReportOptions report{*sort, options.top, options.per_process, ""};
  if (options.interval) {
    request->mutable_window()->set_interval_seconds(*options.interval);
  }
  request->set_per_process(options.per_process);
  request->set_wall_time(options.wall_time);
  request->set_count_only(options.count_only);
  // Snapshots are written as they come; a single table, at the end.
  absl::StatusOr<std::unique_ptr<ReportOutput>> output = ReportOutput::Open(
      options.output, STDOUT_FILENO,
      options.interval ? ReportOutput::FileMode::kInPlace
                       : ReportOutput::FileMode::kReplaceAtEnd);
  if (!output.ok()) return UsageError(std::string(output.status().message()));
  if (global.hosts.size() > 1) {
    const int code =
        RunSyscallsOnHosts(global, start, report, options, **output);
    return ReportClosed((*output)->Close(true), code);
  }

  std::optional<v1::SyscallsSummary> final_summary;
  absl::Status closed;
  const int code =
      RunSession<v1::SyscallsClientMessage, v1::SyscallsServerMessage>(
          global, start, request->mutable_target(), &v1::Tracer::Stub::Syscalls,
          [&](const v1::SyscallsServerMessage& started) {
            report.scope = started.started().scope();
          },
          [&](const v1::SyscallsServerMessage& message) {
            if (message.has_snapshot()) {
              PrintSnapshot(message.snapshot(), report, options, **output,
                            /*final=*/false);
            } else if (message.has_final()) {
              final_summary = message.final();
              return true;
            }
            return false;
          },
          [&] {
            PrintSnapshot(*final_summary, report, options, **output,
                          /*final=*/true);
            closed = (*output)->Close(true);
          });
  return ReportClosed(closed, code);
}

}  // namespace

void AddSyscallsCommand(CLI::App& app, const GlobalOptions& global,
                        int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "syscalls",
      "Count system calls, errors and the time spent in them (like strace "
      "-c), system-wide, for --pid/--comm/--uid, or for [--] CMD [ARGS...]");
  auto o = std::make_shared<SyscallsOptions>();
  AddTargetOptions(cmd, &o->target);
  cmd->add_option("-i,--interval", o->interval,
                  "print a table every this many seconds");
  cmd->add_flag("-P,--per-process", o->per_process,
                "one row per process and syscall");
  cmd->add_flag("-c", "accepted for strace's sake: this table is strace -c's");
  cmd->add_flag("-w,--wall", o->wall_time,
                "time calls on the wall clock, from entry to exit (default: "
                "the CPU time spent in them, as strace -c)");
  cmd->add_flag("--count-only", o->count_only,
                "count calls and errors only, at their exit: one BPF program "
                "instead of three, the lowest cost; no times");
  cmd->add_option("-S,--sort", o->sort,
                  "sort by calls, time, errors or name (default: time; "
                  "calls with --count-only)");
  cmd->add_option("-n,--top", o->top, "show only the first N rows (0: all)");
  cmd->add_flag("--json", o->json, "print JSON instead of a table");
  cmd->add_flag("--per-host", o->per_host,
                "with several --host: a table for each host instead of one "
                "table with a HOST column");
  AddOutputOption(cmd, &o->output);
  cmd->footer(
      "Times are the CPU time spent in each call (as strace -c's), or wall "
      "time with -w; the first line of the table says which. --count-only "
      "counts at each call's exit alone, so a call in progress when the "
      "session starts is counted when it returns.");
  cmd->callback(
      [&global, exit_code, o] { *exit_code = RunSyscalls(global, *o); });
}

}  // namespace tracectl
