#include "client/fan_out.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "absl/strings/match.h"
#include "client/json.h"

namespace tracectl {
namespace {

// A line longer than this is passed on in pieces.
constexpr size_t kMaxLineBytes = 1 << 20;

// The children, for signals sent to this process alone.
pid_t children[64];
volatile sig_atomic_t child_count = 0;

void PassOn(int sig, siginfo_t* info, void*) {
  // A terminal's signal reached the whole process group already.
  if (info->si_code == SI_KERNEL) return;
  for (sig_atomic_t i = 0; i < child_count; ++i) kill(children[i], sig);
}

bool WriteAll(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += n;
  }
  return true;
}

struct Stream {
  int fd = -1;      // the read end of a child's pipe; -1 at its end
  int to = 1;       // our fd it goes to
  size_t host = 0;  // index into hosts
  std::string pending;
};

}  // namespace

bool FansOut(const std::string& subcommand) {
  return subcommand == "trace" || subcommand == "files" ||
         subcommand == "libs" || subcommand == "calls" || subcommand == "stack";
}

std::string MarkLine(const std::string& host, const std::string& line) {
  if (absl::StartsWith(line, "{")) {
    const bool empty = absl::StartsWith(line, "{}");
    return "{\"host\":" + JsonString(host) + (empty ? "" : ",") +
           line.substr(1);
  }
  return host + " " + line;
}

int FanOut(int argc, char** argv, const std::vector<std::string>& hosts) {
  std::vector<std::string> rest;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-o" || absl::StartsWith(arg, "--output") ||
        (absl::StartsWith(arg, "-o") && !absl::StartsWith(arg, "--"))) {
      fprintf(stderr,
              "tracectl: -o with several hosts is not done yet: redirect "
              "stdout and stderr\n");
      return 2;
    }
    if (arg == "--host") {
      ++i;
      continue;
    }
    if (absl::StartsWith(arg, "--host=")) continue;
    rest.push_back(arg);
  }
  struct sigaction pass_on {};
  pass_on.sa_sigaction = PassOn;
  pass_on.sa_flags = SA_SIGINFO | SA_RESTART;
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &pass_on, nullptr);

  std::vector<Stream> streams;
  std::vector<pid_t> pids;
  int code = 0;
  for (size_t h = 0; h < hosts.size() && h < 64; ++h) {
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0) return 1;
    if (pipe2(err, O_CLOEXEC) != 0) return 1;
    std::vector<std::string> args = {argv[0], "--host", hosts[h]};
    args.insert(args.end(), rest.begin(), rest.end());
    const pid_t pid = fork();
    if (pid == 0) {
      dup2(out[1], STDOUT_FILENO);
      dup2(err[1], STDERR_FILENO);
      std::vector<char*> exec_args;
      for (std::string& a : args) exec_args.push_back(a.data());
      exec_args.push_back(nullptr);
      execv("/proc/self/exe", exec_args.data());
      _exit(127);
    }
    close(out[1]);
    close(err[1]);
    if (pid < 0) {
      close(out[0]);
      close(err[0]);
      fprintf(stderr, "tracectl: %s: cannot start: %s\n", hosts[h].c_str(),
              strerror(errno));
      code = 1;
      continue;
    }
    pids.push_back(pid);
    children[child_count] = pid;
    child_count = child_count + 1;
    streams.push_back({out[0], STDOUT_FILENO, h, ""});
    streams.push_back({err[0], STDERR_FILENO, h, ""});
  }

  auto emit = [&](Stream& s, const std::string& line) {
    WriteAll(s.to, MarkLine(hosts[s.host], line) + "\n");
  };
  for (;;) {
    std::vector<pollfd> fds;
    std::vector<Stream*> open;
    for (Stream& s : streams) {
      if (s.fd < 0) continue;
      fds.push_back({s.fd, POLLIN, 0});
      open.push_back(&s);
    }
    if (fds.empty()) break;
    if (poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      Stream& s = *open[i];
      char buffer[65536];
      const ssize_t n = read(s.fd, buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        if (!s.pending.empty()) emit(s, s.pending);
        s.pending.clear();
        close(s.fd);
        s.fd = -1;
        continue;
      }
      s.pending.append(buffer, n);
      size_t start = 0;
      for (size_t nl = s.pending.find('\n'); nl != std::string::npos;
           nl = s.pending.find('\n', start)) {
        emit(s, s.pending.substr(start, nl - start));
        start = nl + 1;
      }
      s.pending.erase(0, start);
      if (s.pending.size() > kMaxLineBytes) {
        emit(s, s.pending);
        s.pending.clear();
      }
    }
  }
  for (pid_t pid : pids) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    const int child = WIFEXITED(status)     ? WEXITSTATUS(status)
                      : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
                                            : 1;
    code = std::max(code, child);
  }
  return code;
}

}  // namespace tracectl
