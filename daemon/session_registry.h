// The sessions running now, so that the daemon can end them all on SIGTERM
// with a final summary rather than a cancellation; and the calls waiting
// for their first message, which end when it does not come in time.
#ifndef TRACECTL_DAEMON_SESSION_REGISTRY_H_
#define TRACECTL_DAEMON_SESSION_REGISTRY_H_

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace tracectl {

class StoppableSession {
 public:
  virtual ~StoppableSession() = default;
  // Ends the session soon, with its final summary. Thread-safe.
  virtual void RequestStop() = 0;
  // The first message did not come in time: ends the call.
  virtual void ExpireStart() = 0;

  // References: one for gRPC (dropped when the call is done), one for the
  // registry while it expires the session. The last one deletes it.
  void Ref() { refs_.fetch_add(1); }
  void Unref() {
    if (refs_.fetch_sub(1) == 1) delete this;
  }

 private:
  std::atomic<int> refs_{1};
};

class SessionRegistry {
 public:
  explicit SessionRegistry(absl::Duration start_timeout = absl::Seconds(10))
      : start_timeout_(start_timeout) {}
  ~SessionRegistry();

  // A session added after StopAll is asked to stop at once.
  void Add(StoppableSession* session);
  void Remove(StoppableSession* session);
  void StopAll();

  // A call that waits for its first message: ExpireStart is called if
  // Started is not within the start timeout.
  void AwaitStart(StoppableSession* session);
  // Its first message came (or the call ended). False when it came too
  // late: ExpireStart is being called.
  bool Started(StoppableSession* session);

  absl::Duration start_timeout() const { return start_timeout_; }

 private:
  void Watch();

  const absl::Duration start_timeout_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::set<StoppableSession*> sessions_ ABSL_GUARDED_BY(mu_);
  std::map<StoppableSession*, absl::Time> awaiting_ ABSL_GUARDED_BY(mu_);
  bool watcher_exit_ ABSL_GUARDED_BY(mu_) = false;
  std::thread watcher_;  // started with the first AwaitStart
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_SESSION_REGISTRY_H_
