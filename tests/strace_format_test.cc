#include "client/strace_format.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/stat.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <deque>
#include <functional>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "client/trace_event.h"
#include "common/syscall_table.h"

namespace tracectl {
namespace {

constexpr uint64_t kAtFdcwd = static_cast<uint64_t>(-100);
constexpr uint64_t kBuf = 0x7ffd0000;

// One traced call, put through the record encoding and back before it is
// formatted, as tracectl receives it.
class Call {
 public:
  explicit Call(const char* name) {
    const SyscallInfo* info = FindSyscallByName(name);
    EXPECT_NE(info, nullptr) << name;
    if (info != nullptr) event_.header.nr = info->nr;
    event_.header.tgid = 4242;
    event_.header.tid = 4243;
    strncpy(event_.header.comm, "demo", sizeof(event_.header.comm));
  }
  explicit Call(uint32_t nr) { event_.header.nr = nr; }

  Call& Args(std::initializer_list<uint64_t> args) {
    int i = 0;
    for (uint64_t a : args) event_.header.args[i++] = a;
    return *this;
  }
  Call& Ret(int64_t ret) {
    event_.header.ret = ret;
    return *this;
  }
  Call& NoReturn() {
    event_.header.flags |= EVENT_NO_RETURN;
    return *this;
  }
  Call& Times(uint64_t enter_ns, uint64_t duration_ns) {
    event_.header.enter_ns = enter_ns;
    event_.header.duration_ns = duration_ns;
    return *this;
  }
  Call& Tid(uint32_t tid) {
    event_.header.tid = tid;
    return *this;
  }
  Call& Capture(int arg, uint8_t kind, std::string data, uint8_t flags = 0) {
    data_.push_back(std::move(data));
    event_.captures.push_back(
        tracectl::Capture{arg, kind, flags, std::string_view(data_.back())});
    return *this;
  }
  Call& Path(int arg, std::string path, uint8_t flags = 0) {
    return Capture(arg, CAPTURE_PATH, std::move(path), flags);
  }
  // The call's stack, as the daemon sends it with the batch.
  Call& Stack(v1::CallStack stack) {
    *stacks_.Add() = std::move(stack);
    return *this;
  }

  std::string Line(const FormatOptions& options = {}) const {
    std::string line;
    RoundTrip(
        [&](const TraceEvent& e) { line = FormatStraceLine(e, options); });
    return line;
  }
  std::string Json(const FormatOptions& options = {}) const {
    std::string json;
    RoundTrip([&](const TraceEvent& e) { json = FormatEventJson(e, options); });
    return json;
  }

 private:
  void RoundTrip(const std::function<void(const TraceEvent&)>& fn) const {
    const std::string batch = EncodeTraceEvent(event_);
    int events = 0;
    const absl::Status status = ForEachTraceEvent(
        batch,
        [&](const TraceEvent& e) {
          ++events;
          fn(e);
        },
        stacks_);
    EXPECT_TRUE(status.ok()) << status;
    EXPECT_EQ(events, 1);
  }

