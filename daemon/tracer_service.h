// The tracectl.v1.Tracer service: identifies each caller, scopes its
// requests, and runs one session per Syscalls call.
#ifndef TRACECTL_DAEMON_TRACER_SERVICE_H_
#define TRACECTL_DAEMON_TRACER_SERVICE_H_

#include "daemon/authorizer.h"
#include "daemon/backend.h"
#include "daemon/callers.h"
#include "daemon/session_limiter.h"
#include "daemon/session_registry.h"
#include "daemon/session_services.h"
#include "tracectl/v1/tracectl.grpc.pb.h"

namespace tracectl {

class TracerService final : public v1::Tracer::CallbackService {
 public:
  // Nothing is owned; everything must outlive the server.
  // A session call whose start message has not come after `start_timeout`
  // ends with DEADLINE_EXCEEDED.
  TracerService(const Callers* callers, const Authorizer* authorizer,
                SessionLimiter* limiter, Backend* backend,
                absl::Duration start_timeout = absl::Seconds(10))
      : callers_(callers),
        authorizer_(authorizer),
        backend_(backend),
        registry_(start_timeout),
        services_{authorizer, limiter, backend, &registry_} {}

  // Asks every session, running or starting, to end with its final summary.
  void StopAllSessions() { registry_.StopAll(); }

  grpc::ServerUnaryReactor* GetInfo(grpc::CallbackServerContext* context,
                                    const v1::GetInfoRequest* request,
                                    v1::GetInfoResponse* response) override;

  grpc::ServerBidiReactor<v1::SyscallsClientMessage, v1::SyscallsServerMessage>*
  Syscalls(grpc::CallbackServerContext* context) override;

  grpc::ServerBidiReactor<v1::TraceClientMessage, v1::TraceServerMessage>*
  Trace(grpc::CallbackServerContext* context) override;

  grpc::ServerBidiReactor<v1::ProfileClientMessage, v1::ProfileServerMessage>*
  Profile(grpc::CallbackServerContext* context) override;

  grpc::ServerBidiReactor<v1::CallsClientMessage, v1::CallsServerMessage>*
  Calls(grpc::CallbackServerContext* context) override;

  grpc::ServerUnaryReactor* Stack(grpc::CallbackServerContext* context,
                                  const v1::StackRequest* request,
                                  v1::StackResponse* response) override;

 private:
  const Callers* callers_;
  const Authorizer* authorizer_;
  Backend* backend_;
  SessionRegistry registry_;
  const SessionServices services_;
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_TRACER_SERVICE_H_
