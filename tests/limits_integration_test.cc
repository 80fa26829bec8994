// What no local user can take from the others: connections and streams of
// a real tracectld, flooded by uid 65534.
#include <grp.h>
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/harness.h"
#include "tracectl/v1/tracectl.grpc.pb.h"

namespace tracectl::testing {
namespace {

int Connect(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// True once the daemon has closed `fd` (reads reach end of file) within
// `timeout_ms`; what it sent before (SETTINGS, GOAWAY) is read and dropped.
bool ClosedByPeer(int fd, int timeout_ms) {
  const auto end =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[4096];
  for (;;) {
    const int left =
        static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                             end - std::chrono::steady_clock::now())
                             .count());
    if (left <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, left) <= 0) continue;
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n == 0) return true;
    if (n < 0 && errno != EINTR && errno != EAGAIN) return true;  // reset
  }
}

uint64_t RssKiB(pid_t pid) {
  for (const std::string& line :
       Lines(ReadFile("/proc/" + std::to_string(pid) + "/status"))) {
    if (line.rfind("VmRSS:", 0) == 0) {
      std::vector<std::string> f =
          absl::StrSplit(line, ' ', absl::SkipWhitespace());
      uint64_t kib = 0;
      if (f.size() >= 2 && absl::SimpleAtoi(f[1], &kib)) return kib;
    }
  }
  return 0;
}

double SecondsOf(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
      .count();
}

class LimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sandbox_ = std::make_unique<Sandbox>();
    daemon_ = std::make_unique<Daemon>(
        *sandbox_,
        std::vector<std::string>{"--idle-timeout", "3", "--start-timeout", "1",
                                 "--max-buffer-bytes-per-user", "67108864"});
  }
  RunResult Info(const RunOptions& options = {}) {
    return RunProgram(
        {sandbox_->tracectl(), "--socket", sandbox_->socket(), "info"},
        options);
  }
  std::unique_ptr<Sandbox> sandbox_;
  std::unique_ptr<Daemon> daemon_;
};

TEST_F(LimitsTest, IdleConnectionsOfOneUserLeaveRootServed) {
  const uint64_t idle_rss = RssKiB(daemon_->process().pid());
  // A child as uid 65534 opens 30,000 connections in batches of 1,000 and
  // holds every one; it reports how many the daemon had not closed at once.
  int report[2];
  ASSERT_EQ(pipe(report), 0);
  const pid_t child = fork();
  if (child == 0) {
    if (setgroups(0, nullptr) != 0 || setresgid(kNobody, kNobody, kNobody) ||
        setresuid(kNobody, kNobody, kNobody)) {
      _exit(1);
    }
    // Connections the daemon refused are closed by it at once: after each
    // batch this side closes those and keeps the others open.
    std::vector<int> fds;
    int attempted = 0, connected = 0;
    auto closed_by_daemon = [](int fd) {
      pollfd p{fd, POLLIN, 0};
      char buf[256];
      while (poll(&p, 1, 0) == 1) {
        const ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN)) return true;
        if (n < 0) break;
      }
      return false;
    };
    for (int batch = 0; batch < 30; ++batch) {
      for (int i = 0; i < 1000; ++i, ++attempted) {
        const int fd = Connect(sandbox_->socket());
        if (fd < 0) continue;
        ++connected;
        fds.push_back(fd);
      }
      usleep(200 * 1000);
      std::vector<int> kept;
      for (int fd : fds) {
        if (closed_by_daemon(fd)) {
          close(fd);
        } else {
          kept.push_back(fd);
        }
      }
      fds.swap(kept);
    }
    const int open = static_cast<int>(fds.size());
    (void)attempted;
    const int opened = connected;
    (void)!write(report[1], &opened, sizeof(opened));
    (void)!write(report[1], &open, sizeof(open));
    pause();  // holds them until killed
    _exit(0);
  }
  close(report[1]);
  int opened = 0, open = 0;
  ASSERT_EQ(read(report[0], &opened, sizeof(opened)),
            static_cast<ssize_t>(sizeof(opened)));
  ASSERT_EQ(read(report[0], &open, sizeof(open)),
            static_cast<ssize_t>(sizeof(open)));
  close(report[0]);
  EXPECT_EQ(opened, 30000);
  // The per-user limit (32 by default): the rest were closed.
  EXPECT_LE(open, 32);
  EXPECT_GE(open, 1);

  // Root is served at once while the flood holds its connections.
  RunResult r;
  const double seconds = SecondsOf([&] { r = Info(); });
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(seconds, 1.0);
  // So is another user... and uid 65534 itself once the idle timeout (3 s)
  // has closed its idle connections.
  RunResult nobody_now = Info({.as_nobody = true});
  EXPECT_NE(nobody_now.exit_code, 0) << "uid 65534 is at its limit";
  usleep(4500 * 1000);
  RunResult nobody_later = Info({.as_nobody = true});
  EXPECT_EQ(nobody_later.exit_code, 0) << nobody_later.err;

  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  const uint64_t rss = RssKiB(daemon_->process().pid());
  EXPECT_LT(rss, idle_rss + 50 * 1024) << "idle " << idle_rss << " KiB";
  printf("daemon RSS: idle %llu KiB, after the flood %llu KiB\n",
         static_cast<unsigned long long>(idle_rss),
         static_cast<unsigned long long>(rss));
}

