// Remote callers: tracectld on TCP with mutual TLS, certificates made here
// with openssl, each client certificate's identity given a scope by the
// daemon's identities file; and everything refused that should be.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/harness.h"

namespace tracectl::testing {
namespace {

// A CA, the daemon's certificate (for 127.0.0.1), and client certificates:
// ops (SAN DNS:ops.example, mapped to admin), watcher (CN only, mapped to
// nobody), stranger (in no file), one of another CA, one expired.
constexpr const char* kMakeCertificates = R"(set -e
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key"; }
ca() { key "$1"; openssl req -x509 -new -key "$1.key" -out "$1.crt" -subj "/CN=$1" -days 2; }
cert() {  # NAME CA DAYS [EXTENSIONS]
  key "$1"
  openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=$1"
  printf '%s\n' "${4:-basicConstraints=CA:FALSE}" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial \
    -out "$1.crt" -days "$3" -extfile "$1.ext"
}
ca ca; ca otherca
cert server ca 2 'subjectAltName=IP:127.0.0.1,DNS:localhost'
cert netserver ca 2 'subjectAltName=IP:10.77.1.1,IP:10.77.2.1'
cert ops ca 2 'subjectAltName=DNS:ops.example'
cert watcher ca 2
cert stranger ca 2
cert foreign otherca 2
cert expired ca -1
chmod 644 *.key
)";

// "127.0.0.1:PORT" of a daemon started with --listen tcp:127.0.0.1:0, from
// its log; "" (and a failure) when the log names no port.
std::string TcpHostOf(Daemon& daemon) {
  std::smatch port;
  const std::string log = daemon.process().ErrorSoFar();
  if (!std::regex_search(log, port,
                         std::regex("tcp:127.0.0.1:0 port ([0-9]+)"))) {
    ADD_FAILURE() << "no port in the daemon's log: " << log;
    return "";
  }
  return "127.0.0.1:" + port[1].str();
}

class RemoteTest : public ::testing::Test {
 protected:
  // tracectld's flags for mutual TLS on 127.0.0.1 (any port), clients of
  // `client_ca`, the suite's identities.
  static std::vector<std::string> TlsDaemonFlags(const std::string& client_ca) {
    return {"--listen",
            "tcp:127.0.0.1:0",
            "--tls-cert",
            certs_ + "/server.crt",
            "--tls-key",
            certs_ + "/server.key",
            "--tls-client-ca",
            client_ca,
            "--remote-identities",
            certs_ + "/identities"};
  }

  static void SetUpTestSuite() {
    sandbox_ = new Sandbox();
    certs_ = sandbox_->dir() + "/certs";
    RunResult made = RunProgram({"/bin/sh", "-c",
                                 "mkdir -p " + certs_ + " && cd " + certs_ +
                                     " && " + kMakeCertificates});
    if (made.exit_code != 0) throw std::runtime_error("openssl: " + made.err);
    std::ofstream(certs_ + "/identities")
        << "# identity  role\nops.example admin\nwatcher nobody\n";
    daemon_ = new Daemon(*sandbox_, TlsDaemonFlags(certs_ + "/ca.crt"));
    host_ = TcpHostOf(*daemon_);
    if (host_.empty()) throw std::runtime_error("the daemon names no port");
  }
  static void TearDownTestSuite() {
    delete daemon_;
    delete sandbox_;
  }

  // tracectl --host with the client certificate `client` ("" for none).
  static RunResult Remote(const std::string& client,
                          std::vector<std::string> args,
                          const RunOptions& options = {}) {
    std::vector<std::string> argv = {sandbox_->tracectl(), "--host", host_,
                                     "--tls-ca", certs_ + "/ca.crt"};
    if (!client.empty()) {
      argv.insert(argv.end(), {"--tls-cert", certs_ + "/" + client + ".crt",
                               "--tls-key", certs_ + "/" + client + ".key"});
    }
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProgram(argv, options);
  }

