#include "daemon/trace_reactor.h"

#include <malloc.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/syscall_table.h"
#include "daemon/status_macros.h"
#include "daemon/syscalls_reactor.h"
#include "daemon/thread_credentials.h"
#include "daemon/trace_stacks.h"
#include "syscall_events.h"

namespace tracectl {
namespace {

constexpr uint32_t kDefaultStringSize = 32;
constexpr uint32_t kMaxStringSize = CAPTURE_MAX - 2;
// The largest record (a header and EVENT_DATA_SIZE + CAPTURE_MAX bytes of
// captures) must fit.
constexpr uint32_t kMinBufferBytes = 16384;
constexpr uint32_t kMaxBufferBytes = 1u << 30;
// A batch is sent when it holds this much, or after each read timeout.
constexpr size_t kBatchBytes = 256 << 10;
constexpr absl::Duration kReadTimeout = absl::Milliseconds(20);
// Batches waiting behind the write in flight.
constexpr size_t kMaxQueuedBatches = 8;
// Initial states (up to about 2 MiB each) waiting behind it.
constexpr size_t kMaxQueuedStates = 2;
// A process image not used for this long is dropped.
constexpr absl::Duration kImageIdleTime = absl::Seconds(10);

// Asks the scheduler to run the calling thread in short slices (EEVDF's
// custom slice, Linux 6.12 and later; older kernels ignore it), which puts
// it on a CPU soon after it wakes, at no greater share of the CPU: -k reads
// a process's code objects and maps right after its call, and a Python
// program that ends with the call is gone a millisecond later. Restores
// the default slice when it goes.
class ScopedShortSlices {
 public:
  ScopedShortSlices() { Set(100 * 1000); }
  ~ScopedShortSlices() { Set(0); }
  ScopedShortSlices(const ScopedShortSlices&) = delete;
  ScopedShortSlices& operator=(const ScopedShortSlices&) = delete;

 private:
  // struct sched_attr, which glibc does not declare.
  struct SchedAttr {
    uint32_t size;
    uint32_t sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime;
    uint64_t sched_deadline;
    uint64_t sched_period;
  };
  // SCHED_OTHER at the thread's nice value, with a slice of `ns` (0: the
  // default). Best effort.
  static void Set(uint64_t ns) {
    SchedAttr attr = {};
    attr.size = sizeof(attr);
    attr.sched_policy = SCHED_OTHER;
    errno = 0;
    const int nice = getpriority(PRIO_PROCESS, 0);  // this thread
    attr.sched_nice = errno == 0 ? nice : 0;
    attr.sched_runtime = ns;
    (void)syscall(SYS_sched_setattr, 0, &attr, 0);
  }
};

int64_t Nanos(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

}  // namespace

absl::StatusOr<TraceSettings> ParseTraceSettings(
    const v1::TraceRequest& request) {
  TraceSettings settings;
  if (!request.selection().empty()) {
    ASSIGN_OR_RETURN(settings.selected,
                     ParseTraceSelection(request.selection()));
    settings.all = false;
  }
  if (!request.unshown().empty()) {
    ASSIGN_OR_RETURN(settings.unshown, ParseTraceSelection(request.unshown()));
  }
  if (request.has_string_size()) {
    if (request.string_size() > kMaxStringSize) {
      return absl::InvalidArgumentError(
          absl::StrCat("the string size (-s) must be at most ", kMaxStringSize,
                       ", not ", request.string_size()));
    }
    settings.string_size = request.string_size();
  } else {
    settings.string_size = kDefaultStringSize;
  }
  if (request.only_failed() && request.only_successful()) {
    return absl::InvalidArgumentError(
        "-z (only successful calls) and -Z (only failed calls) together "
        "select nothing");
  }
  settings.only_failed = request.only_failed();
  settings.only_successful = request.only_successful();
  settings.paths_only = request.paths_only();
  if (request.has_buffer_bytes()) {
    const uint32_t bytes = request.buffer_bytes();
    if (bytes < kMinBufferBytes || bytes > kMaxBufferBytes ||
        (bytes & (bytes - 1)) != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the buffer size must be a power of two from ", kMinBufferBytes,
          " to ", kMaxBufferBytes, " bytes, not ", bytes));
    }
    settings.buffer_bytes = bytes;
  }
  settings.stacks = request.stacks();
  if (settings.stacks && settings.buffer_bytes < kMinStackBufferBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "stacks (-k) need a buffer of at least ", kMinStackBufferBytes,
        " bytes, not ", settings.buffer_bytes));
  }
  return settings;
}

absl::Status TraceReactor::SendInitialStates(const KernelFilter& filter,
                                             ProcessStateLosses* losses) {
  // A user's process is read with the user's file-system identity: the
  // kernel's ptrace check on each /proc file then refuses a process that
  // turned setuid, non-dumpable or someone else's since it was authorized.
  std::unique_ptr<ScopedThreadCredentials> lowered;
  if (filter.owner.has_value() &&
      !ScopedThreadCredentials::Lower(filter.owner->uid, filter.owner->gid,
                                      &lowered)
           .ok()) {
    losses->unread += filter.tgids.size();
    return absl::OkStatus();
  }
  ProcessStateLimits limits;
  limits.deadline = absl::Now() + limits.time;
  for (pid_t pid : filter.tgids) {
    if (absl::Now() >= limits.deadline) {
      ++losses->out_of_time;
      continue;
    }
    absl::StatusOr<v1::ProcessState> state =
        ReadProcessState(pid, limits, losses);
    if (!state.ok()) continue;  // gone: counted, and nothing to show
    v1::TraceServerMessage message;
    *message.mutable_initial_state() = std::move(*state);
    if (!SendWhenRoom(std::move(message), kMaxQueuedStates)) {
      return absl::CancelledError("the client went away");
    }
  }
  return absl::OkStatus();
}

