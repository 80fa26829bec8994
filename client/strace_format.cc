#include "client/strace_format.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <time.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/fd_paths.h"
#include "client/json.h"
#include "client/profile_view.h"
#include "common/syscall_names.h"

namespace tracectl {
namespace {

// Values below are the x86_64 kernel ABI, spelled out rather than taken
// from libc headers: glibc defines O_LARGEFILE as 0 on 64-bit hosts, and
// some flags are newer than its headers.

struct Named {
  uint64_t value;
  const char* name;
};

template <size_t N>
const char* NameOf(uint64_t value, const Named (&table)[N]) {
  for (const Named& n : table) {
    if (n.value == value) return n.name;
  }
  return nullptr;
}

std::string Hex(uint64_t v) {
  return v == 0 ? "0" : absl::StrCat("0x", absl::Hex(v));
}

std::string Pointer(uint64_t v) {
  return v == 0 ? "NULL" : absl::StrCat("0x", absl::Hex(v));
}

std::string Unreadable(uint64_t v) {
  return absl::StrCat(Pointer(v), " /* unreadable */");
}

// `value` by name from `table`, else as strace prints a value it has no
// name for: 0x1f /* SEEK_??? */.
template <size_t N>
std::string Symbol(uint64_t value, const Named (&table)[N],
                   const char* prefix) {
  if (const char* name = NameOf(value, table)) return name;
  return absl::StrCat(Hex(value), " /* ", prefix, "??? */");
}

void AppendFlag(std::string* out, std::string_view flag) {
  if (!out->empty()) out->push_back('|');
  out->append(flag.data(), flag.size());
}

// Appends the names of the bits of *v that `table` names (an entry of
// several bits matches only when all are set), clearing them from *v.
template <size_t N>
void AppendFlagNames(uint64_t* v, const Named (&table)[N], std::string* out) {
  for (const Named& n : table) {
    if (n.value != 0 && (*v & n.value) == n.value) {
      AppendFlag(out, n.name);
      *v &= ~n.value;
    }
  }
}

// NAME|NAME|0x..., or `zero` when no bit is set.
template <size_t N>
std::string FlagSet(uint64_t v, const Named (&table)[N],
                    std::string_view zero = "0") {
  std::string out;
  AppendFlagNames(&v, table, &out);
  if (v != 0) AppendFlag(&out, Hex(v));
  if (out.empty()) return std::string(zero);
  return out;
}

// As FlagSet, but a value with no bit it knows prints as strace prints an
// unknown value: 0x8 /* GRND_??? */.
template <size_t N>
std::string KnownFlagSet(uint64_t v, const Named (&table)[N],
                         const char* prefix) {
  std::string out;
  AppendFlagNames(&v, table, &out);
  if (out.empty() && v != 0) {
    return absl::StrCat(Hex(v), " /* ", prefix, "??? */");
  }
  if (v != 0) AppendFlag(&out, Hex(v));
  return out.empty() ? "0" : out;
}

}  // namespace

namespace {

// A C string literal as strace writes one.
void AppendQuoted(std::string_view bytes, std::string* out) {
  out->push_back('"');
  AppendEscaped(bytes, out);
  out->push_back('"');
}

std::string Quoted(std::string_view bytes) {
  std::string out;
  AppendQuoted(bytes, &out);
  return out;
}

// At most `limit` bytes of `bytes`, quoted, then "..." when `cut`.
std::string QuotedPrefix(std::string_view bytes, size_t limit, bool cut) {
  if (bytes.size() > limit) {
    bytes = bytes.substr(0, limit);
    cut = true;
  }
  std::string out = Quoted(bytes);
  if (cut) out += "...";
  return out;
}

size_t StringSize(const FormatOptions& options) {
  return static_cast<size_t>(std::max(options.string_size, 0));
}

// --- open(2) and friends ---

constexpr uint64_t kOAccmode = 03;
constexpr uint64_t kOCreat = 0100;
constexpr uint64_t kOTmpfileBit = 020000000;  // __O_TMPFILE

constexpr Named kAccessModes[] = {
    {0, "O_RDONLY"}, {1, "O_WRONLY"}, {2, "O_RDWR"}, {3, "O_ACCMODE"}};

constexpr Named kOpenFlags[] = {
    {0100, "O_CREAT"},        {0200, "O_EXCL"},
    {0400, "O_NOCTTY"},       {01000, "O_TRUNC"},
    {02000, "O_APPEND"},      {04000, "O_NONBLOCK"},
    {04010000, "O_SYNC"},     {010000, "O_DSYNC"},
    {020000, "FASYNC"},       {040000, "O_DIRECT"},
    {0100000, "O_LARGEFILE"}, {020200000, "O_TMPFILE"},
    {0200000, "O_DIRECTORY"}, {0400000, "O_NOFOLLOW"},
    {01000000, "O_NOATIME"},  {02000000, "O_CLOEXEC"},
    {010000000, "O_PATH"},
};

// With `access_mode`, the low two bits print first as O_RDONLY etc., as
// for open(2); without (pipe2, dup3), 0 prints as 0.
std::string OpenFlags(uint64_t v, bool access_mode) {
  v &= 0xffffffff;
  std::string out;
  if (access_mode) {
    out = NameOf(v & kOAccmode, kAccessModes);
    v &= ~kOAccmode;
  }
  AppendFlagNames(&v, kOpenFlags, &out);
  if (v != 0) AppendFlag(&out, Hex(v));
  return out.empty() ? "0" : out;
}

constexpr Named kFileTypes[] = {
    {0140000, "S_IFSOCK"}, {0120000, "S_IFLNK"}, {0100000, "S_IFREG"},
    {0060000, "S_IFBLK"},  {0040000, "S_IFDIR"}, {0020000, "S_IFCHR"},
    {0010000, "S_IFIFO"},
};

// 0644, 000; with a file type (mknod), S_IFCHR|0620.
std::string Mode(uint64_t v) {
  v &= 0xffffffff;
  std::string out;
  if (const char* type = NameOf(v & 0170000, kFileTypes)) {
    out = absl::StrCat(type, "|");
    v &= ~uint64_t{0170000};
  }
  absl::StrAppendFormat(&out, "0%02o", v);
  return out;
}

constexpr Named kAtFlags[] = {
    {0x100, "AT_SYMLINK_NOFOLLOW"}, {0x200, "AT_EACCESS"},
    {0x400, "AT_SYMLINK_FOLLOW"},   {0x800, "AT_NO_AUTOMOUNT"},
    {0x1000, "AT_EMPTY_PATH"},      {0x2000, "AT_STATX_FORCE_SYNC"},
    {0x4000, "AT_STATX_DONT_SYNC"}, {0x8000, "AT_RECURSIVE"},
};

constexpr Named kAccessBits[] = {{4, "R_OK"}, {2, "W_OK"}, {1, "X_OK"}};

constexpr Named kUnlinkFlags[] = {{0x200, "AT_REMOVEDIR"}};

constexpr Named kRenameFlags[] = {
    {1, "RENAME_NOREPLACE"}, {2, "RENAME_EXCHANGE"}, {4, "RENAME_WHITEOUT"}};

constexpr Named kWhence[] = {{0, "SEEK_SET"},
                             {1, "SEEK_CUR"},
                             {2, "SEEK_END"},
                             {3, "SEEK_DATA"},
                             {4, "SEEK_HOLE"}};

// --- fcntl(2) ---

constexpr int kFDupfd = 0, kFGetfd = 1, kFSetfd = 2, kFGetfl = 3, kFSetfl = 4,
              kFGetlk = 5, kFSetlk = 6, kFSetlkw = 7, kFSetown = 8,
              kFGetown = 9, kFSetsig = 10, kFGetsig = 11, kFSetownEx = 15,
              kFGetownEx = 16, kFOfdGetlk = 36, kFOfdSetlk = 37,
              kFOfdSetlkw = 38, kFSetlease = 1024, kFGetlease = 1025,
              kFNotify = 1026, kFDupfdCloexec = 1030, kFSetpipeSz = 1031,
              kFGetpipeSz = 1032, kFAddSeals = 1033, kFGetSeals = 1034,
              kFGetRwHint = 1035, kFSetRwHint = 1036, kFGetFileRwHint = 1037,
              kFSetFileRwHint = 1038;

constexpr Named kFcntlCmds[] = {
    {kFDupfd, "F_DUPFD"},
    {kFGetfd, "F_GETFD"},
    {kFSetfd, "F_SETFD"},
    {kFGetfl, "F_GETFL"},
    {kFSetfl, "F_SETFL"},
    {kFGetlk, "F_GETLK"},
    {kFSetlk, "F_SETLK"},
    {kFSetlkw, "F_SETLKW"},
    {kFSetown, "F_SETOWN"},
    {kFGetown, "F_GETOWN"},
    {kFSetsig, "F_SETSIG"},
    {kFGetsig, "F_GETSIG"},
    {kFSetownEx, "F_SETOWN_EX"},
    {kFGetownEx, "F_GETOWN_EX"},
    {kFOfdGetlk, "F_OFD_GETLK"},
    {kFOfdSetlk, "F_OFD_SETLK"},
    {kFOfdSetlkw, "F_OFD_SETLKW"},
    {kFSetlease, "F_SETLEASE"},
    {kFGetlease, "F_GETLEASE"},
    {kFNotify, "F_NOTIFY"},
    {kFDupfdCloexec, "F_DUPFD_CLOEXEC"},
    {kFSetpipeSz, "F_SETPIPE_SZ"},
    {kFGetpipeSz, "F_GETPIPE_SZ"},
    {kFAddSeals, "F_ADD_SEALS"},
    {kFGetSeals, "F_GET_SEALS"},
    {kFGetRwHint, "F_GET_RW_HINT"},
    {kFSetRwHint, "F_SET_RW_HINT"},
    {kFGetFileRwHint, "F_GET_FILE_RW_HINT"},
    {kFSetFileRwHint, "F_SET_FILE_RW_HINT"},
};

constexpr Named kFdFlags[] = {{1, "FD_CLOEXEC"}};

// fcntl's third argument as `cmd` reads it; false when it takes none.
bool FcntlArgument(int cmd, uint64_t v, std::string* out) {
  switch (cmd) {
    case kFGetfd:
    case kFGetfl:
    case kFGetown:
    case kFGetsig:
    case kFGetlease:
    case kFGetpipeSz:
    case kFGetSeals:
      return false;
    case kFSetfd:
      *out = FlagSet(v, kFdFlags);
      return true;
    case kFSetfl:
      *out = OpenFlags(v, /*access_mode=*/true);
      return true;
    case kFDupfd:
    case kFDupfdCloexec:
    case kFSetown:
    case kFSetsig:
    case kFSetlease:
    case kFNotify:
    case kFSetpipeSz:
    case kFAddSeals:
      *out = absl::StrCat(static_cast<int32_t>(v));
      return true;
    case kFGetlk:
    case kFSetlk:
    case kFSetlkw:
    case kFOfdGetlk:
    case kFOfdSetlk:
    case kFOfdSetlkw:
    case kFSetownEx:
    case kFGetownEx:
    case kFGetRwHint:
    case kFSetRwHint:
    case kFGetFileRwHint:
    case kFSetFileRwHint:
      *out = Pointer(v);
      return true;
    default:
      *out = Hex(v);
      return true;
  }
}

// --- memory ---

constexpr Named kProt[] = {
    {0x1, "PROT_READ"},
    {0x2, "PROT_WRITE"},
    {0x4, "PROT_EXEC"},
    {0x8, "PROT_SEM"},
    {0x01000000, "PROT_GROWSDOWN"},
    {0x02000000, "PROT_GROWSUP"},
};

constexpr uint64_t kMapType = 0xf;
constexpr int kMapHugeShift = 26;
constexpr uint64_t kMapHugeMask = 0x3f;

constexpr Named kMapTypes[] = {
    {1, "MAP_SHARED"}, {2, "MAP_PRIVATE"}, {3, "MAP_SHARED_VALIDATE"}};

constexpr Named kMapFlags[] = {
    {0x10, "MAP_FIXED"},      {0x20, "MAP_ANONYMOUS"},
    {0x40, "MAP_32BIT"},      {0x100, "MAP_GROWSDOWN"},
    {0x800, "MAP_DENYWRITE"}, {0x1000, "MAP_EXECUTABLE"},
    {0x2000, "MAP_LOCKED"},   {0x4000, "MAP_NORESERVE"},
    {0x8000, "MAP_POPULATE"}, {0x10000, "MAP_NONBLOCK"},
    {0x20000, "MAP_STACK"},   {0x40000, "MAP_HUGETLB"},
    {0x80000, "MAP_SYNC"},    {0x100000, "MAP_FIXED_NOREPLACE"},
};

std::string MmapFlags(uint64_t v) {
  std::string out;
  if (const char* type = NameOf(v & kMapType, kMapTypes)) {
    out = type;
    v &= ~kMapType;
  }
  const uint64_t huge = (v >> kMapHugeShift) & kMapHugeMask;
  v &= ~(kMapHugeMask << kMapHugeShift);
  AppendFlagNames(&v, kMapFlags, &out);
  if (v != 0) AppendFlag(&out, Hex(v));
  if (huge != 0) AppendFlag(&out, absl::StrCat(huge, "<<MAP_HUGE_SHIFT"));
  return out.empty() ? "0" : out;
}

constexpr Named kMadvise[] = {
    {0, "MADV_NORMAL"},          {1, "MADV_RANDOM"},
    {2, "MADV_SEQUENTIAL"},      {3, "MADV_WILLNEED"},
    {4, "MADV_DONTNEED"},        {8, "MADV_FREE"},
    {9, "MADV_REMOVE"},          {10, "MADV_DONTFORK"},
    {11, "MADV_DOFORK"},         {12, "MADV_MERGEABLE"},
    {13, "MADV_UNMERGEABLE"},    {14, "MADV_HUGEPAGE"},
    {15, "MADV_NOHUGEPAGE"},     {16, "MADV_DONTDUMP"},
    {17, "MADV_DODUMP"},         {18, "MADV_WIPEONFORK"},
    {19, "MADV_KEEPONFORK"},     {20, "MADV_COLD"},
    {21, "MADV_PAGEOUT"},        {22, "MADV_POPULATE_READ"},
    {23, "MADV_POPULATE_WRITE"}, {24, "MADV_DONTNEED_LOCKED"},
    {25, "MADV_COLLAPSE"},       {100, "MADV_HWPOISON"},
    {101, "MADV_SOFT_OFFLINE"},  {102, "MADV_GUARD_INSTALL"},
    {103, "MADV_GUARD_REMOVE"},
};

// --- processes and signals ---

constexpr uint64_t kCloneParentSettid = 0x100000;
constexpr uint64_t kCloneSettls = 0x80000;
constexpr uint64_t kCloneChildTid = 0x200000 | 0x1000000;  // CLEARTID|SETTID
constexpr uint64_t kCloneSignalMask = 0xff;                // CSIGNAL

constexpr Named kCloneFlags[] = {
    {0x100, "CLONE_VM"},
    {0x200, "CLONE_FS"},
    {0x400, "CLONE_FILES"},
    {0x800, "CLONE_SIGHAND"},
    {0x1000, "CLONE_PIDFD"},
    {0x2000, "CLONE_PTRACE"},
    {0x4000, "CLONE_VFORK"},
    {0x8000, "CLONE_PARENT"},
    {0x10000, "CLONE_THREAD"},
    {0x20000, "CLONE_NEWNS"},
    {0x40000, "CLONE_SYSVSEM"},
    {0x80000, "CLONE_SETTLS"},
    {0x100000, "CLONE_PARENT_SETTID"},
    {0x200000, "CLONE_CHILD_CLEARTID"},
    {0x400000, "CLONE_DETACHED"},
    {0x800000, "CLONE_UNTRACED"},
    {0x1000000, "CLONE_CHILD_SETTID"},
    {0x2000000, "CLONE_NEWCGROUP"},
    {0x4000000, "CLONE_NEWUTS"},
    {0x8000000, "CLONE_NEWIPC"},
    {0x10000000, "CLONE_NEWUSER"},
    {0x20000000, "CLONE_NEWPID"},
    {0x40000000, "CLONE_NEWNET"},
    {0x80000000, "CLONE_IO"},
};

std::string SignalName(int64_t sig) {
  constexpr int kKernelSigrtmin = 32;
  constexpr int kKernelSigrtmax = 64;
  if (sig == 29) return "SIGIO";  // glibc's abbreviation is POLL
  if (sig > 0 && sig < kKernelSigrtmin) {
    if (const char* abbrev = sigabbrev_np(static_cast<int>(sig))) {
      return absl::StrCat("SIG", abbrev);
    }
  }
  if (sig == kKernelSigrtmin) return "SIGRTMIN";
  if (sig > kKernelSigrtmin && sig <= kKernelSigrtmax) {
    return absl::StrCat("SIGRT_", sig - kKernelSigrtmin);
  }
  return absl::StrCat(sig);
}

// CLONE_VM|...|0x100000000|SIGCHLD: the low byte is the exit signal.
std::string CloneFlags(uint64_t v) {
  const uint64_t signal = v & kCloneSignalMask;
  v &= ~kCloneSignalMask;
  std::string out;
  AppendFlagNames(&v, kCloneFlags, &out);
  if (v != 0) AppendFlag(&out, Hex(v));
  if (signal != 0) AppendFlag(&out, SignalName(static_cast<int64_t>(signal)));
  return out.empty() ? "0" : out;
}

constexpr Named kWaitOptions[] = {
    {0x1, "WNOHANG"},       {0x2, "WSTOPPED"},
    {0x4, "WEXITED"},       {0x8, "WCONTINUED"},
    {0x1000000, "WNOWAIT"}, {0x20000000, "__WNOTHREAD"},
    {0x40000000, "__WALL"}, {0x80000000, "__WCLONE"},
};

constexpr Named kSigprocmaskHow[] = {
    {0, "SIG_BLOCK"}, {1, "SIG_UNBLOCK"}, {2, "SIG_SETMASK"}};

constexpr Named kRlimits[] = {
    {0, "RLIMIT_CPU"},       {1, "RLIMIT_FSIZE"},  {2, "RLIMIT_DATA"},
    {3, "RLIMIT_STACK"},     {4, "RLIMIT_CORE"},   {5, "RLIMIT_RSS"},
    {6, "RLIMIT_NPROC"},     {7, "RLIMIT_NOFILE"}, {8, "RLIMIT_MEMLOCK"},
    {9, "RLIMIT_AS"},        {10, "RLIMIT_LOCKS"}, {11, "RLIMIT_SIGPENDING"},
    {12, "RLIMIT_MSGQUEUE"}, {13, "RLIMIT_NICE"},  {14, "RLIMIT_RTPRIO"},
    {15, "RLIMIT_RTTIME"},
};

constexpr Named kClockIds[] = {
    {0, "CLOCK_REALTIME"},
    {1, "CLOCK_MONOTONIC"},
    {2, "CLOCK_PROCESS_CPUTIME_ID"},
    {3, "CLOCK_THREAD_CPUTIME_ID"},
    {4, "CLOCK_MONOTONIC_RAW"},
    {5, "CLOCK_REALTIME_COARSE"},
    {6, "CLOCK_MONOTONIC_COARSE"},
    {7, "CLOCK_BOOTTIME"},
    {8, "CLOCK_REALTIME_ALARM"},
    {9, "CLOCK_BOOTTIME_ALARM"},
    {11, "CLOCK_TAI"},
};

constexpr Named kArchPrctlCodes[] = {
    {0x1001, "ARCH_SET_GS"},
    {0x1002, "ARCH_SET_FS"},
    {0x1003, "ARCH_GET_FS"},
    {0x1004, "ARCH_GET_GS"},
    {0x1011, "ARCH_GET_CPUID"},
    {0x1012, "ARCH_SET_CPUID"},
    {0x1021, "ARCH_GET_XCOMP_SUPP"},
    {0x1022, "ARCH_GET_XCOMP_PERM"},
    {0x1023, "ARCH_REQ_XCOMP_PERM"},
    {0x1024, "ARCH_GET_XCOMP_GUEST_PERM"},
    {0x1025, "ARCH_REQ_XCOMP_GUEST_PERM"},
    {0x2001, "ARCH_MAP_VDSO_X32"},
    {0x2002, "ARCH_MAP_VDSO_32"},
    {0x2003, "ARCH_MAP_VDSO_64"},
    {0x5001, "ARCH_SHSTK_ENABLE"},
    {0x5002, "ARCH_SHSTK_DISABLE"},
    {0x5003, "ARCH_SHSTK_LOCK"},
    {0x5004, "ARCH_SHSTK_UNLOCK"},
    {0x5005, "ARCH_SHSTK_STATUS"},
};

// --- futex(2) ---

constexpr uint64_t kFutexPrivate = 128;
constexpr uint64_t kFutexClockRealtime = 256;
constexpr uint32_t kFutexBitsetMatchAny = 0xffffffff;

enum FutexCmd {
  kFutexWait = 0,
  kFutexWake = 1,
  kFutexFd = 2,
  kFutexRequeue = 3,
  kFutexCmpRequeue = 4,
  kFutexWakeOp = 5,
  kFutexLockPi = 6,
  kFutexUnlockPi = 7,
  kFutexTrylockPi = 8,
  kFutexWaitBitset = 9,
  kFutexWakeBitset = 10,
  kFutexWaitRequeuePi = 11,
  kFutexCmpRequeuePi = 12,
  kFutexLockPi2 = 13,
};

constexpr Named kFutexCmds[] = {
    {kFutexWait, "FUTEX_WAIT"},
    {kFutexWake, "FUTEX_WAKE"},
    {kFutexFd, "FUTEX_FD"},
    {kFutexRequeue, "FUTEX_REQUEUE"},
    {kFutexCmpRequeue, "FUTEX_CMP_REQUEUE"},
    {kFutexWakeOp, "FUTEX_WAKE_OP"},
    {kFutexLockPi, "FUTEX_LOCK_PI"},
    {kFutexUnlockPi, "FUTEX_UNLOCK_PI"},
    {kFutexTrylockPi, "FUTEX_TRYLOCK_PI"},
    {kFutexWaitBitset, "FUTEX_WAIT_BITSET"},
    {kFutexWakeBitset, "FUTEX_WAKE_BITSET"},
    {kFutexWaitRequeuePi, "FUTEX_WAIT_REQUEUE_PI"},
    {kFutexCmpRequeuePi, "FUTEX_CMP_REQUEUE_PI"},
    {kFutexLockPi2, "FUTEX_LOCK_PI2"},
};

// FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME
std::string FutexOp(uint64_t v) {
  v &= 0xffffffff;
  const uint64_t cmd = v & ~(kFutexPrivate | kFutexClockRealtime);
  const char* name = NameOf(cmd, kFutexCmds);
  if (name == nullptr) return absl::StrCat(Hex(v), " /* FUTEX_??? */");
  std::string out = name;
  if (v & kFutexPrivate) out += "_PRIVATE";
  if (v & kFutexClockRealtime) out += "|FUTEX_CLOCK_REALTIME";
  return out;
}

// The arguments futex(2) prints for its operation: those the operation
// reads, as strace shows them.
void FutexArguments(const TraceEvent& event, std::vector<std::string>* out) {
  const auto* a = event.header.args;
  const auto val = [&](int i) {
    return absl::StrCat(static_cast<int32_t>(a[i]));
  };
  const auto val2 = [&] { return absl::StrCat(static_cast<uint32_t>(a[3])); };
  const auto bitset = [&] {
    const uint32_t mask = static_cast<uint32_t>(a[5]);
    return mask == kFutexBitsetMatchAny ? std::string("FUTEX_BITSET_MATCH_ANY")
                                        : Hex(mask);
  };
  out->push_back(Pointer(a[0]));
  out->push_back(FutexOp(a[1]));
  const uint64_t op = a[1] & 0xffffffff;
  switch (op & ~(kFutexPrivate | kFutexClockRealtime)) {
    case kFutexWait:
      out->insert(out->end(), {val(2), Pointer(a[3])});
      return;
    case kFutexWake:
    case kFutexFd:
      out->push_back(val(2));
      return;
    case kFutexRequeue:
      out->insert(out->end(), {val(2), val2(), Pointer(a[4])});
      return;
    case kFutexCmpRequeue:
    case kFutexCmpRequeuePi:
      out->insert(out->end(), {val(2), val2(), Pointer(a[4]), val(5)});
      return;
    case kFutexWakeOp:
      out->insert(out->end(), {val(2), val2(), Pointer(a[4]), Hex(a[5])});
      return;
    case kFutexLockPi:
    case kFutexLockPi2:
    case kFutexTrylockPi:
      out->push_back(Pointer(a[3]));
      return;
    case kFutexUnlockPi:
      return;
    case kFutexWaitBitset:
      out->insert(out->end(), {val(2), Pointer(a[3]), bitset()});
      return;
    case kFutexWakeBitset:
      out->insert(out->end(), {val(2), bitset()});
      return;
    case kFutexWaitRequeuePi:
      out->insert(out->end(), {val(2), Pointer(a[3]), Pointer(a[4])});
      return;
    default:
      out->insert(out->end(),
                  {val(2), Pointer(a[3]), Pointer(a[4]), Hex(a[5])});
  }
}

// --- sockets ---

constexpr const char* kFamilies[] = {
    "AF_UNSPEC",    "AF_UNIX",       "AF_INET",    "AF_AX25",    "AF_IPX",
    "AF_APPLETALK", "AF_NETROM",     "AF_BRIDGE",  "AF_ATMPVC",  "AF_X25",
    "AF_INET6",     "AF_ROSE",       "AF_DECnet",  "AF_NETBEUI", "AF_SECURITY",
    "AF_KEY",       "AF_NETLINK",    "AF_PACKET",  "AF_ASH",     "AF_ECONET",
    "AF_ATMSVC",    "AF_RDS",        "AF_SNA",     "AF_IRDA",    "AF_PPPOX",
    "AF_WANPIPE",   "AF_LLC",        "AF_IB",      "AF_MPLS",    "AF_CAN",
    "AF_TIPC",      "AF_BLUETOOTH",  "AF_IUCV",    "AF_RXRPC",   "AF_ISDN",
    "AF_PHONET",    "AF_IEEE802154", "AF_CAIF",    "AF_ALG",     "AF_NFC",
    "AF_VSOCK",     "AF_KCM",        "AF_QIPCRTR", "AF_SMC",     "AF_XDP",
    "AF_MCTP",
};

constexpr int kAfUnix = 1, kAfInet = 2, kAfInet6 = 10, kAfNetlink = 16;

std::string Family(uint64_t v) {
  if (v < std::size(kFamilies)) return kFamilies[v];
  return absl::StrCat(Hex(v), " /* AF_??? */");
}

constexpr uint64_t kSockTypeMask = 0xf;

constexpr Named kSockTypes[] = {
    {1, "SOCK_STREAM"},  {2, "SOCK_DGRAM"},     {3, "SOCK_RAW"},
    {4, "SOCK_RDM"},     {5, "SOCK_SEQPACKET"}, {6, "SOCK_DCCP"},
    {10, "SOCK_PACKET"},
};

constexpr Named kSockFlags[] = {{02000000, "SOCK_CLOEXEC"},
                                {04000, "SOCK_NONBLOCK"}};

// SOCK_STREAM|SOCK_CLOEXEC; accept4's flags (no type) as SOCK_CLOEXEC.
std::string SockType(uint64_t v) {
  v &= 0xffffffff;
  std::string out;
  const uint64_t type = v & kSockTypeMask;
  if (type != 0) {
    const char* name = NameOf(type, kSockTypes);
    if (name == nullptr) return absl::StrCat(Hex(v), " /* SOCK_??? */");
    out = name;
    v &= ~kSockTypeMask;
  }
  AppendFlagNames(&v, kSockFlags, &out);
  if (v != 0) AppendFlag(&out, Hex(v));
  return out.empty() ? "0" : out;
}

constexpr Named kMsgFlags[] = {
    {0x1, "MSG_OOB"},
    {0x2, "MSG_PEEK"},
    {0x4, "MSG_DONTROUTE"},
    {0x8, "MSG_CTRUNC"},
    {0x10, "MSG_PROXY"},
    {0x20, "MSG_TRUNC"},
    {0x40, "MSG_DONTWAIT"},
    {0x80, "MSG_EOR"},
    {0x100, "MSG_WAITALL"},
    {0x200, "MSG_FIN"},
    {0x400, "MSG_SYN"},
    {0x800, "MSG_CONFIRM"},
    {0x1000, "MSG_RST"},
    {0x2000, "MSG_ERRQUEUE"},
    {0x4000, "MSG_NOSIGNAL"},
    {0x8000, "MSG_MORE"},
    {0x10000, "MSG_WAITFORONE"},
    {0x40000, "MSG_BATCH"},
    {0x4000000, "MSG_ZEROCOPY"},
    {0x20000000, "MSG_FASTOPEN"},
    {0x40000000, "MSG_CMSG_CLOEXEC"},
};

uint16_t Be16(std::string_view d, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(d[at]) << 8 |
                               static_cast<uint8_t>(d[at + 1]));
}

uint32_t Le32(std::string_view d, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = v << 8 | static_cast<uint8_t>(d[at + i]);
  return v;
}

uint32_t Be32(std::string_view d, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = v << 8 | static_cast<uint8_t>(d[at + i]);
  return v;
}

// {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("1.2.3.4")};
// `d` holds at least the family.
std::string Sockaddr(std::string_view d) {
  const uint16_t family = static_cast<uint16_t>(
      static_cast<uint8_t>(d[0]) | static_cast<uint8_t>(d[1]) << 8);
  std::string out = absl::StrCat("{sa_family=", Family(family));
  char text[INET6_ADDRSTRLEN] = {};
  if (family == kAfUnix) {
    std::string_view path = d.substr(2);
    if (!path.empty() && path[0] == '\0') {
      absl::StrAppend(&out, ", sun_path=@", Quoted(path.substr(1)));
    } else if (!path.empty()) {
      absl::StrAppend(&out,
                      ", sun_path=", Quoted(path.substr(0, path.find('\0'))));
    }
  } else if (family == kAfInet && d.size() >= 8) {
    inet_ntop(AF_INET, d.data() + 4, text, sizeof(text));
    absl::StrAppend(&out, ", sin_port=htons(", Be16(d, 2),
                    "), sin_addr=inet_addr(\"", text, "\")");
  } else if (family == kAfInet6 && d.size() >= 24) {
    inet_ntop(AF_INET6, d.data() + 8, text, sizeof(text));
    absl::StrAppend(&out, ", sin6_port=htons(", Be16(d, 2),
                    "), sin6_flowinfo=htonl(", Be32(d, 4),
                    "), inet_pton(AF_INET6, \"", text, "\", &sin6_addr)");
    if (d.size() >= 28) {
      absl::StrAppend(&out, ", sin6_scope_id=", Le32(d, 24));
    }
  } else if (family == kAfNetlink && d.size() >= 12) {
    absl::StrAppendFormat(&out, ", nl_pid=%u, nl_groups=%08x", Le32(d, 4),
                          Le32(d, 8));
  } else if (d.size() > 2) {
    absl::StrAppend(&out, ", sa_data=", Quoted(d.substr(2)));
  }
  out += "}";
  return out;
}

// ["ls", "-l"]: NUL-terminated strings back to back; one as long as the
// string size (or without its NUL) was cut; `truncated`: more strings
// followed.
std::string Argv(std::string_view data, bool truncated, size_t string_size) {
  std::string out = "[";
  bool first = true;
  size_t pos = 0;
  while (pos < data.size()) {
    const size_t nul = data.find('\0', pos);
    std::string_view s;
    bool cut = false;
    if (nul == std::string_view::npos) {
      s = data.substr(pos);
      cut = true;
      pos = data.size();
    } else {
      s = data.substr(pos, nul - pos);
      pos = nul + 1;
    }
    if (s.size() >= string_size) cut = true;
    if (!first) out += ", ";
    first = false;
    out += QuotedPrefix(s, string_size, cut);
  }
  if (truncated) out += first ? "..." : ", ...";
  out += "]";
  return out;
}

// --- stat(2), statx(2), statfs(2) ---

uint64_t Le64(std::string_view d, size_t at) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | static_cast<uint8_t>(d[at + i]);
  return v;
}

