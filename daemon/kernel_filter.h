// What a session's BPF programs select, after authorization.
#ifndef TRACECTL_DAEMON_KERNEL_FILTER_H_
#define TRACECTL_DAEMON_KERNEL_FILTER_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace tracectl {

struct TaskOwner {
  uid_t uid = 0;
  gid_t gid = 0;
};

struct KernelFilter {
  // Empty: any process.
  std::vector<pid_t> tgids;
  bool follow_children = false;
  // tgids is one command the client holds before its exec (Target's
  // held_command): nothing runs in it before the session starts.
  bool held_command = false;
  std::string comm_prefix;
  std::optional<uid_t> uid;
  // Set for unprivileged callers: only tasks this owner could ptrace.
  std::optional<TaskOwner> owner;
  // The client's own process, never traced (0: none).
  pid_t caller_tgid = 0;

  // In words, for users: "pid 12 and children, comm python*, ...".
  std::string Describe() const;
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_KERNEL_FILTER_H_