TEST_F(LimitsTest, IdleConnectionIsClosedAfterTheTimeout) {
  const int fd = Connect(sandbox_->socket());
  ASSERT_GE(fd, 0);
  // Not before the timeout (3 s)...
  EXPECT_FALSE(ClosedByPeer(fd, 2000));
  // ...and soon after it.
  EXPECT_TRUE(ClosedByPeer(fd, 3000));
  close(fd);
}

// Session streams opened on one connection that never send their start
// message: each ends with DEADLINE_EXCEEDED after the start timeout (1 s
// here), at most 16 at a time exist at the daemon (the connection's stream
// limit; the client queues the others), and the daemon's memory stays put.
TEST_F(LimitsTest, StreamsThatNeverStartEndAtTheDeadline) {
  const pid_t daemon_pid = daemon_->process().pid();
  const uint64_t idle_rss = RssKiB(daemon_pid);
  auto channel = grpc::CreateChannel("unix:" + sandbox_->socket(),
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::Tracer::NewStub(channel);
  constexpr int kStreams = 160;
  grpc::CompletionQueue cq;
  struct Call {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientAsyncReaderWriter<v1::SyscallsClientMessage,
                                                  v1::SyscallsServerMessage>>
        stream;
    grpc::Status status;
  };
  std::vector<std::unique_ptr<Call>> calls;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kStreams; ++i) {
    auto call = std::make_unique<Call>();
    call->stream = stub->AsyncSyscalls(&call->context, &cq,
                                       reinterpret_cast<void*>(2 * i));
    calls.push_back(std::move(call));
  }
  // Each call: its start tag (2i), then Finish (2i + 1).
  int finished = 0, deadline_exceeded = 0;
  uint64_t max_rss = idle_rss;
  void* tag;
  bool ok;
  while (finished < kStreams && cq.AsyncNext(&tag, &ok,
                                             std::chrono::system_clock::now() +
                                                 std::chrono::seconds(30)) ==
                                    grpc::CompletionQueue::GOT_EVENT) {
    const intptr_t t = reinterpret_cast<intptr_t>(tag);
    Call& call = *calls[t / 2];
    if (t % 2 == 0) {
      call.stream->Finish(&call.status, reinterpret_cast<void*>(t + 1));
      continue;
    }
    ++finished;
    if (call.status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED &&
        call.status.error_message().find("no start message") !=
            std::string::npos) {
      ++deadline_exceeded;
    }
    max_rss = std::max(max_rss, RssKiB(daemon_pid));
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  EXPECT_EQ(finished, kStreams);
  EXPECT_EQ(deadline_exceeded, kStreams);
  // 160 streams, 16 at a time, 1 s each: about 10 s, not all at once.
  EXPECT_GE(seconds, 0.9 * kStreams / 16);
  EXPECT_LT(max_rss, idle_rss + 50 * 1024) << "idle " << idle_rss;
  printf("%d streams in %.1f s; daemon RSS idle %llu KiB, at most %llu KiB\n",
         finished, seconds, static_cast<unsigned long long>(idle_rss),
         static_cast<unsigned long long>(max_rss));
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  // The daemon still serves.
  EXPECT_EQ(
      RunProgram({sandbox_->tracectl(), "--socket", sandbox_->socket(), "info"})
          .exit_code,
      0);
}

// Kernel buffers are budgeted per uid (64 MiB here): uid 65534's second
// session that would pass it is refused with a message naming the budget,
// while root's session of the same size starts, and the budget comes back
// when the first session ends.
TEST_F(LimitsTest, RingBuffersAreBudgetedPerUser) {
  auto trace = [&](const std::string& bytes, const std::string& seconds) {
    return std::vector<std::string>{sandbox_->tracectl(),
                                    "--socket",
                                    sandbox_->socket(),
                                    "trace",
                                    "--buffer-size",
                                    bytes,
                                    "-e",
                                    "trace=getppid",
                                    "--",
                                    "/bin/sleep",
                                    seconds};
  };
  const int links = CountBpfLinks();
  std::unique_ptr<Process> first =
      Process::Start(trace("67108864", "4"), {.as_nobody = true});
  for (int i = 0; i < 100 && CountBpfLinks() <= links; ++i) usleep(50000);
  ASSERT_GT(CountBpfLinks(), links) << "the first session did not start";

  RunResult second = RunProgram(trace("4194304", "0"), {.as_nobody = true});
  EXPECT_EQ(second.exit_code, 1) << second.err;
  EXPECT_NE(second.err.find("budget of 64 MiB"), std::string::npos)
      << second.err;
  EXPECT_NE(second.err.find("--max-buffer-bytes-per-user"), std::string::npos)
      << second.err;

  RunResult root = RunProgram(trace("67108864", "0"));
  EXPECT_EQ(root.exit_code, 0) << root.err;

  EXPECT_EQ(first->Wait().exit_code, 0);
  RunResult again = RunProgram(trace("67108864", "0"), {.as_nobody = true});
  EXPECT_EQ(again.exit_code, 0) << again.err;
}

// Samples the daemon's RSS every 50 ms while it lives: the most seen.
class RssWatch {
 public:
  explicit RssWatch(pid_t pid)
      : thread_([this, pid] {
          while (!stop_) {
            max_ = std::max<uint64_t>(max_, RssKiB(pid));
            usleep(50 * 1000);
          }
        }) {}
  ~RssWatch() { Stop(); }
  uint64_t Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    return max_;
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> max_{0};
  std::thread thread_;
};

// A stripped binary whose MiniDebugInfo is 1 GiB of zeros once
// decompressed: the daemon does not decompress it, says so, and the
// session ends on time.
TEST_F(LimitsTest, MiniDebugInfoBombIsNotDecompressed) {
  const std::string dir = sandbox_->dir();
  const std::string bomb = dir + "/bomb";
  const std::string script =
      "set -e; cd " + dir +
      "; objcopy --strip-all hot_helper stripped"
      "; head -c 1G /dev/zero | xz -0 -C crc32 > bomb.xz"
      "; objcopy --add-section .gnu_debugdata=bomb.xz stripped bomb"
      "; chmod 755 bomb; rm bomb.xz stripped";
  ASSERT_EQ(
      RunProgram({"/bin/sh", "-c", script}, {.timeout_ms = 120000}).exit_code,
      0);
  const pid_t daemon_pid = daemon_->process().pid();
  const uint64_t idle = RssKiB(daemon_pid);
  RssWatch watch(daemon_pid);
  RunResult r;
  const double seconds = SecondsOf([&] {
    r = RunProgram({sandbox_->tracectl(), "--socket", sandbox_->socket(),
                    "flame", "--format", "folded", "--", bomb, "3"},
                   {.as_nobody = true});
  });
  const uint64_t max_rss = watch.Stop();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(seconds, 3.0 + 2.0);
  EXPECT_LT(max_rss, idle + 200 * 1024) << "idle " << idle << " KiB";
  EXPECT_NE(r.err.find("MiniDebugInfo not read"), std::string::npos) << r.err;
  // .dynsym still names what it can: the libc frames.
  EXPECT_NE(r.out.find("__libc_start_main"), std::string::npos) << r.out;
  printf("bomb: %.1f s; daemon RSS idle %llu KiB, at most %llu KiB\n", seconds,
         static_cast<unsigned long long>(idle),
         static_cast<unsigned long long>(max_rss));
}

// A JIT map with a 10 MiB name, growing past the 64 MiB cap while the
// daemon reads it: the name is cut and counted, the memory stays bounded.
TEST_F(LimitsTest, JitMapThatGrowsAndHugeNamesAreBounded) {
  std::unique_ptr<Process> jit =
      Process::Start({sandbox_->dir() + "/jit_helper", "5"});
  const std::string map = "/tmp/perf-" + std::to_string(jit->pid()) + ".map";
  std::string first;
  for (int i = 0; i < 100 && first.empty(); ++i) {
    usleep(20 * 1000);
    std::vector<std::string> lines = Lines(ReadFile(map));
    if (!lines.empty()) first = lines[0];
  }
  ASSERT_FALSE(first.empty());
  const std::string range = first.substr(0, first.rfind(' '));
  {
    std::ofstream out(map, std::ios::trunc);
    out << range << " " << std::string(10 << 20, 'n') << "\n";
  }
  const pid_t daemon_pid = daemon_->process().pid();
  const uint64_t idle = RssKiB(daemon_pid);
  RssWatch watch(daemon_pid);
  std::atomic<bool> stop{false};
  // After a second, the map grows by 1 KiB lines to 256 MiB.
  std::thread grow([&] {
    usleep(1000 * 1000);
    std::ofstream out(map, std::ios::app);
    const std::string line = "1 1 " + std::string(1000, 'g') + "\n";
    for (size_t n = 0; n < (256u << 20) / line.size() && !stop; ++n) {
      out << line;
    }
  });
  RunResult r =
      RunProgram({sandbox_->tracectl(), "--socket", sandbox_->socket(), "flame",
                  "--format", "folded", "--pid", std::to_string(jit->pid()),
                  "--duration", "3"});
  stop = true;
  grow.join();
  const uint64_t max_rss = watch.Stop();
  jit->Wait();
  unlink(map.c_str());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("symbol names cut at 4096 bytes"), std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find(std::string(4096, 'n') + " "), std::string::npos);
  EXPECT_EQ(r.out.find(std::string(4097, 'n')), std::string::npos);
  EXPECT_LT(max_rss, idle + 200 * 1024) << "idle " << idle << " KiB";
  printf("jit map: daemon RSS idle %llu KiB, at most %llu KiB\n",
         static_cast<unsigned long long>(idle),
         static_cast<unsigned long long>(max_rss));
}

