#include "daemon/syscalls_reactor.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "daemon/grpc_status.h"
#include "daemon/status_macros.h"

namespace tracectl {
namespace {

constexpr double kMinIntervalSeconds = 0.1;
constexpr double kMaxWindowSeconds = 366.0 * 24 * 3600;

// `seconds` must be > 0, >= min, and at most a year.
absl::Status CheckSeconds(const char* what, double seconds, double min) {
  if (std::isfinite(seconds) && seconds > 0 && seconds >= min &&
      seconds <= kMaxWindowSeconds) {
    return absl::OkStatus();
  }
  const std::string lower = min > 0 ? absl::StrCat("at least ", min, " s")
                                    : std::string("more than 0 s");
  return absl::InvalidArgumentError(absl::StrCat(
      what, " must be ", lower, " and at most a year, not ", seconds));
}

}  // namespace

absl::Status ValidateWindow(const v1::Window& window) {
  if (window.has_duration_seconds()) {
    RETURN_IF_ERROR(CheckSeconds("duration", window.duration_seconds(), 0));
  }
  if (window.has_interval_seconds()) {
    RETURN_IF_ERROR(CheckSeconds("interval", window.interval_seconds(),
                                 kMinIntervalSeconds));
  }
  return absl::OkStatus();
}

absl::Status SyscallsReactor::Serve(const v1::SyscallsRequest& request) {
  RETURN_IF_ERROR(ValidateWindow(request.window()));
  if (request.count_only() && request.wall_time()) {
    return absl::InvalidArgumentError(
        "wall time and count only exclude each other: counting only "
        "measures no time");
  }
  ASSIGN_OR_RETURN(Admission admission,
                   Admit(caller_, services_, request.target()));
  const KernelFilter& filter = admission.filter;
  // Nobody is listening any more: load nothing.
  if (Cancelled()) return absl::CancelledError("the client went away");
  SyscallCountSettings settings;
  settings.per_process = request.per_process();
  settings.wall_time = request.wall_time();
  settings.count_only = request.count_only();
  ASSIGN_OR_RETURN(std::unique_ptr<SyscallCounter> counter,
                   services_.backend->CountSyscalls(filter, settings));

  v1::SyscallsServerMessage started;
  started.mutable_started()->set_backend(services_.backend->name());
  started.mutable_started()->set_scope(filter.Describe());
  Send(std::move(started));

  return ServeWindow(request.window(), std::move(counter));
}

}  // namespace tracectl
