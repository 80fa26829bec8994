#include "client/libs_report.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/json.h"
#include "client/strace_format.h"
#include "common/syscall_names.h"
#include "common/unique_fd.h"

namespace tracectl {
namespace {

// Bounds on what a well-formed file can ask us to read.
constexpr size_t kMaxProgramHeaders = 1 << 16;
constexpr size_t kMaxDynamicEntries = 1 << 16;
constexpr size_t kMaxNeededName = 4096;
// The widest path column in the text report.
constexpr size_t kMaxPathColumn = 64;

// Reads exactly `len` bytes at `offset`.
absl::Status ReadAt(int fd, uint64_t offset, void* buf, size_t len,
                    const std::string& path, const char* what) {
  char* out = static_cast<char*>(buf);
  size_t done = 0;
  while (done < len) {
    const ssize_t n = pread(fd, out + done, len - done, offset + done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::ErrnoToStatus(errno,
                                 absl::StrCat(path, ": reading the ", what));
    }
    if (n == 0) {
      return absl::DataLossError(
          absl::StrCat(path, ": the file ends inside the ", what));
    }
    done += n;
  }
  return absl::OkStatus();
}

std::string_view Basename(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// "libfoo.so", "libfoo.so.1.2", "x.cpython-311-x86_64-linux-gnu.so".
bool LooksLikeSharedObject(std::string_view path) {
  const std::string_view name = Basename(path);
  for (size_t pos = name.find(".so"); pos != std::string_view::npos;
       pos = name.find(".so", pos + 1)) {
    if (pos + 3 == name.size() || name[pos + 3] == '.') return true;
  }
  return false;
}

// The path a capture holds, or nullopt when there is none to use.
std::optional<std::string> CapturedPath(const TraceEvent& event, int arg) {
  const Capture* c = event.Find(arg);
  if (c == nullptr || c->kind != CAPTURE_PATH ||
      (c->flags & CAPTURE_UNREAD) != 0) {
    return std::nullopt;
  }
  return std::string(c->data);
}

std::string FailedOpenJson(const std::string& path, int error) {
  return absl::StrCat("{\"path\":", JsonString(path),
                      ",\"errno\":", JsonString(ErrnoName(error)), "}");
}

}  // namespace

std::string LibsSelection() {
  return "execve,execveat,open,openat,openat2,mmap,close,exit_group";
}

absl::StatusOr<std::vector<std::string>> ReadElfNeeded(
    const std::string& path) {
  absl::StatusOr<ElfDynamic> dynamic = ReadElfDynamic(path);
  if (!dynamic.ok()) return dynamic.status();
  return std::move(dynamic->needed);
}

absl::StatusOr<ElfDynamic> ReadElfDynamic(const std::string& path) {
  // The path is a traced process's to choose: never wait on a FIFO or read
  // a device.
  const UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) return absl::ErrnoToStatus(errno, path);
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return absl::ErrnoToStatus(errno, path);
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a regular file"));
  }

