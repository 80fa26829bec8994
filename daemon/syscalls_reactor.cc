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

}  // namespace

SyscallsReactor::SyscallsReactor(absl::StatusOr<Caller> caller,
                                 const Authorizer* authorizer,
                                 SessionLimiter* limiter, Backend* backend,
                                 SessionRegistry* registry)
    : caller_(std::move(caller)),
      authorizer_(authorizer),
      limiter_(limiter),
      backend_(backend),
      registry_(registry) {
  registry_->Add(this);
  StartRead(&incoming_);
}

void SyscallsReactor::RequestStop() {
  absl::MutexLock lock(&mu_);
  stop_requested_ = true;
}

void SyscallsReactor::OnReadDone(bool ok) {
  if (!got_start_) {
    got_start_ = true;
    if (!ok || !incoming_.has_start()) {
      FinishAfterWrites(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                     "the first message must be a start"));
      return;
    }
    worker_ = std::thread(&SyscallsReactor::Run, this, incoming_.start());
    StartRead(&incoming_);
    return;
  }
  // `stop`, a half-close, or anything else after the start ends the session
  // with a final summary.
  RequestStop();
  if (ok) StartRead(&incoming_);
}

void SyscallsReactor::Run(v1::SyscallsRequest request) {
  FinishAfterWrites(ToGrpcStatus(Serve(request)));
}

absl::Status SyscallsReactor::Serve(const v1::SyscallsRequest& request) {
  if (!caller_.ok()) return caller_.status();
  RETURN_IF_ERROR(ValidateWindow(request.window()));
  ASSIGN_OR_RETURN(KernelFilter filter,
                   authorizer_->Authorize(*caller_, request.target()));
  ASSIGN_OR_RETURN(std::unique_ptr<SessionLimiter::Lease> lease,
                   limiter_->Acquire(caller_->uid));
  {
    // Nobody is listening any more: load nothing.
    absl::MutexLock lock(&mu_);
    if (cancelled_) return absl::CancelledError("the client went away");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<SyscallCounter> counter,
                   backend_->CountSyscalls(filter, request.per_process()));

  v1::SyscallsServerMessage started;
  started.mutable_started()->set_backend(backend_->name());
  started.mutable_started()->set_scope(filter.Describe());
  Send(std::move(started));

  const v1::Window& window = request.window();
  const absl::Time begin = absl::Now();
  const absl::Time end = window.has_duration_seconds()
                             ? begin + absl::Seconds(window.duration_seconds())
                             : absl::InfiniteFuture();
  const absl::Duration interval = window.has_interval_seconds()
                                      ? absl::Seconds(window.interval_seconds())
                                      : absl::InfiniteDuration();
  absl::Time next_snapshot = begin + interval;
  auto woken = [](SyscallsReactor* self)
                   ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
                     return self->stop_requested_ || self->cancelled_;
                   };
  for (;;) {
    bool stop;
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithDeadline(absl::Condition(+woken, this),
                            std::min(end, next_snapshot));
      if (cancelled_) {
        return absl::CancelledError("the client went away");
      }
      stop = stop_requested_;
    }
    const absl::Time now = absl::Now();
    if (stop || now >= end) {
      v1::SyscallsServerMessage final_message;
      ASSIGN_OR_RETURN(*final_message.mutable_final(), counter->Snapshot());
      counter.reset();  // detach before the client hears the end
      Send(std::move(final_message));
      return absl::OkStatus();
    }
    if (now >= next_snapshot) {
      v1::SyscallsServerMessage snapshot;
      ASSIGN_OR_RETURN(*snapshot.mutable_snapshot(), counter->Snapshot());
      Send(std::move(snapshot));
      next_snapshot += interval;
      // A snapshot slower than the interval skips ticks, never bunches them.
      if (next_snapshot <= now) next_snapshot = now + interval;
    }
  }
}

void SyscallsReactor::Send(v1::SyscallsServerMessage message) {
  absl::MutexLock lock(&mu_);
  if (cancelled_ || finish_requested_) return;
  if (message.has_snapshot() && outgoing_.size() >= 2 &&
      outgoing_.back().has_snapshot()) {
    outgoing_.back() = std::move(message);  // not in flight: replace it
    return;
  }
  outgoing_.push_back(std::move(message));
  if (!writing_) {
    writing_ = true;
    StartWrite(&outgoing_.front());
  }
}

void SyscallsReactor::OnWriteDone(bool ok) {
  absl::MutexLock lock(&mu_);
  outgoing_.pop_front();
  if (!ok) {
    // The stream is broken: the client is gone.
    outgoing_.clear();
    cancelled_ = true;
  }
  if (!outgoing_.empty()) {
    StartWrite(&outgoing_.front());
    return;
  }
  writing_ = false;
  MaybeFinishLocked();
}

void SyscallsReactor::FinishAfterWrites(grpc::Status status) {
  absl::MutexLock lock(&mu_);
  if (finish_requested_) return;
  finish_requested_ = true;
  finish_status_ = std::move(status);
  MaybeFinishLocked();
}

void SyscallsReactor::MaybeFinishLocked() {
  if (finish_requested_ && !writing_ && !finished_) {
    finished_ = true;
    Finish(finish_status_);
  }
}

void SyscallsReactor::OnCancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
}

void SyscallsReactor::OnDone() {
  // gRPC runs OnDone on its own threads, after Finish, which the worker
  // calls last: the join is short.
  if (worker_.joinable()) worker_.join();
  registry_->Remove(this);
  delete this;
}

}  // namespace tracectl
