// tracectld: the privileged tracing daemon.
#include <grp.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/server_builder.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "daemon/authorizer.h"
#include "daemon/bpf_backend.h"
#include "daemon/peer_listener.h"
#include "daemon/session_limiter.h"
#include "daemon/tracer_service.h"

namespace {

constexpr int kMaxRequestBytes = 64 * 1024;
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

int Run(const std::string& socket_path, const std::string& admin_group,
        int max_sessions_per_user, int max_sessions, int idle_timeout_ms,
        const tracectl::ConnectionLimits& limits, double start_timeout_seconds,
        uint64_t buffer_budget,
        const tracectl::BpfBackendOptions& backend_options) {
  RaiseFileLimit(limits.total);
  auto backend = tracectl::OpenBpfBackend(backend_options);
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
  tracectl::SessionLimiter limiter(max_sessions_per_user, max_sessions,
                                   buffer_budget);
  tracectl::TracerService service(listener->get(), &authorizer, &limiter,
                                  backend->get(),
                                  absl::Seconds(start_timeout_seconds));
  grpc::ServerBuilder builder;
  builder.RegisterService(&service);
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
  fprintf(stderr, "tracectld %s: listening on %s%s (backend %s)\n",
          TRACECTL_VERSION, (*listener)->path().c_str(),
          inherited.empty() ? "" : " (socket from systemd)",
          (*backend)->name().c_str());

  int sig = 0;
  sigwait(&signals, &sig);
  fprintf(stderr, "tracectld: %s, ending every session\n", strsignal(sig));
  (*listener)->Stop();
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
  return Run(socket_path, admin_group, max_sessions_per_user, max_sessions,
             static_cast<int>(idle_timeout * 1000), limits, start_timeout,
             buffer_budget, backend_options);
}