  Elf64_Ehdr ehdr;
  {
    const ssize_t n = pread(fd.get(), &ehdr, sizeof(ehdr), 0);
    if (n < 0) return absl::ErrnoToStatus(errno, path);
    if (static_cast<size_t>(n) < EI_NIDENT ||
        memcmp(ehdr.e_ident, ELFMAG, SELFMAG) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": not an ELF file"));
    }
    if (ehdr.e_ident[EI_CLASS] != ELFCLASS64) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": not an ELF64 file"));
    }
    if (ehdr.e_ident[EI_DATA] != ELFDATA2LSB) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": not a little-endian ELF file"));
    }
    if (static_cast<size_t>(n) < sizeof(ehdr)) {
      return absl::DataLossError(
          absl::StrCat(path, ": the file ends inside the ELF header"));
    }
  }

  size_t phnum = ehdr.e_phnum;
  if (phnum == PN_XNUM) {
    // The real count is in section header 0's sh_info.
    Elf64_Shdr shdr0;
    if (ehdr.e_shoff == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": PN_XNUM program headers but no sections"));
    }
    absl::Status s = ReadAt(fd.get(), ehdr.e_shoff, &shdr0, sizeof(shdr0), path,
                            "section headers");
    if (!s.ok()) return s;
    phnum = shdr0.sh_info;
  }
  if (phnum == 0) return ElfDynamic{};  // nothing to load
  if (ehdr.e_phentsize < sizeof(Elf64_Phdr) || phnum > kMaxProgramHeaders) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": malformed program header table"));
  }

  std::vector<Elf64_Phdr> loads;
  std::optional<Elf64_Phdr> dynamic;
  for (size_t i = 0; i < phnum; ++i) {
    Elf64_Phdr ph;
    absl::Status s = ReadAt(fd.get(), ehdr.e_phoff + i * ehdr.e_phentsize, &ph,
                            sizeof(ph), path, "program headers");
    if (!s.ok()) return s;
    if (ph.p_type == PT_LOAD) loads.push_back(ph);
    if (ph.p_type == PT_DYNAMIC && !dynamic.has_value()) dynamic = ph;
  }
  if (!dynamic.has_value()) return ElfDynamic{};  // static

  const size_t ndyn = std::min<uint64_t>(dynamic->p_filesz / sizeof(Elf64_Dyn),
                                         kMaxDynamicEntries);
  std::vector<Elf64_Dyn> dyn(ndyn);
  absl::Status s = ReadAt(fd.get(), dynamic->p_offset, dyn.data(),
                          ndyn * sizeof(Elf64_Dyn), path, "dynamic section");
  if (!s.ok()) return s;

  std::vector<uint64_t> needed_offsets;
  std::optional<uint64_t> soname_offset;
  std::optional<uint64_t> strtab_vaddr;
  std::optional<uint64_t> strsz;
  for (const Elf64_Dyn& d : dyn) {
    if (d.d_tag == DT_NULL) break;
    if (d.d_tag == DT_NEEDED) needed_offsets.push_back(d.d_un.d_val);
    if (d.d_tag == DT_SONAME) soname_offset = d.d_un.d_val;
    if (d.d_tag == DT_STRTAB) strtab_vaddr = d.d_un.d_ptr;
    if (d.d_tag == DT_STRSZ) strsz = d.d_un.d_val;
  }
  if (needed_offsets.empty() && !soname_offset.has_value()) {
    return ElfDynamic{};
  }
  if (!strtab_vaddr.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": DT_NEEDED or DT_SONAME without DT_STRTAB"));
  }

  // DT_STRTAB is an address: find the file offset the loader maps there.
  std::optional<uint64_t> strtab_offset;
  for (const Elf64_Phdr& ph : loads) {
    if (*strtab_vaddr >= ph.p_vaddr &&
        *strtab_vaddr - ph.p_vaddr < ph.p_filesz) {
      strtab_offset = ph.p_offset + (*strtab_vaddr - ph.p_vaddr);
      break;
    }
  }
  if (!strtab_offset.has_value()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: DT_STRTAB 0x%x is in no PT_LOAD segment", path, *strtab_vaddr));
  }

  // The name at `off` in the string table.
  auto read_name = [&](uint64_t off) -> absl::StatusOr<std::string> {
    size_t limit = kMaxNeededName;
    if (strsz.has_value()) {
      if (off >= *strsz) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": a DT_NEEDED name is outside DT_STRTAB"));
      }
      limit = std::min<uint64_t>(limit, *strsz - off);
    }
    std::string buf(limit, '\0');
    ssize_t n;
    do {
      n = pread(fd.get(), buf.data(), limit, *strtab_offset + off);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      return absl::ErrnoToStatus(
          errno, absl::StrCat(path, ": reading the dynamic string table"));
    }
    const size_t end = buf.find('\0');
    if (end == std::string::npos || end >= static_cast<size_t>(n)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": an unterminated DT_NEEDED name"));
    }
    buf.resize(end);
    return buf;
  };
  ElfDynamic result;
  for (uint64_t off : needed_offsets) {
    absl::StatusOr<std::string> name = read_name(off);
    if (!name.ok()) return name.status();
    result.needed.push_back(std::move(*name));
  }
  if (soname_offset.has_value()) {
    absl::StatusOr<std::string> name = read_name(*soname_offset);
    if (!name.ok()) return name.status();
    result.soname = std::move(*name);
  }
  return result;
}

