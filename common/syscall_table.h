// The x86_64 system call table as tracectl understands it: each call's
// strace classes (%file, %desc, ...) and the type of each argument, which
// decides what the kernel side captures and how tracectl prints it.
#ifndef TRACECTL_COMMON_SYSCALL_TABLE_H_
#define TRACECTL_COMMON_SYSCALL_TABLE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace tracectl {

// strace's trace classes (strace(1), -e trace=%CLASS).
enum SyscallClass : uint32_t {
  kClassFile = 1 << 0,         // %file: takes a file name
  kClassDesc = 1 << 1,         // %desc: takes or returns a file descriptor
  kClassProcess = 1 << 2,      // %process: process lifecycle
  kClassNetwork = 1 << 3,      // %network (%net)
  kClassSignal = 1 << 4,       // %signal
  kClassIpc = 1 << 5,          // %ipc
  kClassMemory = 1 << 6,       // %memory
  kClassCreds = 1 << 7,        // %creds
  kClassStat = 1 << 8,         // %stat: stat variants taking a path
  kClassLstat = 1 << 9,        // %lstat
  kClassFstat = 1 << 10,       // %fstat
  kClassStatfs = 1 << 11,      // %statfs
  kClassStatLike = 1 << 12,    // %%stat: every stat variant
  kClassClock = 1 << 13,       // %clock
  kClassPure = 1 << 14,        // %pure: no arguments, always succeeds
  kClassFstatfs = 1 << 15,     // %fstatfs
  kClassStatfsLike = 1 << 16,  // %%statfs: statfs, fstatfs, ustat
};

// How an argument is captured and printed.
enum class ArgType : uint8_t {
  kInt,          // signed decimal of a C int (the low 32 bits)
  kUint,         // unsigned decimal
  kHex,          // 0x... (also for unknown calls)
  kPtr,          // an address: NULL or 0x...
  kFd,           // a descriptor (decimal)
  kDirFd,        // AT_FDCWD or a descriptor
  kPath,         // captured string, printed whole: "..."
  kString,       // captured string that is not a path (printed up to -s)
  kInBuf,        // captured input bytes; length in the next argument
  kOutBuf,       // captured output bytes; length is the return value
  kOpenFlags,    // O_RDONLY|O_CLOEXEC... (O_RDONLY only for calls that open)
  kMode,         // 0644
  kAtFlags,      // AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH...
  kAccessMode,   // F_OK, R_OK|X_OK
  kMmapProt,     // PROT_READ|PROT_EXEC, PROT_NONE
  kMmapFlags,    // MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE...
  kSockaddr,     // captured struct sockaddr; length in the next argument
  kSockFamily,   // AF_UNIX, AF_INET...
  kSockType,     // SOCK_STREAM|SOCK_CLOEXEC...
  kArgv,         // captured char *[]: ["a", "b"]
  kEnvp,         // 0x7ffd... /* 17 vars */ (the count is captured)
  kFdPair,       // captured int[2] written by the call: [3, 4]
  kSignal,       // SIGTERM
  kWhence,       // SEEK_SET...
  kFcntlCmd,     // F_GETFD...
  kCloneFlags,   // CLONE_VM|CLONE_FS...|SIGCHLD
  kUnlinkFlags,  // 0 or AT_REMOVEDIR
  kRenameFlags,  // RENAME_NOREPLACE...
  // Not captured either; decoded for printing only.
  kInt64,            // signed 64-bit decimal: off_t, loff_t
  kSigprocmaskHow,   // SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK
  kMadvise,          // MADV_DONTNEED...
  kMsgFlags,         // MSG_DONTWAIT|MSG_NOSIGNAL..., 0
  kWaitOptions,      // WNOHANG|__WALL..., 0
  kRlimit,           // RLIMIT_NOFILE...
  kClockId,          // CLOCK_MONOTONIC...
  kFutexOp,          // FUTEX_WAIT_PRIVATE...; decides which arguments print
  kArchPrctlCode,    // ARCH_SET_FS...
  kRandomFlags,      // GRND_NONBLOCK|GRND_RANDOM..., 0
  kStatxFlags,       // AT_STATX_SYNC_AS_STAT|AT_SYMLINK_NOFOLLOW...
  kStatxMask,        // STATX_BASIC_STATS|STATX_BTIME...
  kEpollCtlOp,       // EPOLL_CTL_ADD...
  kFadvice,          // POSIX_FADV_SEQUENTIAL...
  kFlockOp,          // LOCK_EX|LOCK_NB...
  kCloexecFlags,     // O_CLOEXEC-valued flags of eventfd2, epoll_create1,
                     // inotify_init1, timerfd_create... (per call names)
  kMemfdFlags,       // MFD_CLOEXEC|MFD_ALLOW_SEALING...
  kCloseRangeFlags,  // CLOSE_RANGE_CLOEXEC...
  // Captured at exit when the call succeeded; else the pointer.
  kStatBuf,    // struct stat: {st_mode=S_IFREG|0644, st_size=1234, ...}
  kStatxBuf,   // struct statx: {stx_mask=..., stx_mode=..., ...}
  kStatfsBuf,  // struct statfs: {f_type=EXT2_SUPER_MAGIC, ...}
  kRandomBuf,  // output bytes in \x.. escapes (getrandom)
};

struct SyscallInfo {
  std::string name;
  int nr = -1;                   // x86_64
  uint32_t classes = 0;          // SyscallClass bits
  std::vector<ArgType> args;     // as many as the call takes
  bool no_return = false;        // exit, exit_group
  bool exec = false;             // execve, execveat
  bool returns_address = false;  // mmap, brk...: the result prints in hex
};

// nullptr for a number without an entry. Numbers the table does not
// describe but libseccomp names still have an entry with six kHex args.
const SyscallInfo* FindSyscall(int nr);
const SyscallInfo* FindSyscallByName(std::string_view name);

// Parses strace's -e trace= expression (with or without the "trace="
// prefix): a comma-separated list of syscall names and %classes (%net is
// %network; strace's older "file", "net"... name the classes too unless a
// system call has that name), "all", "none", with a leading "!" negating
// the whole set, e.g.
// "%file,close", "!%memory,futex". Returns the selected x86_64 numbers in
// ascending order; INVALID_ARGUMENT naming the first unknown name or class.
absl::StatusOr<std::vector<int>> ParseTraceSelection(std::string_view expr);

}  // namespace tracectl

#endif  // TRACECTL_COMMON_SYSCALL_TABLE_H_
