// tracectl libs: every shared object the traced programs map, in load
// order, where it was found, what was tried first, and whether ldd would
// have listed it.
#include <cstdio>
#include <memory>
#include <string>

#include "client/commands.h"
#include "client/libs_report.h"
#include "client/trace_session.h"

namespace tracectl {
namespace {

struct LibsOptions {
  TargetOptions target;
  bool json = false;
};

int RunLibs(const GlobalOptions& global, const LibsOptions& options) {
  v1::TraceRequest request;
  request.set_selection(LibsSelection());
  LibsReport report;
  TraceSink sink;
  sink.started = [](const v1::TraceStarted&) {};
  sink.event = [&](const TraceEvent& event) { report.Add(event); };
  sink.batch_done = [] {};
  sink.end = [&](const v1::TraceSummary& summary) {
    const std::string text =
        options.json ? report.RenderJson() + "\n" : report.Render();
    fputs(text.c_str(), stdout);
    fflush(stdout);
    PrintDrops(summary.drops(), stderr);
  };
  return RunTraceSession(global, options.target, request, sink);
}

}  // namespace

void AddLibsCommand(CLI::App& app, const GlobalOptions& global,
                    int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "libs",
      "List the shared objects the traced programs map, in load order, with "
      "the paths tried first and whether ldd would show them");
  auto o = std::make_shared<LibsOptions>();
  AddTargetOptions(cmd, &o->target);
  cmd->add_flag("--json", o->json, "print JSON");
  cmd->callback([&global, exit_code, o] { *exit_code = RunLibs(global, *o); });
}

}  // namespace tracectl