uint16_t Le16(std::string_view d, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(d[at]) |
                               static_cast<uint8_t>(d[at + 1]) << 8);
}

constexpr uint64_t kSIfmt = 0170000;
constexpr uint64_t kSIfchr = 0020000;
constexpr uint64_t kSIfblk = 0060000;

constexpr Named kModeBits[] = {
    {04000, "S_ISUID"}, {02000, "S_ISGID"}, {01000, "S_ISVTX"}};

// A file's mode as stat reports it: S_IFDIR|S_ISVTX|0777.
std::string StatMode(uint64_t v) {
  std::string out;
  if (const char* type = NameOf(v & kSIfmt, kFileTypes)) {
    out = type;
  } else if ((v & kSIfmt) != 0) {
    out = absl::StrFormat("%#o", v & kSIfmt);
  }
  for (const Named& bit : kModeBits) {
    if ((v & bit.value) != 0) AppendFlag(&out, bit.name);
  }
  AppendFlag(&out, absl::StrFormat("%#04o", v & 0777));
  return out;
}

// makedev(0x88, 0x2): the kernel's encoding of a 64-bit dev_t.
std::string MakeDev(uint64_t dev) {
  const uint64_t major =
      ((dev >> 8) & 0xfff) | ((dev >> 32) & ~uint64_t{0xfff});
  const uint64_t minor = (dev & 0xff) | ((dev >> 12) & ~uint64_t{0xff});
  return absl::StrFormat("makedev(%#x, %#x)", major, minor);
}

