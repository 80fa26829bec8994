// The ptrace backend's CPU sampler, with no BPF at all: a perf event on each
// CPU for each thread of the target processes (inherited by the threads and
// children they make later), each sample carrying the task's user registers
// and the top of its user stack (PERF_SAMPLE_REGS_USER, STACK_USER: what
// `perf record --call-graph dwarf` reads), and its kernel call chain when
// asked. Samples reach the daemon's symbolizer as the BPF sampler's do.
#ifndef TRACECTL_DAEMON_PTRACE_PERF_CPU_SAMPLER_H_
#define TRACECTL_DAEMON_PTRACE_PERF_CPU_SAMPLER_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/backend.h"
#include "daemon/kernel_filter.h"
#include "profile.h"

namespace tracectl {

class PerfCpuSampler final : public CpuSampler {
 public:
  // Opens the events on every thread of filter.tgids before returning.
  static absl::StatusOr<std::unique_ptr<PerfCpuSampler>> Start(
      const KernelFilter& filter, const ProfileSettings& settings);
  ~PerfCpuSampler() override;
  PerfCpuSampler(const PerfCpuSampler&) = delete;
  PerfCpuSampler& operator=(const PerfCpuSampler&) = delete;

  std::string event() const override { return "cpu-clock"; }
  absl::StatusOr<size_t> Read(
      absl::Duration timeout, int wake_fd,
      const std::function<void(const profile_sample&)>& on_sample) override;
  void Detach() override;
  std::vector<v1::DropCounter> Drops() const override;
  uint64_t LostSamples() const override { return lost_; }
  // Python frames are read by the BPF programs only.
  absl::Status WatchPython(uint32_t tgid, const python_proc& config) override;

 private:
  // One CPU's ring buffer: the perf events of that CPU write into it.
  struct Ring {
    int fd = -1;  // the event whose buffer it is
    void* base = nullptr;
    size_t data_bytes = 0;
    bool hung_up = false;  // every task of its events is gone
  };

  PerfCpuSampler(const KernelFilter& filter, const ProfileSettings& settings);
  absl::Status OpenThread(pid_t tid, const std::vector<int>& cpus,
                          size_t ring_bytes);
  // Consumes what `ring` holds; false once the budget is spent.
  bool Consume(Ring& ring, absl::Time deadline,
               const std::function<void(const profile_sample&)>& on_sample,
               size_t* read);
  void OnSample(const uint8_t* record, size_t size, uint16_t misc,
                const std::function<void(const profile_sample&)>& on_sample,
                size_t* read);
  // Whether samples of `tgid` in its current image are the caller's.
  bool Visible(uint32_t tgid);

  const KernelFilter filter_;
  const ProfileSettings settings_;
  std::vector<int> fds_;
  std::map<int, Ring> rings_;  // by CPU
  bool detached_ = false;
  // Execs seen per process: a new image is a new address space (mm_id).
  std::map<uint32_t, uint32_t> execs_;
  // Processes whose current image the caller may not see (a set-id
  // program), by (tgid, execs).
  std::map<std::pair<uint32_t, uint32_t>, bool> visible_;
  std::map<uint32_t, std::string> comms_;
  std::unique_ptr<profile_sample> sample_;  // large: one, reused
  uint64_t lost_ = 0;
  uint64_t no_user_regs_ = 0;
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_PTRACE_PERF_CPU_SAMPLER_H_
