#include "daemon/profile_reactor.h"

#include <malloc.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "daemon/profile_aggregator.h"
#include "daemon/status_macros.h"
#include "daemon/syscalls_reactor.h"
#include "daemon/thread_credentials.h"
#include "profile.h"

namespace tracectl {
namespace {

constexpr uint32_t kDefaultFrequency = 99;
constexpr uint32_t kMaxFrequency = 10000;
// The programs wake the daemon for a new process or a quarter-full buffer;
// otherwise it reads this often.
constexpr absl::Duration kReadTimeout = absl::Milliseconds(100);
constexpr absl::Duration kProgressInterval = absl::Seconds(1);
constexpr size_t kMaxQueuedSnapshots = 8;
// After the session, the samples still queued are unwound for this long.
constexpr absl::Duration kMaxDrain = absl::Seconds(2);
// A process image not used for this long is dropped.
constexpr absl::Duration kImageIdleTime = absl::Seconds(10);

}  // namespace

absl::StatusOr<ProfileSettings> ParseProfileSettings(
    const v1::ProfileRequest& request, bool admin) {
  ProfileSettings settings;
  settings.frequency_hz =
      request.frequency_hz() == 0 ? kDefaultFrequency : request.frequency_hz();
  if (settings.frequency_hz > kMaxFrequency) {
    return absl::InvalidArgumentError(
        absl::StrCat("the frequency must be from 1 to ", kMaxFrequency,
                     " Hz, not ", settings.frequency_hz));
  }
  switch (request.stacks()) {
    case v1::ProfileRequest::USER_ONLY:
      settings.kernel_stacks = false;
      break;
    case v1::ProfileRequest::KERNEL_ONLY:
      if (!admin) {
        return absl::PermissionDeniedError(
            "kernel stacks are shown only to root and the daemon's admin "
            "group");
      }
      settings.user_stacks = false;
      settings.kernel_stacks = true;
      break;
    default:
      settings.kernel_stacks = admin;
      break;
  }
  return settings;
}

absl::Status ProfileReactor::Serve(const v1::ProfileRequest& request) {
  RETURN_IF_ERROR(ValidateWindow(request.window()));
  if (request.snapshots_only() && !request.window().has_interval_seconds()) {
    return absl::InvalidArgumentError("snapshots_only needs an interval");
  }
  ASSIGN_OR_RETURN(Admission admission,
                   Admit(caller_, services_, request.target()));
  const KernelFilter& filter = admission.filter;
  ASSIGN_OR_RETURN(ProfileSettings settings,
                   ParseProfileSettings(request, !filter.owner.has_value()));
  RETURN_IF_ERROR(admission.lease->ReserveBuffers(settings.buffer_bytes));
  if (Cancelled()) return absl::CancelledError("the client went away");
  ASSIGN_OR_RETURN(std::unique_ptr<CpuSampler> sampler,
                   services_.backend->SampleCpu(filter, settings));

  v1::ProfileServerMessage started;
  v1::ProfileStarted* s = started.mutable_started();
  s->set_backend(services_.backend->name());
  s->set_scope(filter.Describe());
  s->set_event(sampler->event());
  s->set_frequency_hz(settings.frequency_hz);
  s->set_user_stacks(settings.user_stacks);
  s->set_kernel_stacks(settings.kernel_stacks);
  s->set_user_stack_bytes(
      settings.user_stacks ? PROFILE_USTACK_BYTES - PROFILE_PAGE_SIZE : 0);
  Send(std::move(started));

  // From here on this thread opens the files that sampled processes name
  // (their binaries, debug links, JIT maps): for a user, only as that user.
  std::unique_ptr<ScopedThreadCredentials> lowered;
  if (filter.owner) {
    RETURN_IF_ERROR(ScopedThreadCredentials::Lower(
        filter.owner->uid, filter.owner->gid, &lowered));
  }
  ProfileAggregator aggregator(
      settings.user_stacks, settings.kernel_stacks, !request.snapshots_only(),
      [&sampler](uint32_t tgid, const python_proc& config) {
        return sampler->WatchPython(tgid, config);
      });
  const std::function<void(const profile_sample&)> on_sample =
      [&](const profile_sample& sample) { aggregator.Add(sample); };
  auto all_drops = [&]() {
    std::vector<v1::DropCounter> drops = sampler->Drops();
    for (v1::DropCounter& drop : aggregator.Drops()) {
      drops.push_back(std::move(drop));
    }
    return drops;
  };

  const absl::Time begin = absl::Now();
  const absl::Time end =
      request.window().has_duration_seconds()
          ? begin + absl::Seconds(request.window().duration_seconds())
          : absl::InfiniteFuture();
  const absl::Duration interval =
      request.window().has_interval_seconds()
          ? absl::Seconds(request.window().interval_seconds())
          : absl::InfiniteDuration();
  absl::Time next_snapshot = begin + interval;
  absl::Time interval_begin = begin;
  absl::Time next_progress = begin + kProgressInterval;
  for (;;) {
    const Wake wake = WaitForStop(absl::InfinitePast());
    if (wake == Wake::kCancelled) {
      return absl::CancelledError("the client went away");
    }
    absl::Time now = absl::Now();
    if (wake == Wake::kStop || now >= end) break;
    const absl::Time deadline = std::min({end, next_snapshot, next_progress});
    RETURN_IF_ERROR(sampler
                        ->Read(std::clamp(deadline - now, absl::ZeroDuration(),
                                          kReadTimeout),
                               wake_fd_, on_sample)
                        .status());
    now = absl::Now();
    if (now >= next_progress) {
      v1::ProfileServerMessage progress;
      v1::ProfileProgress* p = progress.mutable_progress();
      p->set_elapsed_seconds(absl::ToDoubleSeconds(now - begin));
      p->set_samples(aggregator.samples());
      p->set_dropped(sampler->LostSamples());
      SendReplaceable(std::move(progress));
      next_progress = now + kProgressInterval;
      aggregator.Prune(now - kImageIdleTime);
    }
    if (now >= next_snapshot) {
      v1::ProfileServerMessage snapshot;
      *snapshot.mutable_snapshot() = aggregator.TakeInterval();
      snapshot.mutable_snapshot()->set_elapsed_seconds(
          absl::ToDoubleSeconds(now - interval_begin));
      snapshot.mutable_snapshot()->set_frequency_hz(settings.frequency_hz);
      for (v1::DropCounter& drop : all_drops()) {
        *snapshot.mutable_snapshot()->add_drops() = std::move(drop);
      }
      if (!SendWhenRoom(std::move(snapshot), kMaxQueuedSnapshots)) {
        return absl::CancelledError("the client went away");
      }
      interval_begin = now;
      next_snapshot = now + interval;
    }
  }
  // Stop sampling, then take in what the kernel still holds.
  sampler->Detach();
  const absl::Time drain_end = absl::Now() + kMaxDrain;
  uint64_t unprocessed = 0;
  const std::function<void(const profile_sample&)> count_only =
      [&](const profile_sample&) { ++unprocessed; };
  for (;;) {
    // Past the drain's time, samples are counted, not unwound.
    const bool late = absl::Now() >= drain_end;
    ASSIGN_OR_RETURN(size_t n, sampler->Read(absl::ZeroDuration(), -1,
                                             late ? count_only : on_sample));
    if (n == 0) break;
  }
  v1::ProfileServerMessage final_message;
  v1::ProfileData* data = final_message.mutable_final();
  // The whole session, or for snapshot sessions the interval cut short.
  if (request.snapshots_only()) {
    *data = aggregator.TakeInterval();
    data->set_elapsed_seconds(
        absl::ToDoubleSeconds(absl::Now() - interval_begin));
  } else {
    *data = aggregator.Total();
    data->set_elapsed_seconds(absl::ToDoubleSeconds(absl::Now() - begin));
  }
  data->set_frequency_hz(settings.frequency_hz);
  for (v1::DropCounter& drop : all_drops())
    *data->add_drops() = std::move(drop);
  v1::DropCounter* late = data->add_drops();
  late->set_reason("samples not unwound: still queued when the session ended");
  late->set_count(unprocessed);
  sampler.reset();  // programs gone before the client hears the end
  Send(std::move(final_message));
  // Process images can be large: give their memory back to the system.
  lowered.reset();
  malloc_trim(0);
  return absl::OkStatus();
}

}  // namespace tracectl
