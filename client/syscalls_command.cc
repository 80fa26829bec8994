// tracectl syscalls: counts, errors and latency of system calls, like
// strace -c, aggregated in the kernel.
#include <signal.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "client/commands.h"
#include "client/connection.h"
#include "client/launcher.h"
#include "client/signal_thread.h"
#include "client/syscalls_report.h"

namespace tracectl {
namespace {

struct SyscallsOptions {
  std::vector<int> pids;
  std::optional<std::string> comm;
  std::optional<unsigned> uid;
  std::optional<double> duration;
  std::optional<double> interval;
  bool follow = false;
  bool per_process = false;
  std::string sort = "time";
  int top = 0;
  bool json = false;
};

using Stream = grpc::ClientReaderWriter<v1::SyscallsClientMessage,
                                        v1::SyscallsServerMessage>;

// What the signal thread and the command's waiter share with the session.
// Shared-owned: a waiter still blocked on lingering descendants when
// tracectl gives up on them may outlive RunSyscalls.
struct SessionControl {
  enum class Phase { kStarting, kRunning, kEnded };

  explicit SessionControl(bool runs_command) : runs_command(runs_command) {}

  const bool runs_command;  // -- CMD
  std::mutex mu;
  std::condition_variable cv;
  Phase phase = Phase::kStarting;
  Stream* stream = nullptr;  // set while running
  std::shared_ptr<Launcher> launcher;
  bool stop_sent = false;
  bool stop_pending = false;  // a signal came before the session started
  bool cancelled = false;     // ... and gave up on it
  bool command_done = false;  // the command and all its descendants exited
  bool abandoned = false;     // stop waiting for them

