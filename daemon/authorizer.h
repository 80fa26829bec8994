// Scopes every request to what its caller may see: root and the admin group
// see everything; anyone else sees the tasks the kernel would let it ptrace.
#ifndef TRACECTL_DAEMON_AUTHORIZER_H_
#define TRACECTL_DAEMON_AUTHORIZER_H_

#include <sys/types.h>

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "daemon/caller.h"
#include "daemon/kernel_filter.h"
#include "tracectl/v1/tracectl.pb.h"

namespace tracectl {

// The credentials of a process as /proc shows them.
struct ProcessCredentials {
  uid_t uid = 0, euid = 0, suid = 0;
  gid_t gid = 0, egid = 0, sgid = 0;
  // Owner of /proc/PID/status: root when the process is not dumpable (the
  // root of its user namespace when that is not the initial one).
  uid_t proc_owner = 0;
  // The owner of the process's user namespace's ancestor just below the
  // initial one (the namespace itself at level 1); nullopt in the initial
  // namespace. That user holds every capability there.
  std::optional<uid_t> user_namespace_owner;
  pid_t tgid = 0;
  // Permitted capabilities (CapPrm).
  uint64_t permitted_caps = 0;
  std::string comm;
};

// NOT_FOUND when there is no such process.
absl::StatusOr<ProcessCredentials> ReadProcessCredentials(pid_t pid);

// The ptrace rule for an unprivileged caller `uid`/`gid`: the same real,
// effective and saved ids, no capabilities (or a user namespace the caller
// owns), and /proc entries of the caller (the process is dumpable).
bool CallerMayTrace(const ProcessCredentials& creds, uid_t uid, gid_t gid);
// The same rule for process `pid` as it is now (false when it is gone): what
// a session re-checks after an exec, which may have been of a set-id file.
bool OwnerMayTrace(pid_t pid, const TaskOwner& owner);

inline constexpr int kMaxTargetPids = 1024;

class Authorizer {
 public:
  // admin_gid: members may trace anything. nullopt: only root may.
  explicit Authorizer(std::optional<gid_t> admin_gid) : admin_gid_(admin_gid) {}

  bool IsAdmin(const Caller& caller) const;
  // What the caller may trace, in words.
  std::string ScopeOf(const Caller& caller) const;
  // Checks the target and turns it into the kernel filter for this caller:
  // INVALID_ARGUMENT, NOT_FOUND (unknown pid) or PERMISSION_DENIED.
  absl::StatusOr<KernelFilter> Authorize(const Caller& caller,
                                         const v1::Target& target) const;

 private:
  std::optional<gid_t> admin_gid_;
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_AUTHORIZER_H_
