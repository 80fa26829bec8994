#include "common/syscall_table.h"

#include <gtest/gtest.h>
#include <seccomp.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace tracectl {
namespace {

int Nr(const char* name) {
  const SyscallInfo* info = FindSyscallByName(name);
  EXPECT_NE(info, nullptr) << name;
  return info == nullptr ? -1 : info->nr;
}

std::vector<int> Select(const char* expr) {
  absl::StatusOr<std::vector<int>> nrs = ParseTraceSelection(expr);
  EXPECT_TRUE(nrs.ok()) << expr << ": " << nrs.status();
  return nrs.ok() ? *nrs : std::vector<int>{};
}

bool Has(const std::vector<int>& nrs, const char* name) {
  return std::find(nrs.begin(), nrs.end(), Nr(name)) != nrs.end();
}

bool IsCaptured(ArgType t) {
  switch (t) {
    case ArgType::kPath:
    case ArgType::kString:
    case ArgType::kInBuf:
    case ArgType::kOutBuf:
    case ArgType::kSockaddr:
    case ArgType::kArgv:
    case ArgType::kEnvp:
    case ArgType::kFdPair:
    case ArgType::kStatBuf:
    case ArgType::kStatxBuf:
    case ArgType::kStatfsBuf:
    case ArgType::kRandomBuf:
      return true;
    default:
      return false;
  }
}

TEST(SyscallTable, NumbersComeFromLibseccomp) {
  EXPECT_EQ(Nr("read"), 0);
  EXPECT_EQ(Nr("openat"), 257);
  EXPECT_EQ(Nr("exit_group"), 231);
  const SyscallInfo* openat = FindSyscall(257);
  ASSERT_NE(openat, nullptr);
  EXPECT_EQ(openat->name, "openat");
  EXPECT_EQ(FindSyscall(-1), nullptr);
  EXPECT_EQ(FindSyscall(512), nullptr);
  EXPECT_EQ(FindSyscall(400), nullptr);  // a gap in the x86_64 numbering
  EXPECT_EQ(FindSyscallByName("nosuch"), nullptr);
}

TEST(SyscallTable, EveryNumberLibseccompNamesHasAnEntry) {
  int entries = 0;
  for (int nr = 0; nr < 512; ++nr) {
    char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);
    const SyscallInfo* info = FindSyscall(nr);
    if (name == nullptr) {
      EXPECT_EQ(info, nullptr) << nr;
      continue;
    }
    ++entries;
    ASSERT_NE(info, nullptr) << name;
    EXPECT_EQ(info->name, name);
    EXPECT_EQ(info->nr, nr);
    EXPECT_EQ(FindSyscallByName(name), info);
    free(name);
  }
  EXPECT_GT(entries, 360);
}

TEST(SyscallTable, UndescribedCallsGetSixHexArguments) {
  const SyscallInfo* info = FindSyscallByName("tuxcall");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->classes, 0u);
  EXPECT_EQ(info->args, std::vector<ArgType>(6, ArgType::kHex));
}

// The kernel side captures at most EVENT_MAX_CAPTURES arguments per call
// and reads an input buffer's or sockaddr's length from the next argument.
TEST(SyscallTable, EntriesFitTheKernelSide) {
  for (int nr = 0; nr < 512; ++nr) {
    const SyscallInfo* info = FindSyscall(nr);
    if (info == nullptr) continue;
    EXPECT_LE(info->args.size(), 6u) << info->name;
    int captured = 0;
    for (size_t i = 0; i < info->args.size(); ++i) {
      const ArgType t = info->args[i];
      if (IsCaptured(t)) ++captured;
      if (t == ArgType::kInBuf || t == ArgType::kSockaddr) {
        ASSERT_LT(i + 1, info->args.size()) << info->name;
        const ArgType len = info->args[i + 1];
        EXPECT_TRUE(len == ArgType::kUint || len == ArgType::kInt)
            << info->name;
      }
    }
    EXPECT_LE(captured, 4) << info->name;
  }
}

