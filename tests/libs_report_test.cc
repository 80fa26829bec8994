#include "client/libs_report.h"

#include <elf.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace tracectl {
namespace {

::testing::AssertionResult Contains(const std::string& text,
                                    const std::string& part) {
  if (text.find(part) != std::string::npos) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "\"" << part << "\" is not in \"" << text << "\"";
}

constexpr uint64_t kCwd = static_cast<uint64_t>(AT_FDCWD);
constexpr uint64_t kNoFd = static_cast<uint64_t>(-1);
constexpr const char* kLibc = "/lib/x86_64-linux-gnu/libc.so.6";
constexpr const char* kLibm = "/lib/x86_64-linux-gnu/libm.so.6";
constexpr const char* kPython = "/usr/bin/python3.11";

// Builds events the way tracectl receives them: encoded as the kernel
// writes them, then decoded; the records stay alive as long as this does.
class Events {
 public:
  explicit Events(uint32_t pid) : pid_(pid) {}

  void set_pid(uint32_t pid) { pid_ = pid; }

  TraceEvent Make(int nr, int64_t ret, std::array<uint64_t, 6> args,
                  int path_arg = -1, const std::string& path = "") {
    TraceEvent e;
    e.header.nr = nr;
    e.header.ret = ret;
    e.header.tgid = pid_;
    e.header.tid = pid_;
    memcpy(e.header.args, args.data(), sizeof(e.header.args));
    strncpy(e.header.comm, "python3", sizeof(e.header.comm));
    if (path_arg >= 0) {
      e.captures.push_back(Capture{path_arg, CAPTURE_PATH, 0, path});
    }
    records_.push_back(EncodeTraceEvent(e));
    TraceEvent decoded;
    EXPECT_TRUE(ForEachTraceEvent(records_.back(), [&](const TraceEvent& d) {
                  decoded = d;
                }).ok());
    return decoded;
  }

  TraceEvent Execve(const std::string& exe, int64_t ret = 0) {
    return Make(SYS_execve, ret, {0x1000, 0x2000, 0x3000}, 0, exe);
  }
  TraceEvent Openat(const std::string& path, int64_t ret) {
    return Make(SYS_openat, ret, {kCwd, 0x1000, O_RDONLY | O_CLOEXEC}, 1, path);
  }
  TraceEvent Open(const std::string& path, int64_t ret) {
    return Make(SYS_open, ret, {0x1000, O_RDONLY}, 0, path);
  }
  TraceEvent Close(int fd) {
    return Make(SYS_close, 0, {static_cast<uint64_t>(fd)});
  }
  TraceEvent Mmap(int fd, int prot, int flags = MAP_PRIVATE | MAP_DENYWRITE) {
    return Make(
        SYS_mmap, 0x7f0000000000,
        {0, 0x1000, static_cast<uint64_t>(prot), static_cast<uint64_t>(flags),
         fd < 0 ? kNoFd : static_cast<uint64_t>(fd), 0});
  }
  TraceEvent ExitGroup() {
    TraceEvent e = Make(SYS_exit_group, 0, {0});
    e.header.flags |= EVENT_NO_RETURN;
    return e;
  }

