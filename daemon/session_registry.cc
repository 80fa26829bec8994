#include "daemon/session_registry.h"

#include <vector>

namespace tracectl {
namespace {

// How often the watcher looks at most: expiry is this late at worst.
constexpr absl::Duration kWatchInterval = absl::Milliseconds(250);

}  // namespace

SessionRegistry::~SessionRegistry() {
  {
    absl::MutexLock lock(&mu_);
    watcher_exit_ = true;
  }
  if (watcher_.joinable()) watcher_.join();
}

void SessionRegistry::Add(StoppableSession* session) {
  absl::MutexLock lock(&mu_);
  sessions_.insert(session);
  if (stopping_) session->RequestStop();
}

void SessionRegistry::Remove(StoppableSession* session) {
  absl::MutexLock lock(&mu_);
  sessions_.erase(session);
}

void SessionRegistry::StopAll() {
  absl::MutexLock lock(&mu_);
  stopping_ = true;
  for (StoppableSession* session : sessions_) session->RequestStop();
}

void SessionRegistry::AwaitStart(StoppableSession* session) {
  absl::MutexLock lock(&mu_);
  awaiting_[session] = absl::Now() + start_timeout_;
  if (!watcher_.joinable()) watcher_ = std::thread([this] { Watch(); });
}

bool SessionRegistry::Started(StoppableSession* session) {
  absl::MutexLock lock(&mu_);
  return awaiting_.erase(session) > 0;
}

void SessionRegistry::Watch() {
  for (;;) {
    std::vector<StoppableSession*> expired;
    {
      absl::MutexLock lock(&mu_);
      auto exiting = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return watcher_exit_;
      };
      mu_.AwaitWithTimeout(absl::Condition(&exiting), kWatchInterval);
      if (watcher_exit_) return;
      const absl::Time now = absl::Now();
      for (auto it = awaiting_.begin(); it != awaiting_.end();) {
        if (it->second <= now) {
          // Kept alive until ExpireStart returns, even if the call ends
          // meanwhile.
          it->first->Ref();
          expired.push_back(it->first);
          it = awaiting_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (StoppableSession* session : expired) {
      session->ExpireStart();
      session->Unref();
    }
  }
}

}  // namespace tracectl