  TraceEvent event_;
  std::deque<std::string> data_;
  google::protobuf::RepeatedPtrField<v1::CallStack> stacks_;
};

v1::Frame NativeFrame(const std::string& module, const std::string& function,
                      uint64_t function_offset, uint64_t offset,
                      v1::ModuleKind kind = v1::MODULE_LIBRARY) {
  v1::Frame frame;
  frame.set_module(module);
  frame.set_function(function);
  frame.set_function_offset(function_offset);
  frame.set_offset(offset);
  frame.set_kind(kind);
  return frame;
}

v1::Frame PythonFrame(const std::string& function, const std::string& file,
                      uint32_t line) {
  v1::Frame frame;
  frame.set_function(function);
  frame.set_module(file);
  frame.set_file(file);
  frame.set_line(line);
  frame.set_kind(v1::MODULE_PYTHON);
  return frame;
}

// getppid from a Python function, as the daemon names it: libc, an
// unresolved frame, the Python frames in place of the eval loop, main with
// its source line.
v1::CallStack PythonCallStack() {
  v1::CallStack stack;
  *stack.add_frames() = NativeFrame("libc.so.6", "getppid", 0x7, 0xd54f7);
  *stack.add_frames() =
      NativeFrame("python3.11", "", 0, 0x471391, v1::MODULE_EXECUTABLE);
  *stack.add_frames() = PythonFrame("ask_parent", "<string>", 3);
  *stack.add_frames() = PythonFrame("<module>", "<string>", 4);
  v1::Frame main =
      NativeFrame("python3.11", "main", 0x12, 0x1234, v1::MODULE_EXECUTABLE);
  main.set_file("/src/main.c");
  main.set_line(15);
  *stack.add_frames() = main;
  return stack;
}

FormatOptions StringSize(int n) {
  FormatOptions o;
  o.string_size = n;
  return o;
}

TEST(StraceLine, Openat) {
  EXPECT_EQ(Call("openat")
                .Args({kAtFdcwd, kBuf, O_RDONLY | O_CLOEXEC, 0})
                .Ret(3)
                .Path(1, "/etc/ld.so.cache")
                .Line(),
            "openat(AT_FDCWD, \"/etc/ld.so.cache\", O_RDONLY|O_CLOEXEC) = 3");
  // AT_FDCWD passed as a 32-bit int.
  EXPECT_EQ(Call("openat")
                .Args({0xffffff9c, kBuf, O_RDONLY, 0})
                .Ret(-ENOENT)
                .Path(1, "/nope")
                .Line(),
            "openat(AT_FDCWD, \"/nope\", O_RDONLY) = -1 ENOENT (No such file "
            "or directory)");
}

TEST(StraceLine, OpenPrintsModeOnlyWhenCreating) {
  EXPECT_EQ(Call("openat")
                .Args({3, kBuf, O_WRONLY | O_CREAT | O_TRUNC, 0644})
                .Ret(4)
                .Path(1, "out.txt")
                .Line(),
            "openat(3, \"out.txt\", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 4");
  EXPECT_EQ(Call("open")
                .Args({kBuf, O_RDWR | O_TMPFILE, 0600})
                .Ret(5)
                .Path(0, "/tmp")
                .Line(),
            "open(\"/tmp\", O_RDWR|O_TMPFILE, 0600) = 5");
  EXPECT_EQ(Call("open")
                .Args({kBuf, O_RDONLY | O_CREAT, 0})
                .Ret(5)
                .Path(0, "x")
                .Line(),
            "open(\"x\", O_RDONLY|O_CREAT, 000) = 5");
  EXPECT_EQ(Call("openat")
                .Args({kAtFdcwd, kBuf, 3 | 0100000 | O_SYNC | 0x40000000, 0})
                .Ret(-EINVAL)
                .Path(1, "x")
                .Line(),
            "openat(AT_FDCWD, \"x\", O_ACCMODE|O_SYNC|O_LARGEFILE|0x40000000) "
            "= -1 EINVAL (Invalid argument)");
  EXPECT_EQ(Call("creat").Args({kBuf, 0644}).Ret(3).Path(0, "f").Line(),
            "creat(\"f\", 0644) = 3");
}

TEST(StraceLine, LongPathPrintsWhole) {
  const std::string path = "/" + std::string(299, 'a');
  EXPECT_EQ(Call("openat")
                .Args({kAtFdcwd, kBuf, O_RDONLY, 0})
                .Ret(-ENAMETOOLONG)
                .Path(1, path)
                .Line(StringSize(8)),
            "openat(AT_FDCWD, \"" + path +
                "\", O_RDONLY) = -1 ENAMETOOLONG (File name too long)");
}

TEST(StraceLine, UnreadableAndCutPaths) {
  EXPECT_EQ(Call("openat")
                .Args({kAtFdcwd, 0x1234, O_RDONLY, 0})
                .Ret(-EFAULT)
                .Path(1, "", CAPTURE_UNREAD)
                .Line(),
            "openat(AT_FDCWD, 0x1234 /* unreadable */, O_RDONLY) = -1 EFAULT "
            "(Bad address)");
  EXPECT_EQ(Call("openat").Args({kAtFdcwd, 0, O_RDONLY, 0}).Ret(-EFAULT).Line(),
            "openat(AT_FDCWD, NULL, O_RDONLY) = -1 EFAULT (Bad address)");
  EXPECT_EQ(Call("unlink")
                .Args({kBuf})
                .Ret(-ENAMETOOLONG)
                .Path(0, "/very/long", CAPTURE_TRUNCATED)
                .Line(),
            "unlink(\"/very/long\"...) = -1 ENAMETOOLONG (File name too long)");
}

TEST(StraceLine, WriteEscapesAndCutsAtStringSize) {
  EXPECT_EQ(Call("write")
                .Args({1, kBuf, 20})
                .Ret(20)
                .Capture(1, CAPTURE_IN_BUF, std::string("a\"b\\c\n\t\0", 8),
                         CAPTURE_TRUNCATED)
                .Line(StringSize(8)),
            R"(write(1, "a\"b\\c\n\t\0"..., 20) = 20)");
  // An octal escape takes three digits when a digit follows.
  EXPECT_EQ(Call("write")
                .Args({1, kBuf, 7})
                .Ret(7)
                .Capture(1, CAPTURE_IN_BUF, std::string("\0001\0338\x1b[\r", 7))
                .Line(StringSize(8)),
            R"(write(1, "\0001\338\33[\r", 7) = 7)");
  EXPECT_EQ(Call("write")
                .Args({2, kBuf, 3})
                .Ret(3)
                .Capture(1, CAPTURE_IN_BUF, "\x7f\x80\xff")
                .Line(),
            R"(write(2, "\177\200\377", 3) = 3)");
  // More captured than -s allows: cut here.
  EXPECT_EQ(Call("write")
                .Args({1, kBuf, 10})
                .Ret(10)
                .Capture(1, CAPTURE_IN_BUF, "0123456789")
                .Line(StringSize(4)),
            R"(write(1, "0123"..., 10) = 10)");
  EXPECT_EQ(Call("write").Args({1, 0, 0}).Ret(0).Line(),
            "write(1, NULL, 0) = 0");
}

TEST(StraceLine, Read) {
  EXPECT_EQ(Call("read").Args({3, kBuf, 10}).Ret(-EBADF).Line(),
            "read(3, 0x7ffd0000, 10) = -1 EBADF (Bad file descriptor)");
  EXPECT_EQ(Call("read")
                .Args({3, kBuf, 832})
                .Ret(832)
                .Capture(1, CAPTURE_OUT_BUF, std::string("\177ELF\2\1\1\0", 8),
                         CAPTURE_TRUNCATED)
                .Line(StringSize(8)),
            R"(read(3, "\177ELF\2\1\1\0"..., 832) = 832)");
  EXPECT_EQ(Call("read")
                .Args({3, kBuf, 4096})
                .Ret(3)
                .Capture(1, CAPTURE_OUT_BUF, "hi\n")
                .Line(),
            R"(read(3, "hi\n", 4096) = 3)");
  EXPECT_EQ(Call("read").Args({3, kBuf, 4096}).Ret(0).Line(),
            R"(read(3, "", 4096) = 0)");
  EXPECT_EQ(Call("pread64")
                .Args({3, kBuf, 4, 0x100000000})
                .Ret(4)
                .Capture(1, CAPTURE_OUT_BUF, "abcd")
                .Line(),
            R"(pread64(3, "abcd", 4, 4294967296) = 4)");
  EXPECT_EQ(Call("getcwd")
                .Args({kBuf, 4096})
                .Ret(5)
                .Capture(0, CAPTURE_OUT_BUF, std::string("/tmp\0", 5))
                .Line(),
            R"(getcwd("/tmp", 4096) = 5)");
  EXPECT_EQ(Call("readlink")
                .Args({kBuf, kBuf + 64, 4096})
                .Ret(9)
                .Path(0, "/proc/self/exe")
                .Capture(1, CAPTURE_OUT_BUF, "/bin/true")
                .Line(),
            R"(readlink("/proc/self/exe", "/bin/true", 4096) = 9)");
}

TEST(StraceLine, FdPairs) {
  EXPECT_EQ(Call("pipe2")
                .Args({kBuf, O_CLOEXEC})
                .Ret(0)
                .Capture(0, CAPTURE_FD_PAIR, std::string("\3\0\0\0\4\0\0\0", 8))
                .Line(),
            "pipe2([3, 4], O_CLOEXEC) = 0");
  EXPECT_EQ(Call("pipe2").Args({0x8, 0}).Ret(-EFAULT).Line(),
            "pipe2(0x8, 0) = -1 EFAULT (Bad address)");
  EXPECT_EQ(
      Call("socketpair")
          .Args({AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, kBuf})
          .Ret(0)
          .Capture(3, CAPTURE_FD_PAIR, std::string("\5\0\0\0\6\0\0\0", 8))
          .Line(),
      "socketpair(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, 0, [5, "
      "6]) = 0");
}

TEST(StraceLine, Memory) {
  EXPECT_EQ(
      Call("mmap")
          .Args({0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                 static_cast<uint64_t>(-1), 0})
          .Ret(0x7f1234560000)
          .Line(),
      "mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, "
      "0) = 0x7f1234560000");
  EXPECT_EQ(Call("mmap")
                .Args({0x7f1234560000, 4096, PROT_READ | PROT_EXEC,
                       MAP_PRIVATE | MAP_FIXED | MAP_DENYWRITE, 3, 0x2000})
                .Ret(0x7f1234560000)
                .Line(),
            "mmap(0x7f1234560000, 4096, PROT_READ|PROT_EXEC, "
            "MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3, 0x2000) = 0x7f1234560000");
  EXPECT_EQ(Call("mmap")
                .Args({0, 4096, 0x100 | PROT_READ,
                       MAP_SHARED_VALIDATE | MAP_HUGETLB | (21u << 26), 3, 0})
                .Ret(-EBADF)
                .Line(),
            "mmap(NULL, 4096, PROT_READ|0x100, "
            "MAP_SHARED_VALIDATE|MAP_HUGETLB|21<<MAP_HUGE_SHIFT, 3, 0) = -1 "
            "EBADF (Bad file descriptor)");
  EXPECT_EQ(
      Call("mprotect").Args({0x7f0000000000, 4096, PROT_NONE}).Ret(0).Line(),
      "mprotect(0x7f0000000000, 4096, PROT_NONE) = 0");
  EXPECT_EQ(Call("brk").Args({0}).Ret(0x5555d000).Line(),
            "brk(NULL) = 0x5555d000");
  EXPECT_EQ(Call("madvise").Args({0x7f0000000000, 4096, 4}).Ret(0).Line(),
            "madvise(0x7f0000000000, 4096, MADV_DONTNEED) = 0");
}

TEST(StraceLine, Execve) {
  const std::string argv = std::string("ls\0abcdefgh\0x\0", 14);
  EXPECT_EQ(Call("execve")
                .Args({kBuf, kBuf + 100, 0x7ffd1000})
                .Ret(0)
                .Path(0, "/bin/ls")
                .Capture(1, CAPTURE_ARGV, argv, CAPTURE_TRUNCATED)
                .Line(StringSize(8)),
            "execve(\"/bin/ls\", [\"ls\", \"abcdefgh\"..., \"x\", ...], "
            "0x7ffd1000) = 0");
  EXPECT_EQ(
      Call("execve")
          .Args({kBuf, kBuf + 100, 0x7ffd1000})
          .Ret(-ENOENT)
          .Path(0, "/nope")
          .Capture(1, CAPTURE_ARGV, std::string("/nope\0-l\0", 9))
          .Line(),
      "execve(\"/nope\", [\"/nope\", \"-l\"], 0x7ffd1000) = -1 ENOENT (No "
      "such file or directory)");
  // The last string lost its NUL: it was cut.
  EXPECT_EQ(Call("execve")
                .Args({kBuf, kBuf + 100, 0})
                .Ret(0)
                .Path(0, "/bin/echo")
                .Capture(1, CAPTURE_ARGV, std::string("echo\0hel", 8),
                         CAPTURE_TRUNCATED)
                .Line(),
            "execve(\"/bin/echo\", [\"echo\", \"hel\"..., ...], NULL) = 0");
  EXPECT_EQ(Call("execve")
                .Args({kBuf, kBuf + 100, 0x7ffd1000})
                .Ret(-EFAULT)
                .Path(0, "/bin/ls")
                .Capture(1, CAPTURE_ARGV, "", CAPTURE_UNREAD)
                .Line(),
            "execve(\"/bin/ls\", 0x7ffd0064 /* unreadable */, 0x7ffd1000) = -1 "
            "EFAULT (Bad address)");
}

std::string U32(uint32_t v) {
  return std::string(reinterpret_cast<const char*>(&v), sizeof(v));
}

TEST(StraceLine, ExecveEnvironmentCount) {
  const std::string argv = std::string("/bin/echo\0a\0b\0", 14);
  EXPECT_EQ(
      Call("execve")
          .Args({kBuf, kBuf + 100, 0x7ffd1000})
          .Ret(0)
          .Path(0, "/bin/echo", CAPTURE_AT_EXEC)
          .Capture(1, CAPTURE_ARGV, argv, CAPTURE_AT_EXEC)
          .Capture(2, CAPTURE_ARRAY_COUNT, U32(17))
          .Line(),
      "execve(\"/bin/echo\", [\"/bin/echo\", \"a\", \"b\"], 0x7ffd1000 /* 17 "
      "vars */) = 0");
  EXPECT_EQ(
      Call("execveat")
          .Args({kAtFdcwd, kBuf, kBuf + 100, 0x7ffd1000, 0})
          .Ret(-ENOENT)
          .Path(1, "x")
          .Capture(2, CAPTURE_ARGV, std::string("x\0", 2))
          .Capture(3, CAPTURE_ARRAY_COUNT, U32(0))
          .Line(),
      "execveat(AT_FDCWD, \"x\", [\"x\"], 0x7ffd1000 /* 0 vars */, 0) = -1 "
      "ENOENT (No such file or directory)");
  EXPECT_EQ(Call("execve")
                .Args({kBuf, kBuf + 100, 0x7ffd1000})
                .Ret(0)
                .Path(0, "/bin/echo")
                .Capture(1, CAPTURE_ARGV, "", CAPTURE_UNREAD)
                .Capture(2, CAPTURE_ARRAY_COUNT, "", CAPTURE_UNREAD)
                .Line(),
            "execve(\"/bin/echo\", 0x7ffd0064 /* unreadable */, 0x7ffd1000 /* "
            "unreadable */) = 0");
  const std::string json = Call("execve")
                               .Args({kBuf, kBuf + 100, 0})
                               .Ret(0)
                               .Capture(1, CAPTURE_ARGV, argv, CAPTURE_AT_EXEC)
                               .Json();
  EXPECT_NE(json.find(R"(,"read_at_exec":true})"), std::string::npos) << json;
}

// What the kernel copies for a struct stat, statx or statfs.
std::string StatBytes(uint32_t mode, int64_t size, uint64_t rdev = 0) {
  struct stat st {};
  static_assert(sizeof(st) == STAT_BYTES);
  st.st_mode = mode;
  st.st_size = size;
  st.st_rdev = rdev;
  st.st_nlink = 1;
  return std::string(reinterpret_cast<const char*>(&st), sizeof(st));
}

TEST(StraceLine, StatStructures) {
  EXPECT_EQ(Call("newfstatat")
                .Args({kAtFdcwd, kBuf, kBuf + 100, 0})
                .Ret(0)
                .Path(1, "/etc/passwd")
                .Capture(2, CAPTURE_STAT, StatBytes(S_IFREG | 0644, 1234))
                .Line(),
            "newfstatat(AT_FDCWD, \"/etc/passwd\", {st_mode=S_IFREG|0644, "
            "st_size=1234, ...}, 0) = 0");
  EXPECT_EQ(
      Call("fstat")
          .Args({3, kBuf})
          .Ret(0)
          .Capture(1, CAPTURE_STAT, StatBytes(S_IFDIR | S_ISVTX | 0777, 4096))
          .Line(),
      "fstat(3, {st_mode=S_IFDIR|S_ISVTX|0777, st_size=4096, ...}) = 0");
  EXPECT_EQ(
      Call("lstat")
          .Args({kBuf, kBuf + 100})
          .Ret(0)
          .Path(0, "/usr/bin/su")
          .Capture(1, CAPTURE_STAT, StatBytes(S_IFREG | S_ISUID | 0755, 72000))
          .Line(),
      "lstat(\"/usr/bin/su\", {st_mode=S_IFREG|S_ISUID|0755, "
      "st_size=72000, ...}) = 0");
  // Devices show their number instead of a size.
  EXPECT_EQ(
      Call("stat")
          .Args({kBuf, kBuf + 100})
          .Ret(0)
          .Path(0, "/dev/null")
          .Capture(1, CAPTURE_STAT, StatBytes(S_IFCHR | 0666, 0, makedev(1, 3)))
          .Line(),
      "stat(\"/dev/null\", {st_mode=S_IFCHR|0666, "
      "st_rdev=makedev(0x1, 0x3), ...}) = 0");
  EXPECT_EQ(Call("stat")
                .Args({kBuf, kBuf + 100})
                .Ret(0)
                .Path(0, "/dev/sda")
                .Capture(1, CAPTURE_STAT,
                         StatBytes(S_IFBLK | 0660, 0, makedev(259, 0x12345)))
                .Line(),
            "stat(\"/dev/sda\", {st_mode=S_IFBLK|0660, "
            "st_rdev=makedev(0x103, 0x12345), ...}) = 0");
  // A failed call wrote nothing: the pointer, as strace prints it.
  EXPECT_EQ(Call("newfstatat")
                .Args({kAtFdcwd, kBuf, kBuf + 100, AT_SYMLINK_NOFOLLOW})
                .Ret(-ENOENT)
                .Path(1, "/nope")
                .Line(),
            "newfstatat(AT_FDCWD, \"/nope\", 0x7ffd0064, AT_SYMLINK_NOFOLLOW) "
            "= -1 ENOENT (No such file or directory)");
  EXPECT_EQ(Call("fstat")
                .Args({3, kBuf})
                .Ret(0)
                .Capture(1, CAPTURE_STAT, "", CAPTURE_UNREAD)
                .Line(),
            "fstat(3, 0x7ffd0000 /* unreadable */) = 0");

  struct statx stx {};
  static_assert(sizeof(stx) == STATX_BYTES);
  stx.stx_mask = STATX_BASIC_STATS | STATX_BTIME | STATX_MNT_ID;
  stx.stx_attributes = STATX_ATTR_MOUNT_ROOT;
  stx.stx_mode = S_IFREG | 0600;
  stx.stx_size = 77;
  EXPECT_EQ(
      Call("statx")
          .Args({kAtFdcwd, kBuf, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS,
                 kBuf + 100})
          .Ret(0)
          .Path(1, "/f")
          .Capture(
              4, CAPTURE_STATX,
              std::string(reinterpret_cast<const char*>(&stx), sizeof(stx)))
          .Line(),
      "statx(AT_FDCWD, \"/f\", AT_STATX_SYNC_AS_STAT|AT_SYMLINK_NOFOLLOW, "
      "STATX_BASIC_STATS, {stx_mask=STATX_ALL|STATX_MNT_ID, "
      "stx_attributes=STATX_ATTR_MOUNT_ROOT, stx_mode=S_IFREG|0600, "
      "stx_size=77, ...}) = 0");
  // ls -l's mask, as strace 6.1 prints it.
  EXPECT_EQ(
      Call("statx")
          .Args({kAtFdcwd, kBuf, AT_SYMLINK_NOFOLLOW,
                 STATX_MODE | STATX_NLINK | STATX_UID | STATX_GID |
                     STATX_MTIME | STATX_SIZE,
                 kBuf + 100})
          .Ret(-ENOENT)
          .Path(1, "/f")
          .Line(),
      "statx(AT_FDCWD, \"/f\", AT_STATX_SYNC_AS_STAT|AT_SYMLINK_NOFOLLOW, "
      "STATX_MODE|STATX_NLINK|STATX_UID|STATX_GID|STATX_MTIME|STATX_SIZE, "
      "0x7ffd0064) = -1 ENOENT (No such file or directory)");
  EXPECT_EQ(Call("statx")
                .Args({3, kBuf, AT_EMPTY_PATH | AT_STATX_DONT_SYNC, 0x40000000,
                       kBuf + 100})
                .Ret(-EINVAL)
                .Path(1, "")
                .Line(),
            "statx(3, \"\", AT_EMPTY_PATH|AT_STATX_DONT_SYNC, "
            "0x40000000 /* STATX_??? */, 0x7ffd0064) = -1 EINVAL (Invalid "
            "argument)");

  struct statfs sfs {};
  static_assert(sizeof(sfs) == STATFS_BYTES);
  sfs.f_type = 0x01021994;
  sfs.f_bsize = 4096;
  sfs.f_blocks = 100;
  sfs.f_bfree = 90;
  sfs.f_bavail = 80;
  sfs.f_files = 50;
  sfs.f_ffree = 40;
  memcpy(&sfs.f_fsid, "\x19\x59\x6e\x88\x00\x00\x00\x00", 8);
  sfs.f_namelen = 255;
  sfs.f_frsize = 4096;
  sfs.f_flags = 0x20 | 0x2 | 0x4 | 0x1000;
  EXPECT_EQ(Call("fstatfs")
                .Args({3, kBuf})
                .Ret(0)
                .Capture(1, CAPTURE_STATFS,
                         std::string(reinterpret_cast<const char*>(&sfs),
                                     sizeof(sfs)))
                .Line(),
            "fstatfs(3, {f_type=TMPFS_MAGIC, f_bsize=4096, f_blocks=100, "
            "f_bfree=90, f_bavail=80, f_files=50, f_ffree=40, "
            "f_fsid={val=[0x886e5919, 0]}, f_namelen=255, f_frsize=4096, "
            "f_flags=ST_VALID|ST_NOSUID|ST_NODEV|ST_RELATIME}) = 0");
}

TEST(StraceLine, GetrandomAndFlags) {
  EXPECT_EQ(Call("getrandom")
                .Args({kBuf, 4, GRND_NONBLOCK})
                .Ret(4)
                .Capture(0, CAPTURE_OUT_BUF, std::string("ab\0\xff", 4))
                .Line(),
            "getrandom(\"\\x61\\x62\\x00\\xff\", 4, GRND_NONBLOCK) = 4");
  EXPECT_EQ(Call("getrandom")
                .Args({kBuf, 40, GRND_NONBLOCK | GRND_RANDOM})
                .Ret(40)
                .Capture(0, CAPTURE_OUT_BUF, "abcd", CAPTURE_TRUNCATED)
                .Line(StringSize(4)),
            "getrandom(\"\\x61\\x62\\x63\\x64\"..., 40, "
            "GRND_NONBLOCK|GRND_RANDOM) = 40");
  EXPECT_EQ(Call("getrandom")
                .Args({kBuf, 4, GRND_INSECURE})
                .Ret(4)
                .Capture(0, CAPTURE_OUT_BUF, "abcd")
                .Line(StringSize(2)),
            "getrandom(\"\\x61\\x62\"..., 4, GRND_INSECURE) = 4");
  EXPECT_EQ(Call("getrandom").Args({kBuf, 0, 0}).Ret(0).Line(),
            "getrandom(\"\", 0, 0) = 0");
  EXPECT_EQ(Call("getrandom").Args({kBuf, 4, 1 | 8}).Ret(-EINVAL).Line(),
            "getrandom(0x7ffd0000, 4, GRND_NONBLOCK|0x8) = -1 EINVAL (Invalid "
            "argument)");
  EXPECT_EQ(Call("getrandom").Args({kBuf, 4, 8}).Ret(-EINVAL).Line(),
            "getrandom(0x7ffd0000, 4, 0x8 /* GRND_??? */) = -1 EINVAL "
            "(Invalid argument)");

  EXPECT_EQ(Call("eventfd2").Args({0, 02000000 | 04000 | 1}).Ret(3).Line(),
            "eventfd2(0, EFD_SEMAPHORE|EFD_CLOEXEC|EFD_NONBLOCK) = 3");
  EXPECT_EQ(Call("epoll_create1").Args({02000000}).Ret(4).Line(),
            "epoll_create1(EPOLL_CLOEXEC) = 4");
  EXPECT_EQ(Call("inotify_init1").Args({02000000 | 04000}).Ret(5).Line(),
            "inotify_init1(IN_NONBLOCK|IN_CLOEXEC) = 5");
  EXPECT_EQ(Call("timerfd_create").Args({1, 02000000 | 04000}).Ret(6).Line(),
            "timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC|TFD_NONBLOCK) = 6");
  EXPECT_EQ(Call("epoll_ctl").Args({4, 1, 3, kBuf}).Ret(0).Line(),
            "epoll_ctl(4, EPOLL_CTL_ADD, 3, 0x7ffd0000) = 0");
  EXPECT_EQ(Call("fadvise64").Args({3, 0, 0, 2}).Ret(0).Line(),
            "fadvise64(3, 0, 0, POSIX_FADV_SEQUENTIAL) = 0");
  EXPECT_EQ(Call("flock").Args({3, 2 | 4}).Ret(0).Line(),
            "flock(3, LOCK_EX|LOCK_NB) = 0");
  EXPECT_EQ(Call("memfd_create").Args({kBuf, 1 | 2}).Ret(7).Path(0, "x").Line(),
            "memfd_create(\"x\", MFD_CLOEXEC|MFD_ALLOW_SEALING) = 7");
  EXPECT_EQ(Call("close_range").Args({3, ~0u, 4}).Ret(0).Line(),
            "close_range(3, 4294967295, CLOSE_RANGE_CLOEXEC) = 0");
}

// What the kernel side captures for an argument type (CaptureSpec).
uint8_t CaptureKind(ArgType type) {
  switch (type) {
    case ArgType::kPath:
    case ArgType::kString:
      return CAPTURE_PATH;
    case ArgType::kInBuf:
      return CAPTURE_IN_BUF;
    case ArgType::kOutBuf:
    case ArgType::kRandomBuf:
      return CAPTURE_OUT_BUF;
    case ArgType::kSockaddr:
      return CAPTURE_SOCKADDR;
    case ArgType::kArgv:
      return CAPTURE_ARGV;
    case ArgType::kEnvp:
      return CAPTURE_ARRAY_COUNT;
    case ArgType::kFdPair:
      return CAPTURE_FD_PAIR;
    case ArgType::kStatBuf:
      return CAPTURE_STAT;
    case ArgType::kStatxBuf:
      return CAPTURE_STATX;
    case ArgType::kStatfsBuf:
      return CAPTURE_STATFS;
    default:
      return CAPTURE_NONE;
  }
}

// Each capture the kernel flags unreadable (and counts as one drop) prints
// one marker, whatever the call: the drop count is the markers' count.
TEST(StraceLine, EveryUnreadableCapturePrintsOneMarker) {
  int calls = 0;
  for (int nr = 0; nr < MAX_TRACE_NR; ++nr) {
    const SyscallInfo* info = FindSyscall(nr);
    if (info == nullptr) continue;
    Call call(static_cast<uint32_t>(nr));
    // Arguments that make every optional part print: O_CREAT for the
    // mode of open calls.
    call.Args({kBuf, O_CREAT, kBuf + 0x100, kBuf + 0x200, kBuf + 0x300,
               kBuf + 0x400});
    int unread = 0;
    bool out_buf = false;
    for (size_t i = 0; i < info->args.size(); ++i) {
      const uint8_t kind = CaptureKind(info->args[i]);
      if (kind == CAPTURE_NONE) continue;
      out_buf |= kind == CAPTURE_OUT_BUF;
      call.Capture(static_cast<int>(i), kind, "", CAPTURE_UNREAD);
      ++unread;
    }
    if (unread == 0) continue;
    // Output buffers are read when the call returned bytes; the rest at 0.
    call.Ret(out_buf ? 8 : 0);
    const std::string line = call.Line();
    size_t markers = 0;
    for (size_t at = line.find("/* unreadable */"); at != std::string::npos;
         at = line.find("/* unreadable */", at + 1)) {
      ++markers;
    }
    EXPECT_EQ(markers, static_cast<size_t>(unread)) << line;
    ++calls;
  }
  EXPECT_GT(calls, 100);
}

std::string Bytes(const void* p, size_t n) {
  return std::string(static_cast<const char*>(p), n);
}

TEST(StraceLine, Sockaddrs) {
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  strcpy(un.sun_path, "/run/x");
  EXPECT_EQ(Call("connect")
                .Args({3, kBuf, sizeof(un)})
                .Ret(0)
                .Capture(1, CAPTURE_SOCKADDR, Bytes(&un, sizeof(un)))
                .Line(),
            "connect(3, {sa_family=AF_UNIX, sun_path=\"/run/x\"}, 110) = 0");

  sockaddr_un abstract{};
  abstract.sun_family = AF_UNIX;
  memcpy(abstract.sun_path, "\0abstract", 9);
  EXPECT_EQ(Call("bind")
                .Args({3, kBuf, 11})
                .Ret(0)
                .Capture(1, CAPTURE_SOCKADDR, Bytes(&abstract, 11))
                .Line(),
            "bind(3, {sa_family=AF_UNIX, sun_path=@\"abstract\"}, 11) = 0");

  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(80);
  in.sin_addr.s_addr = htonl(0x01020304);
  EXPECT_EQ(Call("connect")
                .Args({3, kBuf, sizeof(in)})
                .Ret(0)
                .Capture(1, CAPTURE_SOCKADDR, Bytes(&in, sizeof(in)))
                .Line(),
            "connect(3, {sa_family=AF_INET, sin_port=htons(80), "
            "sin_addr=inet_addr(\"1.2.3.4\")}, 16) = 0");

  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(443);
  in6.sin6_addr = in6addr_loopback;
  EXPECT_EQ(Call("connect")
                .Args({3, kBuf, sizeof(in6)})
                .Ret(-ECONNREFUSED)
                .Capture(1, CAPTURE_SOCKADDR, Bytes(&in6, sizeof(in6)))
                .Line(),
            "connect(3, {sa_family=AF_INET6, sin6_port=htons(443), "
            "sin6_flowinfo=htonl(0), inet_pton(AF_INET6, \"::1\", "
            "&sin6_addr), sin6_scope_id=0}, 28) = -1 ECONNREFUSED (Connection "
            "refused)");

  EXPECT_EQ(
      Call("sendto")
          .Args(
              {3, kBuf, 2, MSG_DONTWAIT | MSG_NOSIGNAL, kBuf + 64, sizeof(in)})
          .Ret(2)
          .Capture(1, CAPTURE_IN_BUF, "hi")
          .Capture(4, CAPTURE_SOCKADDR, Bytes(&in, sizeof(in)))
          .Line(),
      "sendto(3, \"hi\", 2, MSG_DONTWAIT|MSG_NOSIGNAL, {sa_family=AF_INET, "
      "sin_port=htons(80), sin_addr=inet_addr(\"1.2.3.4\")}, 16) = 2");
  EXPECT_EQ(Call("recvfrom")
                .Args({3, kBuf, 10, MSG_DONTWAIT, 0, 0})
                .Ret(-EAGAIN)
                .Line(),
            "recvfrom(3, 0x7ffd0000, 10, MSG_DONTWAIT, NULL, NULL) = -1 EAGAIN "
            "(Resource temporarily unavailable)");
  EXPECT_EQ(Call("socket")
                .Args({AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0})
                .Ret(3)
                .Line(),
            "socket(AF_INET6, SOCK_STREAM|SOCK_CLOEXEC, 0) = 3");
  EXPECT_EQ(Call("socket").Args({1234, 77, 0}).Ret(-EINVAL).Line(),
            "socket(0x4d2 /* AF_??? */, 0x4d /* SOCK_??? */, 0) = -1 EINVAL "
            "(Invalid argument)");
}

TEST(StraceLine, ProcessCalls) {
  EXPECT_EQ(Call("exit_group").Args({0}).NoReturn().Line(),
            "exit_group(0) = ?");
  FormatOptions t;
  t.show_duration = true;
  EXPECT_EQ(Call("exit_group").Args({1}).NoReturn().Line(t),
            "exit_group(1) = ?");
  EXPECT_EQ(Call("clone")
                .Args({0x1200000 | SIGCHLD, 0, 0, 0x7f00000a10, 0})
                .Ret(4321)
                .Line(),
            "clone(child_stack=NULL, "
            "flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, "
            "child_tidptr=0x7f00000a10) = 4321");
  EXPECT_EQ(Call("kill").Args({4321, SIGTERM}).Ret(0).Line(),
            "kill(4321, SIGTERM) = 0");
  EXPECT_EQ(Call("kill").Args({0xffffffff, 0}).Ret(0).Line(),
            "kill(-1, 0) = 0");
  EXPECT_EQ(Call("tgkill").Args({1, 2, 34}).Ret(-ESRCH).Line(),
            "tgkill(1, 2, SIGRT_2) = -1 ESRCH (No such process)");
  EXPECT_EQ(Call("wait4")
                .Args({static_cast<uint64_t>(-1), kBuf, 0, 0})
                .Ret(4321)
                .Line(),
            "wait4(-1, 0x7ffd0000, 0, NULL) = 4321");
  EXPECT_EQ(
      Call("rt_sigprocmask").Args({SIG_SETMASK, kBuf, 0, 8}).Ret(0).Line(),
      "rt_sigprocmask(SIG_SETMASK, 0x7ffd0000, NULL, 8) = 0");
  EXPECT_EQ(Call("futex").Args({kBuf, 129, 1, 0, 0, 0}).Ret(0).Line(),
            "futex(0x7ffd0000, FUTEX_WAKE_PRIVATE, 1) = 0");
  EXPECT_EQ(Call("futex")
                .Args({kBuf, 9 | 256, 0, 0, 0, 0xffffffff})
                .Ret(-EAGAIN)
                .Line(),
            "futex(0x7ffd0000, FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME, 0, "
            "NULL, FUTEX_BITSET_MATCH_ANY) = -1 EAGAIN (Resource temporarily "
            "unavailable)");
  EXPECT_EQ(
      Call("wait4").Args({static_cast<uint64_t>(-1), 0, 0, 0}).Ret(-512).Line(),
      "wait4(-1, NULL, 0, NULL) = ? ERESTARTSYS (To be restarted if "
      "SA_RESTART is set)");
}

TEST(StraceLine, FileCalls) {
  EXPECT_EQ(Call("fcntl").Args({3, F_GETFD, 0x1234}).Ret(1).Line(),
            "fcntl(3, F_GETFD) = 1");
  EXPECT_EQ(Call("fcntl").Args({3, F_SETFD, FD_CLOEXEC}).Ret(0).Line(),
            "fcntl(3, F_SETFD, FD_CLOEXEC) = 0");
  EXPECT_EQ(Call("fcntl").Args({3, F_SETFL, O_NONBLOCK}).Ret(0).Line(),
            "fcntl(3, F_SETFL, O_RDONLY|O_NONBLOCK) = 0");
  EXPECT_EQ(Call("fcntl").Args({3, F_DUPFD_CLOEXEC, 3}).Ret(9).Line(),
            "fcntl(3, F_DUPFD_CLOEXEC, 3) = 9");
  EXPECT_EQ(Call("fcntl").Args({3, 999, 5}).Ret(-EINVAL).Line(),
            "fcntl(3, 0x3e7 /* F_??? */, 0x5) = -1 EINVAL (Invalid argument)");
  EXPECT_EQ(Call("dup3").Args({3, 5, O_CLOEXEC}).Ret(5).Line(),
            "dup3(3, 5, O_CLOEXEC) = 5");
  EXPECT_EQ(Call("lseek").Args({3, 0, SEEK_END}).Ret(1234).Line(),
            "lseek(3, 0, SEEK_END) = 1234");
  EXPECT_EQ(Call("lseek").Args({3, 5, 9}).Ret(-EINVAL).Line(),
            "lseek(3, 5, 0x9 /* SEEK_??? */) = -1 EINVAL (Invalid argument)");
  EXPECT_EQ(
      Call("access").Args({kBuf, R_OK | X_OK}).Ret(0).Path(0, "/x").Line(),
      "access(\"/x\", R_OK|X_OK) = 0");
  EXPECT_EQ(Call("faccessat2")
                .Args({kAtFdcwd, kBuf, F_OK, AT_EACCESS | AT_SYMLINK_NOFOLLOW})
                .Ret(0)
                .Path(1, "/x")
                .Line(),
            "faccessat2(AT_FDCWD, \"/x\", F_OK, "
            "AT_SYMLINK_NOFOLLOW|AT_EACCESS) = 0");
  EXPECT_EQ(Call("newfstatat")
                .Args({3, kBuf, kBuf + 8, AT_EMPTY_PATH})
                .Ret(0)
                .Path(1, "")
                .Line(),
            "newfstatat(3, \"\", 0x7ffd0008, AT_EMPTY_PATH) = 0");
  EXPECT_EQ(
      Call("unlinkat").Args({3, kBuf, AT_REMOVEDIR}).Ret(0).Path(1, "d").Line(),
      "unlinkat(3, \"d\", AT_REMOVEDIR) = 0");
  EXPECT_EQ(Call("renameat2")
                .Args({3, kBuf, kAtFdcwd, kBuf + 8, 1 | 4})
                .Ret(0)
                .Path(1, "a")
                .Path(3, "b")
                .Line(),
            "renameat2(3, \"a\", AT_FDCWD, \"b\", "
            "RENAME_NOREPLACE|RENAME_WHITEOUT) = 0");
  EXPECT_EQ(Call("mkdir").Args({kBuf, 0755}).Ret(0).Path(0, "d").Line(),
            "mkdir(\"d\", 0755) = 0");
  EXPECT_EQ(
      Call("mknod").Args({kBuf, 020620, 0x103}).Ret(0).Path(0, "tty").Line(),
      "mknod(\"tty\", S_IFCHR|0620, 0x103) = 0");
  EXPECT_EQ(Call("setxattr")
                .Args({kBuf, kBuf + 8, kBuf + 16, 4, 0})
                .Ret(0)
                .Path(0, "/f")
                .Path(1, "user.a-rather-long-attribute-name")
                .Capture(2, CAPTURE_IN_BUF, "abcd")
                .Line(StringSize(8)),
            "setxattr(\"/f\", \"user.a-r\"..., \"abcd\", 4, 0) = 0");
}

TEST(StraceLine, UnknownAndCompatCalls) {
  EXPECT_EQ(Call(uint32_t{500}).Args({1}).Ret(-ENOSYS).Line(),
            "syscall_500(0x1, 0, 0, 0, 0, 0) = -1 ENOSYS (Function not "
            "implemented)");
  EXPECT_EQ(Call(EVENT_COMPAT_BIT | 5).Args({0x8049000, 0}).Ret(3).Line(),
            "ia32:open(0x8049000, 0, 0, 0, 0, 0) = 3");
  EXPECT_EQ(Call("tuxcall").Args({0x1f}).Ret(-ENOSYS).Line(),
            "tuxcall(0x1f, 0, 0, 0, 0, 0) = -1 ENOSYS (Function not "
            "implemented)");
}

TEST(StraceLine, Prefixes) {
  FormatOptions t;
  t.show_duration = true;
  EXPECT_EQ(Call("getppid").Ret(1234).Times(0, 12345).Line(t),
            "getppid() = 1234 <0.000012>");
  EXPECT_EQ(Call("getppid").Ret(1).Times(0, 2500000000).Line(t),
            "getppid() = 1 <2.500000>");

  FormatOptions ttt;
  ttt.timestamps = 3;
  ttt.realtime_offset_ns = 1764000000000000000 - 5000000000;
  EXPECT_EQ(Call("getpid").Ret(7).Times(5123456789, 0).Line(ttt),
            "1764000000.123456 getpid() = 7");

  setenv("TZ", "UTC", 1);
  tzset();
  FormatOptions tt = ttt;
  tt.timestamps = 2;
  EXPECT_EQ(Call("getpid").Ret(7).Times(5123456789, 0).Line(tt),
            "16:00:00.123456 getpid() = 7");
  tt.timestamps = 1;
  EXPECT_EQ(Call("getpid").Ret(7).Times(5123456789, 0).Line(tt),
            "16:00:00 getpid() = 7");

  FormatOptions f;
  f.pid_prefix = FormatOptions::PidPrefix::kBare;
  EXPECT_EQ(Call("getpid").Tid(1234).Ret(7).Line(f), "1234  getpid() = 7");
  EXPECT_EQ(Call("getpid").Tid(123456).Ret(7).Line(f), "123456 getpid() = 7");

  FormatOptions all = ttt;
  all.pid_prefix = FormatOptions::PidPrefix::kBare;
  all.show_duration = true;
  EXPECT_EQ(Call("getpid").Tid(77777).Ret(7).Times(5123456789, 1000).Line(all),
            "77777 1764000000.123456 getpid() = 7 <0.000001>");
}

TEST(EventJson, Fields) {
  FormatOptions o;
  o.realtime_offset_ns = 1764000000000000000 - 5000000000;
  EXPECT_EQ(Call("openat")
                .Args({kAtFdcwd, kBuf, O_RDONLY, 0})
                .Ret(-ENOENT)
                .Times(5123456789, 1234)
                .Path(1, "/etc/\"x\"")
                .Json(o),
            R"({"pid":4242,"tid":4243,"comm":"demo","syscall":"openat",)"
            R"("nr":257,"args":["AT_FDCWD","\"/etc/\\\"x\\\"\"","O_RDONLY"],)"
            R"("raw_args":["0xffffffffffffff9c","0x7ffd0000","0x0","0x0",)"
            R"("0x0","0x0"],"ret":-2,"errno":"ENOENT","duration_ns":1234,)"
            R"("time":1764000000.123456})");
}

