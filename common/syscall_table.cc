#include "common/syscall_table.h"

#include <seccomp.h>

#include <algorithm>
#include <cstdlib>
#include <initializer_list>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace tracectl {
namespace {

// Numbers at or above this have no entry (MAX_TRACE_NR in
// bpf/syscall_events.h: the kernel side keeps a spec per number below it).
constexpr int kTableSize = 512;

// Short names for the table below.
constexpr uint32_t kFile = kClassFile;
constexpr uint32_t kDesc = kClassDesc;
constexpr uint32_t kProcess = kClassProcess;
constexpr uint32_t kNetwork = kClassNetwork;
constexpr uint32_t kSignalClass = kClassSignal;
constexpr uint32_t kIpc = kClassIpc;
constexpr uint32_t kMemory = kClassMemory;
constexpr uint32_t kCreds = kClassCreds;
constexpr uint32_t kStat = kClassStat;
constexpr uint32_t kLstat = kClassLstat;
constexpr uint32_t kFstat = kClassFstat;
constexpr uint32_t kStatLike = kClassStatLike;
constexpr uint32_t kStatfs = kClassStatfs;
constexpr uint32_t kFstatfs = kClassFstatfs;
constexpr uint32_t kStatfsLike = kClassStatfsLike;
constexpr uint32_t kClock = kClassClock;
constexpr uint32_t kPure = kClassPure;

constexpr ArgType kInt = ArgType::kInt;
constexpr ArgType kUint = ArgType::kUint;
constexpr ArgType kHex = ArgType::kHex;
constexpr ArgType kPtr = ArgType::kPtr;
constexpr ArgType kFd = ArgType::kFd;
constexpr ArgType kDirFd = ArgType::kDirFd;
constexpr ArgType kPath = ArgType::kPath;
constexpr ArgType kString = ArgType::kString;
constexpr ArgType kInBuf = ArgType::kInBuf;
constexpr ArgType kOutBuf = ArgType::kOutBuf;
constexpr ArgType kOpenFlags = ArgType::kOpenFlags;
constexpr ArgType kMode = ArgType::kMode;
constexpr ArgType kAtFlags = ArgType::kAtFlags;
constexpr ArgType kAccessMode = ArgType::kAccessMode;
constexpr ArgType kMmapProt = ArgType::kMmapProt;
constexpr ArgType kMmapFlags = ArgType::kMmapFlags;
constexpr ArgType kSockaddr = ArgType::kSockaddr;
constexpr ArgType kSockFamily = ArgType::kSockFamily;
constexpr ArgType kSockType = ArgType::kSockType;
constexpr ArgType kArgv = ArgType::kArgv;
constexpr ArgType kEnvp = ArgType::kEnvp;
constexpr ArgType kFdPair = ArgType::kFdPair;
constexpr ArgType kSignal = ArgType::kSignal;
constexpr ArgType kWhence = ArgType::kWhence;
constexpr ArgType kFcntlCmd = ArgType::kFcntlCmd;
constexpr ArgType kCloneFlags = ArgType::kCloneFlags;
constexpr ArgType kUnlinkFlags = ArgType::kUnlinkFlags;
constexpr ArgType kRenameFlags = ArgType::kRenameFlags;
constexpr ArgType kInt64 = ArgType::kInt64;
constexpr ArgType kSigprocmaskHow = ArgType::kSigprocmaskHow;
constexpr ArgType kMadvise = ArgType::kMadvise;
constexpr ArgType kMsgFlags = ArgType::kMsgFlags;
constexpr ArgType kWaitOptions = ArgType::kWaitOptions;
constexpr ArgType kRlimit = ArgType::kRlimit;
constexpr ArgType kClockId = ArgType::kClockId;
constexpr ArgType kFutexOp = ArgType::kFutexOp;
constexpr ArgType kArchPrctlCode = ArgType::kArchPrctlCode;
constexpr ArgType kRandomFlags = ArgType::kRandomFlags;
constexpr ArgType kStatxFlags = ArgType::kStatxFlags;
constexpr ArgType kStatxMask = ArgType::kStatxMask;
constexpr ArgType kEpollCtlOp = ArgType::kEpollCtlOp;
constexpr ArgType kFadvice = ArgType::kFadvice;
constexpr ArgType kFlockOp = ArgType::kFlockOp;
constexpr ArgType kCloexecFlags = ArgType::kCloexecFlags;
constexpr ArgType kMemfdFlags = ArgType::kMemfdFlags;
constexpr ArgType kCloseRangeFlags = ArgType::kCloseRangeFlags;
constexpr ArgType kStatBuf = ArgType::kStatBuf;
constexpr ArgType kStatxBuf = ArgType::kStatxBuf;
constexpr ArgType kStatfsBuf = ArgType::kStatfsBuf;
constexpr ArgType kRandomBuf = ArgType::kRandomBuf;

// What else an entry says besides classes and arguments.
enum Trait : uint32_t {
  kPlain = 0,
  kReturnsAddress = 1 << 0,
  kNoReturn = 1 << 1,
  kExec = 1 << 2,
};

class Table {
 public:
  Table() : by_nr_(kTableSize) {}

