// The daemon's own accept loop on a Unix socket. gRPC C++ does not expose a
// peer's credentials, so each connection is accepted here, its SO_PEERCRED
// identity recorded, and the fd handed to gRPC; calls find their caller by
// ServerContext::peer(), which is then "fd:N".
#ifndef TRACECTL_DAEMON_PEER_LISTENER_H_
#define TRACECTL_DAEMON_PEER_LISTENER_H_

#include <grpcpp/server.h>
#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "daemon/caller.h"

namespace tracectl {

// How many connections the daemon keeps open. A connection over a limit is
// closed at once, before gRPC sees a byte of it.
struct ConnectionLimits {
  int per_user = 32;  // per uid, for callers that are not privileged
  int total = 512;    // everyone together, privileged callers included
  // Of `total`, this many are kept for privileged callers (root, the admin
  // group): other users together get total - reserved.
  int reserved = 32;
};

class PeerListener {
 public:
  // Creates the socket's directory (0755) if needed, replaces a stale socket,
  // and listens with mode 0666: any local user may connect. `privileged`
  // says whether a caller is exempt from the per-user limit and may use
  // the reserved connections.
  static absl::StatusOr<std::unique_ptr<PeerListener>> Listen(
      const std::string& path, const ConnectionLimits& limits = {},
      std::function<bool(const Caller&)> privileged = nullptr);
  // Accepts on `fd`, a listening Unix stream socket made by someone else
  // (systemd's socket activation), which is left in place at the end.
  static absl::StatusOr<std::unique_ptr<PeerListener>> Adopt(
      int fd, const ConnectionLimits& limits = {},
      std::function<bool(const Caller&)> privileged = nullptr);
  ~PeerListener();

  // Accepts connections for `server` on a thread of its own until Stop.
  void Start(grpc::Server* server);
  void Stop();

  // The caller of a call whose ServerContext::peer() is `peer`.
  absl::StatusOr<Caller> CallerOf(const std::string& peer) const;

  const std::string& path() const { return path_; }

 private:
  PeerListener(std::string path, bool owns_path, int listen_fd, int wake_fd,
               const ConnectionLimits& limits,
               std::function<bool(const Caller&)> privileged)
      : path_(std::move(path)),
        owns_path_(owns_path),
        listen_fd_(listen_fd),
        wake_fd_(wake_fd),
        limits_(limits),
        privileged_(std::move(privileged)) {}
  void AcceptLoop(grpc::Server* server);
  // Whether a new connection of `caller` fits the limits, forgetting the
  // connections gRPC has closed first when it would not.
  bool Admit(const Caller& caller, bool privileged)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Forgets the connections gRPC has closed: their fd is no longer the
  // socket that was accepted.
  void Sweep() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  struct Connection {
    Caller caller;
    bool privileged = false;
    ino_t inode = 0;  // the socket's, to tell a reused fd number
  };

  const std::string path_;
  const bool owns_path_;  // made here: removed at the end
  const int listen_fd_;
  const int wake_fd_;  // eventfd that ends the accept loop
  const ConnectionLimits limits_;
  const std::function<bool(const Caller&)> privileged_;
  std::thread thread_;
  mutable absl::Mutex mu_;
  std::map<int, Connection> connections_ ABSL_GUARDED_BY(mu_);
  uint64_t refused_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_PEER_LISTENER_H_
