// One Trace call: a session streaming the records of one SyscallTracer.
//
// Writes `started`, an `initial_state` per target pid when asked, `events`
// batches, `final`. Batches wait in a short queue behind the write in
// flight; when the client reads slower than the kernel writes, the worker
// stops reading the ring buffer, which fills, and the kernel counts what it
// then loses: back-pressure ends in the drop counters, never in the
// daemon's memory.
#ifndef TRACECTL_DAEMON_TRACE_REACTOR_H_
#define TRACECTL_DAEMON_TRACE_REACTOR_H_

#include <sys/eventfd.h>
#include <unistd.h>

#include "absl/status/statusor.h"
#include "daemon/backend.h"
#include "daemon/caller.h"
#include "daemon/process_state.h"
#include "daemon/session_services.h"
#include "daemon/stream_session.h"
#include "tracectl/v1/tracectl.pb.h"

namespace tracectl {

// The request's settings, checked: INVALID_ARGUMENT for a bad selection,
// string size or buffer size.
absl::StatusOr<TraceSettings> ParseTraceSettings(
    const v1::TraceRequest& request);

class TraceReactor final
    : public StreamSession<v1::TraceClientMessage, v1::TraceServerMessage> {
 public:
  TraceReactor(absl::StatusOr<Caller> caller, const SessionServices& services)
      : StreamSession(services.registry),
        caller_(std::move(caller)),
        services_(services),
        wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}
  ~TraceReactor() override {
    if (wake_fd_ >= 0) close(wake_fd_);
  }

 private:
  absl::Status Serve(const v1::TraceRequest& request) override;
  // Reads and sends an initial_state for each pid of the filter. An error
  // only if the client went away.
  absl::Status SendInitialStates(const KernelFilter& filter,
                                 ProcessStateLosses* losses);
  // Ends the worker's wait for records at once.
  void OnStopOrCancel() override {
    const uint64_t one = 1;
    if (wake_fd_ >= 0) (void)!write(wake_fd_, &one, sizeof(one));
  }

  const absl::StatusOr<Caller> caller_;
  const SessionServices services_;
  const int wake_fd_;  // an eventfd; -1 if none could be had (then: polls)
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_TRACE_REACTOR_H_
