// What every session needs from the daemon, and the checks every session
// passes before it loads anything.
#ifndef TRACECTL_DAEMON_SESSION_SERVICES_H_
#define TRACECTL_DAEMON_SESSION_SERVICES_H_

#include <memory>

#include "absl/status/statusor.h"
#include "daemon/authorizer.h"
#include "daemon/backend.h"
#include "daemon/caller.h"
#include "daemon/kernel_filter.h"
#include "daemon/session_limiter.h"
#include "daemon/session_registry.h"
#include "tracectl/v1/tracectl.pb.h"

namespace tracectl {

// Nothing is owned; everything outlives the server.
struct SessionServices {
  const Authorizer* authorizer = nullptr;
  SessionLimiter* limiter = nullptr;
  Backend* backend = nullptr;
  SessionRegistry* registry = nullptr;
};

// A session let in: what its programs may see, and its slot among the
// caller's sessions (held until the session ends).
struct Admission {
  KernelFilter filter;
  std::unique_ptr<SessionLimiter::Lease> lease;
};

// The caller is known, may trace `target`, and has a session slot left.
inline absl::StatusOr<Admission> Admit(const absl::StatusOr<Caller>& caller,
                                       const SessionServices& services,
                                       const v1::Target& target) {
  if (!caller.ok()) return caller.status();
  absl::StatusOr<KernelFilter> filter =
      services.authorizer->Authorize(*caller, target);
  if (!filter.ok()) return filter.status();
  absl::StatusOr<std::unique_ptr<SessionLimiter::Lease>> lease =
      services.limiter->Acquire(caller->uid, caller->remote_identity);
  if (!lease.ok()) return lease.status();
  return Admission{std::move(*filter), std::move(*lease)};
}

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_SESSION_SERVICES_H_