LibsReport::Image& LibsReport::ImageOf(uint32_t pid) {
  auto it = current_.find(pid);
  if (it == current_.end()) {
    images_.push_back(Image{});
    images_.back().pid = pid;
    it = current_.emplace(pid, images_.size() - 1).first;
  }
  return images_[it->second];
}

void LibsReport::AddInitialState(const v1::ProcessState& state) {
  images_.push_back(Image{});
  Image& image = images_.back();
  image.pid = state.pid();
  image.exe = state.exe();
  current_[image.pid] = images_.size() - 1;
  for (const v1::ProcessState::MappedFile& file : state.mapped_files()) {
    if (!file.executable() || file.path() == image.exe) continue;
    Library lib;
    lib.path = file.path();
    lib.before_session = true;
    image.libraries.push_back(std::move(lib));
  }
  for (const v1::ProcessState::OpenFile& file : state.open_files()) {
    if (file.kind() == v1::OPEN_FILE_PATH) image.fds[file.fd()] = file.target();
  }
}

void LibsReport::Add(const TraceEvent& event) {
  if (event.compat()) return;  // 32-bit numbers: another table
  const uint32_t pid = event.header.tgid;
  const int nr = event.nr();
  const bool ok = event.error() == 0;
  switch (nr) {
    case SYS_execve:
    case SYS_execveat: {
      if (!ok) return;
      // The old image is gone: descriptors, failed opens, mappings.
      images_.push_back(Image{});
      Image& image = images_.back();
      image.pid = pid;
      const std::optional<std::string> exe =
          CapturedPath(event, nr == SYS_execve ? 0 : 1);
      image.exe = exe.value_or("");
      current_[pid] = images_.size() - 1;
      return;
    }
    case SYS_open:
    case SYS_openat:
#ifdef SYS_openat2
    case SYS_openat2:
#endif
    {
      const std::optional<std::string> path =
          CapturedPath(event, nr == SYS_open ? 0 : 1);
      if (!path.has_value()) return;
      Image& image = ImageOf(pid);
      if (ok) {
        image.fds[static_cast<int>(event.header.ret)] = *path;
      } else {
        image.failed_opens.push_back(FailedOpen{*path, event.error()});
      }
      return;
    }
    case SYS_close: {
      auto it = current_.find(pid);
      if (it == current_.end()) return;
      // Even a close that fails with EINTR or EIO frees the descriptor.
      if (event.error() == EBADF) return;
      images_[it->second].fds.erase(
          static_cast<int>(static_cast<int32_t>(event.header.args[0])));
      return;
    }
    case SYS_mmap: {
      if (!ok || (event.header.args[2] & PROT_EXEC) == 0 ||
          (event.header.args[3] & MAP_ANONYMOUS) != 0) {
        return;
      }
      const int fd = static_cast<int32_t>(event.header.args[4]);
      if (fd < 0) return;
      auto it = current_.find(pid);
      if (it == current_.end()) return;
      Image& image = images_[it->second];
      auto fd_it = image.fds.find(fd);
      if (fd_it == image.fds.end()) return;
      const std::string& path = fd_it->second;
      if (!image.exe.empty() && path == image.exe) return;
      for (const Library& lib : image.libraries) {
        if (lib.path == path) return;
      }
      Library lib;
      lib.path = path;
      for (FailedOpen& f : image.failed_opens) {
        if (!f.attributed && Basename(f.path) == Basename(path)) {
          f.attributed = true;
          lib.tried.push_back(f);
        }
      }
      image.libraries.push_back(std::move(lib));
      return;
    }
    case SYS_exit_group:
      // The pid may come back as another process.
      current_.erase(pid);
      return;
    default:
      return;
  }
}