 private:
  uint32_t pid_;
  std::deque<std::string> records_;
};

// Writes a minimal ELF64 file: one PT_LOAD whose addresses are not its
// file offsets, a PT_DYNAMIC, and a string table holding `needed`.
void WriteElf(const std::string& path, const std::vector<std::string>& needed,
              unsigned char elf_class = ELFCLASS64) {
  constexpr uint64_t kBase = 0x400000;
  std::string strtab(1, '\0');
  std::vector<Elf64_Dyn> dyn;
  for (const std::string& n : needed) {
    dyn.push_back(Elf64_Dyn{DT_NEEDED, {strtab.size()}});
    strtab += n;
    strtab += '\0';
  }
  const uint64_t phoff = sizeof(Elf64_Ehdr);
  const uint64_t dynoff = phoff + 2 * sizeof(Elf64_Phdr);
  const uint64_t dynsize = (dyn.size() + 3) * sizeof(Elf64_Dyn);
  const uint64_t stroff = dynoff + dynsize;
  dyn.push_back(Elf64_Dyn{DT_STRTAB, {kBase + stroff}});
  dyn.push_back(Elf64_Dyn{DT_STRSZ, {strtab.size()}});
  dyn.push_back(Elf64_Dyn{DT_NULL, {0}});
  const uint64_t size = stroff + strtab.size();

  Elf64_Ehdr eh{};
  memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = elf_class;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_DYN;
  eh.e_machine = EM_X86_64;
  eh.e_version = EV_CURRENT;
  eh.e_phoff = phoff;
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = 2;
  Elf64_Phdr load{};
  load.p_type = PT_LOAD;
  load.p_offset = 0;
  load.p_vaddr = kBase;
  load.p_filesz = size;
  load.p_memsz = size;
  Elf64_Phdr dynamic{};
  dynamic.p_type = PT_DYNAMIC;
  dynamic.p_offset = dynoff;
  dynamic.p_vaddr = kBase + dynoff;
  dynamic.p_filesz = dynsize;
  dynamic.p_memsz = dynsize;

  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(&eh), sizeof(eh));
  out.write(reinterpret_cast<const char*>(&load), sizeof(load));
  out.write(reinterpret_cast<const char*>(&dynamic), sizeof(dynamic));
  out.write(reinterpret_cast<const char*>(dyn.data()),
            dyn.size() * sizeof(Elf64_Dyn));
  out << strtab;
  ASSERT_TRUE(out.good());
}

std::string TempPath(const std::string& name) {
  return testing::TempDir() + "/libs_report_test_" + name;
}

TEST(ReadElfNeededTest, RealExecutables) {
  absl::StatusOr<std::vector<std::string>> python = ReadElfNeeded(kPython);
  ASSERT_TRUE(python.ok()) << python.status();
  EXPECT_EQ(*python, (std::vector<std::string>{"libm.so.6", "libz.so.1",
                                               "libexpat.so.1", "libc.so.6"}));
  absl::StatusOr<std::vector<std::string>> ls = ReadElfNeeded("/bin/ls");
  ASSERT_TRUE(ls.ok()) << ls.status();
  EXPECT_EQ(*ls, (std::vector<std::string>{"libselinux.so.1", "libc.so.6"}));
  absl::StatusOr<std::vector<std::string>> libm = ReadElfNeeded(kLibm);
  ASSERT_TRUE(libm.ok()) << libm.status();
  EXPECT_EQ(*libm,
            (std::vector<std::string>{"libc.so.6", "ld-linux-x86-64.so.2"}));
}

TEST(ReadElfNeededTest, StaticExecutableNeedsNothing) {
  absl::StatusOr<std::vector<std::string>> ldconfig =
      ReadElfNeeded("/sbin/ldconfig");
  ASSERT_TRUE(ldconfig.ok()) << ldconfig.status();
  EXPECT_TRUE(ldconfig->empty());
}

TEST(ReadElfNeededTest, SyntheticFileThroughLoadSegment) {
  const std::string path = TempPath("synthetic");
  WriteElf(path, {"libfoo.so.1", "libbar.so.2"});
  absl::StatusOr<std::vector<std::string>> needed = ReadElfNeeded(path);
  ASSERT_TRUE(needed.ok()) << needed.status();
  EXPECT_EQ(*needed, (std::vector<std::string>{"libfoo.so.1", "libbar.so.2"}));
}

