// Bounds how many sessions one user (a local uid, or a remote identity),
// and all users together, may run at once.
#ifndef TRACECTL_DAEMON_SESSION_LIMITER_H_
#define TRACECTL_DAEMON_SESSION_LIMITER_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace tracectl {

class SessionLimiter {
 public:
  // Held while a session runs; gives its slot back when destroyed.
  class Lease {
   public:
    ~Lease() { limiter_->Release(who_, buffer_bytes_); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    // Counts `bytes` of kernel buffers (ring buffers) against the user's
    // budget for as long as the lease is held. RESOURCE_EXHAUSTED, naming
    // the budget, when the uid's sessions would hold more.
    absl::Status ReserveBuffers(uint64_t bytes);

   private:
    friend class SessionLimiter;
    Lease(SessionLimiter* limiter, std::string who)
        : limiter_(limiter), who_(std::move(who)) {}
    SessionLimiter* limiter_;
    const std::string who_;  // "uid N" or "remote identity NAME"
    uint64_t buffer_bytes_ = 0;
  };

  // `buffer_budget`: bytes of kernel buffers one user's sessions may hold
  // together.
  SessionLimiter(int max_per_user, int max_total,
                 uint64_t buffer_budget = uint64_t{1} << 30)
      : max_per_user_(max_per_user),
        max_total_(max_total),
        buffer_budget_(buffer_budget) {}

  // RESOURCE_EXHAUSTED when the user already runs max_per_user sessions, or
  // the daemon max_total. The user is `remote_identity` when there is one
  // (a remote caller mapped to a uid is counted apart from that uid's local
  // sessions), else `uid`.
  absl::StatusOr<std::unique_ptr<Lease>> Acquire(
      uid_t uid, const std::string& remote_identity = "");

 private:
  void Release(const std::string& who, uint64_t buffer_bytes);

  const int max_per_user_;
  const int max_total_;
  const uint64_t buffer_budget_;
  absl::Mutex mu_;
  std::map<std::string, int> active_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, uint64_t> buffers_ ABSL_GUARDED_BY(mu_);
  int total_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_SESSION_LIMITER_H_
