#include "daemon/session_limiter.h"

#include "absl/strings/str_cat.h"

namespace tracectl {

absl::StatusOr<std::unique_ptr<SessionLimiter::Lease>> SessionLimiter::Acquire(
    uid_t uid) {
  absl::MutexLock lock(&mu_);
  if (total_ >= max_total_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("tracectld already runs ", total_,
                     " sessions, the most allowed "
                     "(tracectld --max-sessions); try again later"));
  }
  int& active = active_[uid];
  if (active >= max_per_user_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("uid ", uid, " already runs ", active,
                     " sessions, the most allowed "
                     "(tracectld --max-sessions-per-user); end one first"));
  }
  ++active;
  ++total_;
  return std::unique_ptr<Lease>(new Lease(this, uid));
}

void SessionLimiter::Release(uid_t uid) {
  absl::MutexLock lock(&mu_);
  --total_;
  if (--active_[uid] <= 0) active_.erase(uid);
}

}  // namespace tracectl
