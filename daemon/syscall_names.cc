#include "daemon/syscall_names.h"

#include <seccomp.h>
#include <string.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace tracectl {

std::string SyscallName(int nr) {
  char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
  if (name == nullptr) return absl::StrCat("syscall_", nr);
  std::string result(name);
  free(name);
  return result;
}

std::string ErrnoName(int err) {
  const char* name = strerrorname_np(err);
  if (name == nullptr) return absl::StrCat("E", err);
  return name;
}

}  // namespace tracectl
