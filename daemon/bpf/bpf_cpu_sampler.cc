#include "daemon/bpf/bpf_cpu_sampler.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "absl/strings/str_cat.h"
#include "daemon/bpf/bpf_task_filter.h"
#include "daemon/bpf/libbpf_status.h"
#include "daemon/online_cpus.h"
#include "daemon/status_macros.h"
#include "profile.h"
#include "profile.skel.h"

namespace tracectl {
namespace {

constexpr const char* kDropReasons[PROFILE_DROP_REASON_COUNT] = {
    "samples lost: ring buffer full",
    "user stacks not copied: memory unreadable",
    "kernel stacks not read",
    "followed children not added: pid map full",
};

// Returned by OnRecord to stop consuming: Read's time is up.
constexpr int kBudgetSpent = -ETIME;
// Read goes on consuming at least this long.
constexpr absl::Duration kConsumeBudget = absl::Milliseconds(50);

int PerfEventOpen(perf_event_attr* attr, int cpu) {
  return static_cast<int>(
      syscall(SYS_perf_event_open, attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC));
}

}  // namespace

absl::StatusOr<std::unique_ptr<BpfCpuSampler>> BpfCpuSampler::Start(
    const KernelFilter& filter, const ProfileSettings& settings) {
  profile_bpf* skel = profile_bpf::open();
  if (skel == nullptr) return LibbpfError("opening BPF object", -errno);
  std::unique_ptr<BpfCpuSampler> sampler(new BpfCpuSampler(skel));

  ConfigureTaskFilter(skel, filter);
  skel->rodata->user_stacks = settings.user_stacks;
  skel->rodata->kernel_stacks = settings.kernel_stacks;
  skel->rodata->wakeup_bytes = settings.buffer_bytes / 4;
  if (int err =
          bpf_map__set_max_entries(skel->maps.samples, settings.buffer_bytes);
      err != 0) {
    return LibbpfError("sizing the ring buffer", err);
  }
  if (int err = profile_bpf::load(skel); err != 0) {
    return LibbpfError("loading BPF programs", err);
  }
  RETURN_IF_ERROR(AddTrackedProcesses(skel, filter));
  sampler->ring_ =
      ring_buffer__new(bpf_map__fd(skel->maps.samples),
                       &BpfCpuSampler::OnRecord, sampler.get(), nullptr);
  if (sampler->ring_ == nullptr) {
    return LibbpfError("opening the ring buffer", -errno);
  }
  // The fork/exit programs first, so that no child escapes the filter.
  if (int err = profile_bpf::attach(skel); err != 0) {
    return LibbpfError("attaching the task filter", err);
  }
  RETURN_IF_ERROR(sampler->OpenEvents(settings.frequency_hz));
  return sampler;
}

absl::Status BpfCpuSampler::OpenEvents(uint32_t frequency_hz) {
  const std::vector<int> cpus = OnlineCpus();
  // Hardware cycles when the machine counts them, else the kernel's timer.
  struct Event {
    uint32_t type;
    uint64_t config;
    const char* name;
  };
  const Event events[] = {
      {PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES, "cycles"},
      {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK, "cpu-clock"},
  };
  int first_errno = 0;
  for (const Event& event : events) {
    perf_event_attr attr{};
    attr.size = sizeof(attr);
    attr.type = event.type;
    attr.config = event.config;
    attr.freq = 1;
    attr.sample_freq = frequency_hz;
    // The event kind is tried on the first CPU; on the others, only an
    // offline CPU (ENODEV) is passed over.
    const int fd = PerfEventOpen(&attr, cpus.front());
    if (fd < 0) {
      if (first_errno == 0) first_errno = errno;
      continue;
    }
    event_fds_.push_back(fd);
    for (size_t i = 1; i < cpus.size(); ++i) {
      const int cpu_fd = PerfEventOpen(&attr, cpus[i]);
      if (cpu_fd >= 0) {
        event_fds_.push_back(cpu_fd);
      } else if (errno != ENODEV) {
        return absl::InternalError(absl::StrCat("perf_event_open ", event.name,
                                                " on CPU ", cpus[i], ": ",
                                                strerror(errno)));
      }
    }
    event_ = event.name;
    break;
  }
  if (event_fds_.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot open a sampling perf event: ", strerror(first_errno)));
  }
  for (int fd : event_fds_) {
    bpf_link* link = bpf_program__attach_perf_event(skel_->progs.sample, fd);
    if (link == nullptr) {
      return LibbpfError("attaching to the perf event", -errno);
    }
    links_.push_back(link);
  }
  return absl::OkStatus();
}

BpfCpuSampler::~BpfCpuSampler() {
  for (bpf_link* link : links_) bpf_link__destroy(link);
  for (int fd : event_fds_) close(fd);
  if (ring_ != nullptr) ring_buffer__free(ring_);
  profile_bpf::destroy(skel_);
}

int BpfCpuSampler::OnRecord(void* ctx, void* data, size_t size) {
  auto* self = static_cast<BpfCpuSampler*>(ctx);
  if (size < sizeof(profile_sample)) return 0;
  // The budget starts with the first sample, after the wait.
  if (self->read_ == 0)
    self->consume_deadline_ = absl::Now() + self->consume_budget_;
  (*self->on_sample_)(*static_cast<const profile_sample*>(data));
  ++self->read_;
  // Leave the rest for the next Read: the session checks its deadlines in
  // between.
  return absl::Now() >= self->consume_deadline_ ? kBudgetSpent : 0;
}

absl::StatusOr<size_t> BpfCpuSampler::Read(
    absl::Duration timeout, int wake_fd,
    const std::function<void(const profile_sample&)>& on_sample) {
  on_sample_ = &on_sample;
  read_ = 0;
  consume_budget_ = std::max(timeout, kConsumeBudget);
  const int err =
      PollAndConsume(ring_, detached_ ? absl::ZeroDuration() : timeout,
                     detached_ ? -1 : wake_fd);
  on_sample_ = nullptr;
  if (err < 0 && err != kBudgetSpent) {
    return LibbpfError("reading the ring buffer", err);
  }
  return read_;
}

void BpfCpuSampler::Detach() {
  if (detached_) return;
  for (bpf_link* link : links_) bpf_link__destroy(link);
  links_.clear();
  for (int fd : event_fds_) close(fd);
  event_fds_.clear();
  profile_bpf::detach(skel_);
  detached_ = true;
  // A sample being written as the event went away may still be committed.
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
}

std::vector<v1::DropCounter> BpfCpuSampler::Drops() const {
  std::vector<v1::DropCounter> drops;
  for (uint32_t reason = 0; reason < PROFILE_DROP_REASON_COUNT; ++reason) {
    v1::DropCounter& drop = drops.emplace_back();
    drop.set_reason(kDropReasons[reason]);
    drop.set_count(SumPerCpuCounter(skel_->maps.drops, reason));
  }
  return drops;
}

uint64_t BpfCpuSampler::LostSamples() const {
  return SumPerCpuCounter(skel_->maps.drops, PROFILE_DROP_RING_FULL);
}

absl::Status BpfCpuSampler::WatchPython(uint32_t tgid,
                                        const python_proc& config) {
  return WatchPythonIn(skel_->maps.python_procs, tgid, config);
}

}  // namespace tracectl
