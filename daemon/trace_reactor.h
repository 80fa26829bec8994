// One Trace call: a session streaming the records of one SyscallTracer.
//
// Writes `started`, `events` batches, `final`. Batches wait in a short
// queue behind the write in flight; when the client reads slower than the
// kernel writes, the worker stops reading the ring buffer, which fills, and
// the kernel counts what it then loses: back-pressure ends in the drop
// counters, never in the daemon's memory.
#ifndef TRACECTL_DAEMON_TRACE_REACTOR_H_
#define TRACECTL_DAEMON_TRACE_REACTOR_H_

#include "absl/status/statusor.h"
#include "daemon/authorizer.h"
#include "daemon/backend.h"
#include "daemon/caller.h"
#include "daemon/session_limiter.h"
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
  TraceReactor(absl::StatusOr<Caller> caller, const Authorizer* authorizer,
               SessionLimiter* limiter, Backend* backend,
               SessionRegistry* registry)
      : StreamSession(registry),
        caller_(std::move(caller)),
        authorizer_(authorizer),
        limiter_(limiter),
        backend_(backend) {}

 private:
  absl::Status Serve(const v1::TraceRequest& request) override;

  const absl::StatusOr<Caller> caller_;
  const Authorizer* authorizer_;
  SessionLimiter* limiter_;
  Backend* backend_;
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_TRACE_REACTOR_H_
