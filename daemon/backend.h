// What a tracing backend offers the service: BPF (daemon/bpf/), or ptrace
// (daemon/ptrace/) where BPF programs cannot be loaded.
#ifndef TRACECTL_DAEMON_BACKEND_H_
#define TRACECTL_DAEMON_BACKEND_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/call_probes.h"
#include "daemon/kernel_filter.h"
#include "tracectl/v1/tracectl.pb.h"

struct python_proc;

struct profile_sample;
struct syscall_event;
struct syscall_stack;

namespace tracectl {

// What a syscalls session asks the kernel for.
struct SyscallCountSettings {
  // One row per (process, syscall) instead of per syscall.
  bool per_process = false;
  // Time calls on the wall clock instead of on the CPU.
  bool wall_time = false;
  // Count calls and errors at exit only; no times.
  bool count_only = false;
};

// What a calls session asks the kernel for.
struct CallCountSettings {
  // Also time each call (entry and return probes).
  bool latency = false;
  // Also count each probe's calls per calling file (from the return
  // address at entry).
  bool by_caller = false;
  // With a single target process: place the probes in every process (its
  // children included, the task filter choosing), not in its own only.
  bool children = false;
};

// Counts system calls from creation until Finish (or destruction).
class SyscallCounter {
 public:
  virtual ~SyscallCounter() = default;
  // Everything counted so far, with drop counters. Every row is of one
  // moment: errors never exceed calls, and errno counts add up to errors.
  virtual absl::StatusOr<v1::SyscallsSummary> Snapshot() = 0;
  // Stops counting, then returns everything counted: exact for the window
  // from start to this call. Later calls return the same.
  virtual absl::StatusOr<v1::SyscallsSummary> Finish() = 0;
};

// What a trace session asks the kernel for.
struct TraceSettings {
  // Native syscall numbers to trace; every call when `all`.
  std::vector<int> selected;
  bool all = true;
  // Of the selected calls, those the client does not show (it keeps its
  // own state with them): their lost records are counted apart.
  std::vector<int> unshown;
  uint32_t string_size = 32;
  bool only_failed = false;
  bool only_successful = false;
  uint32_t buffer_bytes = 8u << 20;
  bool paths_only = false;  // capture path arguments only
  // strace -k: each call's user stack, copied at its entry. Taken while
  // the buffer is less than a quarter full, so it needs
  // kMinStackBufferBytes.
  bool stacks = false;
};

// A buffer whose quarter holds a few stacks (about 25 KiB each).
inline constexpr uint32_t kMinStackBufferBytes = 256 << 10;

// With TraceSettings::stacks, what a tracer's Read hands over besides the
// records, in the order the kernel wrote them.
class TraceStackSink {
 public:
  virtual ~TraceStackSink() = default;
  // A traced process made its first call in address space `mm_id`
  // (TRACE_SPACE_FIRST_CALL), or mapped code (TRACE_SPACE_EXEC_MAPPED).
  virtual void OnSpace(uint32_t tgid, uint64_t mm_id, uint32_t event) = 0;
  // The user stack of a call that began: its record comes later, if at
  // all (-z/-Z decide at exit, a full buffer loses it).
  virtual void OnStack(const syscall_stack& stack) = 0;
  // The `index`-th record (from 0) appended by this Read.
  virtual void OnRecord(const syscall_event& event, size_t index) = 0;
};

// Records every selected system call from creation to Detach().
class SyscallTracer {
 public:
  virtual ~SyscallTracer() = default;
  // Waits up to `timeout` for records (or until `wake_fd`, when >= 0, is
  // readable), then appends what is there to `out` (records back to back)
  // until `out` holds at least `max_bytes`, or, when `stacks` takes stacks,
  // for about `timeout` (at least 20 ms) at most. Returns how many records
  // it appended.
  virtual absl::StatusOr<size_t> Read(absl::Duration timeout, int wake_fd,
                                      size_t max_bytes, std::string* out,
                                      TraceStackSink* stacks = nullptr) = 0;
  // Stops recording; Read then returns what is left, then 0.
  virtual void Detach() = 0;
  // Every counter of lost or damaged data, zeros included.
  virtual std::vector<v1::DropCounter> Drops() const = 0;
  // With stacks: from now on, the stacks of process `tgid` carry the Python
  // frames of the interpreter `config` describes (address space config.mm).
  virtual absl::Status WatchPython(uint32_t tgid,
                                   const python_proc& config) = 0;
  // The native call numbers a seccomp filter in the held command is to
  // stop on (TraceStarted.seccomp_trace); empty: no filter.
  virtual std::vector<uint32_t> SeccompTrace() const { return {}; }
};

// What a profile session asks the kernel for.
struct ProfileSettings {
  uint32_t frequency_hz = 99;
  bool user_stacks = true;
  bool kernel_stacks = false;
  uint32_t buffer_bytes = 8u << 20;
};

// Samples the selected tasks on every CPU from creation to Detach(). Each
// sample is a struct profile_sample (bpf/profile.h).
class CpuSampler {
 public:
  virtual ~CpuSampler() = default;
  // The perf event that drives sampling, e.g. "cpu-clock".
  virtual std::string event() const = 0;
  // Waits up to `timeout` for samples (or until `wake_fd`, when >= 0, is
  // readable), then calls `on_sample` for the samples there, for about
  // `timeout` (at least 50 ms) at most. Returns how many.
  virtual absl::StatusOr<size_t> Read(
      absl::Duration timeout, int wake_fd,
      const std::function<void(const profile_sample&)>& on_sample) = 0;
  // Stops sampling; Read then returns what is left, then 0.
  virtual void Detach() = 0;
  // Every counter of lost or damaged samples, zeros included.
  virtual std::vector<v1::DropCounter> Drops() const = 0;
  // Samples lost outright (not damaged): for progress reports.
  virtual uint64_t LostSamples() const = 0;
  // From now on, samples of process `tgid` carry the Python frames of the
  // interpreter `config` describes (address space config.mm).
  virtual absl::Status WatchPython(uint32_t tgid,
                                   const python_proc& config) = 0;
};

// Counts calls of the probed functions from creation until Finish.
class CallCounter {
 public:
  virtual ~CallCounter() = default;
  virtual absl::StatusOr<v1::CallsSummary> Snapshot() = 0;
  // Detaches every probe, then returns everything counted. Later calls
  // return the same.
  virtual absl::StatusOr<v1::CallsSummary> Finish() = 0;
  // Probes matched by a glob that the kernel refused to attach, with why.
  virtual std::vector<std::string> Skipped() const { return {}; }
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  virtual std::vector<std::string> features() const = 0;
  // What this backend cannot do, and why, in words; "" when nothing.
  virtual std::string limits() const { return ""; }
  // Starts counting with `filter` in place before anything is counted.
  virtual absl::StatusOr<std::unique_ptr<SyscallCounter>> CountSyscalls(
      const KernelFilter& filter, const SyscallCountSettings& settings) = 0;
  // Starts recording calls with `filter` in place before the first one.
  virtual absl::StatusOr<std::unique_ptr<SyscallTracer>> TraceSyscalls(
      const KernelFilter& filter, const TraceSettings& settings) = 0;
  // Starts sampling with `filter` in place before the first sample.
  virtual absl::StatusOr<std::unique_ptr<CpuSampler>> SampleCpu(
      const KernelFilter& filter, const ProfileSettings& settings) = 0;
  // Attaches a counter to every probe with `filter` in place before the
  // first call is counted.
  virtual absl::StatusOr<std::unique_ptr<CallCounter>> CountCalls(
      const KernelFilter& filter, std::vector<CallProbe> probes,
      const CallCountSettings& settings) {
    return absl::UnimplementedError("this backend does not count calls");
  }
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_BACKEND_H_