std::vector<const LibsReport::FailedOpen*> LibsReport::NotFound(
    const Image& image) {
  std::vector<const FailedOpen*> out;
  std::set<std::string_view> seen;
  for (const FailedOpen& f : image.failed_opens) {
    if (f.attributed || !LooksLikeSharedObject(f.path)) continue;
    const std::string_view name = Basename(f.path);
    const bool found =
        std::any_of(image.libraries.begin(), image.libraries.end(),
                    [&](const Library& l) { return Basename(l.path) == name; });
    if (found || !seen.insert(f.path).second) continue;
    out.push_back(&f);
  }
  return out;
}

bool LibsReport::Shown(const Image& image) const {
  // A process seen only before its execve, with nothing to say, is noise.
  return !image.exe.empty() || !image.libraries.empty() ||
         !NotFound(image).empty();
}

LibsReport::LddView LibsReport::ComputeLdd(const Image& image) const {
  LddView view;
  const size_t n = image.libraries.size();
  view.library_errors.resize(n);
  // Each library's own names: the file's, and its DT_SONAME, which is what
  // a needed list names (a path from /proc/PID/maps is the file's real
  // name: libz.so.1.2.13 for libz.so.1).
  std::vector<absl::StatusOr<ElfDynamic>> dynamic;
  std::vector<std::vector<std::string>> names(n);
  for (size_t i = 0; i < n; ++i) {
    const std::string& path = image.libraries[i].path;
    dynamic.push_back(ReadElfDynamic(path));
    names[i].emplace_back(Basename(path));
    if (dynamic[i].ok() && !dynamic[i]->soname.empty()) {
      view.sonames.push_back(dynamic[i]->soname);
      if (dynamic[i]->soname != names[i][0]) {
        names[i].push_back(dynamic[i]->soname);
      }
    } else {
      view.sonames.emplace_back();
    }
  }
  if (image.exe.empty()) {
    view.error = "the executable is unknown: no execve was traced";
    return view;
  }
  absl::StatusOr<std::vector<std::string>> exe_needed =
      ReadElfNeeded(image.exe);
  if (!exe_needed.ok()) {
    view.error = std::string(exe_needed.status().message());
    return view;
  }
  // Names in the DT_NEEDED closure, through the libraries mapped.
  std::set<std::string> needed;
  for (const std::string& name : *exe_needed) needed.emplace(Basename(name));
  auto is_needed = [&](size_t i) {
    return std::any_of(
        names[i].begin(), names[i].end(),
        [&](const std::string& name) { return needed.count(name) > 0; });
  };
  std::vector<bool> expanded(n, false);
  for (bool grew = true; grew;) {
    grew = false;
    for (size_t i = 0; i < n; ++i) {
      if (expanded[i] || !is_needed(i)) continue;
      expanded[i] = true;
      grew = true;
      if (!dynamic[i].ok()) {
        view.library_errors[i] = std::string(dynamic[i].status().message());
        continue;
      }
      for (const std::string& name : dynamic[i]->needed) {
        needed.emplace(Basename(name));
      }
    }
  }
  for (size_t i = 0; i < n; ++i) view.in_ldd.push_back(is_needed(i));
  return view;
}