bool IsDevice(uint64_t mode) {
  return (mode & kSIfmt) == kSIfchr || (mode & kSIfmt) == kSIfblk;
}

// x86_64 struct stat, abbreviated as strace prints it by default:
// {st_mode=S_IFREG|0644, st_size=1234, ...}; a device shows st_rdev.
std::string Stat(std::string_view d) {
  constexpr size_t kMode = 24, kRdev = 40, kSize = 48;
  const uint32_t mode = Le32(d, kMode);
  std::string out = absl::StrCat("{st_mode=", StatMode(mode), ", ");
  if (IsDevice(mode)) {
    absl::StrAppend(&out, "st_rdev=", MakeDev(Le64(d, kRdev)));
  } else {
    absl::StrAppend(&out, "st_size=", static_cast<int64_t>(Le64(d, kSize)));
  }
  out += ", ...}";
  return out;
}

constexpr Named kStatxMasks[] = {
    {0xfff, "STATX_ALL"},
    {0x7ff, "STATX_BASIC_STATS"},
    {0x1, "STATX_TYPE"},
    {0x2, "STATX_MODE"},
    {0x4, "STATX_NLINK"},
    {0x8, "STATX_UID"},
    {0x10, "STATX_GID"},
    {0x20, "STATX_ATIME"},
    {0x40, "STATX_MTIME"},
    {0x80, "STATX_CTIME"},
    {0x100, "STATX_INO"},
    {0x200, "STATX_SIZE"},
    {0x400, "STATX_BLOCKS"},
    {0x800, "STATX_BTIME"},
    {0x1000, "STATX_MNT_ID"},
    {0x2000, "STATX_DIOALIGN"},
    {0x4000, "STATX_MNT_ID_UNIQUE"},
    {0x8000, "STATX_SUBVOL"},
    {0x10000, "STATX_WRITE_ATOMIC"},
    {0x20000, "STATX_DIO_READ_ALIGN"},
};