TEST(EventJson, FlagsAndNoReturn) {
  const std::string read =
      Call("read")
          .Args({3, kBuf, 100})
          .Ret(100)
          .Capture(1, CAPTURE_OUT_BUF, "abc", CAPTURE_TRUNCATED)
          .Json();
  EXPECT_NE(read.find(R"("ret":100,"duration_ns":0,)"), std::string::npos)
      << read;
  EXPECT_EQ(read.find("errno"), std::string::npos) << read;
  EXPECT_NE(read.find(R"(,"captures_truncated":true})"), std::string::npos)
      << read;
  EXPECT_EQ(read.find("unreadable"), std::string::npos) << read;

  const std::string unread = Call("openat")
                                 .Args({kAtFdcwd, 0x10, O_RDONLY, 0})
                                 .Ret(-EFAULT)
                                 .Path(1, "", CAPTURE_UNREAD)
                                 .Json();
  EXPECT_NE(unread.find(R"("0x10 /* unreadable */")"), std::string::npos)
      << unread;
  EXPECT_NE(unread.find(R"(,"unreadable":true})"), std::string::npos) << unread;

  const std::string exit = Call("exit_group").Args({3}).NoReturn().Json();
  EXPECT_NE(exit.find(R"("args":["3"],)"), std::string::npos) << exit;
  EXPECT_NE(exit.find(R"("ret":null,"time":)"), std::string::npos) << exit;
}

