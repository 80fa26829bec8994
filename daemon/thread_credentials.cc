#include "daemon/thread_credentials.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"

namespace tracectl {
namespace {

__user_cap_header_struct CapHeader() {
  __user_cap_header_struct header{};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  header.pid = 0;  // this thread
  return header;
}

absl::Status Errno(const char* what) {
  return absl::InternalError(absl::StrCat(what, ": ", strerror(errno)));
}

}  // namespace

absl::Status ScopedThreadCredentials::Lower(
    uid_t uid, gid_t gid, std::unique_ptr<ScopedThreadCredentials>* out) {
  std::unique_ptr<ScopedThreadCredentials> creds(new ScopedThreadCredentials());
  // setfsuid/setfsgid return the previous value and cannot fail visibly:
  // read back to check.
  const int ngroups = static_cast<int>(syscall(SYS_getgroups, 0, nullptr));
  if (ngroups < 0) return Errno("getgroups");
  creds->saved_groups_.resize(ngroups);
  if (ngroups > 0 &&
      syscall(SYS_getgroups, ngroups, creds->saved_groups_.data()) < 0) {
    return Errno("getgroups");
  }
  __user_cap_header_struct header = CapHeader();
  if (syscall(SYS_capget, &header, creds->saved_caps_) != 0) {
    return Errno("capget");
  }
  creds->caps_saved_ = true;
  if (syscall(SYS_setgroups, 0, nullptr) != 0) return Errno("setgroups");
  creds->saved_fsgid_ = static_cast<gid_t>(syscall(SYS_setfsgid, gid));
  creds->saved_fsuid_ = static_cast<uid_t>(syscall(SYS_setfsuid, uid));
  if (static_cast<uid_t>(syscall(SYS_setfsuid, -1)) != uid ||
      static_cast<gid_t>(syscall(SYS_setfsgid, -1)) != gid) {
    return absl::InternalError("setfsuid/setfsgid did not take");
  }
  __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3];
  memcpy(caps, creds->saved_caps_, sizeof(caps));
  // Read after setfsuid, which already cleared the file capabilities.
  header = CapHeader();
  if (syscall(SYS_capget, &header, caps) != 0) return Errno("capget");
  // Every capability leaves the effective set but CAP_BPF, which the thread
  // needs to read its session's maps (bpf(2) is refused without it when
  // unprivileged BPF is off). Not only CAP_SYS_PTRACE: CAP_PERFMON also
  // opens /proc/PID/maps of a process that is no longer dumpable.
  for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; ++i) {
    uint32_t keep = 0;
    if (CAP_TO_INDEX(CAP_BPF) == i) keep |= CAP_TO_MASK(CAP_BPF);
    caps[i].effective &= keep;
  }
  header = CapHeader();
  if (syscall(SYS_capset, &header, caps) != 0) return Errno("capset");
  *out = std::move(creds);
  return absl::OkStatus();
}

ScopedThreadCredentials::~ScopedThreadCredentials() {
  // Capabilities first: the effective set regains CAP_SETUID and
  // CAP_SETGID (within the permitted set, which never changed), which the
  // rest needs.
  if (caps_saved_) {
    __user_cap_header_struct header = CapHeader();
    syscall(SYS_capset, &header, saved_caps_);
  }
  syscall(SYS_setfsuid, saved_fsuid_);
  syscall(SYS_setfsgid, saved_fsgid_);
  syscall(SYS_setgroups, saved_groups_.size(), saved_groups_.data());
}

}  // namespace tracectl