TEST(ReadElfNeededTest, Errors) {
  absl::StatusOr<std::vector<std::string>> text =
      ReadElfNeeded("/etc/hostname");
  ASSERT_FALSE(text.ok());
  EXPECT_TRUE(Contains(std::string(text.status().message()),
                       "/etc/hostname: not an ELF file"));

  absl::StatusOr<std::vector<std::string>> missing =
      ReadElfNeeded("/nonexistent/libnothing.so");
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(absl::IsNotFound(missing.status())) << missing.status();

  const std::string elf32 = TempPath("elf32");
  WriteElf(elf32, {"libfoo.so.1"}, ELFCLASS32);
  absl::StatusOr<std::vector<std::string>> wrong_class = ReadElfNeeded(elf32);
  ASSERT_FALSE(wrong_class.ok());
  EXPECT_TRUE(Contains(std::string(wrong_class.status().message()),
                       "not an ELF64 file"));

  // Cut inside the program headers.
  const std::string cut = TempPath("cut");
  {
    std::ifstream in(kPython, std::ios::binary);
    std::string head(sizeof(Elf64_Ehdr) + 10, '\0');
    in.read(head.data(), head.size());
    std::ofstream(cut, std::ios::binary | std::ios::trunc) << head;
  }
  absl::StatusOr<std::vector<std::string>> truncated = ReadElfNeeded(cut);
  ASSERT_FALSE(truncated.ok());
  EXPECT_TRUE(
      Contains(std::string(truncated.status().message()), "program headers"));
}

TEST(LibsReportTest, LoadOrderTriedAndLdd) {
  LibsReport report;
  Events ev(4242);
  report.Add(ev.Execve(kPython));
  // The loader's cache: mapped, but not executable.
  report.Add(ev.Openat("/etc/ld.so.cache", 3));
  report.Add(ev.Mmap(3, PROT_READ));
  report.Add(ev.Close(3));
  report.Add(ev.Openat(kLibm, 3));
  report.Add(ev.Mmap(3, PROT_READ));
  report.Add(ev.Mmap(3, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED));
  report.Add(ev.Mmap(3, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED));
  report.Add(ev.Close(3));
  report.Add(ev.Openat("/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libc.so.6",
                       -ENOENT));
  report.Add(ev.Openat(kLibc, 3));
  report.Add(ev.Mmap(3, PROT_READ | PROT_EXEC));
  report.Add(ev.Close(3));
  // Anonymous executable memory is no library.
  report.Add(ev.Mmap(-1, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS));
  // The main executable mapped through a descriptor is not a library.
  report.Add(ev.Openat(kPython, 5));
  report.Add(ev.Mmap(5, PROT_READ | PROT_EXEC));
  // dlopen(): a search, then the plugin.
  report.Add(ev.Open("/usr/lib/python3/libfake_plugin.so", -ENOENT));
  report.Add(ev.Openat("/opt/plugin/libfake_plugin.so", 4));
  report.Add(ev.Mmap(4, PROT_READ | PROT_EXEC));
  report.Add(ev.Close(4));
  // Never found, twice; and a failed open that is no library.
  report.Add(ev.Openat("/usr/lib/libmissing.so.2", -ENOENT));
  report.Add(ev.Openat("/usr/lib/libmissing.so.2", -ENOENT));
  report.Add(ev.Openat("/opt/lib/libdenied.so", -EACCES));
  report.Add(ev.Openat("/etc/python.conf", -ENOENT));
  report.Add(ev.Openat("/tmp/x.socket", -ENOENT));
  // A failed open of an already found library is neither tried nor missing.
  report.Add(ev.Openat("/elsewhere/libc.so.6", -ENOENT));

  EXPECT_EQ(report.Render(),
            "pid 4242 /usr/bin/python3.11\n"
            "  1  /lib/x86_64-linux-gnu/libm.so.6  ldd\n"
            "  2  /lib/x86_64-linux-gnu/libc.so.6  ldd\n"
            "       tried: /lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/"
            "libc.so.6 (ENOENT)\n"
            "  3  /opt/plugin/libfake_plugin.so    dlopen, not in ldd\n"
            "       tried: /usr/lib/python3/libfake_plugin.so (ENOENT)\n"
            "  not found: /usr/lib/libmissing.so.2 (ENOENT)\n"
            "  not found: /opt/lib/libdenied.so (EACCES)\n");

  EXPECT_EQ(
      report.RenderJson(),
      "{\"processes\":[{\"pid\":4242,\"exe\":\"/usr/bin/python3.11\","
      "\"libraries\":["
      "{\"path\":\"/lib/x86_64-linux-gnu/libm.so.6\",\"tried\":[],"
      "\"in_ldd\":true,\"order\":1,"
      "\"before_session\":false},"
      "{\"path\":\"/lib/x86_64-linux-gnu/libc.so.6\",\"tried\":["
      "{\"path\":\"/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libc.so.6\","
      "\"errno\":\"ENOENT\"}],\"in_ldd\":true,\"order\":2,"
      "\"before_session\":false},"
      "{\"path\":\"/opt/plugin/libfake_plugin.so\",\"tried\":["
      "{\"path\":\"/usr/lib/python3/libfake_plugin.so\",\"errno\":"
      "\"ENOENT\"}],\"in_ldd\":false,\"order\":3,"
      "\"before_session\":false}],"
      "\"not_found\":["
      "{\"path\":\"/usr/lib/libmissing.so.2\",\"errno\":\"ENOENT\"},"
      "{\"path\":\"/opt/lib/libdenied.so\",\"errno\":\"EACCES\"}]}]}");
}

