#include "client/files_report.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/syscall.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_split.h"
#include "common/syscall_table.h"

namespace tracectl {
namespace {

constexpr uint64_t kCwd = static_cast<uint64_t>(AT_FDCWD);
// 10:11:12.123456789 on the first day of the epoch.
constexpr uint64_t kTenEleven =
    (10 * 3600 + 11 * 60 + 12) * 1000000000ULL + 123456789;

struct PathCapture {
  int arg;
  std::string path;
  uint8_t flags = 0;
};

// Builds events the way tracectl receives them: encoded as the kernel
// writes them, then decoded; the records stay alive as long as this does.
class Events {
 public:
  TraceEvent Make(int nr, int64_t ret, std::array<uint64_t, 6> args,
                  std::vector<PathCapture> paths, uint32_t pid = 4242,
                  const char* comm = "git") {
    TraceEvent e;
    e.header.nr = nr;
    e.header.ret = ret;
    e.header.tgid = pid;
    e.header.tid = pid + 1;
    e.header.enter_ns = kTenEleven;
    memcpy(e.header.args, args.data(), sizeof(e.header.args));
    strncpy(e.header.comm, comm, sizeof(e.header.comm));
    for (const PathCapture& p : paths) {
      data_.push_back(p.path);
      e.captures.push_back(Capture{p.arg, CAPTURE_PATH, p.flags,
                                   std::string_view(data_.back())});
    }
    records_.push_back(EncodeTraceEvent(e));
    TraceEvent decoded;
    EXPECT_TRUE(ForEachTraceEvent(records_.back(), [&](const TraceEvent& d) {
                  decoded = d;
                }).ok());
    return decoded;
  }

  TraceEvent Openat(const std::string& path, int64_t ret,
                    uint64_t dirfd = kCwd) {
    return Make(SYS_openat, ret, {dirfd, 0x7ffd0000, O_RDONLY}, {{1, path}});
  }
  TraceEvent Newfstatat(const std::string& path, int64_t ret) {
    return Make(SYS_newfstatat, ret, {kCwd, 0x7ffd0000, 0x7ffd1000, 0},
                {{1, path}});
  }
  TraceEvent Stat(const std::string& path, int64_t ret) {
    return Make(SYS_stat, ret, {0x7ffd0000, 0x7ffd1000}, {{0, path}});
  }
  TraceEvent Access(const std::string& path, int64_t ret) {
    return Make(SYS_access, ret, {0x7ffd0000, R_OK}, {{0, path}});
  }