// A program whose binary was deleted while it runs (a package upgraded
// under a running server) is still symbolized, for its own user too.
TEST_F(LimitsTest, DeletedBinaryIsSymbolized) {
  const std::string copy = sandbox_->dir() + "/deleted_helper";
  std::filesystem::copy_file(sandbox_->hot_helper(), copy);
  std::unique_ptr<Process> helper =
      Process::Start({copy, "4"}, {.as_nobody = true});
  usleep(300 * 1000);
  ASSERT_EQ(unlink(copy.c_str()), 0);
  RunResult r =
      RunProgram({sandbox_->tracectl(), "--socket", sandbox_->socket(), "flame",
                  "--format", "folded", "--pid", std::to_string(helper->pid()),
                  "--duration", "1"},
                 {.as_nobody = true});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(";main;work;hot_a"), std::string::npos) << r.out;
}

// One HTTP/2 frame.
std::string Frame(uint8_t type, uint8_t flags, uint32_t stream,
                  const std::string& payload) {
  std::string f;
  const uint32_t len = payload.size();
  f += static_cast<char>(len >> 16);
  f += static_cast<char>(len >> 8);
  f += static_cast<char>(len);
  f += static_cast<char>(type);
  f += static_cast<char>(flags);
  f += static_cast<char>(stream >> 24);
  f += static_cast<char>(stream >> 16);
  f += static_cast<char>(stream >> 8);
  f += static_cast<char>(stream);
  return f + payload;
}