std::string LibsReport::Render() const {
  std::string out;
  for (const Image& image : images_) {
    if (!Shown(image)) continue;
    if (!out.empty()) out += "\n";
    const std::string exe =
        image.exe.empty() ? "(executable unknown)" : image.exe;
    if (image.libraries.empty()) {
      absl::StrAppend(&out, "pid ", image.pid, " ", Escaped(exe),
                      ": no shared objects mapped\n");
    } else {
      absl::StrAppend(&out, "pid ", image.pid, " ", Escaped(exe), "\n");
    }
    const LddView ldd = ComputeLdd(image);
    if (!ldd.error.empty() && !image.exe.empty() && !image.libraries.empty()) {
      absl::StrAppend(&out, "  (needed list unreadable: ", Escaped(ldd.error),
                      ")\n");
    }
    std::vector<std::string> paths;
    size_t width = 0;
    for (size_t i = 0; i < image.libraries.size(); ++i) {
      const Library& lib = image.libraries[i];
      paths.push_back(Escaped(lib.path));
      // A real file name (from /proc/PID/maps) says little by itself.
      if (!ldd.sonames[i].empty() && ldd.sonames[i] != Basename(lib.path)) {
        absl::StrAppend(&paths.back(), " (", Escaped(ldd.sonames[i]), ")");
      }
      width = std::max(width, std::min(paths.back().size(), kMaxPathColumn));
    }
    int order = 0;
    for (size_t i = 0; i < image.libraries.size(); ++i) {
      const Library& lib = image.libraries[i];
      std::string how = !ldd.error.empty()   ? "ldd unknown"
                        : ldd.in_ldd[i]      ? "ldd"
                        : lib.before_session ? "not in ldd"
                                             : "dlopen, not in ldd";
      if (lib.before_session) how += ", before the session";
      const std::string number =
          lib.before_session ? "-" : absl::StrCat(++order);
      absl::StrAppend(&out,
                      absl::StrFormat("%3s  %-*s  %s\n", number,
                                      static_cast<int>(width), paths[i], how));
      for (const FailedOpen& f : lib.tried) {
        absl::StrAppend(&out, "       tried: ", Escaped(f.path), " (",
                        ErrnoName(f.error), ")\n");
      }
      if (!ldd.library_errors[i].empty()) {
        absl::StrAppend(&out, "       (needed list unreadable: ",
                        Escaped(ldd.library_errors[i]), ")\n");
      }
    }
    for (const FailedOpen* f : NotFound(image)) {
      absl::StrAppend(&out, "  not found: ", Escaped(f->path), " (",
                      ErrnoName(f->error), ")\n");
    }
  }
  return out;
}

std::string LibsReport::RenderJson() const {
  std::vector<std::string> processes;
  for (const Image& image : images_) {
    if (!Shown(image)) continue;
    const LddView ldd = ComputeLdd(image);
    std::vector<std::string> libraries;
    int order = 0;
    for (size_t i = 0; i < image.libraries.size(); ++i) {
      const Library& lib = image.libraries[i];
      std::vector<std::string> tried;
      for (const FailedOpen& f : lib.tried) {
        tried.push_back(FailedOpenJson(f.path, f.error));
      }
      std::string entry = absl::StrCat(
          "{\"path\":", JsonString(lib.path), ",\"tried\":[",
          absl::StrJoin(tried, ","), "],\"in_ldd\":",
          !ldd.error.empty() ? "null"
          : ldd.in_ldd[i]    ? "true"
                             : "false",
          ",\"order\":", lib.before_session ? "null" : absl::StrCat(++order),
          ",\"before_session\":", lib.before_session ? "true" : "false");
      if (!ldd.sonames[i].empty() && ldd.sonames[i] != Basename(lib.path)) {
        absl::StrAppend(&entry, ",\"soname\":", JsonString(ldd.sonames[i]));
      }
      if (!ldd.library_errors[i].empty()) {
        absl::StrAppend(
            &entry, ",\"needed_error\":", JsonString(ldd.library_errors[i]));
      }
      entry += "}";
      libraries.push_back(std::move(entry));
    }
    std::vector<std::string> not_found;
    for (const FailedOpen* f : NotFound(image)) {
      not_found.push_back(FailedOpenJson(f->path, f->error));
    }
    std::string process = absl::StrCat(
        "{\"pid\":", image.pid,
        ",\"exe\":", image.exe.empty() ? "null" : JsonString(image.exe));
    if (!ldd.error.empty()) {
      absl::StrAppend(&process, ",\"needed_error\":", JsonString(ldd.error));
    }
    absl::StrAppend(&process, ",\"libraries\":[", absl::StrJoin(libraries, ","),
                    "],\"not_found\":[", absl::StrJoin(not_found, ","), "]}");
    processes.push_back(std::move(process));
  }
  return absl::StrCat("{\"processes\":[", absl::StrJoin(processes, ","), "]}");
}

}  // namespace tracectl