constexpr Named kStatxAttributes[] = {
    {0x4, "STATX_ATTR_COMPRESSED"},    {0x10, "STATX_ATTR_IMMUTABLE"},
    {0x20, "STATX_ATTR_APPEND"},       {0x40, "STATX_ATTR_NODUMP"},
    {0x800, "STATX_ATTR_ENCRYPTED"},   {0x1000, "STATX_ATTR_AUTOMOUNT"},
    {0x2000, "STATX_ATTR_MOUNT_ROOT"}, {0x100000, "STATX_ATTR_VERITY"},
    {0x200000, "STATX_ATTR_DAX"},      {0x400000, "STATX_ATTR_WRITE_ATOMIC"},
};

// struct statx, abbreviated: {stx_mask=STATX_ALL|STATX_MNT_ID,
// stx_attributes=0, stx_mode=S_IFREG|0644, stx_size=1234, ...}.
std::string Statx(std::string_view d) {
  constexpr size_t kMask = 0, kAttributes = 8, kMode = 28, kSize = 40;
  return absl::StrCat(
      "{stx_mask=", KnownFlagSet(Le32(d, kMask), kStatxMasks, "STATX_"),
      ", stx_attributes=",
      KnownFlagSet(Le64(d, kAttributes), kStatxAttributes, "STATX_ATTR_"),
      ", stx_mode=", StatMode(Le16(d, kMode)), ", stx_size=", Le64(d, kSize),
      ", ...}");
}