TEST(SyscallTable, KeySignatures) {
  using A = ArgType;
  const auto args = [](const char* name) {
    const SyscallInfo* info = FindSyscallByName(name);
    return info == nullptr ? std::vector<A>{} : info->args;
  };
  EXPECT_EQ(args("openat"),
            (std::vector<A>{A::kDirFd, A::kPath, A::kOpenFlags, A::kMode}));
  EXPECT_EQ(args("open"), (std::vector<A>{A::kPath, A::kOpenFlags, A::kMode}));
  EXPECT_EQ(args("read"), (std::vector<A>{A::kFd, A::kOutBuf, A::kUint}));
  EXPECT_EQ(args("write"), (std::vector<A>{A::kFd, A::kInBuf, A::kUint}));
  EXPECT_EQ(args("close"), (std::vector<A>{A::kFd}));
  EXPECT_EQ(args("newfstatat"),
            (std::vector<A>{A::kDirFd, A::kPath, A::kStatBuf, A::kAtFlags}));
  EXPECT_EQ(args("statx"), (std::vector<A>{A::kDirFd, A::kPath, A::kStatxFlags,
                                           A::kStatxMask, A::kStatxBuf}));
  EXPECT_EQ(args("fstat"), (std::vector<A>{A::kFd, A::kStatBuf}));
  EXPECT_EQ(args("statfs"), (std::vector<A>{A::kPath, A::kStatfsBuf}));
  EXPECT_EQ(args("getrandom"),
            (std::vector<A>{A::kRandomBuf, A::kUint, A::kRandomFlags}));
  EXPECT_EQ(args("execve"), (std::vector<A>{A::kPath, A::kArgv, A::kEnvp}));
  EXPECT_EQ(args("execveat"), (std::vector<A>{A::kDirFd, A::kPath, A::kArgv,
                                              A::kEnvp, A::kAtFlags}));
  EXPECT_EQ(args("mmap"), (std::vector<A>{A::kPtr, A::kUint, A::kMmapProt,
                                          A::kMmapFlags, A::kFd, A::kHex}));
  EXPECT_EQ(args("pipe2"), (std::vector<A>{A::kFdPair, A::kOpenFlags}));
  EXPECT_EQ(args("socketpair"), (std::vector<A>{A::kSockFamily, A::kSockType,
                                                A::kInt, A::kFdPair}));
  EXPECT_EQ(args("connect"), (std::vector<A>{A::kFd, A::kSockaddr, A::kUint}));
  EXPECT_EQ(args("sendto"),
            (std::vector<A>{A::kFd, A::kInBuf, A::kUint, A::kMsgFlags,
                            A::kSockaddr, A::kUint}));
  EXPECT_EQ(args("renameat2"), (std::vector<A>{A::kDirFd, A::kPath, A::kDirFd,
                                               A::kPath, A::kRenameFlags}));
  EXPECT_EQ(args("clone"), (std::vector<A>{A::kCloneFlags, A::kPtr, A::kPtr,
                                           A::kPtr, A::kHex}));
  EXPECT_EQ(args("getdents64"), (std::vector<A>{A::kFd, A::kPtr, A::kUint}));
  EXPECT_EQ(args("getppid"), std::vector<A>{});

  EXPECT_TRUE(FindSyscallByName("exit_group")->no_return);
  EXPECT_TRUE(FindSyscallByName("exit")->no_return);
  EXPECT_FALSE(FindSyscallByName("read")->no_return);
  EXPECT_TRUE(FindSyscallByName("execve")->exec);
  EXPECT_TRUE(FindSyscallByName("execveat")->exec);
  EXPECT_TRUE(FindSyscallByName("mmap")->returns_address);
  EXPECT_TRUE(FindSyscallByName("brk")->returns_address);
  EXPECT_FALSE(FindSyscallByName("openat")->returns_address);
}

TEST(TraceSelection, FileClass) {
  const std::vector<int> file = Select("%file");
  for (const char* name :
       {"openat",    "open",    "newfstatat", "stat",     "lstat",  "execve",
        "execveat",  "access",  "faccessat2", "readlink", "unlink", "rename",
        "mkdir",     "chdir",   "creat",      "truncate", "chmod",  "chown",
        "utimensat", "mknod",   "link",       "symlink",  "statfs", "setxattr",
        "mount",     "openat2", "statx"}) {
    EXPECT_TRUE(Has(file, name)) << name;
  }
  for (const char* name : {"read", "close", "fstat", "mmap", "fchdir"}) {
    EXPECT_FALSE(Has(file, name)) << name;
  }
}

