// The BPF backend's CPU sampler: a perf event per CPU, each running the
// session's perf_event program, which writes samples to a ring buffer.
#ifndef TRACECTL_DAEMON_BPF_BPF_CPU_SAMPLER_H_
#define TRACECTL_DAEMON_BPF_BPF_CPU_SAMPLER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/backend.h"
#include "daemon/kernel_filter.h"

struct profile_bpf;
struct ring_buffer;
struct bpf_link;

namespace tracectl {

class BpfCpuSampler final : public CpuSampler {
 public:
  static absl::StatusOr<std::unique_ptr<BpfCpuSampler>> Start(
      const KernelFilter& filter, const ProfileSettings& settings);
  ~BpfCpuSampler() override;
  BpfCpuSampler(const BpfCpuSampler&) = delete;
  BpfCpuSampler& operator=(const BpfCpuSampler&) = delete;

  std::string event() const override { return event_; }
  absl::StatusOr<size_t> Read(
      absl::Duration timeout, int wake_fd,
      const std::function<void(const profile_sample&)>& on_sample) override;
  void Detach() override;
  std::vector<v1::DropCounter> Drops() const override;
  uint64_t LostSamples() const override;
  absl::Status WatchPython(uint32_t tgid, const python_proc& config) override;

 private:
  explicit BpfCpuSampler(profile_bpf* skel) : skel_(skel) {}
  absl::Status OpenEvents(uint32_t frequency_hz);
  static int OnRecord(void* ctx, void* data, size_t size);

  profile_bpf* skel_;
  ring_buffer* ring_ = nullptr;
  std::vector<int> event_fds_;
  std::vector<bpf_link*> links_;
  std::string event_;
  bool detached_ = false;
  // Valid during Read.
  const std::function<void(const profile_sample&)>* on_sample_ = nullptr;
  size_t read_ = 0;
  absl::Duration consume_budget_;
  absl::Time consume_deadline_;
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_BPF_BPF_CPU_SAMPLER_H_