// statx's flags: the synchronization type always shows.
std::string StatxFlags(uint64_t v) {
  constexpr uint64_t kSyncType = 0x6000;
  v &= 0xffffffff;
  std::string out = (v & kSyncType) == 0 ? "AT_STATX_SYNC_AS_STAT" : "";
  if (!out.empty() && (v & ~kSyncType) == 0) return out;
  if (out.empty()) return FlagSet(v, kAtFlags);
  return absl::StrCat(out, "|", FlagSet(v, kAtFlags));
}

constexpr Named kFsMagics[] = {
    {0xef53, "EXT2_SUPER_MAGIC"},        {0x01021994, "TMPFS_MAGIC"},
    {0x9fa0, "PROC_SUPER_MAGIC"},        {0x62656572, "SYSFS_MAGIC"},
    {0x1cd1, "DEVPTS_SUPER_MAGIC"},      {0x27e0eb, "CGROUP_SUPER_MAGIC"},
    {0x63677270, "CGROUP2_SUPER_MAGIC"}, {0x794c7630, "OVERLAYFS_SUPER_MAGIC"},
    {0x58465342, "XFS_SUPER_MAGIC"},     {0x9123683e, "BTRFS_SUPER_MAGIC"},
    {0x6969, "NFS_SUPER_MAGIC"},         {0x65735546, "FUSE_SUPER_MAGIC"},
    {0x73717368, "SQUASHFS_MAGIC"},      {0x858458f6, "RAMFS_MAGIC"},
    {0x958458f6, "HUGETLBFS_MAGIC"},     {0x64626720, "DEBUGFS_MAGIC"},
    {0x74726163, "TRACEFS_MAGIC"},       {0xcafe4a11, "BPF_FS_MAGIC"},
    {0x73636673, "SECURITYFS_MAGIC"},    {0x6e736673, "NSFS_MAGIC"},
    {0xf2f52010, "F2FS_SUPER_MAGIC"},    {0x9660, "ISOFS_SUPER_MAGIC"},
    {0x4d44, "MSDOS_SUPER_MAGIC"},       {0x01021997, "V9FS_MAGIC"},
    {0xff534d42, "CIFS_SUPER_MAGIC"},    {0xfe534d42, "SMB2_SUPER_MAGIC"},
    {0x534f434b, "SOCKFS_MAGIC"},        {0x50495045, "PIPEFS_MAGIC"},
    {0x09041934, "ANON_INODE_FS_MAGIC"}, {0xde5e81e4, "EFIVARFS_MAGIC"},
    {0x6165676c, "PSTOREFS_MAGIC"},      {0x0187, "AUTOFS_SUPER_MAGIC"},
    {0x2011bab0, "EXFAT_SUPER_MAGIC"},   {0x42494e4d, "BINFMTFS_MAGIC"},
};

constexpr Named kStatfsFlags[] = {
    {0x20, "ST_VALID"},      {0x1, "ST_RDONLY"},
    {0x2, "ST_NOSUID"},      {0x4, "ST_NODEV"},
    {0x8, "ST_NOEXEC"},      {0x10, "ST_SYNCHRONOUS"},
    {0x40, "ST_MANDLOCK"},   {0x80, "ST_WRITE"},
    {0x100, "ST_APPEND"},    {0x200, "ST_IMMUTABLE"},
    {0x400, "ST_NOATIME"},   {0x800, "ST_NODIRATIME"},
    {0x1000, "ST_RELATIME"}, {0x2000, "ST_NOSYMFOLLOW"},
};

