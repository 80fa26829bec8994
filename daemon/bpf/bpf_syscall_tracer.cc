#include "daemon/bpf/bpf_syscall_tracer.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <algorithm>
#include <cerrno>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "daemon/bpf/bpf_task_filter.h"
#include "daemon/bpf/libbpf_status.h"
#include "daemon/status_macros.h"
#include "daemon/trace_specs.h"
#include "syscall_events.skel.h"

namespace tracectl {
namespace {

static_assert(sizeof(syscall_spec) == 16);
static_assert(sizeof(syscall_event) == 136);
// Structures the kernel side copies whole, as the x86_64 ABI lays them out.
static_assert(sizeof(struct stat) == STAT_BYTES);
static_assert(sizeof(struct statx) == STATX_BYTES);
static_assert(sizeof(struct statfs) == STATFS_BYTES);

constexpr const char* kDropReasons[TRACE_DROP_REASON_COUNT] = {
    "records lost: ring buffer full",
    "calls not traced: no task storage",
    TRACE_DROP_UNREADABLE_REASON,
    "paths or argv cut at the capture limit",
    "followed children not added: pid map full",
    "calls not traced: number outside the table (x32)",
    "records of calls not shown lost: ring buffer full",
    "call stacks not taken: ring buffer a quarter full (the rest is kept "
    "for the calls)",
    "call stacks not copied: user stack unreadable",
};

// Returned by OnRecord to stop consuming: the batch is full, or (with
// stacks, which take time to unwind) Read's time is up.
constexpr int kBatchFull = -ENOSPC;
// With stacks, Read goes on consuming at least this long.
constexpr absl::Duration kConsumeBudget = absl::Milliseconds(20);
// Address spaces announced with stacks off: the map cannot be empty.
constexpr uint32_t kUnusedMapEntries = 1;

static_assert(sizeof(trace_side_header) == 16);
// A side record starts where a call's enter_ns is.
static_assert(offsetof(syscall_event, enter_ns) == 0);
static_assert(offsetof(trace_side_header, marker) == 0);

}  // namespace

absl::StatusOr<std::unique_ptr<BpfSyscallTracer>> BpfSyscallTracer::Start(
    const KernelFilter& filter, const TraceSettings& settings) {
  syscall_events_bpf* skel = syscall_events_bpf::open();
  if (skel == nullptr) return LibbpfError("opening BPF object", -errno);
  // From here on the skeleton is owned, so every error path frees it.
  std::unique_ptr<BpfSyscallTracer> tracer(new BpfSyscallTracer(skel));

  ConfigureTaskFilter(skel, filter);
  auto* ro = skel->rodata;
  const std::vector<syscall_spec> specs = TraceSpecs(settings);
  memcpy(ro->specs, specs.data(), sizeof(ro->specs));
  ro->trace_compat = settings.all;
  ro->string_size = std::min<uint32_t>(settings.string_size, CAPTURE_MAX - 2);
  ro->only_failed = settings.only_failed;
  ro->only_successful = settings.only_successful;
  ro->wakeup_bytes = settings.buffer_bytes / 4;
  ro->stacks = settings.stacks;
  ro->stack_room = settings.buffer_bytes / 4;
  if (settings.stacks && settings.buffer_bytes < kMinStackBufferBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "stacks need a buffer of at least ", kMinStackBufferBytes, " bytes"));
  }
  if (int err =
          bpf_map__set_max_entries(skel->maps.events, settings.buffer_bytes);
      err != 0) {
    return LibbpfError("sizing the ring buffer", err);
  }
  // Without stacks, the maps they use are never touched: keep them small,
  // which keeps the session's start quick.
  if (!settings.stacks) {
    for (bpf_map* map : {skel->maps.python_procs, skel->maps.python_threads,
                         skel->maps.seen_spaces}) {
      if (int err = bpf_map__set_max_entries(map, kUnusedMapEntries);
          err != 0) {
        return LibbpfError("sizing the stack maps", err);
      }
    }
  }
  if (int err = syscall_events_bpf::load(skel); err != 0) {
    return LibbpfError("loading BPF programs", err);
  }
  RETURN_IF_ERROR(AddTrackedProcesses(skel, filter));
  tracer->ring_ =
      ring_buffer__new(bpf_map__fd(skel->maps.events),
                       &BpfSyscallTracer::OnRecord, tracer.get(), nullptr);
  if (tracer->ring_ == nullptr) {
    return LibbpfError("opening the ring buffer", -errno);
  }
  if (int err = syscall_events_bpf::attach(skel); err != 0) {
    return LibbpfError("attaching to the raw_syscalls tracepoints", err);
  }
  return tracer;
}

