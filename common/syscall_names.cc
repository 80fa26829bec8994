#include "common/syscall_names.h"

#include <seccomp.h>
#include <string.h>

#include <cstdlib>
#include <iterator>

#include "absl/strings/str_cat.h"

namespace tracectl {

std::string SyscallName(int nr, bool compat) {
  const char* prefix = compat ? "ia32:" : "";
  char* name = seccomp_syscall_resolve_num_arch(
      compat ? SCMP_ARCH_X86 : SCMP_ARCH_NATIVE, nr);
  if (name == nullptr) return absl::StrCat(prefix, "syscall_", nr);
  std::string result = absl::StrCat(prefix, name);
  free(name);
  return result;
}

std::string ErrnoName(int err) {
  // The kernel's own codes, which glibc does not name; a traced task sees
  // them when a signal interrupts a system call.
  static constexpr const char* kKernelInternal[] = {"ERESTARTSYS",
                                                    "ERESTARTNOINTR",
                                                    "ERESTARTNOHAND",
                                                    "ENOIOCTLCMD",
                                                    "ERESTART_RESTARTBLOCK",
                                                    "EPROBE_DEFER",
                                                    "EOPENSTALE",
                                                    "ENOPARAM"};
  constexpr int kFirstKernelInternal = 512;
  if (err >= kFirstKernelInternal &&
      err <
          kFirstKernelInternal + static_cast<int>(std::size(kKernelInternal))) {
    return kKernelInternal[err - kFirstKernelInternal];
  }
  const char* name = strerrorname_np(err);
  if (name == nullptr) return absl::StrCat("E", err);
  return name;
}

}  // namespace tracectl
