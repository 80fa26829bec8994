// tracectl syscalls: counts, errors and latency of system calls, like
// strace -c, aggregated in the kernel.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "client/commands.h"
#include "client/connection.h"
#include "client/launcher.h"
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

// Turns SIGINT/SIGTERM/SIGHUP into a stop request while the session runs,
// as strace -c prints its table on Ctrl-C. A second signal gives up.
class StopOnSignal {
 public:
  StopOnSignal(std::function<void()> stop, std::function<void()> give_up,
               const sigset_t& signals)
      : thread_([this, stop, give_up, signals] {
          int received = 0;
          const timespec tick{0, 100 * 1000 * 1000};
          while (!done_) {
            if (sigtimedwait(&signals, nullptr, &tick) < 0) continue;
            if (++received == 1) {
              stop();
            } else {
              give_up();
            }
          }
        }) {}
  ~StopOnSignal() {
    done_ = true;
    thread_.join();
  }

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

void PrintSnapshot(const v1::SyscallsSummary& summary,
                   const ReportOptions& report, bool json) {
  if (json) {
    fputs(RenderSyscallsJson(summary, report).c_str(), stdout);
  } else if (isatty(STDOUT_FILENO)) {
    // Redraw in place, as top does.
    printf("\033[H\033[2J%s", RenderSyscallsTable(summary, report).c_str());
  } else {
    time_t now = time(nullptr);
    char stamp[32];
    strftime(stamp, sizeof(stamp), "%H:%M:%S", localtime(&now));
    printf("--- %s ---\n%s\n", stamp, RenderSyscallsTable(summary, report).c_str());
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
  if (options.duration) request->mutable_window()->set_duration_seconds(*options.duration);
  if (options.interval) request->mutable_window()->set_interval_seconds(*options.interval);
  request->set_per_process(options.per_process);

  // Signals are taken by StopOnSignal's thread, and by nobody before it.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::unique_ptr<Launcher> launcher;
  if (global.has_command) {
    absl::StatusOr<std::unique_ptr<Launcher>> prepared =
        Launcher::Prepare(global.command);
    if (!prepared.ok()) {
      fprintf(stderr, "tracectl: %s\n",
              std::string(prepared.status().message()).c_str());
      return prepared.status().code() == absl::StatusCode::kNotFound ? 127 : 126;
    }
    launcher = std::move(*prepared);
    target->add_pids(launcher->pid());
    target->set_follow_children(true);
  }

  auto stub = Connect(global.socket_path);
  grpc::ClientContext context;
  std::unique_ptr<Stream> stream = stub->Syscalls(&context);
  stream->Write(start);
  v1::SyscallsServerMessage message;
  if (!stream->Read(&message) || !message.has_started()) {
    stream->WritesDone();
    return ReportRpcError(stream->Finish(), global.socket_path);
  }
  report.scope = message.started().scope();

  std::once_flag stopped;
  auto stop = [&] { std::call_once(stopped, [&] { stream->WritesDone(); }); };
  std::optional<int> command_status;
  std::thread waiter;
  if (launcher) {
    launcher->Release();
    waiter = std::thread([&] {
      command_status = launcher->WaitAll();
      stop();
    });
  }
  std::optional<v1::SyscallsSummary> final_summary;
  {
    StopOnSignal on_signal(
        launcher ? std::function<void()>([] {
          // The command got the terminal's signal too; its exit ends us.
        })
                 : std::function<void()>(stop),
        [&] { context.TryCancel(); }, signals);
    while (stream->Read(&message)) {
      if (message.has_snapshot()) {
        PrintSnapshot(message.snapshot(), report, options.json);
      } else if (message.has_final()) {
        final_summary = message.final();
      }
    }
    if (waiter.joinable()) waiter.join();
  }
  grpc::Status status = stream->Finish();
  if (!status.ok() || !final_summary) {
    if (status.ok()) {
      status = grpc::Status(grpc::StatusCode::INTERNAL,
                            "the daemon ended the session without a summary");
    }
    ReportRpcError(status, global.socket_path);
    return command_status.value_or(1) != 0 ? command_status.value_or(1) : 1;
  }
  if (options.json) {
    fputs(RenderSyscallsJson(*final_summary, report).c_str(), stdout);
  } else {
    fputs(RenderSyscallsTable(*final_summary, report).c_str(), stdout);
  }
  fflush(stdout);
  return command_status.value_or(0);
}

}  // namespace

void AddSyscallsCommand(CLI::App& app, const GlobalOptions& global,
                        int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "syscalls",
      "Count system calls, errors and latency (like strace -c), "
      "system-wide, for --pid/--comm/--uid, or for -- CMD ARGS");
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
  cmd->add_option("-n,--top", o->top, "show only the first N rows")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--json", o->json, "print JSON instead of a table");
  cmd->footer(
      "With -- CMD ARGS, CMD runs as you, traced from its first instruction "
      "with all its descendants, and tracectl exits with its status.");
  cmd->callback([&global, exit_code, o] { *exit_code = RunSyscalls(global, *o); });
}

}  // namespace tracectl
