// tracectl stack: every thread's stack of a running process, once, as
// py-spy dump and pstack print them: native frames with Python's in place
// of the eval loop's (default), native only (--native), or Python only
// read without stopping anything (--python-only, the old output).
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
  bool native = false;
  bool python_only = false;
  bool json = false;
  std::string output;
};

// "gamma (app.py:6)", the target's names escaped.
std::string FrameLine(const v1::PythonFrame& f) {
  const std::string line = f.line() >= 0 ? absl::StrCat(f.line()) : "?";
  return absl::StrCat(Escaped(f.function()), " (", Escaped(f.file()), ":", line,
                      ")");
}

// "gamma (app.py:6)" for a Python frame, "clock_nanosleep (libc.so.6)" or
// "[libfoo.so+0x1a2b]" for a native one, the target's names escaped.
std::string FrameLine(const v1::Frame& f) {
  if (f.kind() == v1::MODULE_PYTHON) {
    return f.line() > 0 ? absl::StrCat(Escaped(f.function()), " (",
                                       Escaped(f.file()), ":", f.line(), ")")
                        : absl::StrCat(Escaped(f.function()), " (",
                                       Escaped(f.file()), ")");
  }
  std::string module = f.module().empty() ? "[unknown]" : Escaped(f.module());
  if (!f.function().empty()) {
    return absl::StrCat(Escaped(f.function()), " (", module, ")");
  }
  // "[unknown+0x7f..]" rather than "[[unknown]+0x7f..]".
  if (module.size() > 2 && module.front() == '[' && module.back() == ']') {
    module = module.substr(1, module.size() - 2);
  }
  return absl::StrCat("[", module, "+0x", absl::Hex(f.offset()), "]");
}

std::string ThreadHeader(const v1::ThreadStack& t) {
  std::string out = absl::StrCat(
      "Thread ", t.tid() != 0 ? absl::StrCat(t.tid()) : std::string("?"));
  if (!t.comm().empty()) absl::StrAppend(&out, " (", Escaped(t.comm()), ")");
  if (t.python()) {
    absl::StrAppend(&out, ": Python thread 0x", absl::Hex(t.thread_id()),
                    t.holds_gil() ? ", holds the GIL" : ", idle");
  }
  return out;
}

// Default and --native: every thread's whole stack.
std::string RenderStacks(const v1::StackResponse& r) {
  std::string out = absl::StrCat("Process ", r.pid());
  if (!r.python_version().empty()) {
    absl::StrAppend(&out, ": Python ", r.python_version(), " (",
                    Escaped(r.python_binary()), ")");
  } else if (!r.executable().empty()) {
    absl::StrAppend(&out, ": ", Escaped(r.executable()));
  }
  absl::StrAppend(&out, "\n");
  for (const v1::ThreadStack& t : r.threads()) {
    absl::StrAppend(&out, "\n", ThreadHeader(t), "\n");
    if (t.native() == v1::ThreadStack::NATIVE_NOT_STOPPED) {
      absl::StrAppend(&out, "    (did not stop in time: no native frames)\n");
    }
    for (const v1::Frame& f : t.stack()) {
      absl::StrAppend(&out, "    ", FrameLine(f), "\n");
    }
    if (t.stack().empty() &&
        t.native() != v1::ThreadStack::NATIVE_NOT_STOPPED) {
      absl::StrAppend(&out, "    (no frames)\n");
    }
    if (t.native() == v1::ThreadStack::NATIVE_PARTIAL) {
      absl::StrAppend(&out, "    ... (native unwinding stopped here)\n");
    }
    if (t.truncated()) {
      absl::StrAppend(&out, "    ... (Python frames cut short)\n");
    }
  }
  return out;
}

// --python-only: the output from before native frames, unchanged.
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

const char* KindName(v1::ModuleKind kind) {
  switch (kind) {
    case v1::MODULE_KERNEL:
      return "kernel";
    case v1::MODULE_EXECUTABLE:
      return "executable";
    case v1::MODULE_LIBRARY:
      return "library";
    case v1::MODULE_JIT:
      return "jit";
    case v1::MODULE_PYTHON:
      return "python";
    default:
      return "unknown";
  }
}

const char* NativeName(v1::ThreadStack::NativeState state) {
  switch (state) {
    case v1::ThreadStack::NATIVE_COMPLETE:
      return "complete";
    case v1::ThreadStack::NATIVE_PARTIAL:
      return "partial";
    case v1::ThreadStack::NATIVE_NOT_STOPPED:
      return "not_stopped";
    default:
      return "not_read";
  }
}

const char* ModeName(v1::StackRequest::Mode mode) {
  switch (mode) {
    case v1::StackRequest::MODE_NATIVE:
      return "native";
    case v1::StackRequest::MODE_PYTHON_ONLY:
      return "python_only";
    default:
      return "merged";
  }
}

const char* Bool(bool b) { return b ? "true" : "false"; }

