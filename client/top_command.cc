// tracectl top: the hottest functions, live, as perf top shows them: each
// interval's samples, redrawn in place on a terminal, printed one snapshot
// after another otherwise.
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
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

// One interval's table: of one host (its HostProfile's host empty), or of
// several together, a HOST column telling them apart.
void PrintSnapshot(const std::vector<HostProfile>& profiles,
                   const std::string& scope, const TopOptions& options,
                   TopSort sort, FILE* out, bool terminal) {
  const ProfileView view = BuildProfileView(profiles);
  const std::string table = RenderTopTable(
      view, HotFunctions(view, RowsToShow(options, out, terminal), sort));
  const time_t now = time(nullptr);
  tm local;
  char stamp[32];
  strftime(stamp, sizeof(stamp), "%H:%M:%S", localtime_r(&now, &local));
  uint64_t samples = 0, dropped = 0;
  for (const HostProfile& profile : profiles) {
    samples += profile.data->samples();
    for (const v1::DropCounter& drop : profile.data->drops()) {
      dropped += drop.count();
    }
  }
  if (terminal) fputs("\x1b[H\x1b[2J", out);  // home, clear
  fprintf(out,
          "--- %s  %s: %llu samples in %.1f s at %u Hz, %llu damaged or "
          "lost so far ---\n%s",
          stamp, scope.c_str(), static_cast<unsigned long long>(samples),
          view.elapsed_seconds, view.frequency_hz,
          static_cast<unsigned long long>(dropped), table.c_str());
  if (!terminal) fputc('\n', out);
  fflush(out);
}

// Several hosts at once, until --duration or Ctrl-C: a table of them all
// each interval, once every host still running has sent its snapshot (or
// most of an interval after the first did, so a slow host does not hold
// the others back). A host that fails is said on stderr.
int RunTopOnHosts(const GlobalOptions& global,
                  const v1::ProfileClientMessage& start,
                  const TopOptions& options, TopSort sort, FILE* out,
                  bool terminal) {
  const size_t n = global.hosts.size();
  std::mutex mu;
  std::vector<std::optional<v1::ProfileData>> latest(n);
  std::set<size_t> running, fresh;
  absl::Time first_fresh;
  auto print = [&](bool final) {  // under mu
    std::vector<HostProfile> profiles;
    for (size_t i : fresh) profiles.push_back({global.hosts[i], &*latest[i]});
    fresh.clear();
    if (profiles.empty()) return;
    if (final && std::none_of(profiles.begin(), profiles.end(),
                              [](const HostProfile& p) {
                                return p.data->samples() > 0;
                              })) {
      return;
    }
    PrintSnapshot(profiles, absl::StrFormat("%d hosts", profiles.size()),
                  options, sort, out, terminal);
  };
  const std::vector<grpc::Status> statuses =
      RunOnHosts<v1::ProfileClientMessage, v1::ProfileServerMessage>(
          global, start, &v1::Tracer::Stub::Profile,
          [&](size_t i, const v1::ProfileServerMessage& message) {
            std::lock_guard<std::mutex> lock(mu);
            if (message.has_started()) running.insert(i);
            if (!message.has_snapshot() && !message.has_final()) return false;
            if (message.has_final()) {
              running.erase(i);
              latest[i] = message.final();
              PrintDrops(message.final().drops(), stderr);
            } else {
              latest[i] = message.snapshot();
            }
            if (fresh.empty()) first_fresh = absl::Now();
            fresh.insert(i);
            const bool all = std::includes(fresh.begin(), fresh.end(),
                                           running.begin(), running.end());
            if (all || absl::Now() - first_fresh >
                           absl::Seconds(0.75 * options.interval)) {
              print(/*final=*/running.empty());
            }
            return message.has_final();
          });
  int code = 0;
  for (size_t i = 0; i < n; ++i) {
    if (SayHostFailed(global.hosts[i], statuses[i])) code = 1;
  }
  return code;
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
  if (global.hosts.size() > 1) {
    const int code =
        RunTopOnHosts(global, start, options, *sort, out, terminal);
    return ReportClosed((*output)->Close(true), code);
  }
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
              PrintSnapshot({{"", &message.snapshot()}}, scope, options, *sort,
                            out, terminal);
            } else if (message.has_final()) {
              final_data = message.final();
              return true;
            }
            return false;
          },
          [&] {
            // The last interval, cut short by the end of the session.
            if (final_data->samples() > 0) {
              PrintSnapshot({{"", &*final_data}}, scope, options, *sort, out,
                            terminal);
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