BpfSyscallTracer::~BpfSyscallTracer() {
  if (ring_ != nullptr) ring_buffer__free(ring_);
  syscall_events_bpf::destroy(skel_);
}

int BpfSyscallTracer::OnRecord(void* ctx, void* data, size_t size) {
  auto* self = static_cast<BpfSyscallTracer*>(ctx);
  uint64_t first = 0;
  if (size >= sizeof(first)) memcpy(&first, data, sizeof(first));
  if (first == TRACE_SIDE_RECORD) {
    if (size < sizeof(trace_side_header)) return 0;
    trace_side_header head;
    memcpy(&head, data, sizeof(head));
    TraceStackSink* sink = self->stacks_;
    if (sink == nullptr) return 0;
    // The budget starts with the first record, after the wait.
    if (!self->consuming_) {
      self->consuming_ = true;
      self->consume_deadline_ = absl::Now() + self->consume_budget_;
    }
    if (head.kind == TRACE_SIDE_STACK && size >= sizeof(syscall_stack)) {
      sink->OnStack(*static_cast<const syscall_stack*>(data));
    } else if (head.kind == TRACE_SIDE_SPACE && size >= sizeof(trace_space)) {
      trace_space space;
      memcpy(&space, data, sizeof(space));
      sink->OnSpace(space.tgid, space.mm_id, space.event);
    }
    // Leave the rest for the next Read: the session checks its stop and
    // deadline in between.
    return absl::Now() >= self->consume_deadline_ ? kBatchFull : 0;
  }
  if (self->stacks_ != nullptr && size >= sizeof(syscall_event)) {
    self->stacks_->OnRecord(*static_cast<const syscall_event*>(data),
                            self->appended_);
  }
  self->out_->append(static_cast<const char*>(data), size);
  ++self->appended_;
  return self->out_->size() >= self->max_bytes_ ? kBatchFull : 0;
}

absl::StatusOr<size_t> BpfSyscallTracer::Read(absl::Duration timeout,
                                              int wake_fd, size_t max_bytes,
                                              std::string* out,
                                              TraceStackSink* stacks) {
  if (out->size() >= max_bytes) return 0;
  out_ = out;
  max_bytes_ = max_bytes;
  appended_ = 0;
  stacks_ = stacks;
  consuming_ = false;
  consume_budget_ = std::max(timeout, kConsumeBudget);
  // The programs wake us only when the buffer fills up (a quarter of it):
  // on timeout, read whatever is there.
  const int err =
      PollAndConsume(ring_, detached_ ? absl::ZeroDuration() : timeout,
                     detached_ ? -1 : wake_fd);
  out_ = nullptr;
  stacks_ = nullptr;
  if (err < 0 && err != kBatchFull) {
    return LibbpfError("reading the ring buffer", err);
  }
  return appended_;
}

void BpfSyscallTracer::Detach() {
  if (detached_) return;
  syscall_events_bpf::detach(skel_);
  detached_ = true;
  // A program that was running as the link went away may still commit a
  // record: give it time to land before the last reads.
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
}

std::vector<v1::DropCounter> BpfSyscallTracer::Drops() const {
  std::vector<v1::DropCounter> drops;
  for (uint32_t reason = 0; reason < TRACE_DROP_REASON_COUNT; ++reason) {
    v1::DropCounter& drop = drops.emplace_back();
    drop.set_reason(kDropReasons[reason]);
    drop.set_count(SumPerCpuCounter(skel_->maps.drops, reason));
  }
  return drops;
}

absl::Status BpfSyscallTracer::WatchPython(uint32_t tgid,
                                           const python_proc& config) {
  return WatchPythonIn(skel_->maps.python_procs, tgid, config);
}

}  // namespace tracectl
