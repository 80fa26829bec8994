// The daemon's TCP listener. gRPC 1.51 has no cap on the connections a
// server accepts (GRPC_ARG_MAX_ALLOWED_INCOMING_CONNECTIONS came later), so
// TCP is accepted here: a connection over the cap is closed at once, before
// a byte of TLS; one within it is relayed, bytes as they are, to gRPC's
// listener on a Unix socket only root can reach, where the mutual TLS
// handshake happens end to end with the client.
#ifndef TRACECTL_DAEMON_TCP_FRONT_H_
#define TRACECTL_DAEMON_TCP_FRONT_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace tracectl {

class TcpFront {
 public:
  // Listens on `host_port` (HOST:PORT, [V6]:PORT; port 0: any). gRPC is to
  // listen on the Unix socket at backend_path().
  static absl::StatusOr<std::unique_ptr<TcpFront>> Listen(
      const std::string& host_port, int max_connections);
  ~TcpFront();
  TcpFront(const TcpFront&) = delete;
  TcpFront& operator=(const TcpFront&) = delete;

  // "unix:PATH", for grpc::ServerBuilder::AddListeningPort.
  std::string backend_address() const { return "unix:" + backend_path_; }
  int port() const { return port_; }

  // Accepts and relays on threads of its own until Stop.
  void Start();
  // Closes the listener and every relayed connection.
  void Stop();

 private:
  TcpFront(int listen_fd, int wake_fd, int port, std::string dir,
           int max_connections);
  void AcceptLoop();
  void Relay(int client_fd);

  const int listen_fd_;
  const int wake_fd_;  // an eventfd: Stop wakes every poll with it
  const int port_;
  const std::string dir_;  // 0700, root's: holds the backend socket
  const std::string backend_path_;
  const int max_connections_;
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;
  absl::Mutex mu_;
  // Relays running, each on a detached thread; Stop waits for none.
  int active_ ABSL_GUARDED_BY(mu_) = 0;
  // Refusals over the cap, said on stderr at most once a minute.
  uint64_t refused_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t last_said_ns_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_TCP_FRONT_H_