  // Half-closes the stream: the daemon answers with the final summary.
  void StopLocked() {
    if (phase == Phase::kRunning && !stop_sent) {
      stream->WritesDone();
      stop_sent = true;
    }
  }
};

// Ctrl-C and friends. Before the session starts, with -- CMD: give up (the
// command never runs); otherwise the first stops the session as soon as it
// starts. System-wide or --pid: the first stops the session (final
// summary), the next gives up.
// With -- CMD: the first goes to the command (a terminal's reaches it by
// itself), also while tracectl waits for it after the session ended; the
// next stops waiting for it or its lingering descendants; the one after
// that gives up.
void OnSignal(SessionControl& control, grpc::ClientContext& context,
              const siginfo_t& info, int count) {
  std::lock_guard<std::mutex> lock(control.mu);
  if (control.phase == SessionControl::Phase::kStarting) {
    if (!control.runs_command && count == 1) {
      control.stop_pending = true;
    } else {
      control.cancelled = true;  // the command must not be released
      context.TryCancel();
    }
    return;
  }
  Launcher* launcher = control.launcher.get();
  if (launcher != nullptr && !launcher->CommandExited() && count == 1) {
    if (info.si_code != SI_KERNEL) kill(launcher->pid(), info.si_signo);
    return;
  }
  control.abandoned = true;
  control.cv.notify_all();
  if (control.phase == SessionControl::Phase::kEnded) return;  // summary out
  if (count > (launcher != nullptr ? 2 : 1)) context.TryCancel();
  control.StopLocked();
}

// Prints a snapshot or the final summary. On a terminal, with --interval,
// each one replaces the last, as top does; otherwise they are appended.
void PrintSnapshot(const v1::SyscallsSummary& summary,
                   const ReportOptions& report, const SyscallsOptions& options,
                   bool final) {
  if (options.json) {
    fputs(RenderSyscallsJson(summary, report, final).c_str(), stdout);
  } else if (isatty(STDOUT_FILENO)) {
    if (options.interval) fputs("\033[H\033[2J", stdout);
    fputs(RenderSyscallsTable(summary, report).c_str(), stdout);
  } else if (final) {
    fputs(RenderSyscallsTable(summary, report).c_str(), stdout);
  } else {
    const time_t now = time(nullptr);
    tm local;
    char stamp[32];
    strftime(stamp, sizeof(stamp), "%H:%M:%S", localtime_r(&now, &local));
    printf("--- %s ---\n%s\n", stamp,
           RenderSyscallsTable(summary, report).c_str());
  }
  fflush(stdout);
}

int RunSyscalls(const GlobalOptions& global, const SyscallsOptions& options) {
  if (options.comm && options.comm->empty()) {
    return UsageError("--comm needs a non-empty prefix");
  }
  if (global.has_command && global.command.empty()) {
    return UsageError("nothing to run after --");
  }
  if (global.has_command && !options.pids.empty()) {
    return UsageError("use either --pid or -- CMD, not both");
  }
  if (options.top < 0) return UsageError("--top must be 0 (every row) or more");
  if (options.follow && options.pids.empty()) {
    return UsageError("--follow needs --pid (-- CMD always follows)");
  }
  absl::StatusOr<SortKey> sort = ParseSortKey(options.sort);
  if (!sort.ok()) return UsageError(std::string(sort.status().message()));
  ReportOptions report{*sort, options.top, options.per_process, ""};

  v1::SyscallsClientMessage start;
  v1::SyscallsRequest* request = start.mutable_start();
  v1::Target* target = request->mutable_target();
  for (int pid : options.pids) target->add_pids(pid);
  if (options.comm) target->set_comm_prefix(*options.comm);
  if (options.uid) target->set_uid(*options.uid);
  target->set_follow_children(options.follow);
  if (options.duration)
    request->mutable_window()->set_duration_seconds(*options.duration);
  if (options.interval)
    request->mutable_window()->set_interval_seconds(*options.interval);
  request->set_per_process(options.per_process);

  auto control = std::make_shared<SessionControl>(global.has_command);
  grpc::ClientContext context;
  SignalThread signals([&](const siginfo_t& info, int count) {
    OnSignal(*control, context, info, count);
  });

  if (global.has_command) {
    absl::StatusOr<std::unique_ptr<Launcher>> prepared =
        Launcher::Prepare(global.command);
    if (!prepared.ok()) {
      fprintf(stderr, "tracectl: %s\n",
              std::string(prepared.status().message()).c_str());
      return prepared.status().code() == absl::StatusCode::kNotFound ? 127
                                                                     : 126;
    }
    std::lock_guard<std::mutex> lock(control->mu);
    control->launcher = std::move(*prepared);
    target->add_pids(control->launcher->pid());
    target->set_follow_children(true);
  }
  const std::shared_ptr<Launcher> launcher = control->launcher;

  auto stub = Connect(global.socket_path);
  std::unique_ptr<Stream> stream = stub->Syscalls(&context);
  stream->Write(start);
  v1::SyscallsServerMessage message;
  if (!stream->Read(&message) || !message.has_started()) {
    stream->WritesDone();
    return ReportRpcError(stream->Finish(), global.socket_path);
  }
  report.scope = message.started().scope();
  {
    std::lock_guard<std::mutex> lock(control->mu);
    if (control->cancelled) {
      // Interrupted as it started: the held command exits without running.
      stream->WritesDone();
      return ReportRpcError(stream->Finish(), global.socket_path);
    }
    control->stream = stream.get();
    control->phase = SessionControl::Phase::kRunning;
    if (control->stop_pending) control->StopLocked();
  }

  std::thread waiter;
  if (launcher) {
    launcher->Release();
    waiter = std::thread([control] {
      control->launcher->WaitAll();
      std::lock_guard<std::mutex> lock(control->mu);
      control->command_done = true;
      control->cv.notify_all();
      control->StopLocked();
    });
  }
  std::optional<v1::SyscallsSummary> final_summary;
  while (stream->Read(&message)) {
    if (message.has_snapshot()) {
      PrintSnapshot(message.snapshot(), report, options, /*final=*/false);
    } else if (message.has_final()) {
      final_summary = message.final();
    }
  }
  bool command_running = false;
  {
    std::lock_guard<std::mutex> lock(control->mu);
    // Neither the waiter nor a signal touches the stream from now on.
    control->phase = SessionControl::Phase::kEnded;
    control->stream = nullptr;
    command_running = launcher && !control->command_done && !control->abandoned;
  }
  grpc::Status status = stream->Finish();
  int exit_code = 0;
  if (!status.ok() || !final_summary) {
    if (status.ok()) {
      status = grpc::Status(grpc::StatusCode::INTERNAL,
                            "the daemon ended the session without a summary");
    }
    exit_code = ReportRpcError(status, global.socket_path);
  } else {
    PrintSnapshot(*final_summary, report, options, /*final=*/true);
  }

  if (command_running) {
    // The session ended first (--duration, or the daemon stopped): the
    // command goes on untraced, and its exit status is still ours.
    fprintf(stderr,
            "tracectl: the session has ended; waiting for %s to exit "
            "(Ctrl-C to stop waiting)\n",
            global.command[0].c_str());
  }
  bool command_done = false;
  {
    std::unique_lock<std::mutex> lock(control->mu);
    control->cv.wait(lock, [&] {
      return !launcher || control->command_done || control->abandoned;
    });
    command_done = control->command_done;
  }
  if (waiter.joinable()) {
    if (command_done) {
      waiter.join();
    } else {
      waiter.detach();  // descendants still run; nobody waits for them
    }
  }
  if (!launcher) return exit_code;
  if (!launcher->CommandExited()) return 130;
  return exit_code != 0 && launcher->ExitCode() == 0 ? exit_code
                                                     : launcher->ExitCode();
}

}  // namespace

void AddSyscallsCommand(CLI::App& app, const GlobalOptions& global,
                        int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "syscalls",
      "Count system calls, errors and latency (like strace -c), "
      "system-wide, for --pid/--comm/--uid, or for [-- CMD ARGS...]");
  auto o = std::make_shared<SyscallsOptions>();
  cmd->add_option("-p,--pid", o->pids, "trace these processes (every thread)");
  cmd->add_option("-c,--comm", o->comm,
                  "trace tasks whose command name starts with this");
  cmd->add_option("-u,--uid", o->uid, "trace tasks of this real uid");
  cmd->add_flag("-f,--follow", o->follow,
                "also trace children that --pid processes fork");
  cmd->add_option("-d,--duration", o->duration,
                  "stop after this many seconds (default: Ctrl-C)");
  cmd->add_option("-i,--interval", o->interval,
                  "print a table every this many seconds");
  cmd->add_flag("-P,--per-process", o->per_process,
                "one row per process and syscall");
  cmd->add_option("-S,--sort", o->sort, "sort by calls, time, errors or name")
      ->capture_default_str();
  cmd->add_option("-n,--top", o->top, "show only the first N rows (0: all)");
  cmd->add_flag("--json", o->json, "print JSON instead of a table");
  cmd->footer(
      "With -- CMD ARGS, CMD runs as you, traced from its first instruction "
      "with all its descendants, and tracectl exits with its status.");
  cmd->callback(
      [&global, exit_code, o] { *exit_code = RunSyscalls(global, *o); });
}

}  // namespace tracectl
