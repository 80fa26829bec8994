// tracectld: the privileged tracing daemon.
#include <errno.h>
#include <grp.h>
#include <grpc/support/log.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <grpcpp/server_builder.h>
#include <signal.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "daemon/authorizer.h"
#include "daemon/bpf/bpf_backend.h"
#include "daemon/callers.h"
#include "daemon/peer_listener.h"
#include "daemon/ptrace/ptrace_backend.h"
#include "daemon/remote_identities.h"
#include "daemon/session_limiter.h"
#include "daemon/tcp_front.h"
#include "daemon/tracer_service.h"

namespace {

constexpr int kMaxRequestBytes = 64 * 1024;
// A TCP peer has this long to finish its TLS handshake.
constexpr int kHandshakeTimeoutMs = 5000;
// gRPC's own log lines (a failed TLS handshake is one): at most this many
// per window, so that a peer cannot fill the journal.
constexpr int kGrpcLogLines = 20;
constexpr int64_t kGrpcLogWindowNs = 60'000'000'000;

int64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

void RateLimitedGrpcLog(gpr_log_func_args* args) {
  static std::atomic<int64_t> window_start{0};
  static std::atomic<int> lines{0};
  static std::atomic<int> suppressed{0};
  const int64_t now = MonotonicNs();
  int64_t start = window_start.load();
  if (now - start > kGrpcLogWindowNs &&
      window_start.compare_exchange_strong(start, now)) {
    if (const int n = suppressed.exchange(0); n > 0) {
      fprintf(stderr, "tracectld: %d gRPC log lines suppressed\n", n);
    }
    lines = 0;
  }
  if (lines.fetch_add(1) >= kGrpcLogLines) {
    ++suppressed;
    return;
  }
  fprintf(stderr, "tracectld: grpc: %s\n", args->message);
}

// TCP listening: mutual TLS, or plain on a loopback address if asked.
struct RemoteOptions {
  std::vector<std::string> tcp;  // HOST:PORT each
  std::string cert, key, client_ca, identities;
  unsigned reload_seconds = 10;  // the certificate files are read again
  bool insecure_loopback = false;
  int max_connections = 64;  // TCP connections open at once, per address
};

bool IsLoopback(const std::string& host_port) {
  return absl::StartsWith(host_port, "127.") ||
         absl::StartsWith(host_port, "localhost:") ||
         absl::StartsWith(host_port, "[::1]:");
}

// Checks the --listen and TLS options; "" when they are fine.
std::string CheckRemoteOptions(const RemoteOptions& remote) {
  if (remote.tcp.empty()) {
    if (!remote.cert.empty() || !remote.key.empty() ||
        !remote.client_ca.empty() || !remote.identities.empty()) {
      return "--tls-cert, --tls-key, --tls-client-ca and --remote-identities "
             "go with --listen tcp:HOST:PORT";
    }
    return "";
  }
  const bool tls =
      !remote.cert.empty() || !remote.key.empty() || !remote.client_ca.empty();
  if (tls || !remote.insecure_loopback) {
    if (remote.cert.empty() || remote.key.empty() || remote.client_ca.empty()) {
      return "--listen tcp: needs --tls-cert, --tls-key and --tls-client-ca "
             "(mutual TLS: every client shows a certificate of that CA), or "
             "--insecure-loopback for plain TCP on a loopback address";
    }
    if (remote.identities.empty()) {
      return "--listen tcp: needs --remote-identities FILE (which client "
             "certificate identity gets which scope)";
    }
    for (const std::string& file :
         {remote.cert, remote.key, remote.client_ca}) {
      if (access(file.c_str(), R_OK) != 0) {
        return absl::StrCat("cannot read ", file, ": ", strerror(errno));
      }
    }
    return "";
  }
  for (const std::string& address : remote.tcp) {
    if (!IsLoopback(address)) {
      return absl::StrCat("--insecure-loopback: ", address,
                          " is not a loopback address (127.0.0.0/8, "
                          "localhost, [::1]); other addresses need mutual TLS");
    }
  }
  return "";
}

constexpr size_t kTransportMemoryBytes = 128 << 20;

std::optional<gid_t> LookUpGroup(const std::string& name) {
  if (name.empty()) return std::nullopt;
  group gr;
  group* found = nullptr;
  char buf[4096];
  if (getgrnam_r(name.c_str(), &gr, buf, sizeof(buf), &found) != 0 ||
      found == nullptr) {
    return std::nullopt;
  }
  return found->gr_gid;
}

// The listening sockets systemd passes (socket activation, sd_listen_fds(3)),
// read from the environment directly: fds 3 to 3+LISTEN_FDS-1 when
// LISTEN_PID is this process. The variables are removed, so that nothing
// the daemon starts takes them for its own.
std::vector<int> InheritedSockets() {
  const char* pid = getenv("LISTEN_PID");
  const char* count = getenv("LISTEN_FDS");
  std::vector<int> fds;
  int listen_pid = 0, listen_fds = 0;
  if (pid != nullptr && count != nullptr &&
      absl::SimpleAtoi(pid, &listen_pid) && listen_pid == getpid() &&
      absl::SimpleAtoi(count, &listen_fds)) {
    for (int i = 0; i < listen_fds && i < 64; ++i) fds.push_back(3 + i);
  }
  unsetenv("LISTEN_PID");
  unsetenv("LISTEN_FDS");
  unsetenv("LISTEN_FDNAMES");
  return fds;
}

// Every connection is an fd: the soft limit goes up to the hard one, so that
// the connection limits, not EMFILE, decide.
void RaiseFileLimit(int connections) {
  rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < static_cast<rlim_t>(connections) + 256) {
    fprintf(stderr,
            "tracectld: RLIMIT_NOFILE is %llu: fewer fds than the %d "
            "connections allowed need\n",
            static_cast<unsigned long long>(limit.rlim_cur), connections);
  }
}