TEST(LibsReportTest, LddClosureIsTransitive) {
  // The executable needs libm only; libm needs libc.
  const std::string exe = TempPath("needs_libm");
  WriteElf(exe, {"libm.so.6"});
  LibsReport report;
  Events ev(7);
  report.Add(ev.Execve(exe));
  report.Add(ev.Openat(kLibc, 3));
  report.Add(ev.Mmap(3, PROT_READ | PROT_EXEC));
  report.Add(ev.Close(3));
  report.Add(ev.Openat(kLibm, 3));
  report.Add(ev.Mmap(3, PROT_READ | PROT_EXEC));
  report.Add(ev.Close(3));
  // In nobody's needed list.
  report.Add(ev.Openat("/lib/x86_64-linux-gnu/libz.so.1", 3));
  report.Add(ev.Mmap(3, PROT_READ | PROT_EXEC));
  EXPECT_EQ(report.Render(),
            absl::StrCat("pid 7 ", exe,
                         "\n"
                         "  1  /lib/x86_64-linux-gnu/libc.so.6  ldd\n"
                         "  2  /lib/x86_64-linux-gnu/libm.so.6  ldd\n"
                         "  3  /lib/x86_64-linux-gnu/libz.so.1  dlopen, "
                         "not in ldd\n"));
}

TEST(LibsReportTest, DescriptorsAreReusedAfterClose) {
  LibsReport report;
  Events ev(10);
  report.Add(ev.Execve(kPython));
  report.Add(ev.Openat("/usr/lib/locale/locale-archive", 3));
  report.Add(ev.Close(3));
  // fd 3 is closed: nothing is known of it.
  report.Add(ev.Mmap(3, PROT_READ | PROT_EXEC));
  report.Add(ev.Openat(kLibc, 3));
  report.Add(ev.Mmap(3, PROT_READ | PROT_EXEC));
  report.Add(ev.Close(3));
  report.Add(ev.Openat("/usr/lib/x86_64-linux-gnu/libfakeplugin.so", 3));
  report.Add(ev.Mmap(3, PROT_READ | PROT_EXEC));
  // An fd another process opened means nothing here.
  ev.set_pid(11);
  report.Add(ev.Openat(kLibm, 3));
  ev.set_pid(10);
  report.Add(ev.Mmap(3, PROT_READ | PROT_EXEC));
  EXPECT_EQ(report.Render(),
            "pid 10 /usr/bin/python3.11\n"
            "  1  /lib/x86_64-linux-gnu/libc.so.6             ldd\n"
            "  2  /usr/lib/x86_64-linux-gnu/libfakeplugin.so  dlopen, not in "
            "ldd\n");
}

