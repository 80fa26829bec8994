// tracectl top: the hottest functions, live, as perf top shows them: each
// interval's samples, redrawn in place on a terminal, printed one snapshot
// after another otherwise.
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "client/commands.h"
#include "client/connection.h"
#include "client/profile_view.h"
#include "client/report_output.h"
#include "client/session_runner.h"
#include "client/target_options.h"
#include "client/top_report.h"
#include "client/trace_session.h"

namespace tracectl {
namespace {

struct TopOptions {
  TargetOptions target;
  double interval = 2;
  uint32_t frequency = 99;
  size_t rows = 0;  // 0: fit the terminal, or 25
  std::string sort = "self";
  std::string output;  // -o
};

size_t RowsToShow(const TopOptions& options, FILE* out, bool terminal) {
  if (options.rows > 0) return options.rows;
  winsize size{};
  if (terminal && ioctl(fileno(out), TIOCGWINSZ, &size) == 0 &&
      size.ws_row > 6) {
    return size.ws_row - 4;
  }
  return 25;
}

void PrintSnapshot(const v1::ProfileData& data, const std::string& scope,
                   const TopOptions& options, TopSort sort, FILE* out,
                   bool terminal) {
  const ProfileView view = BuildProfileView(data);
  const std::string table = RenderTopTable(
      view, HotFunctions(view, RowsToShow(options, out, terminal), sort));
  const time_t now = time(nullptr);
  tm local;
  char stamp[32];
  strftime(stamp, sizeof(stamp), "%H:%M:%S", localtime_r(&now, &local));
  uint64_t dropped = 0;
  for (const v1::DropCounter& drop : data.drops()) dropped += drop.count();
  if (terminal) fputs("\x1b[H\x1b[2J", out);  // home, clear
  fprintf(out,
          "--- %s  %s: %llu samples in %.1f s at %u Hz, %llu damaged or "
          "lost so far ---\n%s",
          stamp, scope.c_str(), static_cast<unsigned long long>(data.samples()),
          data.elapsed_seconds(), data.frequency_hz(),
          static_cast<unsigned long long>(dropped), table.c_str());
  if (!terminal) fputc('\n', out);
  fflush(out);
}

int RunTop(const GlobalOptions& global, const TopOptions& options) {
  v1::ProfileClientMessage start;
  v1::ProfileRequest* request = start.mutable_start();
  if (int code = BuildProfileRequest(options.target, global, options.frequency,
                                     request);
      code != 0) {
    return code;
  }
  if (!(options.interval > 0)) return UsageError("--interval must be > 0");
  absl::StatusOr<TopSort> sort = ParseTopSort(options.sort);
  if (!sort.ok()) return UsageError(std::string(sort.status().message()));
  request->mutable_window()->set_interval_seconds(options.interval);
  request->set_snapshots_only(true);
  // Each table is written as it comes.
  absl::StatusOr<std::unique_ptr<ReportOutput>> output = ReportOutput::Open(
      options.output, STDOUT_FILENO, ReportOutput::FileMode::kInPlace);
  if (!output.ok()) return UsageError(std::string(output.status().message()));
  FILE* out = (*output)->stream();
  const bool terminal = (*output)->is_terminal();
  std::string scope;
  std::optional<v1::ProfileData> final_data;
  absl::Status closed;
  const int code =
      RunSession<v1::ProfileClientMessage, v1::ProfileServerMessage>(
          global, start, request->mutable_target(), &v1::Tracer::Stub::Profile,
          [&](const v1::ProfileServerMessage& message) {
            scope = message.started().scope();
          },
          [&](const v1::ProfileServerMessage& message) {
            if (message.has_snapshot()) {
              PrintSnapshot(message.snapshot(), scope, options, *sort, out,
                            terminal);
            } else if (message.has_final()) {
              final_data = message.final();
              return true;
            }
            return false;
          },
          [&] {
            // The last interval, cut short by the end of the session.
            if (final_data->samples() > 0) {
              PrintSnapshot(*final_data, scope, options, *sort, out, terminal);
            }
            closed = (*output)->Close(true);
            PrintDrops(final_data->drops(), stderr);
          });
  return ReportClosed(closed, code);
}

}  // namespace

void AddTopCommand(CLI::App& app, const GlobalOptions& global, int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "top",
      "Show the hottest functions live (like perf top), system-wide, for "
      "--pid/--comm/--uid, or for [--] CMD [ARGS...]");
  auto o = std::make_shared<TopOptions>();
  AddTargetOptions(cmd, &o->target);
  cmd->add_option("-i,--interval", o->interval, "seconds between redraws")
      ->capture_default_str();
  cmd->add_option("-F,--frequency", o->frequency,
                  "samples per second on each CPU")
      ->capture_default_str();
  cmd->add_option("-n,--rows", o->rows,
                  "rows to show (default: fit the terminal, else 25)")
      ->check(CLI::Range(0, 1000000));
  cmd->add_option("-S,--sort", o->sort,
                  "order rows by self or total (inclusive) samples")
      ->capture_default_str();
  AddOutputOption(cmd, &o->output);
  cmd->footer(
      "Each table covers the samples of one interval. SELF%: samples in the "
      "function itself; TOTAL%: samples with it anywhere on the stack.");
  cmd->callback([&global, exit_code, o] { *exit_code = RunTop(global, *o); });
}

}  // namespace tracectl
