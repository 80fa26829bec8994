#include "daemon/peer_listener.h"

#include <errno.h>
#include <fcntl.h>
#include <grpcpp/server_posix.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <system_error>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tracectl {
namespace {

constexpr size_t kInitialGroups = 64;

// The peer's supplementary groups; the kernel says how many there are when
// the first buffer is too small.
std::vector<gid_t> PeerGroups(int fd) {
  std::vector<gid_t> groups(kInitialGroups);
  for (int attempt = 0; attempt < 2; ++attempt) {
    socklen_t len = groups.size() * sizeof(gid_t);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len) == 0) {
      groups.resize(len / sizeof(gid_t));
      return groups;
    }
    if (errno != ERANGE) break;
    groups.resize(len / sizeof(gid_t));
  }
  perror("tracectld: SO_PEERGROUPS");
  return {};
}

absl::Status Errno(const std::string& what) {
  // std::error_code's message is thread-safe, where strerror is not.
  return absl::UnavailableError(absl::StrCat(
      what, ": ", std::error_code(errno, std::generic_category()).message()));
}

// True if something accepts connections at `addr`.
bool SomeoneListens(const sockaddr_un& addr) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const bool listening =
      connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return listening;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PeerListener>> PeerListener::Listen(
    const std::string& path, const ConnectionLimits& limits,
    std::function<bool(const Caller&)> privileged) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(
        absl::StrCat("socket path '", path, "' must have 1 to ",
                     sizeof(addr.sun_path) - 1, " bytes"));
  }
  memcpy(addr.sun_path, path.c_str(), path.size());

  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!dir.empty() && !std::filesystem::exists(dir, ec)) {
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      return absl::UnavailableError(
          absl::StrCat("cannot create ", dir.string(), ": ", ec.message()));
    }
    chmod(dir.c_str(), 0755);
  }
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return absl::AlreadyExistsError(
          absl::StrCat(path, " exists and is not a socket"));
    }
    if (SomeoneListens(addr)) {
      return absl::AlreadyExistsError(
          absl::StrCat("another tracectld is listening on ", path));
    }
    unlink(path.c_str());  // stale socket of a daemon that is gone
  }

  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  if (bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    absl::Status s = Errno(absl::StrCat("cannot bind ", path));
    close(fd);
    return s;
  }
  if (chmod(path.c_str(), 0666) != 0 || listen(fd, 64) != 0) {
    absl::Status s = Errno(absl::StrCat("cannot listen on ", path));
    close(fd);
    return s;
  }
  int wake = eventfd(0, EFD_CLOEXEC);
  if (wake < 0) {
    absl::Status s = Errno("eventfd");
    close(fd);
    return s;
  }
  return std::unique_ptr<PeerListener>(new PeerListener(
      path, /*owns_path=*/true, fd, wake, limits, std::move(privileged)));
}

absl::StatusOr<std::unique_ptr<PeerListener>> PeerListener::Adopt(
    int fd, const ConnectionLimits& limits,
    std::function<bool(const Caller&)> privileged) {
  int domain = 0, type = 0, listening = 0;
  socklen_t len = sizeof(int);
  const bool unix_stream =
      getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 &&
      domain == AF_UNIX &&
      getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
      type == SOCK_STREAM &&
      getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 &&
      listening;
  sockaddr_un addr{};
  socklen_t addr_len = sizeof(addr);
  if (!unix_stream ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &addr_len) != 0 ||
      addr_len <= offsetof(sockaddr_un, sun_path) || addr.sun_path[0] == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "inherited fd ", fd,
        " is not a listening Unix stream socket with a path (ListenStream= "
        "in the socket unit must be a path)"));
  }
  const std::string path(addr.sun_path,
                         strnlen(addr.sun_path, sizeof(addr.sun_path)));
  if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) return Errno("fcntl");
  int wake = eventfd(0, EFD_CLOEXEC);
  if (wake < 0) return Errno("eventfd");
  return std::unique_ptr<PeerListener>(new PeerListener(
      path, /*owns_path=*/false, fd, wake, limits, std::move(privileged)));
}

