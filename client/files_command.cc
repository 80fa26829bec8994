// tracectl files: every path a program uses, and a summary of the paths
// that worked and the ones that failed: "where is its configuration file?"
#include <cstdio>
#include <memory>
#include <string>

#include "client/commands.h"
#include "client/files_report.h"
#include "client/trace_session.h"

namespace tracectl {
namespace {

struct FilesOptions {
  TargetOptions target;
  bool failed = false;
  bool json = false;
};

int RunFiles(const GlobalOptions& global, const FilesOptions& options) {
  v1::TraceRequest request;
  request.set_selection(FilesSelection());
  // Only paths are shown: nothing else is read, or counted when unreadable.
  request.set_paths_only(true);
  std::unique_ptr<FilesReport> report;
  TraceSink sink;
  sink.started = [&](const v1::TraceStarted& started) {
    report = std::make_unique<FilesReport>(
        FilesReport::Options{options.failed, started.realtime_offset_ns()});
  };
  sink.event = [&](const TraceEvent& event) {
    const std::string line = report->Add(event);
    if (!options.json) fputs(line.c_str(), stdout);
  };
  sink.batch_done = [] { fflush(stdout); };
  sink.end = [&](const v1::TraceSummary& summary) {
    if (options.json) {
      printf("%s\n", report->SummaryJson().c_str());
    } else {
      printf("\n%s", report->Summary().c_str());
    }
    fflush(stdout);
    PrintDrops(summary.drops(), stderr);
  };
  return RunTraceSession(global, options.target, request, sink);
}

}  // namespace

void AddFilesCommand(CLI::App& app, const GlobalOptions& global,
                     int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "files",
      "Show every path the traced programs open, stat, exec or change, then "
      "which paths worked and which failed");
  auto o = std::make_shared<FilesOptions>();
  AddTargetOptions(cmd, &o->target);
  cmd->add_flag("--failed", o->failed, "show only the calls that failed");
  cmd->add_flag("--json", o->json, "print only the summary, as JSON");
  cmd->callback([&global, exit_code, o] { *exit_code = RunFiles(global, *o); });
}

}  // namespace tracectl
