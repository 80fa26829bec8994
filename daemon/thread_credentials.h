// Lowers the calling thread's file-system identity to a user's, for the
// work a session does on that user's behalf: opening binaries, debug files
// and JIT maps named by processes the user controls. Only this thread is
// affected (raw system calls, not glibc's process-wide wrappers).
#ifndef TRACECTL_DAEMON_THREAD_CREDENTIALS_H_
#define TRACECTL_DAEMON_THREAD_CREDENTIALS_H_

#include <linux/capability.h>
#include <sys/types.h>

#include <vector>

#include "absl/status/status.h"

namespace tracectl {

class ScopedThreadCredentials {
 public:
  // fsuid/fsgid become uid/gid (which drops the file capabilities such as
  // CAP_DAC_READ_SEARCH from the effective set), supplementary groups none,
  // and every capability but CAP_BPF leaves the effective set: /proc/PID
  // files then open only for processes the user could ptrace, and files
  // only if the user could read them.
  static absl::Status Lower(uid_t uid, gid_t gid,
                            std::unique_ptr<ScopedThreadCredentials>* out);
  ~ScopedThreadCredentials();  // restores all of it
  ScopedThreadCredentials(const ScopedThreadCredentials&) = delete;
  ScopedThreadCredentials& operator=(const ScopedThreadCredentials&) = delete;

 private:
  ScopedThreadCredentials() = default;
  uid_t saved_fsuid_ = 0;
  gid_t saved_fsgid_ = 0;
  std::vector<gid_t> saved_groups_;
  __user_cap_data_struct saved_caps_[_LINUX_CAPABILITY_U32S_3] = {};
  bool caps_saved_ = false;
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_THREAD_CREDENTIALS_H_
