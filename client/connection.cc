#include "client/connection.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace tracectl {

std::string DefaultSocketPath() {
  const char* env = getenv("TRACECTL_SOCKET");
  if (env != nullptr && env[0] != '\0') return env;
  return "/run/tracectl/tracectld.sock";
}

std::unique_ptr<v1::Tracer::Stub> Connect(const std::string& socket_path) {
  // Whole profiles come as one message: no cap on what is received.
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  return v1::Tracer::NewStub(grpc::CreateCustomChannel(
      "unix:" + socket_path, grpc::InsecureChannelCredentials(), args));
}

int ReportRpcError(const grpc::Status& status, const std::string& socket_path) {
  const std::string owned_message = status.error_message();  // a copy
  const char* message = owned_message.c_str();
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      if (access(socket_path.c_str(), F_OK) != 0) {
        fprintf(stderr,
                "tracectl: no tracectld socket at %s (is the daemon running? "
                "--socket or $TRACECTL_SOCKET name another)\n",
                socket_path.c_str());
      } else {
        fprintf(stderr, "tracectl: cannot reach tracectld at %s: %s\n",
                socket_path.c_str(), message);
      }
      return 1;
    case grpc::StatusCode::CANCELLED:
      fprintf(stderr, "tracectl: interrupted\n");
      return 130;
    case grpc::StatusCode::PERMISSION_DENIED:
      fprintf(stderr, "tracectl: permission denied: %s\n", message);
      return 1;
    case grpc::StatusCode::NOT_FOUND:
      fprintf(stderr, "tracectl: not found: %s\n", message);
      return 1;
    case grpc::StatusCode::INVALID_ARGUMENT:
      // Bad input, as a usage error is.
      fprintf(stderr, "tracectl: invalid argument: %s\n", message);
      return 2;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      fprintf(stderr, "tracectl: limit reached: %s\n", message);
      return 1;
    default:
      fprintf(stderr, "tracectl: %s\n", message);
      return 1;
  }
}

int UsageError(const std::string& message) {
  fprintf(stderr, "tracectl: %s\n", message.c_str());
  return 2;
}

}  // namespace tracectl