  // Describes `name`; a name libseccomp does not know for x86_64 is skipped
  // (an older libseccomp), as the kernel could not report it by name anyway.
  void Add(const char* name, uint32_t classes,
           std::initializer_list<ArgType> args, uint32_t traits = kPlain) {
    const int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name);
    if (nr < 0 || nr >= kTableSize) return;
    auto info = std::make_unique<SyscallInfo>();
    info->name = name;
    info->nr = nr;
    info->classes = classes;
    info->args = args;
    info->no_return = (traits & kNoReturn) != 0;
    info->exec = (traits & kExec) != 0;
    info->returns_address = (traits & kReturnsAddress) != 0;
    by_nr_[nr] = std::move(info);
  }

  // Gives every number libseccomp names but the table does not describe an
  // entry with six kHex arguments; then indexes the names.
  void Finish() {
    for (int nr = 0; nr < kTableSize; ++nr) {
      if (by_nr_[nr] != nullptr) continue;
      char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);
      if (name == nullptr) continue;
      auto info = std::make_unique<SyscallInfo>();
      info->name = name;
      free(name);
      info->nr = nr;
      info->args.assign(6, kHex);
      by_nr_[nr] = std::move(info);
    }
    for (const auto& info : by_nr_) {
      if (info != nullptr) by_name_.emplace(info->name, info.get());
    }
  }

  const SyscallInfo* Find(int nr) const {
    if (nr < 0 || nr >= kTableSize) return nullptr;
    return by_nr_[nr].get();
  }
  const SyscallInfo* Find(std::string_view name) const {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : it->second;
  }
  const std::vector<std::unique_ptr<SyscallInfo>>& entries() const {
    return by_nr_;
  }

 private:
  std::vector<std::unique_ptr<SyscallInfo>> by_nr_;
  // Keys view the names in by_nr_.
  std::unordered_map<std::string_view, const SyscallInfo*> by_name_;
};