absl::Status TraceReactor::Serve(const v1::TraceRequest& request) {
  RETURN_IF_ERROR(ValidateWindow(request.window()));
  if (request.window().has_interval_seconds()) {
    return absl::InvalidArgumentError("trace takes no interval");
  }
  ASSIGN_OR_RETURN(TraceSettings settings, ParseTraceSettings(request));
  ASSIGN_OR_RETURN(Admission admission,
                   Admit(caller_, services_, request.target()));
  RETURN_IF_ERROR(admission.lease->ReserveBuffers(settings.buffer_bytes));
  const KernelFilter& filter = admission.filter;
  // Nobody is listening any more: load nothing.
  if (Cancelled()) return absl::CancelledError("the client went away");
  ASSIGN_OR_RETURN(std::unique_ptr<SyscallTracer> tracer,
                   services_.backend->TraceSyscalls(filter, settings));

  v1::TraceServerMessage started;
  v1::TraceStarted* s = started.mutable_started();
  s->set_backend(services_.backend->name());
  s->set_scope(filter.Describe());
  s->set_record_version(TRACE_RECORD_VERSION);
  s->set_realtime_offset_ns(Nanos(CLOCK_REALTIME) - Nanos(CLOCK_MONOTONIC));
  s->set_string_size(settings.string_size);
  s->set_buffer_bytes(settings.buffer_bytes);
  for (uint32_t nr : tracer->SeccompTrace()) s->add_seccomp_trace(nr);
  Send(std::move(started));
  ProcessStateLosses losses;
  if (request.initial_state()) {
    RETURN_IF_ERROR(SendInitialStates(filter, &losses));
  }

  // -k: from here on this thread opens the files that traced processes
  // name (their binaries, debug files) and reads their memory (Python's
  // code objects): for a user, only as that user.
  std::unique_ptr<ScopedThreadCredentials> lowered;
  std::unique_ptr<TraceStacks> stacks;
  std::optional<ScopedShortSlices> short_slices;
  if (settings.stacks) {
    short_slices.emplace();
    if (filter.owner) {
      RETURN_IF_ERROR(ScopedThreadCredentials::Lower(
          filter.owner->uid, filter.owner->gid, &lowered));
    }
    stacks = std::make_unique<TraceStacks>(
        [&tracer](uint32_t tgid, const python_proc& config) {
          return tracer->WatchPython(tgid, config);
        },
        absl::Now());
  }

  const absl::Time begin = absl::Now();
  const absl::Time end =
      request.window().has_duration_seconds()
          ? begin + absl::Seconds(request.window().duration_seconds())
          : absl::InfiniteFuture();
  absl::Time next_prune = begin + kImageIdleTime;
  uint64_t records = 0;
  // Reads one batch; sends it if there is one. False: the client is gone.
  auto forward = [&](absl::Duration timeout) -> absl::StatusOr<size_t> {
    v1::TraceServerMessage message;
    std::string* batch = message.mutable_events()->mutable_records();
    if (stacks != nullptr) stacks->StartBatch(message.mutable_events());
    ASSIGN_OR_RETURN(size_t n, tracer->Read(timeout, wake_fd_, kBatchBytes,
                                            batch, stacks.get()));
    if (stacks != nullptr) stacks->StartBatch(nullptr);
    if (n == 0) return 0;
    message.mutable_events()->set_count(n);
    records += n;
    if (!SendWhenRoom(std::move(message), kMaxQueuedBatches)) {
      return absl::CancelledError("the client went away");
    }
    return n;
  };
  for (;;) {
    const Wake wake = WaitForStop(absl::InfinitePast());
    if (wake == Wake::kCancelled) {
      return absl::CancelledError("the client went away");
    }
    const absl::Time now = absl::Now();
    if (wake == Wake::kStop || now >= end) break;
    RETURN_IF_ERROR(forward(std::min(kReadTimeout, end - now)).status());
    if (stacks != nullptr && now >= next_prune) {
      stacks->Prune(now - kImageIdleTime);
      next_prune = now + kImageIdleTime;
    }
  }
  // Stop recording, then send what the kernel still holds.
  tracer->Detach();
  for (;;) {
    ASSIGN_OR_RETURN(size_t n, forward(absl::ZeroDuration()));
    if (n == 0) break;
  }
  v1::TraceServerMessage final_message;
  v1::TraceSummary* summary = final_message.mutable_final();
  summary->set_elapsed_seconds(absl::ToDoubleSeconds(absl::Now() - begin));
  summary->set_records(records);
  for (v1::DropCounter& drop : tracer->Drops()) {
    *summary->add_drops() = std::move(drop);
  }
  if (stacks != nullptr) {
    for (v1::DropCounter& drop : stacks->Drops()) {
      *summary->add_drops() = std::move(drop);
    }
  }
  if (request.initial_state()) {
    for (v1::DropCounter& drop : losses.Drops(ProcessStateLimits())) {
      *summary->add_drops() = std::move(drop);
    }
  }
  stacks.reset();
  tracer.reset();  // programs and maps gone before the client hears the end
  Send(std::move(final_message));
  // Process images can be large: give their memory back to the system.
  if (settings.stacks) {
    lowered.reset();
    malloc_trim(0);
  }
  return absl::OkStatus();
}

}  // namespace tracectl
