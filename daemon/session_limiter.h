// Bounds how many sessions one user, and all users together, may run at
// once.
#ifndef TRACECTL_DAEMON_SESSION_LIMITER_H_
#define TRACECTL_DAEMON_SESSION_LIMITER_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace tracectl {

class SessionLimiter {
 public:
  // Held while a session runs; gives its slot back when destroyed.
  class Lease {
   public:
    ~Lease() { limiter_->Release(uid_, buffer_bytes_); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    // Counts `bytes` of kernel buffers (ring buffers) against the uid's
    // budget for as long as the lease is held. RESOURCE_EXHAUSTED, naming
    // the budget, when the uid's sessions would hold more.
    absl::Status ReserveBuffers(uint64_t bytes);

   private:
    friend class SessionLimiter;
    Lease(SessionLimiter* limiter, uid_t uid) : limiter_(limiter), uid_(uid) {}
    SessionLimiter* limiter_;
    uid_t uid_;
    uint64_t buffer_bytes_ = 0;
  };

  // `buffer_budget`: bytes of kernel buffers one uid's sessions may hold
  // together.
  SessionLimiter(int max_per_user, int max_total,
                 uint64_t buffer_budget = uint64_t{1} << 30)
      : max_per_user_(max_per_user),
        max_total_(max_total),
        buffer_budget_(buffer_budget) {}

  // RESOURCE_EXHAUSTED when uid already runs max_per_user sessions, or the
  // daemon max_total.
  absl::StatusOr<std::unique_ptr<Lease>> Acquire(uid_t uid);

 private:
  void Release(uid_t uid, uint64_t buffer_bytes);

  const int max_per_user_;
  const int max_total_;
  const uint64_t buffer_budget_;
  absl::Mutex mu_;
  std::map<uid_t, int> active_ ABSL_GUARDED_BY(mu_);
  std::map<uid_t, uint64_t> buffers_ ABSL_GUARDED_BY(mu_);
  int total_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_SESSION_LIMITER_H_
