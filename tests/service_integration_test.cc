// tracectld as a systemd service: its units pass systemd-analyze verify, and
// with socket activation it serves the socket systemd made (here made by
// systemd-socket-activate, from Debian's systemd package, as systemd does
// for tracectld.socket), each caller known by SO_PEERCRED.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "tests/harness.h"

namespace tracectl::testing {
namespace {

constexpr const char* kActivate = "/usr/bin/systemd-socket-activate";
constexpr const char* kAnalyze = "/usr/bin/systemd-analyze";

// The text of `path` with every `from` replaced by `to`.
std::string Replaced(const std::string& path, const std::string& from,
                     const std::string& to) {
  std::string text = ReadFile(path);
  for (size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

// Waits up to 10 s for `path` to exist.
bool WaitForFile(const std::string& path) {
  for (int waited = 0; waited < 10000; waited += 10) {
    if (access(path.c_str(), F_OK) == 0) return true;
    usleep(10000);
  }
  return false;
}

// The units as installed, the service running the sandbox's daemon (verify
// checks that ExecStart's program exists).
TEST(ServiceTest, UnitsPassSystemdAnalyzeVerify) {
  if (access(kAnalyze, X_OK) != 0) GTEST_SKIP() << "no " << kAnalyze;
  Sandbox sandbox;
  const std::string service = sandbox.dir() + "/tracectld.service";
  const std::string socket = sandbox.dir() + "/tracectld.socket";
  WriteFile(service, Replaced(std::string(DEPLOY_DIR) + "/tracectld.service.in",
                              "@TRACECTLD_PATH@", sandbox.tracectld()));
  WriteFile(socket, ReadFile(std::string(DEPLOY_DIR) + "/tracectld.socket"));
  ASSERT_NE(ReadFile(service).find("ExecStart=" + sandbox.tracectld()),
            std::string::npos);
  RunResult r = RunProgram({kAnalyze, "verify", "--man=no", socket, service});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  // Unknown keys and bad values are only warnings to verify.
  EXPECT_EQ(r.err, "") << r.err;
  EXPECT_EQ(r.out, "") << r.out;

  // verify does fail: a service whose program does not exist.
  WriteFile(service, Replaced(std::string(DEPLOY_DIR) + "/tracectld.service.in",
                              "@TRACECTLD_PATH@", "/nonexistent/tracectld"));
  RunResult missing =
      RunProgram({kAnalyze, "verify", "--man=no", socket, service});
  EXPECT_NE(missing.exit_code, 0) << missing.err;
}

TEST(ServiceTest, SocketActivationServesTheInheritedSocket) {
  if (access(kActivate, X_OK) != 0) GTEST_SKIP() << "no " << kActivate;
  Sandbox sandbox;
  const std::string path = sandbox.dir() + "/activated.sock";
  const std::string unused = sandbox.dir() + "/unused.sock";
  // The daemon's own --socket is not used when systemd passes one.
  auto daemon = Process::Start(
      {kActivate, "-l", path, sandbox.tracectld(), "--socket", unused});
  ASSERT_TRUE(WaitForFile(path)) << daemon->Wait(1000).err;
  // SocketMode=0666 in tracectld.socket; systemd-socket-activate leaves
  // the umask's mode.
  ASSERT_EQ(chmod(path.c_str(), 0666), 0);

  // Like systemd, systemd-socket-activate starts the daemon at the first
  // connection, which the daemon then accepts.
  for (const bool nobody : {false, true}) {
    auto info =
        Process::Start({sandbox.tracectl(), "--socket", path, "info", "--json"},
                       {.as_nobody = nobody});
    const RunResult r = info->Wait();
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string uid = nobody ? "65534" : "0";
    EXPECT_NE(r.out.find("\"caller\":{\"uid\":" + uid + ",\"gid\":" + uid +
                         ",\"pid\":" + std::to_string(info->pid()) + ","),
              std::string::npos)
        << r.out;
  }
  EXPECT_TRUE(daemon->WaitForError("(socket from systemd)"))
      << daemon->Wait(1000).err;
  EXPECT_NE(ReadFile("/proc/" + std::to_string(daemon->pid()) + "/cmdline")
                .find("tracectld"),
            std::string::npos);
  EXPECT_NE(access(unused.c_str(), F_OK), 0);

  // A session through it, exact.
  RunResult r = RunProgram({sandbox.tracectl(), "--socket", path, "syscalls",
                            "--json", "--", sandbox.helper(), "1234", "0", "0"},
                           {.as_nobody = true});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(FindRow(ParseSyscallsJson(r.out), "getppid").calls, 1234u) << r.out;

  // The socket is systemd's: it stays when the daemon stops.
  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(10000).exit_code, 0);
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
}

TEST(ServiceTest, InheritedSocketMustBeAListeningUnixSocket) {
  if (access(kActivate, X_OK) != 0) GTEST_SKIP() << "no " << kActivate;
  Sandbox sandbox;
  // A datagram socket is no place for gRPC. The daemon starts at the
  // first datagram.
  const std::string path = sandbox.dir() + "/dgram.sock";
  auto daemon = Process::Start(
      {kActivate, "--datagram", "-l", path, sandbox.tracectld()});
  ASSERT_TRUE(WaitForFile(path)) << daemon->Wait(1000).err;
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
  EXPECT_EQ(
      sendto(fd, "x", 1, 0, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)),
      1);
  close(fd);
  const RunResult r = daemon->Wait(10000);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("is not a listening Unix stream socket"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace tracectl::testing