// The x86_64 calls tracectl describes, in number order. Classes follow
// strace(1)'s -e trace=%CLASS; arguments follow the kernel's order. At most
// EVENT_MAX_CAPTURES arguments of a call are of a captured type, and a
// kInBuf or kSockaddr is followed by its length.
void Describe(Table& t) {
  t.Add("read", kDesc, {kFd, kOutBuf, kUint});
  t.Add("write", kDesc, {kFd, kInBuf, kUint});
  t.Add("open", kFile | kDesc, {kPath, kOpenFlags, kMode});
  t.Add("close", kDesc, {kFd});
  t.Add("stat", kFile | kStat | kStatLike, {kPath, kStatBuf});
  t.Add("fstat", kDesc | kFstat | kStatLike, {kFd, kStatBuf});
  t.Add("lstat", kFile | kLstat | kStatLike, {kPath, kStatBuf});
  t.Add("poll", kDesc, {kPtr, kUint, kInt});
  t.Add("lseek", kDesc, {kFd, kInt64, kWhence});
  t.Add("mmap", kDesc | kMemory,
        {kPtr, kUint, kMmapProt, kMmapFlags, kFd, kHex}, kReturnsAddress);
  t.Add("mprotect", kMemory, {kPtr, kUint, kMmapProt});
  t.Add("munmap", kMemory, {kPtr, kUint});
  t.Add("brk", kMemory, {kPtr}, kReturnsAddress);
  t.Add("rt_sigaction", kSignalClass, {kSignal, kPtr, kPtr, kUint});
  t.Add("rt_sigprocmask", kSignalClass, {kSigprocmaskHow, kPtr, kPtr, kUint});
  t.Add("rt_sigreturn", kSignalClass, {});
  t.Add("ioctl", kDesc, {kFd, kHex, kHex});
  t.Add("pread64", kDesc, {kFd, kOutBuf, kUint, kInt64});
  t.Add("pwrite64", kDesc, {kFd, kInBuf, kUint, kInt64});
  t.Add("readv", kDesc, {kFd, kPtr, kInt});
  t.Add("writev", kDesc, {kFd, kPtr, kInt});
  t.Add("access", kFile, {kPath, kAccessMode});
  t.Add("pipe", kDesc, {kFdPair});
  t.Add("select", kDesc, {kInt, kPtr, kPtr, kPtr, kPtr});
  t.Add("sched_yield", 0, {});
  t.Add("mremap", kMemory, {kPtr, kUint, kUint, kHex, kPtr}, kReturnsAddress);
  t.Add("msync", kMemory, {kPtr, kUint, kHex});
  t.Add("mincore", kMemory, {kPtr, kUint, kPtr});
  t.Add("madvise", kMemory, {kPtr, kUint, kMadvise});
  t.Add("shmget", kIpc, {kHex, kUint, kHex});
  t.Add("shmat", kIpc | kMemory, {kInt, kPtr, kHex}, kReturnsAddress);
  t.Add("shmctl", kIpc, {kInt, kHex, kPtr});
  t.Add("dup", kDesc, {kFd});
  t.Add("dup2", kDesc, {kFd, kFd});
  t.Add("pause", kSignalClass, {});
  t.Add("nanosleep", 0, {kPtr, kPtr});
  t.Add("getitimer", 0, {kInt, kPtr});
  t.Add("alarm", 0, {kUint});
  t.Add("setitimer", 0, {kInt, kPtr, kPtr});
  t.Add("getpid", kPure, {});
  t.Add("sendfile", kDesc | kNetwork, {kFd, kFd, kPtr, kUint});
  t.Add("socket", kNetwork, {kSockFamily, kSockType, kInt});
  t.Add("connect", kNetwork, {kFd, kSockaddr, kUint});
  t.Add("accept", kNetwork, {kFd, kPtr, kPtr});
  t.Add("sendto", kNetwork, {kFd, kInBuf, kUint, kMsgFlags, kSockaddr, kUint});
  t.Add("recvfrom", kNetwork, {kFd, kOutBuf, kUint, kMsgFlags, kPtr, kPtr});
  t.Add("sendmsg", kNetwork, {kFd, kPtr, kMsgFlags});
  t.Add("recvmsg", kNetwork, {kFd, kPtr, kMsgFlags});
  t.Add("shutdown", kNetwork, {kFd, kInt});
  t.Add("bind", kNetwork, {kFd, kSockaddr, kUint});
  t.Add("listen", kNetwork, {kFd, kInt});
  t.Add("getsockname", kNetwork, {kFd, kPtr, kPtr});
  t.Add("getpeername", kNetwork, {kFd, kPtr, kPtr});
  t.Add("socketpair", kNetwork, {kSockFamily, kSockType, kInt, kFdPair});
  t.Add("setsockopt", kNetwork, {kFd, kInt, kInt, kPtr, kUint});
  t.Add("getsockopt", kNetwork, {kFd, kInt, kInt, kPtr, kPtr});
  t.Add("clone", kProcess, {kCloneFlags, kPtr, kPtr, kPtr, kHex});
  t.Add("fork", kProcess, {});
  t.Add("vfork", kProcess, {});
  t.Add("execve", kFile | kProcess, {kPath, kArgv, kEnvp}, kExec);
  t.Add("exit", kProcess, {kInt}, kNoReturn);
  t.Add("wait4", kProcess, {kInt, kPtr, kWaitOptions, kPtr});
  t.Add("kill", kProcess | kSignalClass, {kInt, kSignal});
  t.Add("uname", 0, {kPtr});
  t.Add("semget", kIpc, {kHex, kInt, kHex});
  t.Add("semop", kIpc, {kInt, kPtr, kUint});
  t.Add("semctl", kIpc, {kInt, kInt, kHex, kHex});
  t.Add("shmdt", kIpc | kMemory, {kPtr});
  t.Add("msgget", kIpc, {kHex, kHex});
  t.Add("msgsnd", kIpc, {kInt, kPtr, kUint, kHex});
  t.Add("msgrcv", kIpc, {kInt, kPtr, kUint, kInt64, kHex});
  t.Add("msgctl", kIpc, {kInt, kHex, kPtr});
  t.Add("fcntl", kDesc, {kFd, kFcntlCmd, kHex});
  t.Add("flock", kDesc, {kFd, kFlockOp});
  t.Add("fsync", kDesc, {kFd});
  t.Add("fdatasync", kDesc, {kFd});
  t.Add("truncate", kFile, {kPath, kInt64});
  t.Add("ftruncate", kDesc, {kFd, kInt64});
  t.Add("getdents", kDesc, {kFd, kPtr, kUint});
  t.Add("getcwd", kFile, {kOutBuf, kUint});
  t.Add("chdir", kFile, {kPath});
  t.Add("fchdir", kDesc, {kFd});
  t.Add("rename", kFile, {kPath, kPath});
  t.Add("mkdir", kFile, {kPath, kMode});
  t.Add("rmdir", kFile, {kPath});
  t.Add("creat", kFile | kDesc, {kPath, kMode});
  t.Add("link", kFile, {kPath, kPath});
  t.Add("unlink", kFile, {kPath});
  t.Add("symlink", kFile, {kPath, kPath});
  t.Add("readlink", kFile, {kPath, kOutBuf, kUint});
  t.Add("chmod", kFile, {kPath, kMode});
  t.Add("fchmod", kDesc, {kFd, kMode});
  t.Add("chown", kFile, {kPath, kInt, kInt});
  t.Add("fchown", kDesc, {kFd, kInt, kInt});
  t.Add("lchown", kFile, {kPath, kInt, kInt});
  t.Add("umask", 0, {kMode});
  t.Add("gettimeofday", kClock, {kPtr, kPtr});
  t.Add("getrlimit", 0, {kRlimit, kPtr});
  t.Add("getrusage", 0, {kInt, kPtr});
  t.Add("sysinfo", 0, {kPtr});
  t.Add("times", 0, {kPtr});
  t.Add("ptrace", 0, {kInt, kInt, kPtr, kPtr});
  t.Add("getuid", kCreds | kPure, {});
  t.Add("syslog", 0, {kInt, kOutBuf, kInt});
  t.Add("getgid", kCreds | kPure, {});
  t.Add("setuid", kCreds, {kInt});
  t.Add("setgid", kCreds, {kInt});
  t.Add("geteuid", kCreds | kPure, {});
  t.Add("getegid", kCreds | kPure, {});
  t.Add("setpgid", 0, {kInt, kInt});
  t.Add("getppid", kPure, {});
  t.Add("getpgrp", kPure, {});
  t.Add("setsid", 0, {});
  t.Add("setreuid", kCreds, {kInt, kInt});
  t.Add("setregid", kCreds, {kInt, kInt});
  t.Add("getgroups", kCreds, {kInt, kPtr});
  t.Add("setgroups", kCreds, {kInt, kPtr});
  t.Add("setresuid", kCreds, {kInt, kInt, kInt});
  t.Add("getresuid", kCreds, {kPtr, kPtr, kPtr});
  t.Add("setresgid", kCreds, {kInt, kInt, kInt});
  t.Add("getresgid", kCreds, {kPtr, kPtr, kPtr});
  t.Add("getpgid", 0, {kInt});
  t.Add("setfsuid", kCreds, {kInt});
  t.Add("setfsgid", kCreds, {kInt});
  t.Add("getsid", 0, {kInt});
  t.Add("capget", kCreds, {kPtr, kPtr});
  t.Add("capset", kCreds, {kPtr, kPtr});
  t.Add("rt_sigpending", kSignalClass, {kPtr, kUint});
  t.Add("rt_sigtimedwait", kSignalClass, {kPtr, kPtr, kPtr, kUint});
  t.Add("rt_sigqueueinfo", kProcess | kSignalClass, {kInt, kSignal, kPtr});
  t.Add("rt_sigsuspend", kSignalClass, {kPtr, kUint});
  t.Add("sigaltstack", kSignalClass, {kPtr, kPtr});
  t.Add("utime", kFile, {kPath, kPtr});
  t.Add("mknod", kFile, {kPath, kMode, kHex});
  t.Add("uselib", kFile, {kPath});
  t.Add("personality", 0, {kHex});
  t.Add("ustat", kStatfsLike, {kHex, kPtr});
  t.Add("statfs", kFile | kStatfs | kStatfsLike, {kPath, kStatfsBuf});
  t.Add("fstatfs", kDesc | kFstatfs | kStatfsLike, {kFd, kStatfsBuf});
  t.Add("sysfs", 0, {kInt, kHex, kHex});
  t.Add("getpriority", 0, {kInt, kInt});
  t.Add("setpriority", 0, {kInt, kInt, kInt});
  t.Add("sched_setparam", 0, {kInt, kPtr});
  t.Add("sched_getparam", 0, {kInt, kPtr});
  t.Add("sched_setscheduler", 0, {kInt, kInt, kPtr});
  t.Add("sched_getscheduler", 0, {kInt});
  t.Add("sched_get_priority_max", 0, {kInt});
  t.Add("sched_get_priority_min", 0, {kInt});
  t.Add("sched_rr_get_interval", 0, {kInt, kPtr});
  t.Add("mlock", kMemory, {kPtr, kUint});
  t.Add("munlock", kMemory, {kPtr, kUint});
  t.Add("mlockall", kMemory, {kHex});
  t.Add("munlockall", kMemory, {});
  t.Add("vhangup", 0, {});
  t.Add("modify_ldt", 0, {kInt, kPtr, kUint});
  t.Add("pivot_root", kFile, {kPath, kPath});
  t.Add("_sysctl", 0, {kPtr});
  t.Add("prctl", kCreds, {kInt, kHex, kHex, kHex, kHex});
  t.Add("arch_prctl", 0, {kArchPrctlCode, kHex});
  t.Add("adjtimex", kClock, {kPtr});
  t.Add("setrlimit", 0, {kRlimit, kPtr});
  t.Add("chroot", kFile, {kPath});
  t.Add("sync", 0, {});
  t.Add("acct", kFile, {kPath});
  t.Add("settimeofday", kClock, {kPtr, kPtr});
  t.Add("mount", kFile, {kPath, kPath, kString, kHex, kPtr});
  t.Add("umount2", kFile, {kPath, kHex});
  t.Add("swapon", kFile, {kPath, kHex});
  t.Add("swapoff", kFile, {kPath});
  t.Add("reboot", 0, {kHex, kHex, kHex, kPtr});
  t.Add("sethostname", 0, {kInBuf, kUint});
  t.Add("setdomainname", 0, {kInBuf, kUint});
  t.Add("iopl", 0, {kInt});
  t.Add("ioperm", 0, {kUint, kUint, kInt});
  t.Add("create_module", 0, {kString, kUint});
  t.Add("init_module", 0, {kPtr, kUint, kString});
  t.Add("delete_module", 0, {kString, kHex});
  t.Add("get_kernel_syms", 0, {kPtr});
  t.Add("query_module", 0, {kString, kInt, kPtr, kUint, kPtr});
  t.Add("quotactl", kFile, {kHex, kPath, kInt, kPtr});
  t.Add("gettid", kPure, {});
  t.Add("readahead", kDesc, {kFd, kInt64, kUint});
  t.Add("setxattr", kFile, {kPath, kString, kInBuf, kUint, kHex});
  t.Add("lsetxattr", kFile, {kPath, kString, kInBuf, kUint, kHex});
  t.Add("fsetxattr", kDesc, {kFd, kString, kInBuf, kUint, kHex});
  t.Add("getxattr", kFile, {kPath, kString, kOutBuf, kUint});
  t.Add("lgetxattr", kFile, {kPath, kString, kOutBuf, kUint});
  t.Add("fgetxattr", kDesc, {kFd, kString, kOutBuf, kUint});
  t.Add("listxattr", kFile, {kPath, kOutBuf, kUint});
  t.Add("llistxattr", kFile, {kPath, kOutBuf, kUint});
  t.Add("flistxattr", kDesc, {kFd, kOutBuf, kUint});
  t.Add("removexattr", kFile, {kPath, kString});
  t.Add("lremovexattr", kFile, {kPath, kString});
  t.Add("fremovexattr", kDesc, {kFd, kString});
  t.Add("tkill", kProcess | kSignalClass, {kInt, kSignal});
  t.Add("time", kClock, {kPtr});
  t.Add("futex", 0, {kPtr, kFutexOp, kInt, kPtr, kPtr, kInt});
  t.Add("sched_setaffinity", 0, {kInt, kUint, kPtr});
  t.Add("sched_getaffinity", 0, {kInt, kUint, kPtr});
  t.Add("set_thread_area", 0, {kPtr});
  t.Add("io_setup", kMemory, {kUint, kPtr});
  t.Add("io_destroy", kMemory, {kHex});
  t.Add("io_getevents", 0, {kHex, kInt64, kInt64, kPtr, kPtr});
  t.Add("io_submit", 0, {kHex, kInt64, kPtr});
  t.Add("io_cancel", 0, {kHex, kPtr, kPtr});
  t.Add("get_thread_area", 0, {kPtr});
  t.Add("lookup_dcookie", 0, {kHex, kOutBuf, kUint});
  t.Add("epoll_create", kDesc, {kInt});
  t.Add("remap_file_pages", kMemory, {kPtr, kUint, kMmapProt, kUint, kHex});
  t.Add("getdents64", kDesc, {kFd, kPtr, kUint});
  t.Add("set_tid_address", 0, {kPtr});
  t.Add("restart_syscall", 0, {});
  t.Add("semtimedop", kIpc, {kInt, kPtr, kUint, kPtr});
  t.Add("fadvise64", kDesc, {kFd, kInt64, kUint, kFadvice});
  t.Add("timer_create", 0, {kClockId, kPtr, kPtr});
  t.Add("timer_settime", 0, {kInt, kHex, kPtr, kPtr});
  t.Add("timer_gettime", 0, {kInt, kPtr});
  t.Add("timer_getoverrun", 0, {kInt});
  t.Add("timer_delete", 0, {kInt});
  t.Add("clock_settime", kClock, {kClockId, kPtr});
  t.Add("clock_gettime", kClock, {kClockId, kPtr});
  t.Add("clock_getres", kClock, {kClockId, kPtr});
  t.Add("clock_nanosleep", 0, {kClockId, kHex, kPtr, kPtr});
  t.Add("exit_group", kProcess, {kInt}, kNoReturn);
  t.Add("epoll_wait", kDesc, {kFd, kPtr, kInt, kInt});
  t.Add("epoll_ctl", kDesc, {kFd, kEpollCtlOp, kFd, kPtr});
  t.Add("tgkill", kProcess | kSignalClass, {kInt, kInt, kSignal});
  t.Add("utimes", kFile, {kPath, kPtr});
  t.Add("mbind", kMemory, {kPtr, kUint, kInt, kPtr, kUint, kHex});
  t.Add("set_mempolicy", kMemory, {kInt, kPtr, kUint});
  t.Add("get_mempolicy", kMemory, {kPtr, kPtr, kUint, kPtr, kHex});
  t.Add("mq_open", kDesc, {kPath, kOpenFlags, kMode, kPtr});
  t.Add("mq_unlink", 0, {kPath});
  t.Add("mq_timedsend", kDesc, {kFd, kInBuf, kUint, kUint, kPtr});
  t.Add("mq_timedreceive", kDesc, {kFd, kOutBuf, kUint, kPtr, kPtr});
  t.Add("mq_notify", kDesc, {kFd, kPtr});
  t.Add("mq_getsetattr", kDesc, {kFd, kPtr, kPtr});
  t.Add("kexec_load", 0, {kHex, kUint, kPtr, kHex});
  t.Add("waitid", kProcess, {kInt, kInt, kPtr, kWaitOptions, kPtr});
  t.Add("add_key", 0, {kString, kString, kInBuf, kUint, kInt});
  t.Add("request_key", 0, {kString, kString, kString, kInt});
  t.Add("keyctl", 0, {kInt, kHex, kHex, kHex, kHex});
  t.Add("ioprio_set", 0, {kInt, kInt, kInt});
  t.Add("ioprio_get", 0, {kInt, kInt});
  t.Add("inotify_init", kDesc, {});
  t.Add("inotify_add_watch", kFile | kDesc, {kFd, kPath, kHex});
  t.Add("inotify_rm_watch", kDesc, {kFd, kInt});
  t.Add("migrate_pages", kMemory, {kInt, kUint, kPtr, kPtr});
  t.Add("openat", kFile | kDesc, {kDirFd, kPath, kOpenFlags, kMode});
  t.Add("mkdirat", kFile | kDesc, {kDirFd, kPath, kMode});
  t.Add("mknodat", kFile | kDesc, {kDirFd, kPath, kMode, kHex});
  t.Add("fchownat", kFile | kDesc, {kDirFd, kPath, kInt, kInt, kAtFlags});
  t.Add("futimesat", kFile | kDesc, {kDirFd, kPath, kPtr});
  t.Add("newfstatat", kFile | kDesc | kFstat | kStatLike,
        {kDirFd, kPath, kStatBuf, kAtFlags});
  t.Add("unlinkat", kFile | kDesc, {kDirFd, kPath, kUnlinkFlags});
  t.Add("renameat", kFile | kDesc, {kDirFd, kPath, kDirFd, kPath});
  t.Add("linkat", kFile | kDesc, {kDirFd, kPath, kDirFd, kPath, kAtFlags});
  t.Add("symlinkat", kFile | kDesc, {kPath, kDirFd, kPath});
  t.Add("readlinkat", kFile | kDesc, {kDirFd, kPath, kOutBuf, kUint});
  t.Add("fchmodat", kFile | kDesc, {kDirFd, kPath, kMode});
  t.Add("faccessat", kFile | kDesc, {kDirFd, kPath, kAccessMode});
  t.Add("pselect6", kDesc, {kInt, kPtr, kPtr, kPtr, kPtr, kPtr});
  t.Add("ppoll", kDesc, {kPtr, kUint, kPtr, kPtr, kUint});
  t.Add("unshare", 0, {kCloneFlags});
  t.Add("set_robust_list", 0, {kPtr, kUint});
  t.Add("get_robust_list", 0, {kInt, kPtr, kPtr});
  t.Add("splice", kDesc, {kFd, kPtr, kFd, kPtr, kUint, kHex});
  t.Add("tee", kDesc, {kFd, kFd, kUint, kHex});
  t.Add("sync_file_range", kDesc, {kFd, kInt64, kInt64, kHex});
  t.Add("vmsplice", kDesc, {kFd, kPtr, kUint, kHex});
  t.Add("move_pages", kMemory, {kInt, kUint, kPtr, kPtr, kPtr, kHex});
  t.Add("utimensat", kFile | kDesc, {kDirFd, kPath, kPtr, kAtFlags});
  t.Add("epoll_pwait", kDesc, {kFd, kPtr, kInt, kInt, kPtr, kUint});
  t.Add("signalfd", kDesc | kSignalClass, {kFd, kPtr, kUint});
  t.Add("timerfd_create", kDesc, {kClockId, kCloexecFlags});
  t.Add("eventfd", kDesc, {kUint});
  t.Add("fallocate", kDesc, {kFd, kHex, kInt64, kInt64});
  t.Add("timerfd_settime", kDesc, {kFd, kHex, kPtr, kPtr});
  t.Add("timerfd_gettime", kDesc, {kFd, kPtr});
  t.Add("accept4", kNetwork, {kFd, kPtr, kPtr, kSockType});
  t.Add("signalfd4", kDesc | kSignalClass, {kFd, kPtr, kUint, kCloexecFlags});
  t.Add("eventfd2", kDesc, {kUint, kCloexecFlags});
  t.Add("epoll_create1", kDesc, {kCloexecFlags});
  t.Add("dup3", kDesc, {kFd, kFd, kOpenFlags});
  t.Add("pipe2", kDesc, {kFdPair, kOpenFlags});
  t.Add("inotify_init1", kDesc, {kCloexecFlags});
  t.Add("preadv", kDesc, {kFd, kPtr, kInt, kInt64, kHex});
  t.Add("pwritev", kDesc, {kFd, kPtr, kInt, kInt64, kHex});
  t.Add("rt_tgsigqueueinfo", kProcess | kSignalClass,
        {kInt, kInt, kSignal, kPtr});
  t.Add("perf_event_open", kDesc, {kPtr, kInt, kInt, kFd, kHex});
  t.Add("recvmmsg", kNetwork, {kFd, kPtr, kUint, kMsgFlags, kPtr});
  t.Add("fanotify_init", kDesc, {kHex, kHex});
  t.Add("fanotify_mark", kFile | kDesc, {kFd, kHex, kHex, kDirFd, kPath});
  t.Add("prlimit64", 0, {kInt, kRlimit, kPtr, kPtr});
  t.Add("name_to_handle_at", kFile | kDesc,
        {kDirFd, kPath, kPtr, kPtr, kAtFlags});
  t.Add("open_by_handle_at", kDesc, {kFd, kPtr, kOpenFlags});
  t.Add("clock_adjtime", kClock, {kClockId, kPtr});
  t.Add("syncfs", kDesc, {kFd});
  t.Add("sendmmsg", kNetwork, {kFd, kPtr, kUint, kMsgFlags});
  t.Add("setns", kDesc, {kFd, kCloneFlags});
  t.Add("getcpu", 0, {kPtr, kPtr, kPtr});
  t.Add("process_vm_readv", 0, {kInt, kPtr, kUint, kPtr, kUint, kHex});
  t.Add("process_vm_writev", 0, {kInt, kPtr, kUint, kPtr, kUint, kHex});
  t.Add("kcmp", 0, {kInt, kInt, kInt, kHex, kHex});
  t.Add("finit_module", kDesc, {kFd, kString, kHex});
  t.Add("sched_setattr", 0, {kInt, kPtr, kHex});
  t.Add("sched_getattr", 0, {kInt, kPtr, kUint, kHex});
  t.Add("renameat2", kFile | kDesc,
        {kDirFd, kPath, kDirFd, kPath, kRenameFlags});
  t.Add("seccomp", 0, {kInt, kHex, kPtr});
  t.Add("getrandom", 0, {kRandomBuf, kUint, kRandomFlags});
  t.Add("memfd_create", kDesc, {kString, kMemfdFlags});
  t.Add("kexec_file_load", kDesc, {kFd, kFd, kUint, kString, kHex});
  t.Add("bpf", kDesc, {kInt, kPtr, kUint});
  t.Add("execveat", kFile | kDesc | kProcess,
        {kDirFd, kPath, kArgv, kEnvp, kAtFlags}, kExec);
  t.Add("userfaultfd", kDesc, {kHex});
  t.Add("membarrier", 0, {kInt, kHex, kInt});
  t.Add("mlock2", kMemory, {kPtr, kUint, kHex});
  t.Add("copy_file_range", kDesc, {kFd, kPtr, kFd, kPtr, kUint, kHex});
  t.Add("preadv2", kDesc, {kFd, kPtr, kInt, kInt64, kHex, kHex});
  t.Add("pwritev2", kDesc, {kFd, kPtr, kInt, kInt64, kHex, kHex});
  t.Add("pkey_mprotect", kMemory, {kPtr, kUint, kMmapProt, kInt});
  t.Add("pkey_alloc", 0, {kHex, kHex});
  t.Add("pkey_free", 0, {kInt});
  t.Add("statx", kFile | kDesc | kFstat | kStatLike,
        {kDirFd, kPath, kStatxFlags, kStatxMask, kStatxBuf});
  t.Add("io_pgetevents", 0, {kHex, kInt64, kInt64, kPtr, kPtr, kPtr});
  t.Add("rseq", 0, {kPtr, kUint, kHex, kHex});
  t.Add("pidfd_send_signal", kDesc | kProcess | kSignalClass,
        {kFd, kSignal, kPtr, kHex});
  t.Add("io_uring_setup", kDesc, {kUint, kPtr});
  t.Add("io_uring_enter", kDesc | kSignalClass,
        {kFd, kUint, kUint, kHex, kPtr, kUint});
  t.Add("io_uring_register", kDesc | kMemory, {kFd, kUint, kPtr, kUint});
  t.Add("open_tree", kFile | kDesc, {kDirFd, kPath, kHex});
  t.Add("move_mount", kFile | kDesc, {kDirFd, kPath, kDirFd, kPath, kHex});
  t.Add("fsopen", kDesc, {kString, kHex});
  t.Add("fsconfig", kFile | kDesc, {kFd, kInt, kString, kPtr, kInt});
  t.Add("fsmount", kDesc, {kFd, kHex, kHex});
  t.Add("fspick", kFile | kDesc, {kDirFd, kPath, kHex});
  t.Add("pidfd_open", kDesc, {kInt, kHex});
  t.Add("clone3", kProcess, {kPtr, kUint});
  t.Add("close_range", 0, {kUint, kUint, kCloseRangeFlags});
  t.Add("openat2", kFile | kDesc, {kDirFd, kPath, kPtr, kUint});
  t.Add("pidfd_getfd", kDesc, {kFd, kInt, kHex});
  t.Add("faccessat2", kFile | kDesc, {kDirFd, kPath, kAccessMode, kAtFlags});
  t.Add("process_madvise", kDesc, {kFd, kPtr, kUint, kMadvise, kHex});
  t.Add("epoll_pwait2", kDesc, {kFd, kPtr, kInt, kPtr, kPtr, kUint});
  t.Add("mount_setattr", kFile | kDesc, {kDirFd, kPath, kAtFlags, kPtr, kUint});
  t.Add("quotactl_fd", kDesc, {kFd, kHex, kInt, kPtr});
  t.Add("landlock_create_ruleset", kDesc, {kPtr, kUint, kHex});
  t.Add("landlock_add_rule", kDesc, {kFd, kInt, kPtr, kHex});
  t.Add("landlock_restrict_self", kDesc, {kFd, kHex});
  t.Add("memfd_secret", kDesc, {kHex});
  t.Add("process_mrelease", kDesc, {kFd, kHex});
  t.Add("futex_waitv", 0, {kPtr, kUint, kHex, kPtr, kClockId});
  t.Add("set_mempolicy_home_node", kMemory, {kPtr, kUint, kUint, kHex});
  t.Add("cachestat", kDesc, {kFd, kPtr, kPtr, kHex});
  t.Add("fchmodat2", kFile | kDesc, {kDirFd, kPath, kMode, kAtFlags});
  t.Add("map_shadow_stack", kMemory, {kPtr, kUint, kHex}, kReturnsAddress);
  t.Add("futex_wake", 0, {kPtr, kHex, kInt, kHex});
  t.Add("futex_wait", 0, {kPtr, kHex, kHex, kHex, kPtr, kClockId});
  t.Add("futex_requeue", 0, {kPtr, kHex, kInt, kInt});
  t.Add("getpmsg", kNetwork, {kHex, kHex, kHex, kHex, kHex});
  t.Add("putpmsg", kNetwork, {kHex, kHex, kHex, kHex, kHex});
}