// As before native frames, with tid, comm, python, native,
// python_unmatched and stack added to each thread, and mode, executable
// and notes to the whole.
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
    std::vector<std::string> stack;
    for (const v1::Frame& f : t.stack()) {
      std::string frame = absl::StrCat(
          "{\"kind\":\"", KindName(f.kind()),
          "\",\"function\":", JsonText(f.function()),
          ",\"file\":", JsonText(f.file()), ",\"line\":", f.line());
      if (f.kind() != v1::MODULE_PYTHON) {
        absl::StrAppend(&frame, ",\"module\":", JsonText(f.module()),
                        ",\"offset\":", f.offset());
      }
      stack.push_back(frame + "}");
    }
    threads.push_back(absl::StrCat(
        "{\"tid\":", t.tid(), ",\"comm\":", JsonString(t.comm()),
        ",\"python\":", Bool(t.python()), ",\"thread_id\":", t.thread_id(),
        ",\"native_thread_id\":", t.native_thread_id(), ",\"holds_gil\":",
        Bool(t.holds_gil()), ",\"truncated\":", Bool(t.truncated()),
        ",\"native\":\"", NativeName(t.native()), "\",\"python_unmatched\":",
        Bool(t.python_unmatched()), ",\"frames\":[", absl::StrJoin(frames, ","),
        "],\"stack\":[", absl::StrJoin(stack, ","), "]}"));
  }
  std::vector<std::string> drops;
  for (const v1::DropCounter& d : r.drops()) {
    drops.push_back(absl::StrCat(JsonString(d.reason()), ":", d.count()));
  }
  std::vector<std::string> notes;
  for (const std::string& note : r.notes()) notes.push_back(JsonText(note));
  return absl::StrCat("{\"pid\":", r.pid(), ",\"mode\":\"", ModeName(r.mode()),
                      "\",\"executable\":", JsonText(r.executable()),
                      ",\"python_version\":", JsonString(r.python_version()),
                      ",\"python_binary\":", JsonText(r.python_binary()),
                      ",\"threads\":[", absl::StrJoin(threads, ","),
                      "],\"drops\":{", absl::StrJoin(drops, ","),
                      "},\"notes\":[", absl::StrJoin(notes, ","), "]}\n");
}

int RunStack(const GlobalOptions& global, const StackOptions& options) {
  if (global.has_command) {
    return UsageError(
        "stack reads a running process: give --pid PID, not a command");
  }
  if (options.pids.size() != 1) {
    return UsageError("stack needs exactly one --pid PID");
  }
  if (options.native && options.python_only) {
    return UsageError("--native and --python-only exclude each other");
  }
  absl::StatusOr<std::unique_ptr<ReportOutput>> output = ReportOutput::Open(
      options.output, STDOUT_FILENO, ReportOutput::FileMode::kReplaceAtEnd);
  if (!output.ok()) return UsageError(std::string(output.status().message()));

  v1::StackRequest request;
  request.mutable_target()->add_pids(options.pids[0]);
  request.set_mode(options.native        ? v1::StackRequest::MODE_NATIVE
                   : options.python_only ? v1::StackRequest::MODE_PYTHON_ONLY
                                         : v1::StackRequest::MODE_MERGED);
  auto stub = Connect(global);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kStackTimeout);
  v1::StackResponse response;
  grpc::Status status = stub->Stack(&context, request, &response);
  if (!status.ok()) return ReportRpcError(status, global);

  FILE* out = (*output)->stream();
  fputs((options.json ? RenderJson(response)
         : response.mode() == v1::StackRequest::MODE_PYTHON_ONLY
             ? RenderText(response)
             : RenderStacks(response))
            .c_str(),
        out);
  if (!options.json) {
    for (const std::string& note : response.notes()) {
      fprintf(stderr, "tracectl: %s\n", Escaped(note).c_str());
    }
    PrintDrops(response.drops(), stderr);
  }
  return ReportClosed((*output)->Close(true), 0);
}

}  // namespace

void AddStackCommand(CLI::App& app, const GlobalOptions& global,
                     int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "stack",
      "Show every thread's stack of a running process, once (like py-spy "
      "dump or pstack)");
  auto o = std::make_shared<StackOptions>();
  cmd->add_option("-p,--pid", o->pids, "the process")
      ->required()
      ->delimiter(',');
  cmd->add_flag("--native", o->native,
                "native frames only (no Python frames in place of the eval "
                "loop's)");
  cmd->add_flag("--python-only", o->python_only,
                "Python frames only, read without stopping the process");
  cmd->add_flag("--json", o->json, "print one JSON object");
  AddOutputOption(cmd, &o->output);
  cmd->footer(
      "Frames are innermost first: Python ones as function (file:line), "
      "native ones as function (module) or [module+0xoffset]. Every thread "
      "is stopped for a moment (ptrace, as the caller; at most 2 s) so that "
      "all are seen at one instant, then runs on; a process traced by "
      "another tracer (strace, gdb) cannot be stopped. --python-only reads "
      "Python 3.11 frames from memory while the process runs on.");
  cmd->callback([&global, exit_code, o] { *exit_code = RunStack(global, *o); });
}

}  // namespace tracectl