PeerListener::~PeerListener() {
  Stop();
  close(listen_fd_);
  close(wake_fd_);
  if (owns_path_) unlink(path_.c_str());
}

void PeerListener::Start(grpc::Server* server) {
  thread_ = std::thread([this, server] { AcceptLoop(server); });
}

void PeerListener::Stop() {
  if (!thread_.joinable()) return;
  const uint64_t one = 1;
  if (write(wake_fd_, &one, sizeof(one)) < 0) perror("tracectld: eventfd");
  thread_.join();
}

void PeerListener::AcceptLoop(grpc::Server* server) {
  pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      perror("tracectld: poll");
      return;
    }
    if (fds[1].revents != 0) return;
    // gRPC needs the fd non-blocking, or its calls hang.
    int fd =
        accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
          errno == ENOMEM) {
        // Out of fds or memory: say so once a second, not in a busy loop.
        perror("tracectld: accept");
        poll(&fds[1], 1, 1000);
      } else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
        perror("tracectld: accept");
      }
      continue;
    }
    ucred cred{};
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
      perror("tracectld: SO_PEERCRED");
      close(fd);
      continue;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
      perror("tracectld: fstat");
      close(fd);
      continue;
    }
    Caller caller{cred.uid, cred.gid, cred.pid, PeerGroups(fd)};
    const bool privileged = privileged_ && privileged_(caller);
    {
      absl::MutexLock lock(&mu_);
      if (!Admit(caller, privileged)) {
        close(fd);
        continue;
      }
      // A new connection may reuse the fd number of one that has closed.
      connections_[fd] = Connection{std::move(caller), privileged, st.st_ino};
    }
    grpc::AddInsecureChannelFromFd(server, fd);
  }
}

void PeerListener::Sweep() {
  for (auto it = connections_.begin(); it != connections_.end();) {
    struct stat st;
    if (fstat(it->first, &st) != 0 || !S_ISSOCK(st.st_mode) ||
        st.st_ino != it->second.inode) {
      it = connections_.erase(it);
    } else {
      ++it;
    }
  }
}

bool PeerListener::Admit(const Caller& caller, bool privileged) {
  auto fits = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    int total = 0, unprivileged = 0, mine = 0;
    for (const auto& [fd, c] : connections_) {
      ++total;
      if (c.privileged) continue;
      ++unprivileged;
      if (c.caller.uid == caller.uid) ++mine;
    }
    if (total >= limits_.total) return false;
    if (privileged) return true;
    return mine < limits_.per_user &&
           unprivileged < limits_.total - limits_.reserved;
  };
  if (fits()) return true;
  Sweep();
  if (fits()) return true;
  // Said once per 100 refusals, not once per attempt of a flood.
  if (refused_++ % 100 == 0) {
    fprintf(stderr,
            "tracectld: connection of uid %u refused: over the limit of %d "
            "per user and %d in all (%llu refused so far)\n",
            caller.uid, limits_.per_user, limits_.total,
            static_cast<unsigned long long>(refused_));
  }
  return false;
}

absl::StatusOr<Caller> PeerListener::CallerOf(const std::string& peer) const {
  int fd = -1;
  if (!absl::StartsWith(peer, "fd:") ||
      !absl::SimpleAtoi(peer.substr(3), &fd)) {
    return absl::UnauthenticatedError(
        absl::StrCat("cannot identify the caller at '", peer, "'"));
  }
  absl::MutexLock lock(&mu_);
  auto it = connections_.find(fd);
  if (it == connections_.end()) {
    return absl::UnauthenticatedError(
        absl::StrCat("no credentials for connection ", peer));
  }
  return it->second.caller;
}

}  // namespace tracectl
