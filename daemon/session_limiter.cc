#include "daemon/session_limiter.h"

#include <algorithm>

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

absl::Status SessionLimiter::Lease::ReserveBuffers(uint64_t bytes) {
  absl::MutexLock lock(&limiter_->mu_);
  uint64_t& held = limiter_->buffers_[uid_];
  if (held + bytes > limiter_->buffer_budget_) {
    const uint64_t mib = uint64_t{1} << 20;
    return absl::ResourceExhaustedError(absl::StrCat(
        "uid ", uid_, "'s sessions hold ", held / mib,
        " MiB of kernel buffers; ", bytes / mib,
        " MiB more would pass its budget of ", limiter_->buffer_budget_ / mib,
        " MiB (tracectld --max-buffer-bytes-per-user): end a session or ask "
        "for a smaller --buffer-size"));
  }
  held += bytes;
  buffer_bytes_ += bytes;
  return absl::OkStatus();
}

void SessionLimiter::Release(uid_t uid, uint64_t buffer_bytes) {
  absl::MutexLock lock(&mu_);
  --total_;
  if (--active_[uid] <= 0) active_.erase(uid);
  auto it = buffers_.find(uid);
  if (it != buffers_.end()) {
    it->second -= std::min(it->second, buffer_bytes);
    if (it->second == 0) buffers_.erase(it);
  }
}

}  // namespace tracectl