// x86_64 struct statfs, whole, as strace prints it.
std::string Statfs(std::string_view d) {
  const auto field = [&](int i) { return Le64(d, 8 * i); };
  const uint64_t type = field(0);
  const char* type_name = NameOf(type, kFsMagics);
  return absl::StrFormat(
      "{f_type=%s, f_bsize=%d, f_blocks=%u, f_bfree=%u, f_bavail=%u, "
      "f_files=%u, f_ffree=%u, f_fsid={val=[%#x, %#x]}, f_namelen=%d, "
      "f_frsize=%d, f_flags=%s}",
      type_name != nullptr ? type_name : Hex(type),
      static_cast<int64_t>(field(1)), field(2), field(3), field(4), field(5),
      field(6), Le32(d, 56), Le32(d, 60), static_cast<int64_t>(field(8)),
      static_cast<int64_t>(field(9)), FlagSet(field(10), kStatfsFlags));
}

// --- more flags and commands of %file and %desc calls ---

constexpr Named kRandomFlags[] = {
    {1, "GRND_NONBLOCK"}, {2, "GRND_RANDOM"}, {4, "GRND_INSECURE"}};

constexpr Named kEpollCtlOps[] = {
    {1, "EPOLL_CTL_ADD"}, {2, "EPOLL_CTL_DEL"}, {3, "EPOLL_CTL_MOD"}};

constexpr Named kFadvice[] = {
    {0, "POSIX_FADV_NORMAL"},     {1, "POSIX_FADV_RANDOM"},
    {2, "POSIX_FADV_SEQUENTIAL"}, {3, "POSIX_FADV_WILLNEED"},
    {4, "POSIX_FADV_DONTNEED"},   {5, "POSIX_FADV_NOREUSE"},
};

constexpr Named kFlockOps[] = {
    {1, "LOCK_SH"}, {2, "LOCK_EX"}, {8, "LOCK_UN"}, {4, "LOCK_NB"}};

constexpr Named kMemfdFlags[] = {
    {1, "MFD_CLOEXEC"},     {2, "MFD_ALLOW_SEALING"}, {4, "MFD_HUGETLB"},
    {8, "MFD_NOEXEC_SEAL"}, {0x10, "MFD_EXEC"},
};

constexpr Named kCloseRangeFlags[] = {{2, "CLOSE_RANGE_UNSHARE"},
                                      {4, "CLOSE_RANGE_CLOEXEC"}};

constexpr uint64_t kFdCloexec = 02000000, kFdNonblock = 04000;

constexpr Named kEventfdFlags[] = {{1, "EFD_SEMAPHORE"},
                                   {kFdCloexec, "EFD_CLOEXEC"},
                                   {kFdNonblock, "EFD_NONBLOCK"}};
constexpr Named kEpollCreateFlags[] = {{kFdCloexec, "EPOLL_CLOEXEC"}};
constexpr Named kInotifyFlags[] = {{kFdNonblock, "IN_NONBLOCK"},
                                   {kFdCloexec, "IN_CLOEXEC"}};
constexpr Named kTimerfdFlags[] = {{kFdCloexec, "TFD_CLOEXEC"},
                                   {kFdNonblock, "TFD_NONBLOCK"}};
constexpr Named kSignalfdFlags[] = {{kFdCloexec, "SFD_CLOEXEC"},
                                    {kFdNonblock, "SFD_NONBLOCK"}};

// The flags of calls that take O_CLOEXEC and O_NONBLOCK under names of
// their own, in strace's order: EFD_CLOEXEC|EFD_NONBLOCK...
std::string CloexecFlags(std::string_view call, uint64_t v) {
  v &= 0xffffffff;
  if (call == "eventfd2") return FlagSet(v, kEventfdFlags);
  if (call == "epoll_create1") return FlagSet(v, kEpollCreateFlags);
  if (call == "inotify_init1") return FlagSet(v, kInotifyFlags);
  if (call == "timerfd_create") return FlagSet(v, kTimerfdFlags);
  if (call == "signalfd4") return FlagSet(v, kSignalfdFlags);
  return Hex(v);
}

// "\x0f\xac..." : every byte in hex, as strace prints random bytes.
std::string HexEscaped(std::string_view bytes, bool cut) {
  std::string out = "\"";
  for (const char c : bytes) {
    absl::StrAppendFormat(&out, "\\x%02x", static_cast<uint8_t>(c));
  }
  out += "\"";
  if (cut) out += "...";
  return out;
}

// --- results ---

// Descriptions of the kernel's own codes (include/linux/errno.h), which
// libc does not describe.
const char* KernelErrnoDescription(int err) {
  switch (err) {
    case 512:
      return "To be restarted if SA_RESTART is set";
    case 513:
      return "To be restarted";
    case 514:
      return "To be restarted if no handler";
    case 515:
      return "No ioctl command";
    case 516:
      return "Interrupted by signal";
    case 517:
      return "Driver requests probe retry";
    case 518:
      return "Open found a stale dentry";
    case 519:
      return "Parameter not supported";
    default:
      return nullptr;
  }
}

// The call will be restarted: strace prints "?" for its result.
bool IsRestart(int err) {
  return err == 512 || err == 513 || err == 514 || err == 516;
}

std::string ErrnoDescription(int err) {
  if (const char* d = KernelErrnoDescription(err)) return d;
  if (const char* d = strerrordesc_np(err)) return d;
  return absl::StrCat("Unknown error ", err);
}

std::string Result(const TraceEvent& event, const SyscallInfo* info) {
  if (event.no_return()) return "?";
  if (const int err = event.error()) {
    return absl::StrCat(IsRestart(err) ? "?" : "-1", " ", ErrnoName(err), " (",
                        ErrnoDescription(err), ")");
  }
  if (info != nullptr && info->returns_address) {
    return Hex(static_cast<uint64_t>(event.header.ret));
  }
  return absl::StrCat(event.header.ret);
}

// Native calls only: compat numbers index another table.
const SyscallInfo* InfoOf(const TraceEvent& event) {
  return event.compat() ? nullptr : FindSyscall(event.nr());
}

std::string CallName(const TraceEvent& event, const SyscallInfo* info) {
  if (info != nullptr) return info->name;
  return SyscallName(event.nr(), event.compat());
}

// The arguments as the strace line prints them.
std::vector<std::string> Arguments(const TraceEvent& event,
                                   const SyscallInfo* info,
                                   const FormatOptions& options) {
  const auto* a = event.header.args;
  std::vector<std::string> out;
  if (info == nullptr) {
    for (int i = 0; i < EVENT_ARGS; ++i) out.push_back(Hex(a[i]));
    return out;
  }
  if (info->name == "clone") {
    // clone(child_stack=..., flags=..., parent_tid=..., tls=...,
    // child_tidptr=...), each pointer only when the flags use it.
    out.push_back(absl::StrCat("child_stack=", Pointer(a[1])));
    out.push_back(absl::StrCat("flags=", CloneFlags(a[0])));
    if (a[0] & kCloneParentSettid) {
      out.push_back(absl::StrCat("parent_tid=", Pointer(a[2])));
    }
    if (a[0] & kCloneSettls) out.push_back(absl::StrCat("tls=", Pointer(a[4])));
    if (a[0] & kCloneChildTid) {
      out.push_back(absl::StrCat("child_tidptr=", Pointer(a[3])));
    }
    return out;
  }
  const int n = std::min(static_cast<int>(info->args.size()), EVENT_ARGS);
  for (int i = 0; i < n; ++i) {
    const ArgType type = info->args[i];
    if (type == ArgType::kFutexOp && i == 1) {
      out.clear();
      FutexArguments(event, &out);
      return out;
    }
    // open(2) without O_CREAT or O_TMPFILE ignores its mode: strace leaves
    // it (and what follows, as mq_open's attributes) out.
    if (type == ArgType::kMode && i > 0 &&
        info->args[i - 1] == ArgType::kOpenFlags &&
        absl::StrContains(info->name, "open") &&
        (a[i - 1] & (kOCreat | kOTmpfileBit)) == 0) {
      break;
    }
    out.push_back(FormatArgument(event, i, type, options));
    if (type == ArgType::kFcntlCmd) {
      std::string arg;
      if (i + 1 < n &&
          FcntlArgument(static_cast<int32_t>(a[i]), a[i + 1], &arg)) {
        out.push_back(std::move(arg));
      }
      break;
    }
  }
  return out;
}

