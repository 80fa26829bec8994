// tracectl flame: a CPU profile of the target, sampled in the kernel,
// unwound and symbolized by the daemon, written as an interactive SVG flame
// graph, FlameGraph's folded stacks, pprof or speedscope.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "client/commands.h"
#include "client/connection.h"
#include "client/flame_svg.h"
#include "client/profile_pprof.h"
#include "client/profile_speedscope.h"
#include "client/profile_view.h"
#include "client/report_output.h"
#include "client/session_runner.h"
#include "client/target_options.h"
#include "client/trace_session.h"

namespace tracectl {
namespace {

struct FlameOptions {
  TargetOptions target;
  uint32_t frequency = 99;
  std::string format;  // empty: from -o's extension, else by stdout
  bool user_only = false;
  bool kernel_only = false;
  std::string output;
};

// --format, or the default: by -o's extension, else svg unless stdout is a
// terminal (then folded: text a person can read).
absl::StatusOr<std::string> ChooseFormat(const FlameOptions& options) {
  if (!options.format.empty()) {
    for (const char* known : {"svg", "folded", "pprof", "speedscope"}) {
      if (options.format == known) return options.format;
    }
    return absl::InvalidArgumentError(
        "--format must be svg, folded, pprof or speedscope, not " +
        options.format);
  }
  const std::string& out = options.output;
  if (!out.empty()) {
    if (absl::EndsWith(out, ".folded") || absl::EndsWith(out, ".txt")) {
      return std::string("folded");
    }
    if (absl::EndsWith(out, ".pb.gz") || absl::EndsWith(out, ".pprof")) {
      return std::string("pprof");
    }
    if (absl::EndsWith(out, ".json")) return std::string("speedscope");
    return std::string("svg");
  }
  return std::string(isatty(STDOUT_FILENO) ? "folded" : "svg");
}

std::string Describe(const v1::ProfileStarted& started,
                     const v1::ProfileData& data) {
  return absl::StrFormat(
      "%s; %d samples in %.1f s at %u Hz (%s)", started.scope(), data.samples(),
      data.elapsed_seconds(), data.frequency_hz(), started.event());
}

absl::StatusOr<std::string> RenderView(const std::string& format,
                                       const ProfileView& view,
                                       const std::string& description) {
  if (format == "folded") return RenderFolded(view);
  if (format == "pprof") return RenderPprof(view);
  if (format == "speedscope") {
    return RenderSpeedscope(view, "tracectl flame: " + description);
  }
  FlameSvgOptions svg;
  svg.title = "tracectl flame";
  svg.subtitle = description;
  return RenderFlameSvg(view, svg);
}

absl::StatusOr<std::string> Render(const std::string& format,
                                   const v1::ProfileStarted& started,
                                   const v1::ProfileData& data) {
  return RenderView(format, BuildProfileView(data), Describe(started, data));
}

// Writes `rendered` to `output`; 0, or 1 after saying what failed.
int WriteProfile(const absl::StatusOr<std::string>& rendered,
                 ReportOutput& output) {
  if (!rendered.ok()) {
    fprintf(stderr, "tracectl: %s\n",
            std::string(rendered.status().message()).c_str());
    return 1;
  }
  if (fwrite(rendered->data(), 1, rendered->size(), output.stream()) !=
      rendered->size()) {
    fprintf(stderr, "tracectl: writing the profile failed: %s\n",
            strerror(errno));
    return 1;
  }
  return 0;
}

// Several hosts at once: each samples until its --duration or Ctrl-C; one
// profile of them all, each host a root frame (pprof: a `host` label). A
// host that fails is said on stderr and the others still count.
int RunFlameOnHosts(const GlobalOptions& global,
                    const v1::ProfileClientMessage& start,
                    const std::string& format, ReportOutput& output) {
  std::vector<std::optional<v1::ProfileData>> profiles(global.hosts.size());
  const std::vector<grpc::Status> statuses =
      RunOnHosts<v1::ProfileClientMessage, v1::ProfileServerMessage>(
          global, start, &v1::Tracer::Stub::Profile,
          [&](size_t i, const v1::ProfileServerMessage& message) {
            if (!message.has_final()) return false;
            profiles[i] = message.final();
            return true;
          });
  int code = 0;
  std::vector<HostProfile> answered;
  for (size_t i = 0; i < statuses.size(); ++i) {
    const std::string& host = global.hosts[i];
    if (SayHostFailed(host, statuses[i])) {
      code = 1;
      continue;
    }
    fprintf(stderr, "tracectl: %s: %llu samples in %.1f s\n", host.c_str(),
            static_cast<unsigned long long>(profiles[i]->samples()),
            profiles[i]->elapsed_seconds());
    PrintDrops(profiles[i]->drops(), stderr);
    answered.push_back({host, &*profiles[i]});
  }
  if (answered.empty()) return code;
  const ProfileView view = BuildProfileView(answered);
  const std::string description = absl::StrFormat(
      "%d hosts; %d samples", answered.size(), view.total_samples);
  if (int failed = WriteProfile(RenderView(format, view, description), output);
      failed != 0) {
    return failed;
  }
  return code;
}

int RunFlame(const GlobalOptions& global, const FlameOptions& options) {
  v1::ProfileClientMessage start;
  v1::ProfileRequest* request = start.mutable_start();
  if (int code = BuildProfileRequest(options.target, global, options.frequency,
                                     request);
      code != 0) {
    return code;
  }
  absl::StatusOr<std::string> format = ChooseFormat(options);
  if (!format.ok()) return UsageError(std::string(format.status().message()));
  if (options.user_only && options.kernel_only) {
    return UsageError("--user-only and --kernel-only exclude each other");
  }
  if (*format == "pprof" && options.output.empty() && isatty(STDOUT_FILENO)) {
    return UsageError("pprof output is binary: give -o FILE or redirect");
  }
  request->set_stacks(options.user_only ? v1::ProfileRequest::USER_ONLY
                      : options.kernel_only
                          ? v1::ProfileRequest::KERNEL_ONLY
                          : v1::ProfileRequest::USER_AND_KERNEL);
  // Open the output first: a bad path fails before anything is sampled. A
  // regular file is written aside and renamed into place at the end, so
  // that a failed session leaves the old one as it was.
  absl::StatusOr<std::unique_ptr<ReportOutput>> output = ReportOutput::Open(
      options.output, STDOUT_FILENO, ReportOutput::FileMode::kReplaceAtEnd);
  if (!output.ok()) return UsageError(std::string(output.status().message()));
  if (global.hosts.size() > 1) {
    const int code = RunFlameOnHosts(global, start, *format, **output);
    return ReportClosed((*output)->Close(code == 0), code);
  }
  const bool progress_in_place = isatty(STDERR_FILENO);
  v1::ProfileStarted started;
  std::optional<v1::ProfileData> final_data;
  int write_error = 0;
  absl::Status closed;
  const int code =
      RunSession<v1::ProfileClientMessage, v1::ProfileServerMessage>(
          global, start, request->mutable_target(), &v1::Tracer::Stub::Profile,
          [&](const v1::ProfileServerMessage& message) {
            started = message.started();
            fprintf(stderr, "tracectl: sampling %s at %u Hz (%s%s%s)\n",
                    started.scope().c_str(), started.frequency_hz(),
                    started.event().c_str(),
                    started.user_stacks() ? ", user stacks" : "",
                    started.kernel_stacks() ? ", kernel stacks" : "");
          },
          [&](const v1::ProfileServerMessage& message) {
            if (message.has_progress()) {
              const v1::ProfileProgress& p = message.progress();
              fprintf(stderr,
                      "%stracectl: %.0f s, %llu samples, %llu dropped%s",
                      progress_in_place ? "\r" : "", p.elapsed_seconds(),
                      static_cast<unsigned long long>(p.samples()),
                      static_cast<unsigned long long>(p.dropped()),
                      progress_in_place ? "   " : "\n");
              fflush(stderr);
            } else if (message.has_final()) {
              final_data = message.final();
              return true;
            }
            return false;
          },
          [&] {
            if (progress_in_place) fputc('\n', stderr);
            const v1::ProfileData& data = *final_data;
            fprintf(stderr, "tracectl: %s\n", Describe(started, data).c_str());
            if (data.unresolved_frames() > 0) {
              fprintf(
                  stderr,
                  "tracectl: %llu frames unresolved (shown as "
                  "[module+0xoffset])\n",
                  static_cast<unsigned long long>(data.unresolved_frames()));
            }
            PrintDrops(data.drops(), stderr);
            // Written now, not when a -- CMD that outlives --duration exits.
            write_error =
                WriteProfile(Render(*format, started, data), **output);
            closed = (*output)->Close(write_error == 0);
          });
  return ReportClosed(closed, code != 0 ? code : write_error);
}

}  // namespace

void AddFlameCommand(CLI::App& app, const GlobalOptions& global,
                     int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "flame",
      "Sample CPU stacks (user and, for admins, kernel) system-wide, for "
      "--pid/--comm/--uid, or for [--] CMD [ARGS...], and write a flame graph");
  auto o = std::make_shared<FlameOptions>();
  AddTargetOptions(cmd, &o->target);
  cmd->add_option("-F,--frequency", o->frequency,
                  "samples per second on each CPU")
      ->capture_default_str();
  cmd->add_option("--format", o->format,
                  "svg (interactive flame graph), folded (FlameGraph's "
                  "stacks), pprof (gzipped profile.proto) or speedscope "
                  "(JSON); default: from -o's extension, else svg when "
                  "stdout is not a terminal, folded when it is");
  cmd->add_flag("--user-only", o->user_only, "only user stacks");
  cmd->add_flag("--kernel-only", o->kernel_only,
                "only kernel stacks (root and the admin group)");
  AddOutputOption(cmd, &o->output);
  cmd->footer(
      "Samples until Ctrl-C, --duration, or the end of the command. "
      "Progress goes to stderr.");
  cmd->callback([&global, exit_code, o] { *exit_code = RunFlame(global, *o); });
}

}  // namespace tracectl