const Table& GetTable() {
  static const Table* const table = [] {
    auto* t = new Table();
    Describe(*t);
    t->Finish();
    return t;
  }();
  return *table;
}

struct ClassName {
  const char* name;
  uint32_t classes;
};

constexpr ClassName kClassNames[] = {
    {"%file", kClassFile},       {"%desc", kClassDesc},
    {"%process", kClassProcess}, {"%network", kClassNetwork},
    {"%net", kClassNetwork},     {"%signal", kClassSignal},
    {"%ipc", kClassIpc},         {"%memory", kClassMemory},
    {"%creds", kClassCreds},     {"%stat", kClassStat},
    {"%lstat", kClassLstat},     {"%fstat", kClassFstat},
    {"%%stat", kClassStatLike},  {"%statfs", kClassStatfs},
    {"%fstatfs", kClassFstatfs}, {"%%statfs", kClassStatfsLike},
    {"%clock", kClassClock},     {"%pure", kClassPure},
};

}  // namespace

const SyscallInfo* FindSyscall(int nr) { return GetTable().Find(nr); }

const SyscallInfo* FindSyscallByName(std::string_view name) {
  return GetTable().Find(name);
}

absl::StatusOr<std::vector<int>> ParseTraceSelection(std::string_view expr) {
  constexpr std::string_view kPrefix = "trace=";
  if (expr.substr(0, kPrefix.size()) == kPrefix)
    expr.remove_prefix(kPrefix.size());
  const std::string_view whole = expr;
  const bool negate = !expr.empty() && expr.front() == '!';
  if (negate) expr.remove_prefix(1);

  const Table& table = GetTable();
  std::vector<bool> selected(kTableSize, false);
  bool only_none = true;
  const std::vector<std::string> items = absl::StrSplit(std::string(expr), ',');
  for (std::string item : items) {
    if (item == "none") continue;
    only_none = false;
    if (item == "all") {
      selected.assign(kTableSize, true);
      continue;
    }
    // strace's older spelling of the classes, without '%': trace=file.
    if (!item.empty() && item.front() != '%' && table.Find(item) == nullptr) {
      for (const ClassName& c : kClassNames) {
        if (c.name[1] != '%' && item == c.name + 1) item = c.name;
      }
    }
    if (!item.empty() && item.front() == '%') {
      const ClassName* cls = nullptr;
      for (const ClassName& c : kClassNames) {
        if (item == c.name) cls = &c;
      }
      if (cls == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(
            "unknown class '", item, "' in -e trace=", std::string(whole)));
      }
      for (const auto& info : table.entries()) {
        if (info != nullptr && (info->classes & cls->classes) != 0) {
          selected[info->nr] = true;
        }
      }
      continue;
    }
    const SyscallInfo* info = table.Find(item);
    if (info == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown system call '", item, "' in -e trace=", std::string(whole)));
    }
    selected[info->nr] = true;
  }

  std::vector<int> result;
  for (const auto& info : table.entries()) {
    if (info != nullptr && selected[info->nr] != negate) {
      result.push_back(info->nr);
    }
  }
  if (result.empty() && !(only_none && !negate)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "-e trace=", std::string(whole), " selects no system calls"));
  }
  return result;
}

}  // namespace tracectl
