// tracectl files: which files a program uses: what it holds open when the
// session starts (--pid), every path it uses during the session, and a
// summary of the paths that worked and the ones that failed: "where is its
// configuration file?"
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include "client/commands.h"
#include "client/connection.h"
#include "client/files_report.h"
#include "client/report_output.h"
#include "client/trace_session.h"

namespace tracectl {
namespace {

struct FilesOptions {
  TargetOptions target;
  bool each_call = false;
  bool failed = false;
  bool json = false;
  std::string output;  // -o
};

int RunFiles(const GlobalOptions& global, const FilesOptions& options) {
  v1::TraceRequest request;
  request.set_selection(FilesSelection());
  // Only paths are shown: nothing else is read, or counted when unreadable.
  request.set_paths_only(true);
  // What explicit --pid processes hold open already.
  request.set_initial_state(!options.target.pids.empty());
  // Lines are written as they come; a summary alone, at the end.
  const bool lines = (options.each_call || options.failed) && !options.json;
  absl::StatusOr<std::unique_ptr<ReportOutput>> output =
      ReportOutput::Open(options.output, STDOUT_FILENO,
                         lines ? ReportOutput::FileMode::kInPlace
                               : ReportOutput::FileMode::kReplaceAtEnd);
  if (!output.ok()) return UsageError(std::string(output.status().message()));
  FILE* out = (*output)->stream();

  FilesReport report(FilesReport::Options{options.failed, 0});
  absl::Status closed;
  TraceSink sink;
  sink.started = [&](const v1::TraceStarted& started) {
    report = FilesReport(
        FilesReport::Options{options.failed, started.realtime_offset_ns()});
  };
  sink.initial_state = [&](const v1::ProcessState& state) {
    report.AddInitialState(state);
  };
  sink.event = [&](const TraceEvent& event) {
    const std::string line = report.Add(event);
    if (lines) fputs(line.c_str(), out);
  };
  sink.batch_done = [&] { fflush(out); };
  sink.end = [&](const v1::TraceSummary& summary) {
    if (options.json) {
      fprintf(out, "%s\n", report.SummaryJson().c_str());
    } else {
      fprintf(out, "%s%s", lines ? "\n" : "", report.Summary().c_str());
    }
    closed = (*output)->Close(true);
    PrintDrops(summary.drops(), stderr);
  };
  return ReportClosed(closed,
                      RunTraceSession(global, options.target, request, sink));
}

}  // namespace

void AddFilesCommand(CLI::App& app, const GlobalOptions& global,
                     int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "files",
      "Show which files the traced programs use: what --pid processes hold "
      "open at the start, then which paths they use, worked and failed");
  auto o = std::make_shared<FilesOptions>();
  AddTargetOptions(cmd, &o->target);
  cmd->add_flag("--each-call", o->each_call,
                "also print each call that takes a path, one line each, as "
                "it happens");
  cmd->add_flag("--failed", o->failed,
                "print each call that failed, one line each (the summary "
                "stays whole)");
  cmd->add_flag("--json", o->json, "print the summary as JSON (no lines)");
  AddOutputOption(cmd, &o->output);
  cmd->footer(
      "By default only the summary is printed, at the end. With --pid, it "
      "starts with the descriptors the processes hold open.");
  cmd->callback([&global, exit_code, o] { *exit_code = RunFiles(global, *o); });
}

}  // namespace tracectl
