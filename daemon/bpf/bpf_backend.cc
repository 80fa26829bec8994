#include "daemon/bpf/bpf_backend.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/capability.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/syscall_names.h"
#include "daemon/bpf/bpf_call_counter.h"
#include "daemon/bpf/bpf_cpu_sampler.h"
#include "daemon/bpf/bpf_syscall_counter.h"
#include "daemon/bpf/bpf_syscall_tracer.h"

namespace tracectl {
namespace {

constexpr const char* kVmlinuxBtf = "/sys/kernel/btf/vmlinux";

// Only libbpf's warnings reach the daemon's log.
int LibbpfLog(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG || level == LIBBPF_INFO) return 0;
  return vfprintf(stderr, format, args);
}

absl::StatusOr<uint64_t> EffectiveCapabilities() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (absl::StartsWith(line, "CapEff:")) {
      uint64_t caps = 0;
      if (absl::SimpleHexAtoi(absl::StripAsciiWhitespace(line.substr(7)),
                              &caps)) {
        return caps;
      }
    }
  }
  return absl::FailedPreconditionError(
      "cannot read CapEff from /proc/self/status");
}

class BpfBackend final : public Backend {
 public:
  explicit BpfBackend(const BpfBackendOptions& options)
      : uprobe_multi_(options.uprobe_multi && KernelHasUprobeMulti()) {}
  std::string name() const override { return "bpf"; }
  std::vector<std::string> features() const override {
    std::vector<std::string> features = {"syscalls",
                                         "trace",
                                         "tp_btf",
                                         "task_storage",
                                         "per_cpu_aggregation",
                                         "ringbuf",
                                         "profile",
                                         "dwarf_unwind",
                                         "calls"};
    if (uprobe_multi_) features.push_back("uprobe_multi");
    return features;
  }
  absl::StatusOr<std::unique_ptr<SyscallCounter>> CountSyscalls(
      const KernelFilter& filter,
      const SyscallCountSettings& settings) override {
    auto counter = BpfSyscallCounter::Start(filter, settings);
    if (!counter.ok()) return counter.status();
    return std::unique_ptr<SyscallCounter>(std::move(*counter));
  }
  absl::StatusOr<std::unique_ptr<CallCounter>> CountCalls(
      const KernelFilter& filter, std::vector<CallProbe> probes,
      const CallCountSettings& settings) override {
    auto counter = BpfCallCounter::Start(filter, std::move(probes), settings,
                                         uprobe_multi_);
    if (!counter.ok()) return counter.status();
    return std::unique_ptr<CallCounter>(std::move(*counter));
  }
  absl::StatusOr<std::unique_ptr<SyscallTracer>> TraceSyscalls(
      const KernelFilter& filter, const TraceSettings& settings) override {
    auto tracer = BpfSyscallTracer::Start(filter, settings);
    if (!tracer.ok()) return tracer.status();
    return std::unique_ptr<SyscallTracer>(std::move(*tracer));
  }

  absl::StatusOr<std::unique_ptr<CpuSampler>> SampleCpu(
      const KernelFilter& filter, const ProfileSettings& settings) override {
    auto sampler = BpfCpuSampler::Start(filter, settings);
    if (!sampler.ok()) return sampler.status();
    return std::unique_ptr<CpuSampler>(std::move(*sampler));
  }

 private:
  const bool uprobe_multi_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Backend>> OpenBpfBackend(
    const BpfBackendOptions& options) {
  auto caps = EffectiveCapabilities();
  if (!caps.ok()) return caps.status();
  auto has = [&](int cap) { return (*caps >> cap) & 1; };
  std::vector<std::string> missing;
  const bool admin = has(CAP_SYS_ADMIN);
  if (!admin && !has(CAP_BPF)) missing.push_back("CAP_BPF");
  if (!admin && !has(CAP_PERFMON)) missing.push_back("CAP_PERFMON");
  if (!missing.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "missing ", absl::StrJoin(missing, " and "),
        " (or CAP_SYS_ADMIN): needed to load BPF tracing programs; run "
        "tracectld as root or grant ",
        absl::StrJoin(missing, ","), ",CAP_SYS_PTRACE"));
  }
  if (access(kVmlinuxBtf, R_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("the kernel has no BTF (", kVmlinuxBtf,
                     "): CO-RE programs need CONFIG_DEBUG_INFO_BTF=y"));
  }
  libbpf_set_print(LibbpfLog);
  // Whether a program loads at all: bpf(2) may be missing (ENOSYS), denied
  // by a seccomp filter or an LSM, or locked down.
  const bpf_insn exit_zero[2] = {
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0}};
  const int fd = bpf_prog_load(BPF_PROG_TYPE_TRACEPOINT, "tracectl_probe",
                               "GPL", exit_zero, 2, nullptr);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("bpf(2) returned ", ErrnoName(-fd),
                     " loading a two-instruction program"));
  }
  close(fd);
  return std::unique_ptr<Backend>(new BpfBackend(options));
}

}  // namespace tracectl