// A minimal JSON syntax check: the object's strings, brackets and values
// balance, and nothing follows it.
bool LooksLikeJsonObject(const std::string& s) {
  if (s.empty() || s.front() != '{' || s.back() != '}') return false;
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        return false;
      }
      continue;
    }
    if (c == '"') in_string = true;
    if (c == '{' || c == '[') ++depth;
    if (c == '}' || c == ']') --depth;
    if (depth == 0 && i + 1 != s.size()) return false;
  }
  return depth == 0 && !in_string;
}

TEST(EventJson, Escapes) {
  const std::string json = Call("write")
                               .Args({1, kBuf, 4})
                               .Ret(4)
                               .Capture(1, CAPTURE_IN_BUF, "\n\x01\"\xff")
                               .Json();
  EXPECT_TRUE(LooksLikeJsonObject(json)) << json;
  EXPECT_NE(json.find(R"("\"\\n\\1\\\"\\377\"")"), std::string::npos) << json;
}

TEST(StackLines, AsStraceDashK) {
  EXPECT_EQ(FormatStackLines(PythonCallStack()),
            " > libc.so.6(getppid+0x7) [0xd54f7]\n"
            " > python3.11() [0x471391]\n"
            " > ask_parent (<string>:3)\n"
            " > <module> (<string>:4)\n"
            " > python3.11(main+0x12) [0x1234] (/src/main.c:15)\n");
}

TEST(StackLines, CutAndHostileNames) {
  v1::CallStack stack;
  // A file name and a function from the target: no control characters
  // reach the terminal.
  *stack.add_frames() = NativeFrame("lib\x1b[2Jx.so", "f\nake", 0x1, 0x10);
  *stack.add_frames() = PythonFrame("run\r", "/tmp/\x07.py", 0);
  *stack.add_frames() =
      NativeFrame("", "", 0, 0x7f0000001000, v1::MODULE_UNKNOWN);
  stack.set_truncated(true);
  EXPECT_EQ(FormatStackLines(stack),
            " > lib\\033[2Jx.so(f\\012ake+0x1) [0x10]\n"
            " > run\\015 (/tmp/\\007.py)\n"
            " > [unknown]() [0x7f0000001000]\n"
            " > ...\n");
}

TEST(EventJson, Stack) {
  const std::string json =
      Call("getppid").Ret(7).Stack(PythonCallStack()).Json();
  EXPECT_TRUE(LooksLikeJsonObject(json)) << json;
  EXPECT_NE(
      json.find(
          R"(,"stack":[{"kind":"library","function":"getppid",)"
          R"("module":"libc.so.6","offset":"0xd54f7","function_offset":"0x7"},)"
          R"({"kind":"executable","module":"python3.11","offset":"0x471391"},)"
          R"({"kind":"python","function":"ask_parent","file":"<string>",)"
          R"("line":3},)"
          R"({"kind":"python","function":"<module>","file":"<string>",)"
          R"("line":4},)"
          R"({"kind":"executable","function":"main","module":"python3.11",)"
          R"("offset":"0x1234","function_offset":"0x12",)"
          R"("file":"/src/main.c","line":15}]})"),
      std::string::npos)
      << json;
  // Without -k: no stack at all.
  const std::string plain = Call("getppid").Ret(7).Json();
  EXPECT_EQ(plain.find("stack"), std::string::npos) << plain;
}

TEST(TraceEvents, StacksGoToTheirRecords) {
  TraceEvent event;
  event.header.nr = 110;  // getppid
  std::string batch;
  for (int i = 0; i < 3; ++i) {
    event.header.tid = 100 + i;
    batch += EncodeTraceEvent(event);
  }
  google::protobuf::RepeatedPtrField<v1::CallStack> stacks;
  v1::CallStack* second = stacks.Add();
  second->set_record(1);
  *second->add_frames() = NativeFrame("libc.so.6", "getppid", 0x7, 0xd54f7);
  // One for no record: passed over.
  stacks.Add()->set_record(9);
  std::vector<std::pair<uint32_t, const v1::CallStack*>> seen;
  ASSERT_TRUE(ForEachTraceEvent(
                  batch,
                  [&](const TraceEvent& e) {
                    seen.emplace_back(e.header.tid, e.stack);
                  },
                  stacks)
                  .ok());
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].second, nullptr);
  EXPECT_EQ(seen[1].second, &stacks[0]);
  EXPECT_EQ(seen[2].second, nullptr);
}

}  // namespace
}  // namespace tracectl