TEST(LibsReportTest, ProcessesExecAndExit) {
  LibsReport report;
  Events sh(20);
  Events child(21);
  report.Add(sh.Execve("/bin/sh"));
  report.Add(sh.Openat(kLibc, 3));
  report.Add(sh.Mmap(3, PROT_READ | PROT_EXEC));
  report.Add(sh.Close(3));
  // The child of a fork opens a redirect, then runs a static program:
  // its time before execve has nothing to report.
  report.Add(child.Openat("/tmp/out", 1));
  report.Add(child.Execve("/no/such/prog", -ENOENT));
  report.Add(child.Execve("/sbin/ldconfig"));
  report.Add(child.ExitGroup());
  // The shell execs python: a new image, its descriptors forgotten.
  report.Add(sh.Openat(kLibm, 4));
  report.Add(sh.Execve(kPython));
  report.Add(sh.Mmap(4, PROT_READ | PROT_EXEC));
  report.Add(sh.Openat(kLibm, 3));
  report.Add(sh.Mmap(3, PROT_READ | PROT_EXEC));
  // pid 21 comes back as another process, never seen exec'ing.
  report.Add(child.Openat("/opt/libodd.so", 3));
  report.Add(child.Mmap(3, PROT_READ | PROT_EXEC));

  const std::string text = report.Render();
  EXPECT_EQ(text,
            "pid 20 /bin/sh\n"
            "  1  /lib/x86_64-linux-gnu/libc.so.6  ldd\n"
            "\n"
            "pid 21 /sbin/ldconfig: no shared objects mapped\n"
            "\n"
            "pid 20 /usr/bin/python3.11\n"
            "  1  /lib/x86_64-linux-gnu/libm.so.6  ldd\n"
            "\n"
            "pid 21 (executable unknown)\n"
            "  1  /opt/libodd.so  ldd unknown\n");
  EXPECT_TRUE(Contains(report.RenderJson(),
                       "{\"pid\":21,\"exe\":null,\"needed_error\":"));
  EXPECT_TRUE(Contains(report.RenderJson(),
                       "{\"pid\":21,\"exe\":\"/sbin/ldconfig\","
                       "\"libraries\":[],\"not_found\":[]}"));
}

TEST(LibsReportTest, UnreadableNeededList) {
  LibsReport report;
  Events ev(30);
  report.Add(ev.Execve("/etc/hostname"));
  report.Add(ev.Openat(kLibc, 3));
  report.Add(ev.Mmap(3, PROT_READ | PROT_EXEC));
  EXPECT_EQ(report.Render(),
            "pid 30 /etc/hostname\n"
            "  (needed list unreadable: /etc/hostname: not an ELF file)\n"
            "  1  /lib/x86_64-linux-gnu/libc.so.6  ldd unknown\n");
  EXPECT_TRUE(Contains(report.RenderJson(),
                       "\"needed_error\":\"/etc/hostname: not an ELF file\""));
  EXPECT_TRUE(Contains(report.RenderJson(), "\"in_ldd\":null"));

  // A library in the closure whose own list cannot be read.
  const std::string exe = TempPath("needs_missing");
  WriteElf(exe, {"libgone.so.1"});
  LibsReport gone;
  Events ev2(31);
  gone.Add(ev2.Execve(exe));
  gone.Add(ev2.Openat("/nonexistent/libgone.so.1", 3));
  gone.Add(ev2.Mmap(3, PROT_READ | PROT_EXEC));
  EXPECT_TRUE(Contains(gone.Render(),
                       "  1  /nonexistent/libgone.so.1  ldd\n"
                       "       (needed list unreadable: "
                       "/nonexistent/libgone.so.1: "));
}

v1::ProcessState::MappedFile* Map(v1::ProcessState& state,
                                  const std::string& path, bool executable) {
  v1::ProcessState::MappedFile* file = state.add_mapped_files();
  file->set_path(path);
  file->set_executable(executable);
  return file;
}