TEST(TraceSelection, OtherClasses) {
  const std::vector<int> desc = Select("%desc");
  for (const char* name : {"close", "read", "write", "dup", "dup3", "fcntl",
                           "ioctl", "mmap", "pipe", "fstat", "openat"}) {
    EXPECT_TRUE(Has(desc, name)) << name;
  }
  EXPECT_FALSE(Has(desc, "getpid"));

  const std::vector<int> process = Select("%process");
  for (const char* name :
       {"fork", "vfork", "clone", "clone3", "execve", "execveat", "exit",
        "exit_group", "wait4", "waitid", "kill", "tkill", "tgkill"}) {
    EXPECT_TRUE(Has(process, name)) << name;
  }
  const std::vector<int> memory = Select("%memory");
  for (const char* name :
       {"mmap", "munmap", "mprotect", "brk", "mremap", "madvise", "mlock"}) {
    EXPECT_TRUE(Has(memory, name)) << name;
  }
  const std::vector<int> network = Select("%network");
  for (const char* name : {"socket", "connect", "bind", "accept4", "sendto",
                           "recvfrom", "socketpair", "setsockopt"}) {
    EXPECT_TRUE(Has(network, name)) << name;
  }
  EXPECT_EQ(Select("%net"), network);
  EXPECT_EQ(Select("%pure"),
            Select("getpid,getppid,getuid,geteuid,getgid,getegid,getpgrp,"
                   "gettid"));
  EXPECT_EQ(Select("%%stat"), Select("stat,lstat,fstat,newfstatat,statx"));
  EXPECT_EQ(Select("%stat"), Select("stat"));
  EXPECT_TRUE(Has(Select("%signal"), "rt_sigaction"));
  EXPECT_TRUE(Has(Select("%ipc"), "shmget"));
  EXPECT_TRUE(Has(Select("%creds"), "setuid"));
  EXPECT_TRUE(Has(Select("%clock"), "clock_gettime"));
  EXPECT_EQ(Select("%%statfs"), Select("ustat,statfs,fstatfs"));
}

TEST(TraceSelection, OldClassSpelling) {
  EXPECT_EQ(Select("file"), Select("%file"));
  EXPECT_EQ(Select("network,desc"), Select("%network,%desc"));
  // A system call of that name wins.
  EXPECT_EQ(Select("stat"), (std::vector<int>{Nr("stat")}));
  EXPECT_EQ(Select("statfs"), (std::vector<int>{Nr("statfs")}));
}

TEST(TraceSelection, Names) {
  EXPECT_EQ(Select("trace=openat,close"), (std::vector<int>{3, 257}));
  EXPECT_EQ(Select("close,openat,close"), (std::vector<int>{3, 257}));
  EXPECT_EQ(Select("%file,close"), Select("close,%file"));
}

TEST(TraceSelection, Negation) {
  const std::vector<int> not_memory = Select("!%memory");
  EXPECT_FALSE(Has(not_memory, "mmap"));
  EXPECT_FALSE(Has(not_memory, "brk"));
  EXPECT_TRUE(Has(not_memory, "read"));
  const std::vector<int> all = Select("all");
  EXPECT_EQ(not_memory.size() + Select("%memory").size(), all.size());
  const std::vector<int> not_two = Select("trace=!%memory,futex");
  EXPECT_FALSE(Has(not_two, "futex"));
  EXPECT_FALSE(Has(not_two, "mmap"));
  EXPECT_EQ(not_two.size(), not_memory.size() - 1);
}

TEST(TraceSelection, AllAndNone) {
  const std::vector<int> all = Select("all");
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
  EXPECT_EQ(all.front(), 0);
  EXPECT_TRUE(Has(all, "futex_requeue") || FindSyscall(456) == nullptr);
  EXPECT_TRUE(Select("none").empty());
  EXPECT_TRUE(Select("trace=none").empty());
  EXPECT_EQ(Select("!none"), all);
  EXPECT_FALSE(ParseTraceSelection("!all").ok());
}

TEST(TraceSelection, Errors) {
  absl::StatusOr<std::vector<int>> r = ParseTraceSelection("openat,foo");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "unknown system call 'foo' in -e trace=openat,foo");

  r = ParseTraceSelection("trace=%foo");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "unknown class '%foo' in -e trace=%foo");

  r = ParseTraceSelection("openat, close");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "unknown system call ' close' in -e trace=openat, close");

  EXPECT_FALSE(ParseTraceSelection("").ok());
  EXPECT_FALSE(ParseTraceSelection("openat,").ok());
  EXPECT_FALSE(ParseTraceSelection("!").ok());
  EXPECT_FALSE(ParseTraceSelection("OPENAT").ok());
}

}  // namespace
}  // namespace tracectl
