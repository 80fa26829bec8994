#include "daemon/tcp_front.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace tracectl {
namespace {

constexpr size_t kRelayBytes = 64 << 10;  // per direction

absl::Status Errno(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", strerror(errno)));
}

// HOST:PORT or [V6]:PORT into its two halves.
bool SplitHostPort(const std::string& host_port, std::string* host,
                   std::string* port) {
  const size_t colon = host_port.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  *host = host_port.substr(0, colon);
  *port = host_port.substr(colon + 1);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  int number = 0;
  return absl::SimpleAtoi(*port, &number) && number >= 0 && number <= 65535;
}

void SetNonBlocking(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

// Bytes read from one side and not yet written to the other.
struct Direction {
  int from, to;
  char buf[kRelayBytes];
  size_t len = 0, off = 0;
  bool eof = false;

  // Moves what it can without blocking; false when the relay must end.
  bool Pump(short from_events, short to_events) {
    if (len == off && !eof && (from_events & (POLLIN | POLLHUP | POLLERR))) {
      const ssize_t n = read(from, buf, sizeof(buf));
      if (n == 0) {
        eof = true;
        shutdown(to, SHUT_WR);
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        return false;
      } else if (n > 0) {
        len = n;
        off = 0;
      }
    }
    if (off < len && (to_events & (POLLOUT | POLLERR))) {
      const ssize_t n = send(to, buf + off, len - off, MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN && errno != EINTR) return false;
      if (n > 0) off += n;
      if (off == len) off = len = 0;
    }
    return true;
  }
  short WantFrom() const { return len == off && !eof ? POLLIN : 0; }
  short WantTo() const { return off < len ? POLLOUT : 0; }
};

}  // namespace

absl::StatusOr<std::unique_ptr<TcpFront>> TcpFront::Listen(
    const std::string& host_port, int max_connections) {
  std::string host, port;
  if (!SplitHostPort(host_port, &host, &port)) {
    return absl::InvalidArgumentError(
        absl::StrCat("tcp:", host_port, ": expected HOST:PORT"));
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
      rc != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("tcp:", host_port, ": ", gai_strerror(rc)));
  }
  int fd = -1;
  std::string error = "no address";
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, 128) != 0) {
      error = strerror(errno);
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on tcp:", host_port, ": ", error));
  }
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_len);
  const int bound_port =
      ntohs(bound.ss_family == AF_INET6
                ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  char dir[] = "/tmp/tracectld-tcp-XXXXXX";  // mkdtemp: 0700
  if (mkdtemp(dir) == nullptr) {
    const absl::Status status = Errno("mkdtemp");
    close(fd);
    return status;
  }
  const int wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) {
    const absl::Status status = Errno("eventfd");
    close(fd);
    rmdir(dir);
    return status;
  }
  return std::unique_ptr<TcpFront>(
      new TcpFront(fd, wake, bound_port, dir, max_connections));
}

TcpFront::TcpFront(int listen_fd, int wake_fd, int port, std::string dir,
                   int max_connections)
    : listen_fd_(listen_fd),
      wake_fd_(wake_fd),
      port_(port),
      dir_(std::move(dir)),
      backend_path_(dir_ + "/grpc.sock"),
      max_connections_(max_connections) {}

TcpFront::~TcpFront() {
  Stop();
  close(listen_fd_);
  close(wake_fd_);
  unlink(backend_path_.c_str());
  rmdir(dir_.c_str());
}

void TcpFront::Start() {
  accept_thread_ = std::thread([this] { AcceptLoop(); });
}

void TcpFront::Stop() {
  if (stopping_.exchange(true)) return;
  const uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));  // stays readable: wakes all
  if (accept_thread_.joinable()) accept_thread_.join();
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](int* active) { return *active == 0; }, &active_));
}

void TcpFront::AcceptLoop() {
  while (!stopping_) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0 || (fds[1].revents & POLLIN)) continue;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      // Out of fds: wait a little rather than spin on the pending one.
      if (errno == EMFILE || errno == ENFILE) usleep(100 * 1000);
      continue;
    }
    absl::MutexLock lock(&mu_);
    if (active_ >= max_connections_) {
      close(fd);
      ++refused_;
      const int64_t now = absl::GetCurrentTimeNanos();
      if (now - last_said_ns_ > int64_t{60} * 1000 * 1000 * 1000) {
        fprintf(stderr,
                "tracectld: %d TCP connections open (--max-remote-"
                "connections): %llu refused so far\n",
                max_connections_, static_cast<unsigned long long>(refused_));
        last_said_ns_ = now;
      }
      continue;
    }
    ++active_;
    std::thread([this, fd] {
      Relay(fd);
      absl::MutexLock lock(&mu_);
      --active_;
    }).detach();
  }
}

void TcpFront::Relay(int client_fd) {
  const int backend = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", backend_path_.c_str());
  if (backend < 0 ||
      connect(backend, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (backend >= 0) close(backend);
    close(client_fd);
    return;
  }
  SetNonBlocking(client_fd);
  SetNonBlocking(backend);
  auto up = std::make_unique<Direction>();
  up->from = client_fd;
  up->to = backend;
  auto down = std::make_unique<Direction>();
  down->from = backend;
  down->to = client_fd;
  while (!stopping_ && !(up->eof && down->eof && up->len == up->off &&
                         down->len == down->off)) {
    // A side nothing is wanted of is left out: a hung-up socket would end
    // every wait at once.
    const short client_events = up->WantFrom() | down->WantTo();
    const short backend_events = down->WantFrom() | up->WantTo();
    pollfd fds[3] = {{client_events ? client_fd : -1, client_events, 0},
                     {backend_events ? backend : -1, backend_events, 0},
                     {wake_fd_, POLLIN, 0}};
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[2].revents & POLLIN) break;
    if (!up->Pump(fds[0].revents, fds[1].revents) ||
        !down->Pump(fds[1].revents, fds[0].revents)) {
      break;
    }
    if (((fds[0].revents | fds[1].revents) & (POLLERR | POLLNVAL)) != 0) break;
    // A side hung up both ways (poll would say so again at once): what is
    // left for it cannot be delivered, and it sends nothing more.
    if (((fds[0].revents & POLLHUP) && up->eof) ||
        ((fds[1].revents & POLLHUP) && down->eof)) {
      break;
    }
  }
  close(client_fd);
  close(backend);
}

}  // namespace tracectl
