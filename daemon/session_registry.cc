#include "daemon/session_registry.h"

namespace tracectl {

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

}  // namespace tracectl
