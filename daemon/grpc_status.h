// absl::Status to grpc::Status at the RPC boundary.
#ifndef TRACECTL_DAEMON_GRPC_STATUS_H_
#define TRACECTL_DAEMON_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include <string>

#include "absl/status/status.h"

namespace tracectl {

inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  // absl and gRPC share the canonical code numbers.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_GRPC_STATUS_H_
