// The sessions running now, so that the daemon can end them all on SIGTERM
// with a final summary rather than a cancellation.
#ifndef TRACECTL_DAEMON_SESSION_REGISTRY_H_
#define TRACECTL_DAEMON_SESSION_REGISTRY_H_

#include <set>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace tracectl {

class StoppableSession {
 public:
  virtual ~StoppableSession() = default;
  // Ends the session soon, with its final summary. Thread-safe.
  virtual void RequestStop() = 0;
};

class SessionRegistry {
 public:
  // A session added after StopAll is asked to stop at once.
  void Add(StoppableSession* session);
  void Remove(StoppableSession* session);
  void StopAll();

 private:
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::set<StoppableSession*> sessions_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_SESSION_REGISTRY_H_
