// What a tracing backend offers the service. BPF is the only one for now; a
// ptrace backend for kernels without BPF implements the same interface.
#ifndef TRACECTL_DAEMON_BACKEND_H_
#define TRACECTL_DAEMON_BACKEND_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/kernel_filter.h"
#include "tracectl/v1/tracectl.pb.h"

namespace tracectl {

// Counts system calls from creation to destruction.
class SyscallCounter {
 public:
  virtual ~SyscallCounter() = default;
  // Everything counted so far, with drop counters.
  virtual absl::StatusOr<v1::SyscallsSummary> Snapshot() const = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  virtual std::vector<std::string> features() const = 0;
  // Starts counting with `filter` in place before anything is counted.
  virtual absl::StatusOr<std::unique_ptr<SyscallCounter>> CountSyscalls(
      const KernelFilter& filter, bool per_process) = 0;
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_BACKEND_H_
