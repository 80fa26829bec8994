// tracectl calls: calls of library functions, counted in the kernel with
// uprobes, like ltrace -c.
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/calls_report.h"
#include "client/commands.h"
#include "client/connection.h"
#include "client/launcher.h"
#include "client/report_output.h"
#include "client/session_runner.h"
#include "client/target_options.h"
#include "common/escape.h"
#include "common/probe_spec.h"

namespace tracectl {
namespace {

struct CallsOptions {
  TargetOptions target;
  std::vector<std::string> probes;
  std::optional<double> interval;
  bool latency = false;
  bool by_caller = false;
  bool list = false;
  std::optional<std::string> sort;  // default: time with --latency, else calls
  int top = 0;
  CallsView view;  // from sort and top
  bool json = false;
  std::string output;  // -o
};

void PrintSummary(const v1::CallsSummary& summary, const std::string& scope,
                  const CallsOptions& options, ReportOutput& output,
                  bool final) {
  FILE* out = output.stream();
  if (options.json) {
    fputs(RenderCallsJson(summary, scope, final, options.view).c_str(), out);
  } else {
    if (!final) fputs("---\n", out);
    fputs(RenderCallsTable(summary, scope, options.view).c_str(), out);
  }
  fflush(out);
}

int RunCalls(const GlobalOptions& given, CallsOptions options) {
  // --list runs nothing: a command only names the program whose libraries
  // the probes resolve against.
  GlobalOptions global = given;
  if (options.list && global.has_command) {
    if (global.command.empty()) return UsageError("nothing to run after --");
    global.has_command = false;
    global.command.clear();
  }
  v1::CallsClientMessage start;
  v1::CallsRequest* request = start.mutable_start();
  if (options.probes.empty()) {
    return UsageError("name at least one probe: -e LIB:FUNCTION_GLOB");
  }
  for (const std::string& probe : options.probes) {
    if (absl::StatusOr<ProbeSpec> spec = ParseProbeSpec(probe); !spec.ok()) {
      return UsageError(std::string(spec.status().message()));
    }
    request->add_probes(probe);
  }
  if (int code = BuildTarget(options.target, global, request->mutable_target(),
                             request->mutable_window());
      code != 0) {
    return code;
  }
  request->set_latency(options.latency);
  request->set_by_caller(options.by_caller);
  request->set_list_only(options.list);
  // -f: for calls, children are counted only when asked (the breakpoints
  // then trap in every process running the probed code).
  request->set_children(options.target.follow);
  if (options.top < 0) return UsageError("--top must be 0 (every row) or more");
  absl::StatusOr<SortKey> sort =
      ParseSortKey(options.sort.value_or(options.latency ? "time" : "calls"));
  if (!sort.ok()) return UsageError(std::string(sort.status().message()));
  if (*sort == SortKey::kErrors) {
    return UsageError("calls have no errors: sort by calls, time or name");
  }
  if (*sort == SortKey::kTime && !options.latency) {
    return UsageError("--sort time needs -T/--latency: calls are not timed");
  }
  options.view = {*sort, options.top};
  if (options.list && (options.sort || options.top != 0)) {
    return UsageError("--list shows every match: no --sort or --top");
  }
  if (options.list &&
      (options.latency || options.by_caller || options.interval)) {
    return UsageError(
        "--list attaches nothing: no --latency, --by-caller or --interval");
  }
  if (options.interval) {
    request->mutable_window()->set_interval_seconds(*options.interval);
  }
  if (given.has_command && !given.command.empty()) {
    // The daemon resolves libraries for the program about to run, not for
    // the held process (still tracectl).
    absl::StatusOr<std::string> path = FindExecutable(given.command[0]);
    if (!path.ok() && options.list) {
      // What running it would have said (the launcher's 127).
      fprintf(stderr, "tracectl: %s\n",
              std::string(path.status().message()).c_str());
      return 127;
    }
    if (path.ok()) {
      char resolved[4096];
      request->set_program(realpath(path->c_str(), resolved) != nullptr
                               ? std::string(resolved)
                               : *path);
    }
  }
  absl::StatusOr<std::unique_ptr<ReportOutput>> output = ReportOutput::Open(
      options.output, STDOUT_FILENO, ReportOutput::FileMode::kReplaceAtEnd);
  if (!output.ok()) return UsageError(std::string(output.status().message()));

  std::string scope;
  std::optional<v1::CallsSummary> final_summary;
  absl::Status closed;
  const int code = RunSession<v1::CallsClientMessage, v1::CallsServerMessage>(
      global, start, request->mutable_target(), &v1::Tracer::Stub::Calls,
      [&](const v1::CallsServerMessage& started) {
        scope = started.started().scope();
      },
      [&](const v1::CallsServerMessage& message) {
        if (message.has_progress()) {
          fprintf(stderr, "tracectl: %s\n",
                  EscapedText(message.progress(), 1024).c_str());
        } else if (message.has_snapshot()) {
          PrintSummary(message.snapshot(), scope, options, **output,
                       /*final=*/false);
        } else if (message.has_final()) {
          final_summary = message.final();
          return true;
        }
        return false;
      },
      [&] {
        PrintSummary(*final_summary, scope, options, **output,
                     /*final=*/true);
        closed = (*output)->Close(true);
      });
  return ReportClosed(closed, code);
}

}  // namespace

void AddCallsCommand(CLI::App& app, const GlobalOptions& global,
                     int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "calls",
      "Count calls of library functions with uprobes (like ltrace -c), for "
      "--pid, [--] CMD [ARGS...], or system-wide");
  auto o = std::make_shared<CallsOptions>();
  AddTargetOptions(cmd, &o->target);
  // For calls, -f is not implied by a command: it places the probes in
  // every process (see the footer).
  cmd->get_option("-f")->description(
      "also count the calls of the processes the target (--pid or a "
      "command) forks: the breakpoints are then placed in every process "
      "that runs the probed code, and the target's family is counted");
  cmd->add_option("-e,--probe", o->probes,
                  "LIB:FUNCTION_GLOB, e.g. libc:getenv, 'libm:frexp*', "
                  "exe:main, /path/lib.so:f; or usdt:LIB:[PROVIDER:]NAME, "
                  "e.g. usdt:python:function__return (repeatable)");
  cmd->add_option("-i,--interval", o->interval,
                  "print a table every this many seconds");
  cmd->add_flag("-T,--latency", o->latency,
                "also time each call from entry to return (wall time; "
                "total, average, max, p50, p99); at most 500 functions");
  cmd->add_flag("--by-caller", o->by_caller,
                "also count each function's calls per calling file (the "
                "executable or library holding the return address), like "
                "latrace: which library calls which");
  cmd->add_option("-S,--sort", o->sort,
                  "sort by calls, time (with --latency) or name (default: "
                  "time with --latency, else calls)");
  cmd->add_option("-n,--top", o->top, "show only the first N rows (0: all)");
  cmd->add_flag("-l,--list", o->list,
                "show the functions the probes match (library, function, file "
                "offset) and attach nothing; with -- CMD, resolved for CMD "
                "without running it");
  cmd->add_flag("--json", o->json, "print JSON instead of a table");
  AddOutputOption(cmd, &o->output);
  cmd->footer(
      "LIB is a shared object by name prefix (libc, libm), a path, or exe. "
      "With --pid, names resolve against what the process maps; otherwise "
      "as the dynamic linker finds them (ld.so.cache, then the standard "
      "library directories). C++ names match demangled too; a stripped "
      "file's functions come from its debug file. With one target process the "
      "breakpoints are placed in that process only, and its forked children "
      "are not counted; -f counts them, placing the breakpoints in every "
      "process and counting the target's family; system-wide, --comm and --uid "
      "sessions trap in "
      "every process that runs the probed code, and count only the selected "
      "ones. IFUNC symbols (libc's strlen) count the implementation this CPU "
      "selects, for libraries tracectld has loaded itself (libc, libm), and "
      "are refused otherwise. At most 1000 functions per session; from 20 on, "
      "what is attached and how long it took goes to stderr. "
      "usdt:LIB:[PROVIDER:]NAME counts USDT (SDT) probes; LIB may also name "
      "the program by prefix (usdt:python:... for -- python3.11 x.py); "
      "PROVIDER and NAME are globs. CPython's python:function__return is "
      "counted per Python function and file. At most 64 USDT probes; no "
      "--latency or --by-caller with them.");
  cmd->callback([&global, exit_code, o] { *exit_code = RunCalls(global, *o); });
}

}  // namespace tracectl
