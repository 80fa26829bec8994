#include "client/connection.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <cstdio>
#include <cstdlib>

namespace tracectl {

std::string DefaultSocketPath() {
  const char* env = getenv("TRACECTL_SOCKET");
  if (env != nullptr && env[0] != '\0') return env;
  return "/run/tracectl/tracectld.sock";
}

std::unique_ptr<v1::Tracer::Stub> Connect(const std::string& socket_path) {
  return v1::Tracer::NewStub(grpc::CreateChannel(
      "unix:" + socket_path, grpc::InsecureChannelCredentials()));
}

int ReportRpcError(const grpc::Status& status, const std::string& socket_path) {
  const std::string& message = status.error_message();
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      fprintf(stderr,
              "tracectl: cannot reach tracectld at %s (is it running? "
              "--socket or TRACECTL_SOCKET choose another): %s\n",
              socket_path.c_str(), message.c_str());
      break;
    case grpc::StatusCode::PERMISSION_DENIED:
      fprintf(stderr, "tracectl: permission denied: %s\n", message.c_str());
      break;
    case grpc::StatusCode::NOT_FOUND:
      fprintf(stderr, "tracectl: not found: %s\n", message.c_str());
      break;
    case grpc::StatusCode::INVALID_ARGUMENT:
      fprintf(stderr, "tracectl: invalid argument: %s\n", message.c_str());
      break;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      fprintf(stderr, "tracectl: limit reached: %s\n", message.c_str());
      break;
    default:
      fprintf(stderr, "tracectl: %s\n", message.c_str());
  }
  return 1;
}

int UsageError(const std::string& message) {
  fprintf(stderr, "tracectl: %s\n", message.c_str());
  return 2;
}

}  // namespace tracectl
