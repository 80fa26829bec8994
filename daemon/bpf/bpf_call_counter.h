// The BPF backend's call counter: a uprobe per probed function (one
// uprobe_multi link per file where the kernel has them), all running one
// program that counts into the row the probe's cookie names; USDT probes
// attached with libbpf's USDT support, running another.
#ifndef TRACECTL_DAEMON_BPF_BPF_CALL_COUNTER_H_
#define TRACECTL_DAEMON_BPF_BPF_CALL_COUNTER_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/backend.h"
#include "daemon/call_probes.h"
#include "daemon/kernel_filter.h"
#include "tracectl/v1/tracectl.pb.h"

struct calls_bpf;
struct bpf_link;

namespace tracectl {

// Whether this kernel has uprobe_multi links (Linux 6.6): probed once.
bool KernelHasUprobeMulti();

class BpfCallCounter final : public CallCounter {
 public:
  // Loads the program with `filter` in place and attaches every probe:
  // in the target process only when the filter names exactly one,
  // everywhere (then filtered in BPF) otherwise. `uprobe_multi`: with
  // uprobe_multi links, which the kernel must have (KernelHasUprobeMulti).
  static absl::StatusOr<std::unique_ptr<BpfCallCounter>> Start(
      const KernelFilter& filter, std::vector<CallProbe> probes,
      const CallCountSettings& settings, bool uprobe_multi);
  ~BpfCallCounter() override;
  BpfCallCounter(const BpfCallCounter&) = delete;
  BpfCallCounter& operator=(const BpfCallCounter&) = delete;

  absl::StatusOr<v1::CallsSummary> Snapshot() override;
  // Detaches every probe, then reads: exact.
  absl::StatusOr<v1::CallsSummary> Finish() override;
  std::vector<std::string> Skipped() const override { return skipped_; }

 private:
  BpfCallCounter(calls_bpf* skel, std::vector<CallProbe> probes,
                 const CallCountSettings& settings)
      : skel_(skel),
        probes_(std::move(probes)),
        latency_(settings.latency),
        by_caller_(settings.by_caller),
        started_(absl::Now()) {}
  // Attaches probe `row` with a link of its own (a USDT probe, or a uprobe
  // on a kernel without uprobe_multi).
  absl::Status AttachOne(size_t row, pid_t pid);
  // Attaches the functions `rows` of the file at `path` with one
  // uprobe_multi link (and one for their returns).
  absl::Status AttachMulti(const std::string& path,
                           const std::vector<size_t>& rows, pid_t pid);
  // Leaves `row` out: the kernel refused its probe with `err`.
  void Skip(size_t row, int err);
  void Detach();
  absl::StatusOr<v1::CallsSummary> Summary();
  // Adds a row per Python function of each CPython function probe (row to
  // its calls), from py_functions.
  absl::Status AddPythonFunctions(
      v1::CallsSummary& summary,
      const std::map<uint32_t, uint64_t>& probe_calls);
  // Adds each row's callers (caller_calls, named from caller_names).
  absl::Status AddCallers(v1::CallsSummary& summary,
                          const std::vector<int>& row_index);

  calls_bpf* skel_;
  std::vector<CallProbe> probes_;
  bool latency_;
  bool by_caller_;
  // Return probes first: detached before the entry probes.
  std::vector<bpf_link*> return_links_;
  std::vector<bpf_link*> links_;
  // uprobe_multi links (fds), returns first as above.
  std::vector<int> multi_return_links_;
  std::vector<int> multi_links_;
  // Rows (cookies) whose probe is not attached: left out of summaries.
  std::vector<bool> unattached_;
  std::vector<std::string> skipped_;
  absl::Time started_;
  absl::Time read_at_;
  bool finished_ = false;
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_BPF_BPF_CALL_COUNTER_H_
