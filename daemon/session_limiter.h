// Bounds how many sessions one user, and all users together, may run at
// once.
#ifndef TRACECTL_DAEMON_SESSION_LIMITER_H_
#define TRACECTL_DAEMON_SESSION_LIMITER_H_

#include <sys/types.h>

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
    ~Lease() { limiter_->Release(uid_); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

   private:
    friend class SessionLimiter;
    Lease(SessionLimiter* limiter, uid_t uid) : limiter_(limiter), uid_(uid) {}
    SessionLimiter* limiter_;
    uid_t uid_;
  };

  SessionLimiter(int max_per_user, int max_total)
      : max_per_user_(max_per_user), max_total_(max_total) {}

  // RESOURCE_EXHAUSTED when uid already runs max_per_user sessions, or the
  // daemon max_total.
  absl::StatusOr<std::unique_ptr<Lease>> Acquire(uid_t uid);

 private:
  void Release(uid_t uid);

  const int max_per_user_;
  const int max_total_;
  absl::Mutex mu_;
  std::map<uid_t, int> active_ ABSL_GUARDED_BY(mu_);
  int total_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_SESSION_LIMITER_H_
