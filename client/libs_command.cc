// tracectl libs: every shared object the traced programs map (for --pid,
// starting with what they have mapped already), in load order, where it was
// found, what was tried first, and whether ldd would have listed it.
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include "client/commands.h"
#include "client/connection.h"
#include "client/libs_report.h"
#include "client/report_output.h"
#include "client/trace_session.h"

namespace tracectl {
namespace {

struct LibsOptions {
  TargetOptions target;
  bool json = false;
  std::string output;  // -o
};

int RunLibs(const GlobalOptions& global, const LibsOptions& options) {
  v1::TraceRequest request;
  request.set_selection(LibsSelection());
  // What explicit --pid processes have mapped already.
  request.set_initial_state(!options.target.pids.empty());
  absl::StatusOr<std::unique_ptr<ReportOutput>> output = ReportOutput::Open(
      options.output, STDOUT_FILENO, ReportOutput::FileMode::kReplaceAtEnd);
  if (!output.ok()) return UsageError(std::string(output.status().message()));

  LibsReport report;
  absl::Status closed;
  TraceSink sink;
  sink.started = [](const v1::TraceStarted&) {};
  sink.initial_state = [&](const v1::ProcessState& state) {
    report.AddInitialState(state);
  };
  sink.event = [&](const TraceEvent& event) { report.Add(event); };
  sink.batch_done = [] {};
  sink.end = [&](const v1::TraceSummary& summary) {
    const std::string text =
        options.json ? report.RenderJson() + "\n" : report.Render();
    fputs(text.c_str(), (*output)->stream());
    closed = (*output)->Close(true);
    PrintDrops(summary.drops(), stderr);
  };
  return ReportClosed(closed,
                      RunTraceSession(global, options.target, request, sink));
}

}  // namespace

void AddLibsCommand(CLI::App& app, const GlobalOptions& global,
                    int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "libs",
      "List the shared objects the traced programs map (with --pid, those "
      "mapped already first), in load order, with the paths tried first and "
      "whether ldd would show them");
  auto o = std::make_shared<LibsOptions>();
  AddTargetOptions(cmd, &o->target);
  cmd->add_flag("--json", o->json, "print JSON");
  AddOutputOption(cmd, &o->output);
  cmd->callback([&global, exit_code, o] { *exit_code = RunLibs(global, *o); });
}

}  // namespace tracectl