  // Exactly how many getppid calls a remote system-wide session of
  // `client` on syscall_helper counts while root's helper makes 500 and
  // uid 65534's makes 100.
  static uint64_t GetppidSeenBy(const std::string& client) {
    const int links = CountBpfLinks();
    auto session = Process::Start(
        {sandbox_->tracectl(), "--host", host_, "--tls-ca", certs_ + "/ca.crt",
         "--tls-cert", certs_ + "/" + client + ".crt", "--tls-key",
         certs_ + "/" + client + ".key", "syscalls", "--json", "--comm",
         "syscall_helper", "--duration", "3"});
    EXPECT_GE(WaitForBpfLinks(links + 3), links + 3) << session->Wait().err;
    EXPECT_EQ(RunProgram({sandbox_->helper(), "500", "0", "0"}).exit_code, 0);
    EXPECT_EQ(
        RunProgram({sandbox_->helper(), "100", "0", "0"}, {.as_nobody = true})
            .exit_code,
        0);
    const RunResult r = session->Wait();
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return FindRow(ParseSyscallsJson(r.out), "getppid").calls;
  }

  static Sandbox* sandbox_;
  static Daemon* daemon_;
  static std::string certs_;
  static std::string host_;
};
Sandbox* RemoteTest::sandbox_ = nullptr;
Daemon* RemoteTest::daemon_ = nullptr;
std::string RemoteTest::certs_;
std::string RemoteTest::host_;

TEST_F(RemoteTest, AdminIdentitySeesEveryProcess) {
  RunResult info = Remote("ops", {"info"});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_NE(info.out.find("remote identity ops.example, as root (uid 0, gid 0)"
                          ", administrator"),
            std::string::npos)
      << info.out;
  EXPECT_NE(info.out.find("host:     " + host_ + " (mutual TLS)"),
            std::string::npos)
      << info.out;
  EXPECT_EQ(GetppidSeenBy("ops"), 600u);
}

// The same scope as a local caller of uid 65534: its own processes only.
TEST_F(RemoteTest, IdentityMappedToNobodySeesOnlyNobodysProcesses) {
  RunResult info = Remote("watcher", {"info", "--json"});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_NE(info.out.find("\"uid\":65534"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("\"admin\":false,\"remote_identity\":\"watcher\""),
            std::string::npos)
      << info.out;
  EXPECT_EQ(GetppidSeenBy("watcher"), 100u);
}

TEST_F(RemoteTest, RefusalsAreOneLine) {
  struct Case {
    std::string client;
    std::vector<std::string> args;
    int code;
    std::string says;
  } cases[] = {
      {"", {"info"}, 1, "cannot reach tracectld at " + host_},
      {"foreign", {"info"}, 1, "cannot reach tracectld at " + host_},
      {"expired", {"info"}, 1, "cannot reach tracectld at " + host_},
      {"stranger",
       {"info"},
       1,
       "remote identity 'stranger' is not in this daemon's identities file"},
      {"stranger",
       {"syscalls", "--duration", "1"},
       1,
       "remote identity 'stranger' is not in this daemon's identities file"},
      {"ops",
       {"syscalls", "--", sandbox_->helper(), "1", "0", "0"},
       2,
       "-- CMD runs a command on this host, not on " + host_},
  };
  for (const Case& c : cases) {
    RunResult r = Remote(c.client, c.args);
    EXPECT_EQ(r.exit_code, c.code) << c.client << ": " << r.err;
    EXPECT_EQ(Lines(r.err).size(), 1u) << c.client << ": " << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos)
        << c.client << ": " << r.err;
  }
}

TEST_F(RemoteTest, DaemonRefusesUnsafeListening) {
  const std::string ca = certs_ + "/ca.crt";
  struct Case {
    std::vector<std::string> flags;
    std::string says;
  } cases[] = {
      {{"--listen", "tcp:127.0.0.1:0"}, "needs --tls-cert, --tls-key"},
      {{"--listen", "tcp:0.0.0.0:0", "--insecure-loopback"},
       "0.0.0.0:0 is not a loopback address"},
      {{"--listen", "tcp:127.0.0.1:0", "--tls-cert", certs_ + "/server.crt",
        "--tls-key", certs_ + "/server.key", "--tls-client-ca", ca},
       "needs --remote-identities"},
      {{"--listen", "udp:1"}, "expected unix:PATH or tcp:HOST:PORT"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> argv = {sandbox_->tracectld(), "--socket",
                                     sandbox_->dir() + "/refused.sock"};
    argv.insert(argv.end(), c.flags.begin(), c.flags.end());
    RunResult r = RunProgram(argv, {.timeout_ms = 10000});
    EXPECT_EQ(r.exit_code, 2) << c.says << ": " << r.err;
    EXPECT_EQ(Lines(r.err).size(), 1u) << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
  }
  // An identities file naming a user that does not exist.
  std::ofstream(certs_ + "/bad-identities") << "ops.example admin\n"
                                            << "eve no-such-user-here\n";
  RunResult r = RunProgram(
      {sandbox_->tracectld(), "--socket", sandbox_->dir() + "/refused.sock",
       "--listen", "tcp:127.0.0.1:0", "--tls-cert", certs_ + "/server.crt",
       "--tls-key", certs_ + "/server.key", "--tls-client-ca", ca,
       "--remote-identities", certs_ + "/bad-identities"},
      {.timeout_ms = 10000});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("line 2: eve: no local user 'no-such-user-here'"),
            std::string::npos)
      << r.err;
}

// A rotated client CA serves new connections without a restart: the files
// are read again every --tls-reload-interval.
TEST_F(RemoteTest, RotatedCertificatesTakeEffectWithoutRestart) {
  Sandbox sandbox;
  const std::string client_ca = sandbox.dir() + "/client-ca.crt";
  std::filesystem::copy_file(certs_ + "/ca.crt", client_ca);
  std::vector<std::string> flags = TlsDaemonFlags(client_ca);
  flags.insert(flags.end(), {"--tls-reload-interval", "1"});
  Daemon daemon(sandbox, flags);
  const std::string host = TcpHostOf(daemon);
  ASSERT_FALSE(host.empty());
  auto info = [&](const std::string& client) {
    return RunProgram({sandbox.tracectl(), "--host", host, "--tls-ca",
                       certs_ + "/ca.crt", "--tls-cert",
                       certs_ + "/" + client + ".crt", "--tls-key",
                       certs_ + "/" + client + ".key", "info", "--json"});
  };
  EXPECT_EQ(info("ops").exit_code, 0);
  EXPECT_EQ(info("foreign").exit_code, 1);
  // Now clients must come from the other CA (foreign's CN is in no file:
  // past the handshake, it is refused by name).
  std::ofstream(client_ca + ".new") << ReadFile(certs_ + "/otherca.crt");
  std::filesystem::rename(client_ca + ".new", client_ca);
  RunResult foreign;
  for (int i = 0; i < 50; ++i) {
    foreign = info("foreign");
    if (foreign.err.find("remote identity 'foreign'") != std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(foreign.err.find("remote identity 'foreign' is not in this "
                             "daemon's identities file"),
            std::string::npos)
      << foreign.err;
  RunResult ops = info("ops");
  EXPECT_EQ(ops.exit_code, 1) << ops.out;
  EXPECT_NE(ops.err.find("cannot reach tracectld"), std::string::npos)
      << ops.err;
}

// Several hosts at once: a second daemon on another port, one client
// asking both; each host's report says which it is. Both daemons see the
// same helper here (one machine), so each counts its 500 calls exactly.
TEST_F(RemoteTest, SeveralHostsAnswerTogether) {
  Sandbox sandbox;
  Daemon second(sandbox, TlsDaemonFlags(certs_ + "/ca.crt"));
  const std::string other = TcpHostOf(second);
  ASSERT_FALSE(other.empty());
  const std::vector<std::string> client = {
      sandbox_->tracectl(), "--host",           host_ + "," + other,
      "--tls-ca",           certs_ + "/ca.crt", "--tls-cert",
      certs_ + "/ops.crt",  "--tls-key",        certs_ + "/ops.key"};
  auto with = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = client;
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  };

  RunResult info = RunProgram(with({"info", "--json"}));
  ASSERT_EQ(info.exit_code, 0) << info.err;
  const std::vector<std::string> infos = Lines(info.out);
  ASSERT_EQ(infos.size(), 2u) << info.out;
  EXPECT_NE(infos[0].find("\"host\":\"" + host_ + "\""), std::string::npos);
  EXPECT_NE(infos[1].find("\"host\":\"" + other + "\""), std::string::npos);

  const int links = CountBpfLinks();
  auto session = Process::Start(with(
      {"syscalls", "--json", "--comm", "syscall_helper", "--duration", "3"}));
  ASSERT_GE(WaitForBpfLinks(links + 6), links + 6) << session->Wait().err;
  ASSERT_EQ(RunProgram({sandbox_->helper(), "500", "0", "0"}).exit_code, 0);
  const RunResult r = session->Wait();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> reports = Lines(r.out);
  ASSERT_EQ(reports.size(), 2u) << r.out;
  for (size_t i = 0; i < 2; ++i) {
    const std::string host = i == 0 ? host_ : other;
    EXPECT_EQ(reports[i].rfind("{\"host\":\"" + host + "\",", 0), 0u)
        << reports[i];
    EXPECT_EQ(FindRow(ParseSyscallsJson(reports[i]), "getppid").calls, 500u)
        << reports[i];
    // Every row names its host too.
    auto occurrences = [&](const std::string& what) {
      size_t n = 0;
      for (size_t at = reports[i].find(what); at != std::string::npos;
           at = reports[i].find(what, at + 1)) {
        ++n;
      }
      return n;
    };
    EXPECT_GE(occurrences("{\"name\":"), 1u);
    EXPECT_EQ(occurrences("{\"name\":"),
              occurrences("],\"host\":\"" + host + "\"}"))
        << reports[i];
  }

  // Text: one table, a HOST column telling the rows apart; Ctrl-C ends
  // every host's session with its summary, as it does one host's.
  const int links_before_table = CountBpfLinks();
  auto table = Process::Start(with({"syscalls", "--comm", "syscall_helper"}));
  ASSERT_GE(WaitForBpfLinks(links_before_table + 6), links_before_table + 6)
      << table->Wait().err;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(RunProgram({sandbox_->helper(), "321", "0", "0"}).exit_code, 0);
  table->Signal(SIGINT);
  const RunResult merged = table->Wait();
  ASSERT_EQ(merged.exit_code, 0) << merged.err;
  EXPECT_NE(merged.out.find(" on 2 hosts over "), std::string::npos)
      << merged.out;
  EXPECT_EQ(CountMatching(merged.out, " HOST +syscall "), 1) << merged.out;
  for (const std::string& host : {host_, other}) {
    EXPECT_EQ(
        CountMatching(merged.out,
                      " 321 +0 " +
                          std::regex_replace(host, std::regex("\\."), "\\.") +
                          " +getppid$"),
        1)
        << merged.out;
  }
  // Both sessions ended, their programs detached.
  for (int i = 0; i < 40 && CountBpfLinks() > links_before_table; ++i) {
    usleep(50000);
  }
  EXPECT_LE(CountBpfLinks(), links_before_table);

  // A host that cannot be reached is said on stderr; the others answer.
  // --per-host: a table each, after its host's name.
  RunResult partial =
      RunProgram({sandbox_->tracectl(), "--host", host_, "--host",
                  "127.0.0.1:1", "--tls-ca", certs_ + "/ca.crt", "--tls-cert",
                  certs_ + "/ops.crt", "--tls-key", certs_ + "/ops.key",
                  "syscalls", "--per-host", "--duration", "0.5"});
  EXPECT_EQ(partial.exit_code, 1) << partial.err;
  EXPECT_NE(partial.out.find("== " + host_ + " =="), std::string::npos)
      << partial.out;
  EXPECT_EQ(partial.out.find("127.0.0.1:1 =="), std::string::npos)
      << partial.out;
  EXPECT_EQ(Lines(partial.err).size(), 1u) << partial.err;
  EXPECT_EQ(partial.err.rfind("tracectl: 127.0.0.1:1: ", 0), 0u) << partial.err;

  // flame: one profile, each host a root frame above its processes.
  auto busy = Process::Start({sandbox_->hot_helper(), "3"});
  RunResult flame = RunProgram(with({"flame", "--format", "folded", "--comm",
                                     "hot_helper", "--duration", "1.5"}));
  busy->Wait();
  ASSERT_EQ(flame.exit_code, 0) << flame.err;
  for (const std::string& host : {host_, other}) {
    EXPECT_GE(
        CountMatching(flame.out,
                      "^" + std::regex_replace(host, std::regex("\\."), "\\.") +
                          ";hot_helper;.*;main;work;hot_a "),
        1)
        << host << "\n"
        << flame.out;
  }
  EXPECT_EQ(CountMatching(flame.out, "^hot_helper;"), 0) << flame.out;

  // trace: each host's lines as they come, each marked with its host.
  const int before = CountBpfLinks();
  auto traced = Process::Start(with({"trace", "-e", "trace=getppid", "--comm",
                                     "syscall_helper", "--duration", "3"}));
  ASSERT_GE(WaitForBpfLinks(before + 4), before + 4) << traced->Wait().err;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_EQ(RunProgram({sandbox_->helper(), "7", "0", "0"}).exit_code, 0);
  const RunResult t = traced->Wait();
  ASSERT_EQ(t.exit_code, 0) << t.err;
  for (const std::string& host : {host_, other}) {
    const std::string escaped =
        std::regex_replace(host, std::regex("\\."), "\\.");
    EXPECT_EQ(CountMatching(t.err, "^" + escaped + " getppid\\(\\) += [0-9]+$"),
              7)
        << t.err;
  }
  // JSON lines get "host" as their first member.
  RunResult libs = RunProgram(
      with({"libs", "--json", "--comm", "nosuchcomm", "--duration", "0.5"}));
  ASSERT_EQ(libs.exit_code, 0) << libs.err;
  EXPECT_EQ(CountMatching(libs.out, "^\\{\"host\":\"127\\.0\\.0\\.1:[0-9]+\","),
            2)
      << libs.out;

  // top: each interval one table of both hosts, a HOST column last.
  auto hot = Process::Start({sandbox_->hot_helper(), "3"});
  RunResult top = RunProgram(
      with({"top", "--comm", "hot_helper", "-i", "0.5", "--duration", "1.6"}));
  hot->Wait();
  ASSERT_EQ(top.exit_code, 0) << top.err;
  EXPECT_GE(CountMatching(top.out, "^--- .* 2 hosts: [0-9]+ samples "), 2)
      << top.out;
  EXPECT_GE(CountMatching(top.out, " PROCESS +HOST$"), 2) << top.out;
  for (const std::string& host : {host_, other}) {
    EXPECT_GE(CountMatching(
                  top.out,
                  " hot_a .* hot_helper +" +
                      std::regex_replace(host, std::regex("\\."), "\\.") + "$"),
              1)
        << host << "\n"
        << top.out;
  }

  // What several hosts cannot do yet is said, not half done.
  RunResult to_file = RunProgram(
      with({"trace", "-o", sandbox.dir() + "/t.txt", "--duration", "1"}));
  EXPECT_EQ(to_file.exit_code, 2) << to_file.err;
  EXPECT_NE(to_file.err.find("-o with several hosts is not done yet"),
            std::string::npos)
      << to_file.err;
}

// A TCP connection over --max-remote-connections is closed before its
// TLS handshake; one that ends makes room for the next.
TEST_F(RemoteTest, ConnectionsOverTheCapAreClosedAtOnce) {
  Sandbox sandbox;
  std::vector<std::string> flags = TlsDaemonFlags(certs_ + "/ca.crt");
  flags.insert(flags.end(), {"--max-remote-connections", "2"});
  Daemon daemon(sandbox, flags);
  const std::string host = TcpHostOf(daemon);
  ASSERT_FALSE(host.empty());
  const int port = std::stoi(host.substr(host.rfind(':') + 1));
  auto connect_raw = [port] {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    return fd;
  };
  // Whether the daemon closed `fd` within `ms` (a read sees the end).
  auto closed_within = [](int fd, int ms) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, ms) != 1) return false;
    char byte;
    return read(fd, &byte, 1) == 0;
  };
  auto info = [&] {
    return RunProgram({sandbox.tracectl(), "--host", host, "--tls-ca",
                       certs_ + "/ca.crt", "--tls-cert", certs_ + "/ops.crt",
                       "--tls-key", certs_ + "/ops.key", "info"});
  };
  // Two idle peers hold both places (the handshake timeout is 5 s: all of
  // this happens well inside it).
  const int first = connect_raw(), second = connect_raw();
  EXPECT_FALSE(closed_within(first, 300));
  const int third = connect_raw();
  EXPECT_TRUE(closed_within(third, 1000));
  close(third);
  const RunResult refused = info();
  EXPECT_NE(refused.exit_code, 0) << refused.out;
  close(first);
  close(second);
  // The relays see the ends and make room.
  RunResult answered;
  for (int i = 0; i < 20; ++i) {
    answered = info();
    if (answered.exit_code == 0) break;
    usleep(100 * 1000);
  }
  EXPECT_EQ(answered.exit_code, 0) << answered.err;
  EXPECT_NE(answered.out.find("ops.example"), std::string::npos)
      << answered.out;
  EXPECT_TRUE(daemon.process().WaitForError("refused so far", 1000))
      << daemon.process().ErrorSoFar();
}

