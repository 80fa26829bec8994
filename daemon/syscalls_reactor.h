// One Syscalls call: a session driving one SyscallCounter.
//
// Writes `started`, interim `snapshot`s, `final`. The worker thread owns
// the counter and the clock; the counter, and so every BPF program and map
// of the session, is destroyed as soon as the worker sees the end: final
// written, or the call cancelled.
#ifndef TRACECTL_DAEMON_SYSCALLS_REACTOR_H_
#define TRACECTL_DAEMON_SYSCALLS_REACTOR_H_

#include "absl/status/statusor.h"
#include "daemon/backend.h"
#include "daemon/caller.h"
#include "daemon/session_services.h"
#include "daemon/stream_session.h"
#include "tracectl/v1/tracectl.pb.h"

namespace tracectl {

// Checks a request's window: durations > 0, intervals >= 0.1 s, both at
// most a year.
absl::Status ValidateWindow(const v1::Window& window);

class SyscallsReactor final : public StreamSession<v1::SyscallsClientMessage,
                                                   v1::SyscallsServerMessage> {
 public:
  SyscallsReactor(absl::StatusOr<Caller> caller,
                  const SessionServices& services)
      : StreamSession(services.registry),
        caller_(std::move(caller)),
        services_(services) {}

 private:
  absl::Status Serve(const v1::SyscallsRequest& request) override;

  const absl::StatusOr<Caller> caller_;
  const SessionServices services_;
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_SYSCALLS_REACTOR_H_