 private:
  std::deque<std::string> data_;
  std::deque<std::string> records_;
};

class FilesReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tz = getenv("TZ");
    if (tz != nullptr) saved_tz_ = tz;
    had_tz_ = tz != nullptr;
    setenv("TZ", "UTC", 1);
    tzset();
  }
  void TearDown() override {
    if (had_tz_) {
      setenv("TZ", saved_tz_.c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }

  Events ev_;

 private:
  bool had_tz_ = false;
  std::string saved_tz_;
};

TEST_F(FilesReportTest, Lines) {
  FilesReport report({});
  EXPECT_EQ(report.Add(ev_.Openat("/home/u/.ssh/id_ed25519", 3)),
            "10:11:12.123456 4242 git openat /home/u/.ssh/id_ed25519 = 3\n");
  EXPECT_EQ(report.Add(ev_.Openat("/etc/foo.conf", -ENOENT)),
            "10:11:12.123456 4242 git openat /etc/foo.conf = -1 ENOENT\n");
  EXPECT_EQ(report.Add(ev_.Stat("/etc/passwd", 0)),
            "10:11:12.123456 4242 git stat /etc/passwd = 0\n");
  EXPECT_EQ(report.Add(ev_.Make(SYS_execve, 0, {0x1000, 0x2000, 0x3000},
                                {{0, "/usr/bin/git"}}, 99, "bash")),
            "10:11:12.123456 99 bash execve /usr/bin/git = 0\n");
  // Calls without a path have no line.
  EXPECT_EQ(report.Add(ev_.Make(SYS_read, 10, {3, 0x1000, 10}, {})), "");
  EXPECT_EQ(report.Add(ev_.Make(SYS_close, 0, {3}, {})), "");
}

TEST_F(FilesReportTest, RealtimeOffset) {
  FilesReport::Options options;
  // Monotonic 5 s is 10:11:12.123456789 of the epoch's first day.
  options.realtime_offset_ns = static_cast<int64_t>(kTenEleven) - 5000000000;
  FilesReport report(options);
  TraceEvent e = ev_.Openat("/etc/hosts", 3);
  e.header.enter_ns = 5000000000;
  EXPECT_EQ(report.Add(e), "10:11:12.123456 4242 git openat /etc/hosts = 3\n");
}

TEST_F(FilesReportTest, DirfdsAndTwoPaths) {
  FilesReport report({});
  EXPECT_EQ(report.Add(ev_.Openat("config", 3, 5)),
            "10:11:12.123456 4242 git openat config (dirfd 5) = 3\n");
  EXPECT_EQ(report.Add(ev_.Openat("config", 3)),
            "10:11:12.123456 4242 git openat config = 3\n");
  EXPECT_EQ(report.Add(ev_.Openat("/abs/config", 3, 5)),
            "10:11:12.123456 4242 git openat /abs/config = 3\n");
  EXPECT_EQ(report.Add(ev_.Make(SYS_newfstatat, 0,
                                {7, 0x1000, 0x2000, AT_EMPTY_PATH}, {{1, ""}})),
            "10:11:12.123456 4242 git newfstatat \"\" (dirfd 7) = 0\n");
  EXPECT_EQ(report.Add(ev_.Make(SYS_rename, 0, {0x1000, 0x2000},
                                {{0, "a.tmp"}, {1, "a"}})),
            "10:11:12.123456 4242 git rename a.tmp -> a = 0\n");
  EXPECT_EQ(
      report.Add(ev_.Make(SYS_renameat2, -EEXIST, {6, 0x1000, kCwd, 0x2000, 1},
                          {{1, "index.lock"}, {3, "index"}})),
      "10:11:12.123456 4242 git renameat2 index.lock (dirfd 6) -> "
      "index = -1 EEXIST\n");
  EXPECT_EQ(report.Add(ev_.Make(SYS_symlink, 0, {0x1000, 0x2000},
                                {{0, "../target"}, {1, "/tmp/link"}})),
            "10:11:12.123456 4242 git symlink ../target -> /tmp/link = 0\n");
  EXPECT_EQ(report.Add(ev_.Make(SYS_link, 0, {0x1000, 0x2000},
                                {{0, "/tmp/a"}, {1, "/tmp/b"}})),
            "10:11:12.123456 4242 git link /tmp/a -> /tmp/b = 0\n");
  // An empty path with AT_EMPTY_PATH names no file: a line, no entry.
  const std::string summary = report.Summary();
  EXPECT_NE(summary.find("config (dirfd 5)"), std::string::npos) << summary;
  EXPECT_EQ(summary.find("(dirfd 7)"), std::string::npos) << summary;
  EXPECT_EQ(report.SummaryJson().find("(dirfd 7)"), std::string::npos);
}

TEST_F(FilesReportTest, UnreadableAndTruncatedCaptures) {
  FilesReport report({});
  EXPECT_EQ(report.Add(ev_.Make(SYS_openat, -EFAULT, {kCwd, 0x7ffd1234, 0},
                                {{1, "", CAPTURE_UNREAD}})),
            "10:11:12.123456 4242 git openat <unreadable 0x7ffd1234> = -1 "
            "EFAULT\n");
  // No capture at all reads the same.
  EXPECT_EQ(report.Add(ev_.Make(SYS_access, -EFAULT, {0xdead, 0}, {})),
            "10:11:12.123456 4242 git access <unreadable 0xdead> = -1 "
            "EFAULT\n");
  EXPECT_EQ(report.Add(ev_.Make(SYS_openat, -ENAMETOOLONG, {kCwd, 0x1000, 0},
                                {{1, "/very/long", CAPTURE_TRUNCATED}})),
            "10:11:12.123456 4242 git openat /very/long... = -1 "
            "ENAMETOOLONG\n");
  // Control characters stay on one line.
  EXPECT_EQ(report.Add(ev_.Openat("/tmp/a\nb", 3)),
            "10:11:12.123456 4242 git openat /tmp/a\\nb = 3\n");
  EXPECT_EQ(report.Summary(),
            "paths used (1):\n"
            "  /tmp/a\\nb  openat\n"
            "paths that failed (1):\n"
            "  /very/long...  ENAMETOOLONG x1 (openat)\n"
            "path captures: 2 unreadable, 1 truncated\n");
}

// The summary's unreadable count is the number of markers the lines show,
// a symlink's target included.
TEST_F(FilesReportTest, UnreadableCountIsTheMarkersShown) {
  FilesReport report({});
  std::string lines;
  lines += report.Add(ev_.Make(SYS_symlink, 0, {0x1000, 0x2000},
                               {{0, "", CAPTURE_UNREAD}, {1, "/tmp/link"}}));
  lines += report.Add(ev_.Make(SYS_execve, 0, {0x3000, 0x4000, 0x5000},
                               {{0, "", CAPTURE_UNREAD}}));
  lines +=
      report.Add(ev_.Make(SYS_rename, -ENOENT, {0x1000, 0x2000},
                          {{0, "", CAPTURE_UNREAD}, {1, "", CAPTURE_UNREAD}}));
  lines += report.Add(ev_.Openat("/etc/passwd", 3));
  size_t markers = 0;
  for (size_t at = lines.find("<unreadable"); at != std::string::npos;
       at = lines.find("<unreadable", at + 1)) {
    ++markers;
  }
  EXPECT_EQ(markers, 4u) << lines;
  EXPECT_NE(report.SummaryJson().find(",\"unreadable\":4,"), std::string::npos)
      << report.SummaryJson();
}

TEST_F(FilesReportTest, FailedOnly) {
  FilesReport::Options options;
  options.failed_only = true;
  FilesReport report(options);
  EXPECT_EQ(report.Add(ev_.Openat("/etc/passwd", 3)), "");
  EXPECT_EQ(report.Add(ev_.Openat("/etc/foo.conf", -ENOENT)),
            "10:11:12.123456 4242 git openat /etc/foo.conf = -1 ENOENT\n");
  EXPECT_EQ(report.Add(ev_.Make(SYS_read, -EBADF, {9, 0, 0}, {})), "");
  // The summary still has the whole story.
  EXPECT_EQ(report.Summary(),
            "paths used (1):\n"
            "  /etc/passwd  openat\n"
            "paths that failed (1):\n"
            "  /etc/foo.conf  ENOENT x1 (openat)\n");
}

TEST_F(FilesReportTest, SummaryOrderAndDedup) {
  FilesReport report({});
  report.Add(ev_.Openat("/etc/ld.so.cache", 3));
  report.Add(ev_.Openat("/etc/foo.conf", -ENOENT));
  report.Add(ev_.Newfstatat("/etc/ld.so.cache", 0));
  report.Add(ev_.Openat("/etc/ld.so.cache", 3));
  report.Add(ev_.Openat("/etc/foo.conf", -ENOENT));
  report.Add(ev_.Stat("/etc/foo.conf", -ENOENT));
  report.Add(ev_.Access("/etc/foo.conf", -EACCES));
  report.Add(ev_.Access("/usr/bin/git", 0));
  // Failed, then succeeded: in both lists.
  report.Add(ev_.Openat("/etc/foo.conf", 4));
  report.Add(ev_.Make(SYS_rename, 0, {0x1000, 0x2000},
                      {{0, "/tmp/x.tmp"}, {1, "/tmp/x"}}));
  EXPECT_EQ(report.Summary(),
            "paths used (5):\n"
            "  /etc/ld.so.cache  openat,newfstatat\n"
            "  /usr/bin/git  access\n"
            "  /etc/foo.conf  openat\n"
            "  /tmp/x.tmp  rename\n"
            "  /tmp/x  rename\n"
            "paths that failed (2):\n"
            "  /etc/foo.conf  ENOENT x3 (openat,stat)\n"
            "  /etc/foo.conf  EACCES x1 (access)\n");
  EXPECT_EQ(
      report.SummaryJson(),
      "{\"open_at_start\":[],\"used\":["
      "{\"path\":\"/etc/ld.so.cache\",\"calls\":[\"openat\",\"newfstatat\"]},"
      "{\"path\":\"/usr/bin/git\",\"calls\":[\"access\"]},"
      "{\"path\":\"/etc/foo.conf\",\"calls\":[\"openat\"]},"
      "{\"path\":\"/tmp/x.tmp\",\"calls\":[\"rename\"]},"
      "{\"path\":\"/tmp/x\",\"calls\":[\"rename\"]}],"
      "\"failed\":["
      "{\"path\":\"/etc/foo.conf\",\"errno\":\"ENOENT\",\"count\":3,"
      "\"calls\":[\"openat\",\"stat\"]},"
      "{\"path\":\"/etc/foo.conf\",\"errno\":\"EACCES\",\"count\":1,"
      "\"calls\":[\"access\"]}],"
      "\"unreadable\":0,\"truncated\":0}");
}

TEST_F(FilesReportTest, InitialStateComesFirst) {
  FilesReport report({});
  v1::ProcessState state;
  state.set_pid(4242);
  state.set_comm("py\x1b[2Jthon");
  state.add_mapped_files()->set_path("/usr/lib/x86_64-linux-gnu/libc.so.6");
  const std::pair<const char*, v1::OpenFileKind> fds[] = {
      {"/dev/null", v1::OPEN_FILE_PATH},
      {"/tmp/held\nfile", v1::OPEN_FILE_PATH},
      {"socket:[1234]", v1::OPEN_FILE_SOCKET},
      {"pipe:[99]", v1::OPEN_FILE_PIPE},
      {"anon_inode:[eventfd]", v1::OPEN_FILE_ANON_INODE}};
  int fd = 0;
  for (const auto& [target, kind] : fds) {
    v1::ProcessState::OpenFile* f = state.add_open_files();
    f->set_fd(fd++);
    f->set_target(target);
    f->set_kind(kind);
  }
  report.AddInitialState(state);
  v1::ProcessState empty;
  empty.set_pid(5);
  report.AddInitialState(empty);
  report.Add(ev_.Openat("/etc/hostname", 5));
  // Control characters are escaped, never printed.
  EXPECT_EQ(report.Summary(),
            "open when the session started (5):\n"
            "  4242 py\\33[2Jthon fd 0  /dev/null\n"
            "  4242 py\\33[2Jthon fd 1  /tmp/held\\nfile\n"
            "  4242 py\\33[2Jthon fd 2  socket:[1234]\n"
            "  4242 py\\33[2Jthon fd 3  pipe:[99]\n"
            "  4242 py\\33[2Jthon fd 4  anon_inode:[eventfd]\n"
            "paths used (1):\n"
            "  /etc/hostname  openat\n"
            "paths that failed (0):\n");
  const std::string json = report.SummaryJson();
  EXPECT_EQ(json.substr(0, json.find("],\"used\"")),
            "{\"open_at_start\":["
            "{\"pid\":4242,\"comm\":\"py\\u001b[2Jthon\",\"fd\":0,"
            "\"path\":\"/dev/null\",\"kind\":\"path\"},"
            "{\"pid\":4242,\"comm\":\"py\\u001b[2Jthon\",\"fd\":1,"
            "\"path\":\"/tmp/held\\nfile\",\"kind\":\"path\"},"
            "{\"pid\":4242,\"comm\":\"py\\u001b[2Jthon\",\"fd\":2,"
            "\"path\":\"socket:[1234]\",\"kind\":\"socket\"},"
            "{\"pid\":4242,\"comm\":\"py\\u001b[2Jthon\",\"fd\":3,"
            "\"path\":\"pipe:[99]\",\"kind\":\"pipe\"},"
            "{\"pid\":4242,\"comm\":\"py\\u001b[2Jthon\",\"fd\":4,"
            "\"path\":\"anon_inode:[eventfd]\",\"kind\":\"anon_inode\"}");
}

TEST_F(FilesReportTest, EmptySummary) {
  FilesReport report({});
  EXPECT_EQ(report.Summary(), "paths used (0):\npaths that failed (0):\n");
  EXPECT_EQ(report.SummaryJson(),
            "{\"open_at_start\":[],\"used\":[],\"failed\":[],"
            "\"unreadable\":0,\"truncated\":0}");
}

TEST(FilesSelectionTest, EveryPathCallAndNothingElse) {
  const std::string selection = FilesSelection();
  const std::vector<std::string> names = absl::StrSplit(selection, ',');
  auto has = [&](const char* name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  for (const char* name :
       {"open",       "openat",     "openat2",    "creat",     "stat",
        "lstat",      "newfstatat", "statx",      "access",    "faccessat",
        "faccessat2", "execve",     "execveat",   "readlink",  "readlinkat",
        "unlink",     "unlinkat",   "rename",     "renameat",  "renameat2",
        "mkdir",      "mkdirat",    "rmdir",      "chdir",     "truncate",
        "chmod",      "fchmodat",   "chown",      "lchown",    "fchownat",
        "link",       "linkat",     "symlink",    "symlinkat", "utimensat",
        "mknod",      "mknodat",    "statfs",     "getxattr",  "setxattr",
        "lgetxattr",  "listxattr",  "removexattr"}) {
    EXPECT_TRUE(has(name)) << name << " missing from " << selection;
  }
  for (const char* name : {"read", "write", "close", "fstat", "mmap", "fchdir",
                           "fgetxattr", "ftruncate"}) {
    EXPECT_FALSE(has(name)) << name << " in " << selection;
  }
  // The daemon must accept it.
  absl::StatusOr<std::vector<int>> parsed = ParseTraceSelection(selection);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->size(), names.size());
}

}  // namespace
}  // namespace tracectl