// Plain TCP, said out loud and on loopback only: the caller is nobody.
TEST_F(RemoteTest, InsecureLoopbackCallersAreNobody) {
  Sandbox sandbox;
  Daemon daemon(sandbox,
                {"--listen", "tcp:127.0.0.1:0", "--insecure-loopback"});
  const std::string host = TcpHostOf(daemon);
  ASSERT_FALSE(host.empty());
  RunResult r = RunProgram(
      {sandbox.tracectl(), "--host", host, "--insecure", "info", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"uid\":65534"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"remote_identity\":\"(plain TCP on loopback)\""),
            std::string::npos)
      << r.out;
}

// Two hosts, each a tracectld in a network namespace of its own, reached
// over veth pairs from a third namespace where the client runs: the
// daemons share this machine's kernel, but every byte between client and
// daemon crosses a network interface, with mutual TLS.
class NetnsTest : public RemoteTest {
 protected:
  void SetUp() override {
    if (access("/usr/sbin/ip", X_OK) != 0 && access("/sbin/ip", X_OK) != 0) {
      GTEST_SKIP() << "no ip (iproute2)";
    }
    const std::string tag = std::to_string(getpid());
    for (const char* side : {"a", "b", "c"}) {
      names_.push_back(std::string("tracectl-") + side + "-" + tag);
    }
    std::string script = "set -e\n";
    for (const std::string& ns : names_) {
      script += "ip netns add " + ns + "\nip -n " + ns + " link set lo up\n";
    }
    // a <-> c on 10.77.1.0/24, b <-> c on 10.77.2.0/24.
    for (int i = 0; i < 2; ++i) {
      const std::string n = std::to_string(i + 1);
      const std::string host = names_[i], client = names_[2];
      script += "ip link add tcv" + n + "h" + tag.substr(0, 6) + " netns " +
                host + " type veth peer name tcv" + n + "c" + tag.substr(0, 6) +
                " netns " + client + "\n";
      script += "ip -n " + host + " addr add 10.77." + n + ".1/24 dev tcv" + n +
                "h" + tag.substr(0, 6) + "\n";
      script += "ip -n " + host + " link set tcv" + n + "h" + tag.substr(0, 6) +
                " up\n";
      script += "ip -n " + client + " addr add 10.77." + n + ".2/24 dev tcv" +
                n + "c" + tag.substr(0, 6) + "\n";
      script += "ip -n " + client + " link set tcv" + n + "c" +
                tag.substr(0, 6) + " up\n";
    }
    RunResult made = RunProgram({"/bin/sh", "-c", script});
    ASSERT_EQ(made.exit_code, 0) << made.err;
  }
  void TearDown() override {
    daemons_.clear();
    for (const std::string& ns : names_) RunProgram({"ip", "netns", "del", ns});
  }
  // A daemon in namespace `ns` listening on ADDRESS:7443.
  void StartDaemon(const std::string& ns, const std::string& address) {
    auto daemon = Process::Start(
        {"ip", "netns", "exec", ns, sandbox_->tracectld(), "--socket",
         sandbox_->dir() + "/" + ns + ".sock", "--listen",
         "tcp:" + address + ":7443", "--tls-cert", certs_ + "/netserver.crt",
         "--tls-key", certs_ + "/netserver.key", "--tls-client-ca",
         certs_ + "/ca.crt", "--remote-identities", certs_ + "/identities"});
    ASSERT_TRUE(daemon->WaitForError(" port 7443 (mutual TLS)"))
        << daemon->ErrorSoFar();
    daemons_.push_back(std::move(daemon));
  }
  RunResult Client(std::vector<std::string> args) {
    std::vector<std::string> argv = {"ip",
                                     "netns",
                                     "exec",
                                     names_[2],
                                     sandbox_->tracectl(),
                                     "--host",
                                     "10.77.1.1:7443,10.77.2.1:7443",
                                     "--tls-ca",
                                     certs_ + "/ca.crt",
                                     "--tls-cert",
                                     certs_ + "/ops.crt",
                                     "--tls-key",
                                     certs_ + "/ops.key"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProgram(argv);
  }

  std::vector<std::string> names_;
  std::vector<std::unique_ptr<Process>> daemons_;
};

TEST_F(NetnsTest, TwoHostsAnswerOverTheNetwork) {
  StartDaemon(names_[0], "10.77.1.1");
  StartDaemon(names_[1], "10.77.2.1");
  RunResult r = Client({"syscalls", "--duration", "1", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> reports = Lines(r.out);
  ASSERT_EQ(reports.size(), 2u) << r.out;
  for (size_t i = 0; i < 2; ++i) {
    const std::string host = "10.77." + std::to_string(i + 1) + ".1:7443";
    EXPECT_EQ(reports[i].rfind("{\"host\":\"" + host + "\",", 0), 0u)
        << reports[i];
    EXPECT_FALSE(ParseSyscallsJson(reports[i]).empty()) << reports[i];
    EXPECT_NE(reports[i].find("],\"host\":\"" + host + "\"}"),
              std::string::npos)
        << reports[i];
  }

  auto busy = Process::Start({sandbox_->hot_helper(), "2.5"});
  RunResult flame = Client({"flame", "--format", "folded", "--comm",
                            "hot_helper", "--duration", "1.5"});
  busy->Wait();
  ASSERT_EQ(flame.exit_code, 0) << flame.err;
  for (const char* host : {"10\\.77\\.1\\.1:7443", "10\\.77\\.2\\.1:7443"}) {
    EXPECT_GE(CountMatching(flame.out, std::string("^") + host +
                                           ";hot_helper;.*;main;work;hot_"),
              1)
        << host << "\n"
        << flame.out;
  }

  // A daemon that is not there is one line; the other still answers.
  daemons_[1]->Signal(SIGTERM);
  daemons_[1]->Wait();
  RunResult half = Client({"syscalls", "--duration", "0.5", "--json"});
  EXPECT_EQ(half.exit_code, 1) << half.err;
  EXPECT_EQ(Lines(half.out).size(), 1u) << half.out;
  EXPECT_EQ(Lines(half.err).size(), 1u) << half.err;
  EXPECT_EQ(half.err.rfind("tracectl: 10.77.2.1:7443: ", 0), 0u) << half.err;
}

}  // namespace
}  // namespace tracectl::testing