TEST(LibsReportTest, InitialStateIsBeforeTheSession) {
  // Paths from /proc/PID/maps are real file names: libz.so.1.2.13, which
  // python's needed list knows by its DT_SONAME, libz.so.1.
  char* real = realpath("/lib/x86_64-linux-gnu/libz.so.1", nullptr);
  ASSERT_NE(real, nullptr);
  const std::string libz = real;
  free(real);
  ASSERT_NE(libz.substr(libz.rfind('/')), "/libz.so.1");

  v1::ProcessState state;
  state.set_pid(77);
  state.set_exe(kPython);
  Map(state, kPython, true);
  Map(state, "/usr/lib/locale/locale-archive", false);  // data, no code
  Map(state, "/opt/plugin/libfake\tplugin.so", true);
  Map(state, libz, true);
  Map(state, kLibc, true);
  v1::ProcessState::OpenFile* fd = state.add_open_files();
  fd->set_fd(7);
  fd->set_target("/opt/late/liblate.so");
  fd->set_kind(v1::OPEN_FILE_PATH);
  LibsReport report;
  report.AddInitialState(state);
  Events ev(77);
  // Loaded during the session: one opened before it (fd 7), one after; and
  // a mapping of an object already mapped is no new library.
  report.Add(ev.Mmap(7, PROT_READ | PROT_EXEC));
  report.Add(ev.Openat(kLibm, 3));
  report.Add(ev.Mmap(3, PROT_READ | PROT_EXEC));
  report.Add(ev.Openat(kLibc, 4));
  report.Add(ev.Mmap(4, PROT_READ | PROT_EXEC));

  const std::string text = report.Render();
  EXPECT_TRUE(Contains(text, "pid 77 /usr/bin/python3.11\n")) << text;
  // Control characters of a path are escaped.
  EXPECT_TRUE(Contains(text, "  -  /opt/plugin/libfake\\tplugin.so ")) << text;
  EXPECT_TRUE(Contains(text, "  not in ldd, before the session\n")) << text;
  EXPECT_TRUE(Contains(text, absl::StrCat("  -  ", libz, " (libz.so.1) ")))
      << text;
  EXPECT_TRUE(Contains(text, "  -  /lib/x86_64-linux-gnu/libc.so.6 ")) << text;
  EXPECT_TRUE(Contains(text, "  1  /opt/late/liblate.so ")) << text;
  EXPECT_TRUE(Contains(text, "  2  /lib/x86_64-linux-gnu/libm.so.6 ")) << text;
  EXPECT_EQ(text.find("locale-archive"), std::string::npos) << text;
  EXPECT_EQ(text.find("  3  "), std::string::npos) << text;
  std::vector<std::string> marks;
  for (const std::string& line :
       std::vector<std::string>(absl::StrSplit(text, '\n'))) {
    const size_t gap = line.rfind("  ");
    if (line.size() > 5 && gap != std::string::npos) {
      marks.push_back(line.substr(gap + 2));
    }
  }
  EXPECT_EQ(marks, (std::vector<std::string>{
                       "not in ldd, before the session",
                       "ldd, before the session",
                       "ldd, before the session",
                       "dlopen, not in ldd",
                       "ldd",
                   }))
      << text;

  const std::string json = report.RenderJson();
  EXPECT_TRUE(Contains(json, "\"order\":null,\"before_session\":true")) << json;
  EXPECT_TRUE(Contains(json, "\"soname\":\"libz.so.1\"")) << json;
  EXPECT_TRUE(Contains(json,
                       "{\"path\":\"/opt/late/liblate.so\",\"tried\":[],"
                       "\"in_ldd\":false,\"order\":1,"
                       "\"before_session\":false}"))
      << json;
}

TEST(LibsReportTest, Empty) {
  LibsReport report;
  EXPECT_EQ(report.Render(), "");
  EXPECT_EQ(report.RenderJson(), "{\"processes\":[]}");
  EXPECT_EQ(LibsSelection(),
            "execve,execveat,open,openat,openat2,mmap,close,exit_group");
}

}  // namespace
}  // namespace tracectl
