// Reaching tracectld, and telling the user when that fails.
#ifndef TRACECTL_CLIENT_CONNECTION_H_
#define TRACECTL_CLIENT_CONNECTION_H_

#include <grpcpp/support/status.h>

#include <memory>
#include <string>

#include "client/commands.h"
#include "tracectl/v1/tracectl.grpc.pb.h"

namespace tracectl {

// $TRACECTL_SOCKET, or the daemon's default socket.
std::string DefaultSocketPath();

// With --host: $TRACECTL_HOST and the TLS files' defaults filled in
// (~/.config/tracectl/ca.crt, client.crt, client.key) and the files read
// (at most 1 MiB each). "" when fine, else what is wrong.
std::string PrepareRemote(GlobalOptions& global);

// The daemon of --host, else of the socket.
std::unique_ptr<v1::Tracer::Stub> Connect(const GlobalOptions& global);

// Prints "tracectl: <what went wrong>" on one line and returns the exit
// code: 2 for bad input, 130 when interrupted, 1 otherwise.
int ReportRpcError(const grpc::Status& status, const GlobalOptions& global);

// Prints "tracectl: <message>" on one line and returns the exit code 2.
int UsageError(const std::string& message);

}  // namespace tracectl

#endif  // TRACECTL_CLIENT_CONNECTION_H_
