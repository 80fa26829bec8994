#include "daemon/session_limiter.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace tracectl {

absl::StatusOr<std::unique_ptr<SessionLimiter::Lease>> SessionLimiter::Acquire(
    uid_t uid, const std::string& remote_identity) {
  std::string who = remote_identity.empty()
                        ? absl::StrCat("uid ", uid)
                        : absl::StrCat("remote identity ", remote_identity);
  absl::MutexLock lock(&mu_);
  if (total_ >= max_total_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("tracectld already runs ", total_,
                     " sessions, the most allowed "
                     "(tracectld --max-sessions); try again later"));
  }
  int& active = active_[who];
  if (active >= max_per_user_) {
    return absl::ResourceExhaustedError(
        absl::StrCat(who, " already runs ", active,
                     " sessions, the most allowed "
                     "(tracectld --max-sessions-per-user); end one first"));
  }
  ++active;
  ++total_;
  return std::unique_ptr<Lease>(new Lease(this, std::move(who)));
}

absl::Status SessionLimiter::Lease::ReserveBuffers(uint64_t bytes) {
  absl::MutexLock lock(&limiter_->mu_);
  uint64_t& held = limiter_->buffers_[who_];
  if (held + bytes > limiter_->buffer_budget_) {
    const uint64_t mib = uint64_t{1} << 20;
    return absl::ResourceExhaustedError(absl::StrCat(
        who_, "'s sessions hold ", held / mib, " MiB of kernel buffers; ",
        bytes / mib, " MiB more would pass its budget of ",
        limiter_->buffer_budget_ / mib,
        " MiB (tracectld --max-buffer-bytes-per-user): end a session or ask "
        "for a smaller --buffer-size"));
  }
  held += bytes;
  buffer_bytes_ += bytes;
  return absl::OkStatus();
}

void SessionLimiter::Release(const std::string& who, uint64_t buffer_bytes) {
  absl::MutexLock lock(&mu_);
  --total_;
  if (--active_[who] <= 0) active_.erase(who);
  auto it = buffers_.find(who);
  if (it != buffers_.end()) {
    it->second -= std::min(it->second, buffer_bytes);
    if (it->second == 0) buffers_.erase(it);
  }
}

}  // namespace tracectl
