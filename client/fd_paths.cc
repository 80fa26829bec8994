#include "client/fd_paths.h"

#include <fcntl.h>
#include <sched.h>

#include <cstring>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "common/syscall_table.h"

namespace tracectl {
namespace {

enum class Action {
  kOpen,        // open, creat: path in arg 0
  kOpenAt,      // openat, openat2: dir fd in arg 0, path in arg 1
  kDup,         // dup, dup2, dup3: the copy of arg 0
  kFcntl,       // F_DUPFD*, F_SETFD
  kClose,       // close
  kCloseRange,  // close_range
  kExec,        // execve, execveat
  kFork,        // fork, vfork, clone, clone3: the child gets the table
  kExitGroup,   // the process is gone
  kNewFd,       // returns a descriptor with no path we know
  kNewFdPair,   // writes two such descriptors: pipe, pipe2, socketpair
};

constexpr int kAtFdcwd = -100;
constexpr uint64_t kCloseRangeCloexec = 1u << 2;  // CLOSE_RANGE_CLOEXEC

const absl::flat_hash_map<std::string_view, Action>& Actions() {
  static const auto* actions =
      new absl::flat_hash_map<std::string_view, Action>{
          {"open", Action::kOpen},
          {"creat", Action::kOpen},
          {"openat", Action::kOpenAt},
          {"openat2", Action::kOpenAt},
          {"dup", Action::kDup},
          {"dup2", Action::kDup},
          {"dup3", Action::kDup},
          {"fcntl", Action::kFcntl},
          {"close", Action::kClose},
          {"close_range", Action::kCloseRange},
          {"execve", Action::kExec},
          {"execveat", Action::kExec},
          {"fork", Action::kFork},
          {"vfork", Action::kFork},
          {"clone", Action::kFork},
          {"clone3", Action::kFork},
          {"exit_group", Action::kExitGroup},
          {"socket", Action::kNewFd},
          {"accept", Action::kNewFd},
          {"accept4", Action::kNewFd},
          {"epoll_create", Action::kNewFd},
          {"epoll_create1", Action::kNewFd},
          {"eventfd", Action::kNewFd},
          {"eventfd2", Action::kNewFd},
          {"signalfd", Action::kNewFd},
          {"signalfd4", Action::kNewFd},
          {"timerfd_create", Action::kNewFd},
          {"inotify_init", Action::kNewFd},
          {"inotify_init1", Action::kNewFd},
          {"fanotify_init", Action::kNewFd},
          {"memfd_create", Action::kNewFd},
          {"memfd_secret", Action::kNewFd},
          {"userfaultfd", Action::kNewFd},
          {"perf_event_open", Action::kNewFd},
          {"pidfd_open", Action::kNewFd},
          {"pidfd_getfd", Action::kNewFd},
          {"open_by_handle_at", Action::kNewFd},
          {"io_uring_setup", Action::kNewFd},
          {"fsopen", Action::kNewFd},
          {"fsmount", Action::kNewFd},
          {"fspick", Action::kNewFd},
          {"open_tree", Action::kNewFd},
          {"mq_open", Action::kNewFd},
          {"pipe", Action::kNewFdPair},
          {"pipe2", Action::kNewFdPair},
          {"socketpair", Action::kNewFdPair},
      };
  return *actions;
}

const Action* ActionOf(const TraceEvent& event) {
  if (event.compat()) return nullptr;
  const SyscallInfo* info = FindSyscall(event.nr());
  if (info == nullptr) return nullptr;
  const auto it = Actions().find(info->name);
  return it == Actions().end() ? nullptr : &it->second;
}

// The whole path argument `arg`, or false when it was not captured whole.
bool CapturedPath(const TraceEvent& event, int arg, std::string* path) {
  const Capture* capture = event.Find(arg);
  if (capture == nullptr ||
      (capture->flags & (CAPTURE_UNREAD | CAPTURE_TRUNCATED)) != 0 ||
      capture->data.empty()) {
    return false;
  }
  *path = std::string(capture->data);
  return true;
}

int32_t Int(uint64_t v) { return static_cast<int32_t>(v); }

}  // namespace

const std::vector<std::string>& FdPaths::CallsToWatch() {
  static const auto* calls = [] {
    auto* names = new std::vector<std::string>;
    for (const auto& [name, action] : Actions()) {
      if (FindSyscallByName(name) != nullptr) names->emplace_back(name);
    }
    return names;
  }();
  return *calls;
}

const FdPaths::Fd* FdPaths::Find(uint32_t tgid, int fd) const {
  const auto process = processes_.find(tgid);
  if (process == processes_.end()) return nullptr;
  const auto it = process->second.fds.find(fd);
  return it == process->second.fds.end() ? nullptr : &it->second;
}

std::string FdPaths::PathOf(uint32_t tgid, int fd) const {
  const Fd* entry = Find(tgid, fd);
  return entry == nullptr ? "" : entry->path;
}

bool FdPaths::NewFd(const TraceEvent& event, Fd* fd) const {
  const Action* action = ActionOf(event);
  if (action == nullptr || event.no_return() || event.header.ret < 0) {
    return false;
  }
  const uint32_t tgid = event.header.tgid;
  const auto* a = event.header.args;
  switch (*action) {
    case Action::kOpen:
    case Action::kOpenAt: {
      const bool at = *action == Action::kOpenAt;
      *fd = Fd{};
      if (!CapturedPath(event, at ? 1 : 0, &fd->path)) return true;
      const SyscallInfo* info = FindSyscall(event.nr());
      // open(path, flags), openat(dirfd, path, flags); creat and openat2
      // (flags in a struct) do not say.
      if (info->name == "open" || info->name == "openat") {
        fd->close_on_exec = (a[at ? 2 : 1] & O_CLOEXEC) != 0;
      }
      if (at && fd->path[0] != '/' && Int(a[0]) != kAtFdcwd) {
        const std::string dir = PathOf(tgid, Int(a[0]));
        fd->path = dir.empty() ? "" : dir + "/" + fd->path;
      }
      return true;
    }
    case Action::kDup: {
      const SyscallInfo* info = FindSyscall(event.nr());
      fd->path = PathOf(tgid, Int(a[0]));
      fd->close_on_exec = info->name == "dup3" && (a[2] & O_CLOEXEC) != 0;
      return true;
    }
    case Action::kFcntl:
      if (Int(a[1]) != F_DUPFD && Int(a[1]) != F_DUPFD_CLOEXEC) return false;
      fd->path = PathOf(tgid, Int(a[0]));
      fd->close_on_exec = Int(a[1]) == F_DUPFD_CLOEXEC;
      return true;
    case Action::kNewFd:
      *fd = Fd{};
      return true;
    default:
      return false;
  }
}

void FdPaths::AddInitialState(const v1::ProcessState& state) {
  Process& process = processes_[static_cast<uint32_t>(state.pid())];
  for (const v1::ProcessState::OpenFile& file : state.open_files()) {
    // Whether it is close-on-exec is not in the link: taken as not.
    process.fds.emplace(file.fd(), Fd{file.target(), false});
  }
}

std::string FdPaths::ResultPath(const TraceEvent& event) const {
  Fd fd;
  return NewFd(event, &fd) ? fd.path : "";
}

void FdPaths::Learn(const TraceEvent& event) {
  const uint32_t tgid = event.header.tgid;
  // clone3's flags are not in the record: a thread it made got a table of
  // its own at the clone, dropped at its first call (so that a process that
  // later reuses the id does not inherit it).
  if (event.header.tid != tgid && !processes_.empty()) {
    processes_.erase(event.header.tid);
  }
  const Action* action = ActionOf(event);
  if (action == nullptr) return;
  if (*action == Action::kExitGroup) {
    processes_.erase(tgid);
    return;
  }
  if (event.no_return() || event.header.ret < 0) return;
  const auto* a = event.header.args;
  const int64_t ret = event.header.ret;
  if (Fd fd; NewFd(event, &fd)) {
    processes_[tgid].fds[static_cast<int>(ret)] = std::move(fd);
    return;
  }
  switch (*action) {
    case Action::kFcntl:
      if (Int(a[1]) == F_SETFD) {
        const auto process = processes_.find(tgid);
        if (process == processes_.end()) return;
        const auto it = process->second.fds.find(Int(a[0]));
        if (it != process->second.fds.end()) {
          it->second.close_on_exec = (a[2] & FD_CLOEXEC) != 0;
        }
      }
      return;
    case Action::kClose:
      // An entry with no path, not none: a table copied from the parent
      // later (the child ran first) must not bring the old path back.
      processes_[tgid].fds[Int(a[0])] = Fd{};
      return;
    case Action::kCloseRange: {
      const uint64_t first = a[0] & 0xffffffff;
      const uint64_t last = a[1] & 0xffffffff;
      Process& process = processes_[tgid];
      // Bounded: a process that never gets its parent's table keeps the
      // first ranges only.
      if (!process.parent_table_copied && process.early_ranges.size() < 64) {
        process.early_ranges.push_back({static_cast<uint32_t>(first),
                                        static_cast<uint32_t>(last),
                                        (a[2] & kCloseRangeCloexec) != 0});
      }
      for (auto& [number, fd] : process.fds) {
        const uint64_t n = static_cast<uint32_t>(number);
        if (n < first || n > last) continue;
        if (a[2] & kCloseRangeCloexec) {
          fd.close_on_exec = true;
        } else {
          fd = Fd{};
        }
      }
      return;
    }
    case Action::kExec: {
      Process& process = processes_[tgid];
      process.exec_seen = true;
      for (auto& [number, fd] : process.fds) {
        if (fd.close_on_exec) fd = Fd{};
      }
      return;
    }
    case Action::kFork: {
      const SyscallInfo* info = FindSyscall(event.nr());
      if (ret == 0) return;  // the child's side
      if (info->name == "clone" && (a[0] & CLONE_THREAD) != 0) return;
      const auto it = processes_.find(tgid);
      if (it == processes_.end()) return;
      const Process& parent = it->second;  // stays valid through inserts
      // The child may have run first: what it did itself stays.
      Process& child = processes_[static_cast<uint32_t>(ret)];
      for (const auto& [number, parent_fd] : parent.fds) {
        Fd fd = parent_fd;
        bool closed = false;
        for (const ClosedRange& r : child.early_ranges) {
          const uint32_t n = static_cast<uint32_t>(number);
          if (n < r.first || n > r.last) continue;
          if (r.close_on_exec) {
            fd.close_on_exec = true;
          } else {
            closed = true;
          }
        }
        if (closed || (child.exec_seen && fd.close_on_exec)) continue;
        child.fds.emplace(number, std::move(fd));
      }
      child.parent_table_copied = true;
      child.early_ranges.clear();
      return;
    }
    case Action::kNewFdPair: {
      const SyscallInfo* info = FindSyscall(event.nr());
      const Capture* pair = event.Find(info->name == "socketpair" ? 3 : 0);
      if (pair == nullptr || pair->data.size() < 8) return;
      int32_t fds[2];
      memcpy(fds, pair->data.data(), sizeof(fds));
      processes_[tgid].fds[fds[0]] = Fd{};
      processes_[tgid].fds[fds[1]] = Fd{};
      return;
    }
    default:
      return;
  }
}

}  // namespace tracectl
