// One Syscalls call: a bidirectional stream driving one SyscallCounter.
//
// Reads: `start`, then `stop` or a half-close. Writes: `started`, interim
// `snapshot`s, `final`. A worker thread owns the counter and the clock; the
// gRPC side only queues writes (one in flight) and signals the worker. The
// counter, and so every BPF program and map of the session, is destroyed as
// soon as the worker sees the end: final written, or the call cancelled.
#ifndef TRACECTL_DAEMON_SYSCALLS_REACTOR_H_
#define TRACECTL_DAEMON_SYSCALLS_REACTOR_H_

#include <grpcpp/support/server_callback.h>

#include <deque>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "daemon/authorizer.h"
#include "daemon/backend.h"
#include "daemon/caller.h"
#include "daemon/session_limiter.h"
#include "daemon/session_registry.h"
#include "tracectl/v1/tracectl.pb.h"

namespace tracectl {

class SyscallsReactor final
    : public grpc::ServerBidiReactor<v1::SyscallsClientMessage,
                                     v1::SyscallsServerMessage>,
      public StoppableSession {
 public:
  // Registers itself in `registry` until OnDone.
  SyscallsReactor(absl::StatusOr<Caller> caller, const Authorizer* authorizer,
                  SessionLimiter* limiter, Backend* backend,
                  SessionRegistry* registry);

  void RequestStop() override ABSL_LOCKS_EXCLUDED(mu_);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  // Runs on worker_: authorize, count, report, end.
  void Run(v1::SyscallsRequest request);
  absl::Status Serve(const v1::SyscallsRequest& request);
  // Queues a message. While one write is in flight at most one snapshot
  // waits behind it: a newer snapshot replaces it, so a client that reads
  // slowly costs the daemon one summary, not a growing queue.
  void Send(v1::SyscallsServerMessage message) ABSL_LOCKS_EXCLUDED(mu_);
  // Finishes once every queued write is out; idempotent.
  void FinishAfterWrites(grpc::Status status) ABSL_LOCKS_EXCLUDED(mu_);
  void MaybeFinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const absl::StatusOr<Caller> caller_;
  const Authorizer* authorizer_;
  SessionLimiter* limiter_;
  Backend* backend_;
  SessionRegistry* registry_;

  v1::SyscallsClientMessage incoming_;
  bool got_start_ = false;  // only touched by reads, which are serial
  std::thread worker_;

  absl::Mutex mu_;
  bool stop_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<v1::SyscallsServerMessage> outgoing_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status finish_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_SYSCALLS_REACTOR_H_
