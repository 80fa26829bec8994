#include "client/connection.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/small_file.h"

namespace tracectl {

std::string DefaultSocketPath() {
  const char* env = getenv("TRACECTL_SOCKET");
  if (env != nullptr && env[0] != '\0') return env;
  return "/run/tracectl/tracectld.sock";
}

namespace {

constexpr size_t kMaxPemBytes = 1 << 20;
constexpr size_t kMaxHosts = 64;

// The whole of a PEM file into `pem`; "" or what went wrong.
std::string ReadPem(const std::string& path, std::string* pem) {
  absl::StatusOr<std::string> text = ReadSmallFile(path, kMaxPemBytes);
  if (!text.ok()) return std::string(text.status().message());
  *pem = *std::move(text);
  return "";
}

std::string ConfigDir() {
  const char* xdg = getenv("XDG_CONFIG_HOME");
  if (xdg != nullptr && xdg[0] == '/') return std::string(xdg) + "/tracectl";
  const char* home = getenv("HOME");
  return std::string(home != nullptr ? home : "") + "/.config/tracectl";
}

}  // namespace

std::string PrepareRemote(GlobalOptions& global) {
  if (global.host.empty()) {
    const char* env = getenv("TRACECTL_HOST");
    if (env != nullptr) global.host = env;
  }
  if (global.host.empty()) {
    if (!global.tls_cert.empty() || !global.tls_key.empty() ||
        !global.tls_ca.empty() || global.insecure) {
      return "--tls-cert, --tls-key, --tls-ca and --insecure go with --host";
    }
    return "";
  }
  global.hosts = absl::StrSplit(global.host, ',', absl::SkipEmpty());
  if (global.hosts.size() > kMaxHosts) {
    return absl::StrCat("at most ", kMaxHosts, " hosts at once");
  }
  for (const std::string& host : global.hosts) {
    const size_t colon = host.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == host.size()) {
      return "--host " + host + ": expected HOST:PORT";
    }
  }
  if (global.hosts.empty()) return "--host: expected HOST:PORT";
  global.host = global.hosts.front();
  if (global.has_command) {
    return "-- CMD runs a command on this host, not on " +
           absl::StrJoin(global.hosts, ", ") +
           ": name a --pid, --comm or --uid of that host";
  }
  if (global.insecure) return "";
  const std::string dir = ConfigDir();
  if (global.tls_ca.empty()) global.tls_ca = dir + "/ca.crt";
  if (global.tls_cert.empty() && global.tls_key.empty() &&
      access((dir + "/client.crt").c_str(), F_OK) == 0) {
    global.tls_cert = dir + "/client.crt";
    global.tls_key = dir + "/client.key";
  }
  if (global.tls_cert.empty() != global.tls_key.empty()) {
    return "--tls-cert and --tls-key go together";
  }
  if (std::string error = ReadPem(global.tls_ca, &global.ca_pem);
      !error.empty()) {
    return error + " (--tls-ca: the CA of the daemon's certificate)";
  }
  if (!global.tls_cert.empty()) {
    if (std::string error = ReadPem(global.tls_cert, &global.cert_pem);
        !error.empty()) {
      return error;
    }
    if (std::string error = ReadPem(global.tls_key, &global.key_pem);
        !error.empty()) {
      return error;
    }
  }
  return "";
}

std::unique_ptr<v1::Tracer::Stub> Connect(const GlobalOptions& global) {
  // Whole profiles come as one message: no cap on what is received.
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  if (global.host.empty()) {
    return v1::Tracer::NewStub(
        grpc::CreateCustomChannel("unix:" + global.socket_path,
                                  grpc::InsecureChannelCredentials(), args));
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (global.insecure) {
    credentials = grpc::InsecureChannelCredentials();
  } else {
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = global.ca_pem;
    tls.pem_private_key = global.key_pem;
    tls.pem_cert_chain = global.cert_pem;
    credentials = grpc::SslCredentials(tls);
  }
  return v1::Tracer::NewStub(
      grpc::CreateCustomChannel("dns:///" + global.host, credentials, args));
}

int ReportRpcError(const grpc::Status& status, const GlobalOptions& global) {
  const std::string owned_message = status.error_message();  // a copy
  const char* message = owned_message.c_str();
  const std::string& socket_path = global.socket_path;
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      if (!global.host.empty()) {
        // A refused client certificate reaches the client as a closed
        // connection.
        fprintf(stderr, "tracectl: cannot reach tracectld at %s: %s%s\n",
                global.host.c_str(), message,
                !global.insecure && strstr(message, "Socket closed") != nullptr
                    ? " (a daemon that refuses your certificate closes the "
                      "connection: is it signed by the daemon's client CA, "
                      "and not expired?)"
                    : "");
      } else if (access(socket_path.c_str(), F_OK) != 0) {
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
