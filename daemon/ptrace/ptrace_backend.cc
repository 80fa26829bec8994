#include "daemon/ptrace/ptrace_backend.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "daemon/ptrace/perf_cpu_sampler.h"
#include "daemon/ptrace/ptrace_syscall_counter.h"
#include "daemon/ptrace/ptrace_syscall_tracer.h"
#include "daemon/thread_credentials.h"

namespace tracectl {
namespace {

// The kernel's own check, as the caller, after the Authorizer's: /proc/PID/mem
// opens only for a thread that could ptrace PID by its file-system identity
// (PTRACE_MODE_ATTACH_FSCREDS), and a thread lowered to the caller's has it.
absl::Status KernelAllows(const KernelFilter& filter) {
  if (!filter.owner) return absl::OkStatus();
  absl::Status result;
  std::thread([&] {
    std::unique_ptr<ScopedThreadCredentials> lowered;
    result = ScopedThreadCredentials::Lower(filter.owner->uid,
                                            filter.owner->gid, &lowered);
    if (!result.ok()) return;
    for (pid_t tgid : filter.tgids) {
      const int fd = open(absl::StrCat("/proc/", tgid, "/mem").c_str(),
                          O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        result = absl::PermissionDeniedError(
            absl::StrCat("the kernel does not let uid ", filter.owner->uid,
                         " ptrace pid ", tgid, ": ", strerror(errno)));
        return;
      }
      close(fd);
    }
  }).join();
  return result;
}

class PtraceBackend final : public Backend {
 public:
  explicit PtraceBackend(std::string why) : why_(std::move(why)) {}

  std::string name() const override { return "ptrace"; }
  std::vector<std::string> features() const override {
    return {"syscalls", "trace", "profile"};
  }
  std::string limits() const override {
    return absl::StrCat(
        "system-wide, --comm and --uid targets, calls, call stacks (-k) and "
        "Python frames need the BPF backend (",
        why_, ")");
  }

  absl::StatusOr<std::unique_ptr<SyscallCounter>> CountSyscalls(
      const KernelFilter& filter,
      const SyscallCountSettings& settings) override {
    if (absl::Status s = CheckTarget(filter); !s.ok()) return s;
    auto counter = PtraceSyscallCounter::Start(filter, settings);
    if (!counter.ok()) return counter.status();
    return std::unique_ptr<SyscallCounter>(std::move(*counter));
  }
  absl::StatusOr<std::unique_ptr<SyscallTracer>> TraceSyscalls(
      const KernelFilter& filter, const TraceSettings& settings) override {
    if (absl::Status s = CheckTarget(filter); !s.ok()) return s;
    if (settings.stacks) return Missing("call stacks (-k) need");
    auto tracer = PtraceSyscallTracer::Start(filter, settings);
    if (!tracer.ok()) return tracer.status();
    return std::unique_ptr<SyscallTracer>(std::move(*tracer));
  }
  absl::StatusOr<std::unique_ptr<CpuSampler>> SampleCpu(
      const KernelFilter& filter, const ProfileSettings& settings) override {
    if (absl::Status s = CheckTarget(filter); !s.ok()) return s;
    auto sampler = PerfCpuSampler::Start(filter, settings);
    if (!sampler.ok()) return sampler.status();
    return std::unique_ptr<CpuSampler>(std::move(*sampler));
  }
  absl::StatusOr<std::unique_ptr<CallCounter>> CountCalls(
      const KernelFilter&, std::vector<CallProbe>,
      const CallCountSettings&) override {
    return Missing("calls needs");
  }

 private:
  absl::Status Missing(const std::string& what) const {
    return absl::FailedPreconditionError(
        absl::StrCat(what,
                     " the BPF backend; this daemon runs the ptrace "
                     "backend because ",
                     why_));
  }
  // ptrace attaches to processes: it cannot watch for new ones.
  absl::Status CheckTarget(const KernelFilter& filter) const {
    if (!filter.comm_prefix.empty()) return Missing("--comm needs");
    if (filter.uid) return Missing("--uid needs");
    if (filter.tgids.empty()) return Missing("system-wide tracing needs");
    if (std::find(filter.tgids.begin(), filter.tgids.end(), getpid()) !=
        filter.tgids.end()) {
      return absl::FailedPreconditionError(
          "the ptrace backend cannot trace tracectld itself");
    }
    return KernelAllows(filter);
  }

  const std::string why_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Backend>> OpenPtraceBackend(
    const std::string& why) {
  // Attaching to the processes of other users (and of callers' commands,
  // which are not the daemon's descendants) takes CAP_SYS_PTRACE.
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &header, data) != 0 ||
      !(data[CAP_TO_INDEX(CAP_SYS_PTRACE)].effective &
        CAP_TO_MASK(CAP_SYS_PTRACE))) {
    return absl::FailedPreconditionError(
        "the ptrace backend needs CAP_SYS_PTRACE");
  }
  return std::unique_ptr<Backend>(new PtraceBackend(why));
}

}  // namespace tracectl
