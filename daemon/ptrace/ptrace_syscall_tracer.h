// The ptrace backend's syscall tracer: the records of bpf/syscall_events.h,
// made in the daemon from each call's entry and exit stops (arguments from
// PTRACE_GET_SYSCALL_INFO, user memory read with process_vm_readv), so that
// the client decodes them as it decodes the BPF backend's.
#ifndef TRACECTL_DAEMON_PTRACE_PTRACE_SYSCALL_TRACER_H_
#define TRACECTL_DAEMON_PTRACE_PTRACE_SYSCALL_TRACER_H_

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "daemon/backend.h"
#include "daemon/kernel_filter.h"
#include "daemon/ptrace/tracees.h"
#include "syscall_events.h"

namespace tracectl {

class PtraceSyscallTracer final : public SyscallTracer,
                                  private Tracees::Observer {
 public:
  // Seizes every thread of filter.tgids before returning. No call stacks
  // (settings.stacks): the backend refuses them.
  static absl::StatusOr<std::unique_ptr<PtraceSyscallTracer>> Start(
      const KernelFilter& filter, const TraceSettings& settings);
  ~PtraceSyscallTracer() override;

  absl::StatusOr<size_t> Read(absl::Duration timeout, int wake_fd,
                              size_t max_bytes, std::string* out,
                              TraceStackSink* stacks) override;
  void Detach() override;
  std::vector<v1::DropCounter> Drops() const override;
  absl::Status WatchPython(uint32_t tgid, const python_proc& config) override;
  // With a held command and a selected set: the selected numbers.
  std::vector<uint32_t> SeccompTrace() const override;

 private:
  // A call between its entry and exit stops.
  struct Pending {
    syscall_event ev{};
    std::string data;  // the captures' bytes
    // Captures to make at exit that need memory of the entry: the envp
    // count (gone after a successful exec).
    int64_t envc = -1;  // -1: unread
    bool envc_truncated = false;
  };

  PtraceSyscallTracer(const TraceSettings& settings, int ready_fd);
  void OnEntry(pid_t tid, const Tracees::Task& task,
               const __ptrace_syscall_info& info) override;
  void OnExit(pid_t tid, const Tracees::Task& task, bool is_error, int64_t rval,
              uint64_t duration_ns) override;
  void OnTidChange(pid_t former, pid_t tid) override;
  void OnGone(pid_t tid) override;
  void CaptureAtEntry(pid_t tid, const syscall_spec& spec, Pending* p);
  void CaptureAtExit(pid_t tid, const syscall_spec& spec, int64_t ret,
                     Pending* p);
  // Queues a finished record (or counts it lost when the queue is full).
  void Emit(const Pending& p);
  const std::string& CommOf(pid_t tid);

  const TraceSettings settings_;
  const std::vector<syscall_spec> specs_;
  const uint32_t string_size_;
  const int ready_fd_;  // an eventfd: records are queued
  std::shared_ptr<Tracees> tracees_;

  // Tracer thread only.
  std::map<pid_t, Pending> pending_;
  std::map<pid_t, std::string> comms_;

  mutable absl::Mutex mu_;
  std::deque<std::string> queue_ ABSL_GUARDED_BY(mu_);
  size_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t drops_[TRACE_DROP_REASON_COUNT] ABSL_GUARDED_BY(mu_) = {};
  bool detached_ = false;
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_PTRACE_PTRACE_SYSCALL_TRACER_H_