std::string Timestamp(const TraceEvent& event, const FormatOptions& options) {
  constexpr int64_t kNsPerSec = 1000000000;
  const int64_t ns =
      static_cast<int64_t>(event.header.enter_ns) + options.realtime_offset_ns;
  int64_t sec = ns / kNsPerSec;
  int64_t frac = ns % kNsPerSec;
  if (frac < 0) {
    frac += kNsPerSec;
    --sec;
  }
  const int64_t usec = frac / 1000;
  if (options.timestamps >= 3) return absl::StrFormat("%d.%06d", sec, usec);
  const time_t t = static_cast<time_t>(sec);
  struct tm tm {};
  localtime_r(&t, &tm);
  std::string out =
      absl::StrFormat("%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
  if (options.timestamps == 2) absl::StrAppendFormat(&out, ".%06d", usec);
  return out;
}

// -y: "<path>" after a descriptor whose path is known.
void AppendFdPath(std::string_view path, std::string* out) {
  if (path.empty()) return;
  out->push_back('<');
  AppendEscaped(path, out);
  out->push_back('>');
}

std::string Seconds(uint64_t ns) {
  return absl::StrFormat("%d.%06d", ns / 1000000000, ns % 1000000000 / 1000);
}

}  // namespace

std::string FormatArgument(const TraceEvent& event, int arg_index, ArgType type,
                           const FormatOptions& options) {
  if (arg_index < 0 || arg_index >= EVENT_ARGS) return "?";
  const uint64_t v = event.header.args[arg_index];
  const Capture* capture = event.Find(arg_index);
  const bool unread =
      capture != nullptr && (capture->flags & CAPTURE_UNREAD) != 0;
  const bool truncated =
      capture != nullptr && (capture->flags & CAPTURE_TRUNCATED) != 0;
  const size_t string_size = StringSize(options);
  // The argument after this one: the length of a kInBuf or kSockaddr.
  const uint64_t next =
      arg_index + 1 < EVENT_ARGS ? event.header.args[arg_index + 1] : 0;

  switch (type) {
    case ArgType::kInt:
      return absl::StrCat(static_cast<int32_t>(v));
    case ArgType::kUint:
      return absl::StrCat(v);
    case ArgType::kInt64:
      return absl::StrCat(static_cast<int64_t>(v));
    case ArgType::kHex:
      return Hex(v);
    case ArgType::kPtr:
      return Pointer(v);
    case ArgType::kFd:
    case ArgType::kDirFd: {
      if (type == ArgType::kDirFd && static_cast<int32_t>(v) == -100) {
        return "AT_FDCWD";
      }
      std::string out = absl::StrCat(static_cast<int32_t>(v));
      if (options.fd_paths != nullptr) {
        AppendFdPath(options.fd_paths->PathOf(event.header.tgid,
                                              static_cast<int32_t>(v)),
                     &out);
      }
      return out;
    }

    case ArgType::kPath:
    case ArgType::kString: {
      if (v == 0) return "NULL";
      if (capture == nullptr) return Pointer(v);
      if (unread) return Unreadable(v);
      if (type == ArgType::kPath) {
        std::string out = Quoted(capture->data);
        if (truncated) out += "...";
        return out;
      }
      return QuotedPrefix(capture->data, string_size, truncated);
    }
    case ArgType::kInBuf: {
      if (v == 0) return "NULL";
      if (capture == nullptr) return next == 0 ? "\"\"" : Pointer(v);
      if (unread) return Unreadable(v);
      std::string_view data = capture->data.substr(0, next);
      const size_t shown = std::min(data.size(), string_size);
      return QuotedPrefix(data.substr(0, shown), shown,
                          truncated || next > shown);
    }
    case ArgType::kOutBuf: {
      if (v == 0) return "NULL";
      const int64_t ret = event.header.ret;
      if (event.no_return() || ret < 0) return Pointer(v);
      if (capture == nullptr) return ret == 0 ? "\"\"" : Pointer(v);
      if (unread) return Unreadable(v);
      std::string_view data = capture->data.substr(0, ret);
      uint64_t length = ret;
      const SyscallInfo* info = InfoOf(event);
      if (info != nullptr && info->name == "getcwd" && !data.empty() &&
          data.size() == length && data.back() == '\0') {
        // getcwd's result counts the path's NUL.
        data.remove_suffix(1);
        --length;
      }
      const size_t shown = std::min(data.size(), string_size);
      return QuotedPrefix(data.substr(0, shown), shown,
                          truncated || length > shown);
    }
    case ArgType::kSockaddr:
      if (v == 0) return "NULL";
      if (unread) return Unreadable(v);
      if (capture == nullptr || capture->data.size() < 2) return Pointer(v);
      return Sockaddr(capture->data.substr(0, next));
    case ArgType::kArgv:
      if (v == 0) return "NULL";
      if (capture == nullptr) return Pointer(v);
      if (unread) return Unreadable(v);
      return Argv(capture->data, truncated, string_size);
    case ArgType::kEnvp:
      if (v == 0) return "NULL";
      if (unread) return Unreadable(v);
      if (capture == nullptr || capture->data.size() < 4) return Pointer(v);
      return absl::StrCat(Pointer(v), " /* ", Le32(capture->data, 0),
                          truncated ? " or more" : "", " vars */");
    case ArgType::kStatBuf:
    case ArgType::kStatxBuf:
    case ArgType::kStatfsBuf: {
      if (v == 0) return "NULL";
      if (unread) return Unreadable(v);
      const size_t size = type == ArgType::kStatBuf    ? STAT_BYTES
                          : type == ArgType::kStatxBuf ? STATX_BYTES
                                                       : STATFS_BYTES;
      // Written only by a call that succeeded.
      if (event.no_return() || event.header.ret != 0 || capture == nullptr ||
          capture->data.size() < size) {
        return Pointer(v);
      }
      if (type == ArgType::kStatBuf) return Stat(capture->data);
      if (type == ArgType::kStatxBuf) return Statx(capture->data);
      return Statfs(capture->data);
    }
    case ArgType::kRandomBuf: {
      if (v == 0) return "NULL";
      const int64_t ret = event.header.ret;
      if (event.no_return() || ret < 0) return Pointer(v);
      if (capture == nullptr) return ret == 0 ? "\"\"" : Pointer(v);
      if (unread) return Unreadable(v);
      const std::string_view data = capture->data.substr(0, ret);
      const size_t shown = std::min(data.size(), string_size);
      return HexEscaped(data.substr(0, shown),
                        truncated || static_cast<uint64_t>(ret) > shown);
    }
    case ArgType::kFdPair:
      if (v == 0) return "NULL";
      if (unread) return Unreadable(v);
      if (event.no_return() || event.header.ret != 0 || capture == nullptr ||
          capture->data.size() < 8) {
        return Pointer(v);
      }
      return absl::StrCat("[", static_cast<int32_t>(Le32(capture->data, 0)),
                          ", ", static_cast<int32_t>(Le32(capture->data, 4)),
                          "]");

    case ArgType::kOpenFlags: {
      const SyscallInfo* info = InfoOf(event);
      return OpenFlags(
          v, info == nullptr || absl::StrContains(info->name, "open"));
    }
    case ArgType::kMode:
      return Mode(v);
    case ArgType::kAtFlags:
      return FlagSet(v & 0xffffffff, kAtFlags);
    case ArgType::kAccessMode:
      return FlagSet(v & 0xffffffff, kAccessBits, "F_OK");
    case ArgType::kMmapProt:
      return FlagSet(v, kProt, "PROT_NONE");
    case ArgType::kMmapFlags:
      return MmapFlags(v);
    case ArgType::kSockFamily:
      return Family(v & 0xffffffff);
    case ArgType::kSockType:
      return SockType(v);
    case ArgType::kSignal:
      return SignalName(static_cast<int32_t>(v));
    case ArgType::kWhence:
      return Symbol(v & 0xffffffff, kWhence, "SEEK_");
    case ArgType::kFcntlCmd:
      return Symbol(v & 0xffffffff, kFcntlCmds, "F_");
    case ArgType::kCloneFlags:
      return CloneFlags(v);
    case ArgType::kUnlinkFlags:
      return FlagSet(v & 0xffffffff, kUnlinkFlags);
    case ArgType::kRenameFlags:
      return FlagSet(v & 0xffffffff, kRenameFlags);
    case ArgType::kSigprocmaskHow:
      return Symbol(v & 0xffffffff, kSigprocmaskHow, "SIG_");
    case ArgType::kMadvise:
      return Symbol(v & 0xffffffff, kMadvise, "MADV_");
    case ArgType::kMsgFlags:
      return FlagSet(v & 0xffffffff, kMsgFlags);
    case ArgType::kWaitOptions:
      return FlagSet(v & 0xffffffff, kWaitOptions);
    case ArgType::kRlimit:
      return Symbol(v & 0xffffffff, kRlimits, "RLIMIT_");
    case ArgType::kClockId:
      if (const char* name = NameOf(v & 0xffffffff, kClockIds)) return name;
      return absl::StrCat(static_cast<int32_t>(v));
    case ArgType::kFutexOp:
      return FutexOp(v);
    case ArgType::kArchPrctlCode:
      return Symbol(v & 0xffffffff, kArchPrctlCodes, "ARCH_");
    case ArgType::kRandomFlags:
      return KnownFlagSet(v & 0xffffffff, kRandomFlags, "GRND_");
    case ArgType::kStatxFlags:
      return StatxFlags(v);
    case ArgType::kStatxMask:
      return KnownFlagSet(v & 0xffffffff, kStatxMasks, "STATX_");
    case ArgType::kEpollCtlOp:
      return Symbol(v & 0xffffffff, kEpollCtlOps, "EPOLL_CTL_");
    case ArgType::kFadvice:
      return Symbol(v & 0xffffffff, kFadvice, "POSIX_FADV_");
    case ArgType::kFlockOp:
      return KnownFlagSet(v & 0xffffffff, kFlockOps, "LOCK_");
    case ArgType::kCloexecFlags: {
      const SyscallInfo* info = InfoOf(event);
      return CloexecFlags(info != nullptr ? info->name : "", v);
    }
    case ArgType::kMemfdFlags:
      return KnownFlagSet(v & 0xffffffff, kMemfdFlags, "MFD_");
    case ArgType::kCloseRangeFlags:
      return KnownFlagSet(v & 0xffffffff, kCloseRangeFlags, "CLOSE_RANGE_");
  }
  return Hex(v);
}

