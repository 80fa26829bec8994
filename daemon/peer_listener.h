// The daemon's own accept loop on a Unix socket. gRPC C++ does not expose a
// peer's credentials, so each connection is accepted here, its SO_PEERCRED
// identity recorded, and the fd handed to gRPC; calls find their caller by
// ServerContext::peer(), which is then "fd:N".
#ifndef TRACECTL_DAEMON_PEER_LISTENER_H_
#define TRACECTL_DAEMON_PEER_LISTENER_H_

#include <grpcpp/server.h>

#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "daemon/caller.h"

namespace tracectl {

class PeerListener {
 public:
  // Creates the socket's directory (0755) if needed, replaces a stale socket,
  // and listens with mode 0666: any local user may connect.
  static absl::StatusOr<std::unique_ptr<PeerListener>> Listen(
      const std::string& path);
  ~PeerListener();

  // Accepts connections for `server` on a thread of its own until Stop.
  void Start(grpc::Server* server);
  void Stop();

  // The caller of a call whose ServerContext::peer() is `peer`.
  absl::StatusOr<Caller> CallerOf(const std::string& peer) const;

  const std::string& path() const { return path_; }

 private:
  PeerListener(std::string path, int listen_fd, int wake_fd)
      : path_(std::move(path)), listen_fd_(listen_fd), wake_fd_(wake_fd) {}
  void AcceptLoop(grpc::Server* server);

  const std::string path_;
  const int listen_fd_;
  const int wake_fd_;  // eventfd that ends the accept loop
  std::thread thread_;
  mutable absl::Mutex mu_;
  std::map<int, Caller> callers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_PEER_LISTENER_H_
