#include "client/launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace tracectl {
namespace {

// The byte that releases the held command: exec at once, or first install
// the seccomp filter that follows it.
constexpr char kReleasePlain = 1;
constexpr char kReleaseWithFilter = 2;

// The child's copy of the seccomp filter, read before its exec: no
// allocation after fork.
sock_filter child_filter[BPF_MAXINSNS];

// Reads exactly `n` bytes; false at EOF or an error.
bool ReadAll(int fd, void* out, size_t n) {
  char* p = static_cast<char*>(out);
  while (n > 0) {
    const ssize_t got = read(fd, p, n);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    p += got;
    n -= got;
  }
  return true;
}

// Installs the filter the daemon asked for; writes why not and returns
// false when it cannot. Without CAP_SYS_ADMIN a filter needs
// no_new_privs first (set-id programs then run without their privileges,
// as under strace --seccomp-bpf).
bool InstallFilter(int release_fd) {
  uint32_t count = 0;
  if (!ReadAll(release_fd, &count, sizeof(count)) || count == 0 ||
      count > BPF_MAXINSNS ||
      !ReadAll(release_fd, child_filter, count * sizeof(sock_filter))) {
    return false;
  }
  sock_fprog program{static_cast<unsigned short>(count), child_filter};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) == 0) {
    return true;
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
      syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) == 0) {
    return true;
  }
  // After fork in a threaded process: write(2) alone.
  static const char kMessage[] =
      "tracectl: cannot install the seccomp filter in the command\n";
  (void)!write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
  return false;
}

bool IsExecutableFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
         access(path.c_str(), X_OK) == 0;
}

}  // namespace

absl::StatusOr<std::string> FindExecutable(const std::string& argv0) {
  if (argv0.empty()) return absl::InvalidArgumentError("empty command name");
  if (argv0.find('/') != std::string::npos) {
    if (IsExecutableFile(argv0)) return argv0;
    if (access(argv0.c_str(), F_OK) == 0) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot execute ", argv0, ": not an executable file"));
    }
    return absl::NotFoundError(absl::StrCat("command not found: ", argv0));
  }
  const char* path_env = getenv("PATH");
  const std::string path = path_env ? path_env : "/usr/local/bin:/usr/bin:/bin";
  for (absl::string_view dir : absl::StrSplit(path, ':')) {
    const std::string candidate =
        absl::StrCat(dir.empty() ? "." : dir, "/", argv0);
    if (IsExecutableFile(candidate)) return candidate;
  }
  return absl::NotFoundError(absl::StrCat("command not found: ", argv0));
}

absl::StatusOr<std::unique_ptr<Launcher>> Launcher::Prepare(
    const std::vector<std::string>& argv) {
  if (argv.empty()) return absl::InvalidArgumentError("no command to run");
  absl::StatusOr<std::string> path = FindExecutable(argv[0]);
  if (!path.ok()) return path.status();

  // Orphaned descendants are re-parented to us, so WaitAll sees them all.
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    return absl::InternalError(
        absl::StrCat("PR_SET_CHILD_SUBREAPER: ", strerror(errno)));
  }
  int release[2], ready[2];
  if (pipe2(release, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", strerror(errno)));
  }
  if (pipe2(ready, O_CLOEXEC) != 0) {
    close(release[0]);
    close(release[1]);
    return absl::InternalError(absl::StrCat("pipe: ", strerror(errno)));
  }
  std::vector<char*> args;
  for (const std::string& arg : argv)
    args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);

  const pid_t pid = fork();
  if (pid < 0) {
    for (int fd : {release[0], release[1], ready[0], ready[1]}) close(fd);
    return absl::InternalError(absl::StrCat("fork: ", strerror(errno)));
  }
  if (pid == 0) {
    // The child: the signal dispositions and mask of a fresh process.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    close(release[1]);
    close(ready[0]);
    char go = 1;
    if (write(ready[1], &go, 1) != 1) _exit(127);
    ssize_t n;
    do {
      n = read(release[0], &go, 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1) _exit(127);  // tracectl gave up before the filter was ready
    if (go == kReleaseWithFilter && !InstallFilter(release[0])) _exit(126);
    execv(path->c_str(), args.data());
    const int err = errno;
    dprintf(STDERR_FILENO, "tracectl: cannot execute %s: %s\n", path->c_str(),
            strerror(err));
    _exit(err == ENOENT ? 127 : 126);
  }
  close(release[0]);
  close(ready[1]);
  std::unique_ptr<Launcher> launcher(new Launcher(pid, release[1]));
  char byte;
  ssize_t n;
  do {
    n = read(ready[0], &byte, 1);
  } while (n < 0 && errno == EINTR);
  close(ready[0]);
  if (n != 1) {
    return absl::InternalError("the command's process ended before it ran");
  }
  return launcher;
}

Launcher::~Launcher() {
  if (release_fd_ < 0) return;
  close(release_fd_);  // the child sees EOF and exits without exec
  int status;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

std::vector<sock_filter> SeccompTraceFilter(
    const std::vector<uint32_t>& numbers) {
  std::vector<sock_filter> filter;
  // Another architecture's calls (32-bit ones) run on.
  filter.push_back(
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)));
  filter.push_back(
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0));
  filter.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  filter.push_back(
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)));
  // Each number: equal, the next instruction stops the call; else on.
  for (uint32_t nr : numbers) {
    if (filter.size() + 3 > BPF_MAXINSNS) break;
    filter.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1));
    filter.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE));
  }
  filter.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  return filter;
}

void Launcher::Release(const std::vector<uint32_t>& seccomp_trace) {
  std::string message;
  if (seccomp_trace.empty()) {
    message.push_back(kReleasePlain);
  } else {
    const std::vector<sock_filter> filter = SeccompTraceFilter(seccomp_trace);
    const uint32_t count = filter.size();
    message.push_back(kReleaseWithFilter);
    message.append(reinterpret_cast<const char*>(&count), sizeof(count));
    message.append(reinterpret_cast<const char*>(filter.data()),
                   count * sizeof(sock_filter));
  }
  // tracectl ignores SIGPIPE. If the child is gone already, WaitAll reports
  // how it ended.
  size_t done = 0;
  while (done < message.size()) {
    const ssize_t n =
        write(release_fd_, message.data() + done, message.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += n;
  }
  close(release_fd_);
  release_fd_ = -1;
}

int Launcher::WaitAll() {
  int exit_code = 0;
  for (;;) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;  // ECHILD: nothing is left
    }
    if (pid != pid_) continue;
    if (WIFEXITED(status)) {
      exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      exit_code = 128 + WTERMSIG(status);
    }
    exit_code_ = exit_code;
    exited_ = true;
  }
  return exit_code;
}

}  // namespace tracectl