std::string FormatStraceLine(const TraceEvent& event,
                             const FormatOptions& options) {
  const SyscallInfo* info = InfoOf(event);
  std::string line;
  switch (options.pid_prefix) {
    case FormatOptions::PidPrefix::kNone:
      break;
    case FormatOptions::PidPrefix::kBracketed:  // strace -f to stderr
      absl::StrAppendFormat(&line, "[pid %5d] ", event.header.tid);
      break;
    case FormatOptions::PidPrefix::kBare:  // strace -f -o FILE
      absl::StrAppendFormat(&line, "%-5d ", event.header.tid);
      break;
  }
  if (options.timestamps > 0) {
    absl::StrAppend(&line, Timestamp(event, options), " ");
  }
  absl::StrAppend(&line, CallName(event, info), "(",
                  absl::StrJoin(Arguments(event, info, options), ", "),
                  ") = ", Result(event, info));
  if (options.fd_paths != nullptr && !event.no_return()) {
    AppendFdPath(options.fd_paths->ResultPath(event), &line);
  }
  if (options.show_duration && !event.no_return()) {
    absl::StrAppend(&line, " <", Seconds(event.header.duration_ns), ">");
  }
  return line;
}

std::string FormatEventJson(const TraceEvent& event,
                            const FormatOptions& options) {
  const SyscallInfo* info = InfoOf(event);
  const syscall_event& h = event.header;
  const absl::string_view comm(h.comm, strnlen(h.comm, sizeof(h.comm)));

  std::string out = absl::StrCat(
      "{\"pid\":", h.tgid, ",\"tid\":", h.tid, ",\"comm\":", JsonString(comm),
      ",\"syscall\":", JsonString(CallName(event, info)),
      ",\"nr\":", event.nr(), ",\"args\":[");
  const std::vector<std::string> args = Arguments(event, info, options);
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0) out += ",";
    out += JsonString(args[i]);
  }
  out += "],\"raw_args\":[";
  for (int i = 0; i < EVENT_ARGS; ++i) {
    if (i > 0) out += ",";
    absl::StrAppend(&out, "\"0x", absl::Hex(h.args[i]), "\"");
  }
  out += "]";
  if (event.no_return()) {
    out += ",\"ret\":null";
  } else {
    absl::StrAppend(&out, ",\"ret\":", h.ret);
    if (const int err = event.error()) {
      absl::StrAppend(&out, ",\"errno\":", JsonString(ErrnoName(err)));
    }
    absl::StrAppend(&out, ",\"duration_ns\":", h.duration_ns);
  }
  FormatOptions epoch = options;
  epoch.timestamps = 3;
  absl::StrAppend(&out, ",\"time\":", Timestamp(event, epoch));
  bool truncated = false;
  bool unread = false;
  bool at_exit = false;
  bool at_exec = false;
  for (const Capture& c : event.captures) {
    at_exec |= (c.flags & CAPTURE_AT_EXEC) != 0;
    truncated |= (c.flags & CAPTURE_TRUNCATED) != 0;
    unread |= (c.flags & CAPTURE_UNREAD) != 0;
    at_exit |= (c.flags & CAPTURE_AT_EXIT) != 0;
  }
  if (truncated) out += ",\"captures_truncated\":true";
  if (unread) out += ",\"unreadable\":true";
  // A path that was not paged in at entry, read after the call.
  if (at_exit) out += ",\"read_at_exit\":true";
  // A path or argv of an exec that could not be read before it, read from
  // the new program.
  if (at_exec) out += ",\"read_at_exec\":true";
  if (event.stack != nullptr) {
    out += ",\"stack\":[";
    for (int i = 0; i < event.stack->frames_size(); ++i) {
      const v1::Frame& f = event.stack->frames(i);
      const bool python = f.kind() == v1::MODULE_PYTHON;
      if (i > 0) out += ",";
      absl::StrAppend(
          &out, "{\"kind\":", JsonString(FrameKindName(ToViewFrame(f).kind)));
      if (!f.function().empty()) {
        absl::StrAppend(&out, ",\"function\":", JsonText(f.function()));
      }
      if (!python) {
        absl::StrAppend(&out, ",\"module\":", JsonText(f.module()),
                        ",\"offset\":\"0x", absl::Hex(f.offset()), "\"");
        if (!f.function().empty()) {
          absl::StrAppend(&out, ",\"function_offset\":\"0x",
                          absl::Hex(f.function_offset()), "\"");
        }
      }
      if (!f.file().empty()) {
        absl::StrAppend(&out, ",\"file\":", JsonText(f.file()));
        if (f.line() > 0) absl::StrAppend(&out, ",\"line\":", f.line());
      }
      out += "}";
    }
    out += "]";
    if (event.stack->truncated()) out += ",\"stack_truncated\":true";
  }
  out += "}";
  return out;
}

std::string FormatStackLines(const v1::CallStack& stack) {
  std::string out;
  for (const v1::Frame& f : stack.frames()) {
    const std::string source =
        f.file().empty() ? ""
        : f.line() > 0   ? absl::StrCat(Printable(f.file()), ":", f.line())
                         : Printable(f.file());
    if (f.kind() == v1::MODULE_PYTHON) {
      absl::StrAppend(&out, " > ", Printable(f.function()));
      if (!source.empty()) absl::StrAppend(&out, " (", source, ")");
      out += "\n";
      continue;
    }
    absl::StrAppend(&out, " > ",
                    f.module().empty() ? "[unknown]" : Printable(f.module()),
                    "(");
    if (!f.function().empty()) {
      absl::StrAppend(&out, Printable(f.function()), "+0x",
                      absl::Hex(f.function_offset()));
    }
    absl::StrAppend(&out, ") [0x", absl::Hex(f.offset()), "]");
    if (!source.empty()) absl::StrAppend(&out, " (", source, ")");
    out += "\n";
  }
  if (stack.truncated()) out += " > ...\n";
  return out;
}

}  // namespace tracectl
