#include "daemon/tracer_service.h"

#include <pwd.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "daemon/calls_reactor.h"
#include "daemon/grpc_status.h"
#include "daemon/profile_reactor.h"
#include "daemon/stack_request.h"
#include "daemon/syscalls_reactor.h"
#include "daemon/trace_reactor.h"

namespace tracectl {
namespace {

std::string UserName(uid_t uid) {
  passwd pw;
  passwd* found = nullptr;
  char buf[1024];
  if (getpwuid_r(uid, &pw, buf, sizeof(buf), &found) == 0 && found != nullptr) {
    return found->pw_name;
  }
  return std::to_string(uid);
}

}  // namespace

grpc::ServerUnaryReactor* TracerService::GetInfo(
    grpc::CallbackServerContext* context, const v1::GetInfoRequest* /*request*/,
    v1::GetInfoResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Caller> caller = callers_->Of(*context);
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  response->set_version(TRACECTL_VERSION);
  utsname uts;
  if (uname(&uts) == 0) {
    response->set_kernel(uts.release);
    response->set_hostname(uts.nodename);
  }
  response->set_backend(backend_->name());
  response->set_backend_limits(backend_->limits());
  for (const std::string& feature : backend_->features()) {
    response->add_features(feature);
  }
  v1::Caller* who = response->mutable_caller();
  who->set_uid(caller->uid);
  who->set_gid(caller->gid);
  who->set_pid(caller->pid);
  who->set_user(UserName(caller->uid));
  who->set_admin(authorizer_->IsAdmin(*caller));
  who->set_remote_identity(caller->remote_identity);
  response->set_scope(authorizer_->ScopeOf(*caller));
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerBidiReactor<v1::SyscallsClientMessage, v1::SyscallsServerMessage>*
TracerService::Syscalls(grpc::CallbackServerContext* context) {
  return new SyscallsReactor(callers_->Of(*context), services_);
}

grpc::ServerBidiReactor<v1::TraceClientMessage, v1::TraceServerMessage>*
TracerService::Trace(grpc::CallbackServerContext* context) {
  return new TraceReactor(callers_->Of(*context), services_);
}

grpc::ServerBidiReactor<v1::ProfileClientMessage, v1::ProfileServerMessage>*
TracerService::Profile(grpc::CallbackServerContext* context) {
  return new ProfileReactor(callers_->Of(*context), services_);
}

grpc::ServerBidiReactor<v1::CallsClientMessage, v1::CallsServerMessage>*
TracerService::Calls(grpc::CallbackServerContext* context) {
  return new CallsReactor(callers_->Of(*context), services_);
}

grpc::ServerUnaryReactor* TracerService::Stack(
    grpc::CallbackServerContext* context, const v1::StackRequest* request,
    v1::StackResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // Bounded (one process, at most a second of reading): done on this
  // thread.
  absl::StatusOr<v1::StackResponse> stacks =
      ReadStacks(callers_->Of(*context), services_, *request);
  if (stacks.ok()) *response = std::move(*stacks);
  reactor->Finish(stacks.ok() ? grpc::Status::OK
                              : ToGrpcStatus(stacks.status()));
  return reactor;
}

}  // namespace tracectl