// --backend: bpf, ptrace, or auto (bpf if a program loads, else ptrace,
// saying why in one line).
absl::StatusOr<std::unique_ptr<tracectl::Backend>> OpenBackend(
    const std::string& choice, const tracectl::BpfBackendOptions& options) {
  if (choice == "ptrace") {
    return tracectl::OpenPtraceBackend("tracectld --backend ptrace was given");
  }
  auto bpf = tracectl::OpenBpfBackend(options);
  if (bpf.ok() || choice == "bpf") return bpf;
  const std::string why(bpf.status().message());
  auto ptrace = tracectl::OpenPtraceBackend(why);
  if (!ptrace.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(why, "; and ", ptrace.status().message()));
  }
  fprintf(stderr, "tracectld: no BPF (%s): using the ptrace backend\n",
          why.c_str());
  return ptrace;
}

int Run(const std::string& socket_path, const std::string& admin_group,
        int max_sessions_per_user, int max_sessions, int idle_timeout_ms,
        const tracectl::ConnectionLimits& limits, double start_timeout_seconds,
        uint64_t buffer_budget, const std::string& backend_choice,
        const tracectl::BpfBackendOptions& backend_options,
        const RemoteOptions& remote,
        const tracectl::RemoteIdentities* identities) {
  RaiseFileLimit(limits.total);
  gpr_set_log_function(RateLimitedGrpcLog);
  auto backend = OpenBackend(backend_choice, backend_options);
  if (!backend.ok()) {
    fprintf(stderr, "tracectld: %s\n",
            std::string(backend.status().message()).c_str());
    return 1;
  }
  const std::optional<gid_t> admin_gid = LookUpGroup(admin_group);
  if (!admin_gid && !admin_group.empty()) {
    fprintf(stderr,
            "tracectld: admin group '%s' does not exist: only root has full "
            "access\n",
            admin_group.c_str());
  }

  // Every thread started from here on inherits the blocked signals; the main
  // thread takes them with sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  tracectl::Authorizer authorizer(admin_gid);
  auto privileged = [&authorizer](const tracectl::Caller& caller) {
    return authorizer.IsAdmin(caller);
  };
  const std::vector<int> inherited = InheritedSockets();
  if (inherited.size() > 1) {
    fprintf(stderr,
            "tracectld: systemd passed %zu sockets; the socket unit must "
            "have one ListenStream= path\n",
            inherited.size());
    return 1;
  }
  auto listener =
      inherited.empty()
          ? tracectl::PeerListener::Listen(socket_path, limits, privileged)
          : tracectl::PeerListener::Adopt(inherited[0], limits, privileged);
  if (!listener.ok()) {
    fprintf(stderr, "tracectld: %s\n",
            std::string(listener.status().message()).c_str());
    return 1;
  }
  const tracectl::Callers callers(listener->get(), identities,
                                  remote.insecure_loopback);
  tracectl::SessionLimiter limiter(max_sessions_per_user, max_sessions,
                                   buffer_budget);
  tracectl::TracerService service(&callers, &authorizer, &limiter,
                                  backend->get(),
                                  absl::Seconds(start_timeout_seconds));
  grpc::ServerBuilder builder;
  builder.RegisterService(&service);
  std::shared_ptr<grpc::ServerCredentials> tcp_credentials;
  if (remote.cert.empty()) {
    tcp_credentials = grpc::InsecureServerCredentials();
  } else {
    // The files are read again every remote.reload_seconds: a rotated
    // certificate serves new connections without a restart.
    auto provider =
        std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
            remote.key, remote.cert, remote.client_ca, remote.reload_seconds);
    grpc::experimental::TlsServerCredentialsOptions tls(provider);
    tls.watch_root_certs();
    tls.watch_identity_key_cert_pairs();
    tls.set_cert_request_type(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    tcp_credentials = grpc::experimental::TlsServerCredentials(tls);
  }
  // TCP is accepted by a front of ours that caps the connections, and
  // relayed to gRPC's TLS listener on a Unix socket only root reaches.
  std::vector<std::unique_ptr<tracectl::TcpFront>> fronts;
  for (const std::string& address : remote.tcp) {
    auto front = tracectl::TcpFront::Listen(address, remote.max_connections);
    if (!front.ok()) {
      fprintf(stderr, "tracectld: %s\n",
              std::string(front.status().message()).c_str());
      return 1;
    }
    builder.AddListeningPort((*front)->backend_address(), tcp_credentials);
    fronts.push_back(std::move(*front));
  }
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
                             kHandshakeTimeoutMs);
  builder.SetMaxReceiveMessageSize(kMaxRequestBytes);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, 16);
  builder.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE, 16 * 1024);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, idle_timeout_ms);
  // Memory gRPC's transports may take, all connections together. gRPC 1.51
  // buffers a header block whole while its CONTINUATION frames come
  // (CVE-2023-33953, fixed in 1.53.2, not in Debian 12): the quota makes
  // the transport drop such a connection instead of growing without end.
  builder.SetResourceQuota(
      grpc::ResourceQuota("tracectld").Resize(kTransportMemoryBytes));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) {
    fprintf(stderr, "tracectld: cannot start the gRPC server\n");
    return 1;
  }
  (*listener)->Start(server.get());
  for (auto& front : fronts) front->Start();
  fprintf(stderr, "tracectld %s: listening on %s%s (backend %s)\n",
          TRACECTL_VERSION, (*listener)->path().c_str(),
          inherited.empty() ? "" : " (socket from systemd)",
          (*backend)->name().c_str());
  for (size_t i = 0; i < remote.tcp.size(); ++i) {
    const std::string& address = remote.tcp[i];
    fprintf(stderr, "tracectld: listening on tcp:%s port %d (%s)\n",
            address.c_str(), fronts[i]->port(),
            remote.cert.empty() ? "plain TCP, callers get uid 65534's scope"
                                : "mutual TLS");
  }

  int sig = 0;
  sigwait(&signals, &sig);
  fprintf(stderr, "tracectld: %s, ending every session\n", strsignal(sig));
  (*listener)->Stop();
  for (auto& front : fronts) front->Stop();
  // Sessions end with their final summary, detaching as they go; whatever
  // is still running after the deadline is cancelled.
  service.StopAllSessions();
  server->Shutdown(std::chrono::system_clock::now() +
                   std::chrono::milliseconds(500));
  server->Wait();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "tracectld: the tracectl daemon (runs as root, serves tracectl)"};
  std::string socket_path = "/run/tracectl/tracectld.sock";
  std::string admin_group = "tracectl";
  int max_sessions_per_user = 8;
  int max_sessions = 64;
  app.add_option("--socket", socket_path,
                 "Unix socket to listen on, unless systemd passes one "
                 "(socket activation: LISTEN_FDS)")
      ->capture_default_str();
  app.add_option("--admin-group", admin_group,
                 "members may trace every process (empty: root only)")
      ->capture_default_str();
  app.add_option("--max-sessions-per-user", max_sessions_per_user,
                 "sessions one uid may run at once")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--max-sessions", max_sessions,
                 "sessions all users together may run at once")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  tracectl::ConnectionLimits limits;
  app.add_option("--max-connections-per-user", limits.per_user,
                 "connections one uid may hold open (root and the admin group "
                 "excepted)")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--max-connections", limits.total,
                 "connections all users together may hold open; the last "
                 "32 are kept for root and the admin group")
      ->check(CLI::Range(64, 1000000))
      ->capture_default_str();
  double idle_timeout = 60;
  app.add_option("--idle-timeout", idle_timeout,
                 "seconds a connection may stay without a call before the "
                 "daemon closes it")
      ->check(CLI::Range(0.5, 86400.0))
      ->capture_default_str();
  uint64_t buffer_budget = uint64_t{1} << 30;
  app.add_option("--max-buffer-bytes-per-user", buffer_budget,
                 "bytes of kernel ring buffers one uid's sessions may hold "
                 "together")
      ->check(CLI::Range(uint64_t{1} << 20, uint64_t{1} << 40))
      ->capture_default_str();
  double start_timeout = 10;
  app.add_option("--start-timeout", start_timeout,
                 "seconds a session call may wait for its start message")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  std::vector<std::string> listen;
  app.add_option("--listen", listen,
                 "unix:PATH (as --socket) or tcp:HOST:PORT (repeatable; TCP "
                 "needs --tls-cert, --tls-key, --tls-client-ca and "
                 "--remote-identities; port 0: any, said on stderr)");
  RemoteOptions remote;
  app.add_option("--tls-cert", remote.cert,
                 "the daemon's certificate (PEM) for TCP");
  app.add_option("--tls-key", remote.key, "its private key (PEM)");
  app.add_option("--tls-client-ca", remote.client_ca,
                 "CA certificates (PEM) a client's certificate must chain to");
  app.add_option("--tls-reload-interval", remote.reload_seconds,
                 "seconds between reads of the certificate files (rotation "
                 "without a restart)")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  app.add_option("--remote-identities", remote.identities,
                 "file of IDENTITY ROLE lines: a client certificate's SAN or "
                 "CN, and admin or a local user name whose scope it gets");
  app.add_option("--max-remote-connections", remote.max_connections,
                 "TCP connections each --listen tcp: address holds open at "
                 "once; more are closed before their TLS handshake")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_flag("--insecure-loopback", remote.insecure_loopback,
               "allow plain TCP on a loopback address (callers get the scope "
               "of uid 65534)");
  std::string backend_choice = "auto";
  app.add_option("--backend", backend_choice,
                 "bpf, ptrace (for kernels without BPF: syscalls, trace, "
                 "files, libs, flame and top of --pid and -- CMD), or auto: "
                 "bpf if a program loads, else ptrace")
      ->check(CLI::IsMember({"auto", "bpf", "ptrace"}))
      ->capture_default_str();
  tracectl::BpfBackendOptions backend_options;
  bool no_uprobe_multi = false;
  app.add_flag("--no-uprobe-multi", no_uprobe_multi,
               "attach each uprobe of `calls` with a perf event of its own, "
               "as kernels before 6.6 must (slower to attach and detach)");
  app.set_version_flag("--version", TRACECTL_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fprintf(stderr, "tracectld: %s (see --help)\n", e.what());
    return 2;
  }
  backend_options.uprobe_multi = !no_uprobe_multi;
  int unix_listeners = 0;
  for (const std::string& address : listen) {
    if (absl::StartsWith(address, "unix:") && address.size() > 5) {
      socket_path = address.substr(5);
      ++unix_listeners;
    } else if (absl::StartsWith(address, "tcp:") &&
               address.find(':', 4) != std::string::npos) {
      remote.tcp.push_back(address.substr(4));
    } else {
      fprintf(stderr,
              "tracectld: --listen %s: expected unix:PATH or tcp:HOST:PORT\n",
              address.c_str());
      return 2;
    }
  }
  if (unix_listeners > 1) {
    fprintf(stderr, "tracectld: one --listen unix:PATH at most\n");
    return 2;
  }
  if (const std::string error = CheckRemoteOptions(remote); !error.empty()) {
    fprintf(stderr, "tracectld: %s\n", error.c_str());
    return 2;
  }
  // Read and checked before anything is opened or bound.
  std::optional<tracectl::RemoteIdentities> identities;
  if (!remote.identities.empty()) {
    auto loaded = tracectl::RemoteIdentities::Load(remote.identities);
    if (!loaded.ok()) {
      fprintf(stderr, "tracectld: %s\n",
              std::string(loaded.status().message()).c_str());
      return 2;
    }
    identities = *std::move(loaded);
  }
  return Run(socket_path, admin_group, max_sessions_per_user, max_sessions,
             static_cast<int>(idle_timeout * 1000), limits, start_timeout,
             buffer_budget, backend_choice, backend_options, remote,
             identities ? &*identities : nullptr);
}
