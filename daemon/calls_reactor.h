// One Calls call: resolves the probes as the caller, then a session driving
// one CallCounter. Writes `started`, interim `snapshot`s, `final`; every
// probe is detached as soon as the worker sees the end.
#ifndef TRACECTL_DAEMON_CALLS_REACTOR_H_
#define TRACECTL_DAEMON_CALLS_REACTOR_H_

#include "absl/status/statusor.h"
#include "daemon/call_probes.h"
#include "daemon/caller.h"
#include "daemon/session_services.h"
#include "daemon/stream_session.h"
#include "tracectl/v1/tracectl.pb.h"

namespace tracectl {

class CallsReactor final
    : public StreamSession<v1::CallsClientMessage, v1::CallsServerMessage> {
 public:
  CallsReactor(absl::StatusOr<Caller> caller, const SessionServices& services)
      : StreamSession(services.registry),
        caller_(std::move(caller)),
        services_(services) {}

 private:
  absl::Status Serve(const v1::CallsRequest& request) override;
  // list_only: `started`, then the probes as rows in `final`.
  absl::Status List(const ProbeContext& context,
                    const ResolvedProbes& resolved);

  const absl::StatusOr<Caller> caller_;
  const SessionServices services_;
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_CALLS_REACTOR_H_
