// The BPF backend's syscall tracer: a session's own programs, maps and ring
// buffer, attached while the object lives (or until Detach).
#ifndef TRACECTL_DAEMON_BPF_BPF_SYSCALL_TRACER_H_
#define TRACECTL_DAEMON_BPF_BPF_SYSCALL_TRACER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/backend.h"
#include "daemon/kernel_filter.h"
#include "syscall_events.h"

struct syscall_events_bpf;
struct ring_buffer;

namespace tracectl {

class BpfSyscallTracer final : public SyscallTracer {
 public:
  static absl::StatusOr<std::unique_ptr<BpfSyscallTracer>> Start(
      const KernelFilter& filter, const TraceSettings& settings);
  ~BpfSyscallTracer() override;
  BpfSyscallTracer(const BpfSyscallTracer&) = delete;
  BpfSyscallTracer& operator=(const BpfSyscallTracer&) = delete;

  absl::StatusOr<size_t> Read(absl::Duration timeout, int wake_fd,
                              size_t max_bytes, std::string* out,
                              TraceStackSink* stacks) override;
  void Detach() override;
  std::vector<v1::DropCounter> Drops() const override;
  absl::Status WatchPython(uint32_t tgid, const python_proc& config) override;

 private:
  explicit BpfSyscallTracer(syscall_events_bpf* skel) : skel_(skel) {}
  static int OnRecord(void* ctx, void* data, size_t size);

  syscall_events_bpf* skel_;
  ring_buffer* ring_ = nullptr;
  bool detached_ = false;
  // Where OnRecord appends during Read.
  std::string* out_ = nullptr;
  size_t max_bytes_ = 0;
  size_t appended_ = 0;
  // Where OnRecord hands side records during Read; nullptr: dropped.
  TraceStackSink* stacks_ = nullptr;
  absl::Duration consume_budget_;
  absl::Time consume_deadline_;
  bool consuming_ = false;
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_BPF_BPF_SYSCALL_TRACER_H_
