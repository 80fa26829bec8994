// Who made a call: a local caller by the Unix socket's SO_PEERCRED (the
// daemon's own accept loop), a remote one by its verified client
// certificate and the identities file.
#ifndef TRACECTL_DAEMON_CALLERS_H_
#define TRACECTL_DAEMON_CALLERS_H_

#include <grpcpp/server_context.h>

#include <optional>

#include "absl/status/statusor.h"
#include "daemon/caller.h"
#include "daemon/peer_listener.h"
#include "daemon/remote_identities.h"

namespace tracectl {

class Callers {
 public:
  // `identities`: the remote identities, when the daemon listens on TCP
  // with mutual TLS. `insecure_loopback`: plain TCP on a loopback address,
  // whose callers get the scope of uid 65534. Nothing is owned.
  Callers(const PeerListener* local, const RemoteIdentities* identities,
          bool insecure_loopback = false)
      : local_(local),
        identities_(identities),
        insecure_loopback_(insecure_loopback) {}

  absl::StatusOr<Caller> Of(const grpc::CallbackServerContext& context) const;

 private:
  const PeerListener* local_;
  const RemoteIdentities* identities_;
  const bool insecure_loopback_;
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_CALLERS_H_
