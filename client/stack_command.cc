// tracectl stack: every thread's Python stack of a running process, once,
// as py-spy dump prints it; the process runs on unchanged.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/commands.h"
#include "client/connection.h"
#include "client/json.h"
#include "client/report_output.h"
#include "client/strace_format.h"
#include "client/trace_session.h"

namespace tracectl {
namespace {

constexpr auto kStackTimeout = std::chrono::seconds(10);

struct StackOptions {
  std::vector<int> pids;
  bool json = false;
  std::string output;
};

// "gamma (app.py:6)", the target's names escaped.
std::string FrameLine(const v1::PythonFrame& f) {
  const std::string line = f.line() >= 0 ? absl::StrCat(f.line()) : "?";
  return absl::StrCat(Escaped(f.function()), " (", Escaped(f.file()), ":", line,
                      ")");
}

std::string RenderText(const v1::StackResponse& r) {
  std::string out =
      absl::StrCat("Process ", r.pid(), ": Python ", r.python_version(), " (",
                   Escaped(r.python_binary()), ")\n");
  for (const v1::ThreadStack& t : r.threads()) {
    absl::StrAppend(&out, "\nThread ",
                    t.native_thread_id() != 0
                        ? absl::StrCat(t.native_thread_id())
                        : absl::StrCat("0x", absl::Hex(t.thread_id())),
                    t.holds_gil() ? " (active, holds the GIL)" : " (idle)",
                    "\n");
    for (const v1::PythonFrame& f : t.frames()) {
      absl::StrAppend(&out, "    ", FrameLine(f), "\n");
    }
    if (t.frames().empty()) absl::StrAppend(&out, "    (no Python frames)\n");
    if (t.truncated()) absl::StrAppend(&out, "    ... (cut short)\n");
  }
  return out;
}

std::string RenderJson(const v1::StackResponse& r) {
  std::vector<std::string> threads;
  for (const v1::ThreadStack& t : r.threads()) {
    std::vector<std::string> frames;
    for (const v1::PythonFrame& f : t.frames()) {
      frames.push_back(absl::StrCat("{\"function\":", JsonText(f.function()),
                                    ",\"file\":", JsonText(f.file()),
                                    ",\"line\":", f.line(),
                                    ",\"first_line\":", f.first_line(), "}"));
    }
    threads.push_back(
        absl::StrCat("{\"thread_id\":", t.thread_id(),
                     ",\"native_thread_id\":", t.native_thread_id(),
                     ",\"holds_gil\":", t.holds_gil() ? "true" : "false",
                     ",\"truncated\":", t.truncated() ? "true" : "false",
                     ",\"frames\":[", absl::StrJoin(frames, ","), "]}"));
  }
  std::vector<std::string> drops;
  for (const v1::DropCounter& d : r.drops()) {
    drops.push_back(absl::StrCat(JsonString(d.reason()), ":", d.count()));
  }
  return absl::StrCat("{\"pid\":", r.pid(),
                      ",\"python_version\":", JsonString(r.python_version()),
                      ",\"python_binary\":", JsonText(r.python_binary()),
                      ",\"threads\":[", absl::StrJoin(threads, ","),
                      "],\"drops\":{", absl::StrJoin(drops, ","), "}}\n");
}

int RunStack(const GlobalOptions& global, const StackOptions& options) {
  if (global.has_command) {
    return UsageError(
        "stack reads a running process: give --pid PID, not a command");
  }
  if (options.pids.size() != 1) {
    return UsageError("stack needs exactly one --pid PID");
  }
  absl::StatusOr<std::unique_ptr<ReportOutput>> output = ReportOutput::Open(
      options.output, STDOUT_FILENO, ReportOutput::FileMode::kReplaceAtEnd);
  if (!output.ok()) return UsageError(std::string(output.status().message()));

  v1::StackRequest request;
  request.mutable_target()->add_pids(options.pids[0]);
  auto stub = Connect(global.socket_path);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kStackTimeout);
  v1::StackResponse response;
  grpc::Status status = stub->Stack(&context, request, &response);
  if (!status.ok()) return ReportRpcError(status, global.socket_path);

  FILE* out = (*output)->stream();
  fputs((options.json ? RenderJson(response) : RenderText(response)).c_str(),
        out);
  if (!options.json) PrintDrops(response.drops(), stderr);
  return ReportClosed((*output)->Close(true), 0);
}

}  // namespace

void AddStackCommand(CLI::App& app, const GlobalOptions& global,
                     int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "stack",
      "Show every thread's Python stack of a running process, once (like "
      "py-spy dump)");
  auto o = std::make_shared<StackOptions>();
  cmd->add_option("-p,--pid", o->pids, "the process")
      ->required()
      ->delimiter(',');
  cmd->add_flag("--json", o->json, "print one JSON object");
  AddOutputOption(cmd, &o->output);
  cmd->footer(
      "Frames are innermost first, each as function (file:line). The "
      "process is read from its memory while it runs on, so a thread that "
      "is running may be seen a few instructions apart from another. "
      "Python 3.11 only for now; native frames are not shown yet.");
  cmd->callback([&global, exit_code, o] { *exit_code = RunStack(global, *o); });
}

}  // namespace tracectl
