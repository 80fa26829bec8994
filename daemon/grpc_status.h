// absl::Status to grpc::Status at the RPC boundary.
#ifndef TRACECTL_DAEMON_GRPC_STATUS_H_
#define TRACECTL_DAEMON_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include <string>

#include "absl/status/status.h"
#include "common/escape.h"

namespace tracectl {

// An error's message travels as metadata and ends on a terminal: it may
// quote what a user sent or a process is named, so it is escaped and cut.
inline constexpr size_t kMaxErrorMessageBytes = 1024;

inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  // absl and gRPC share the canonical code numbers.
  return grpc::Status(
      static_cast<grpc::StatusCode>(status.code()),
      EscapedText(
          std::string_view(status.message().data(), status.message().size()),
          kMaxErrorMessageBytes));
}

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_GRPC_STATUS_H_