// A header block that never ends: HEADERS without END_HEADERS, a literal
// header whose value says 1 GiB, then 64 MB of CONTINUATION frames. gRPC
// 1.51 buffers such a block whole (CVE-2023-33953); the daemon's transport
// memory quota drops the connection instead, and the daemon serves again
// once the flood's connection is gone.
TEST_F(LimitsTest, ContinuationFloodIsContained) {
  const pid_t daemon_pid = daemon_->process().pid();
  const uint64_t idle = RssKiB(daemon_pid);
  RssWatch watch(daemon_pid);
  const int fd = Connect(sandbox_->socket());
  ASSERT_GE(fd, 0);
  std::string start = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  start += Frame(4, 0, 0, "");  // SETTINGS
  // Literal without indexing, new name ":path", value length 2^30.
  start +=
      Frame(1, 0, 1, std::string("\x00\x05:path\x7f\x81\xff\xff\xff\x03", 13));
  ASSERT_EQ(send(fd, start.data(), start.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(start.size()));
  const std::string chunk = Frame(9, 0, 1, std::string(16384, 'a'));
  size_t sent = 0;
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  while (sent < (64u << 20)) {
    const ssize_t n = send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL);
    if (n <= 0) break;  // dropped (or stalled): what the quota does
    sent += n;
  }
  close(fd);
  const uint64_t max_rss = watch.Stop();
  // Without the quota, 64 MB of flood cost this daemon about 180 MB.
  EXPECT_LT(max_rss, idle + 100 * 1024) << "idle " << idle << " KiB";
  // Served again within the idle timeout (3 s here).
  bool served = false;
  for (int i = 0; i < 40 && !served; ++i) {
    served = Info().exit_code == 0;
    if (!served) usleep(100 * 1000);
  }
  EXPECT_TRUE(served);
  printf("flood: %zu MB sent; daemon RSS idle %llu KiB, at most %llu KiB\n",
         sent >> 20, static_cast<unsigned long long>(idle),
         static_cast<unsigned long long>(max_rss));
}

}  // namespace
}  // namespace tracectl::testing
