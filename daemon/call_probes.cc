#include "daemon/call_probes.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <gelf.h>
#include <libelf.h>
#include <link.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <deque>
#include <fstream>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/elf_names.h"
#include "common/escape.h"
#include "daemon/ld_cache.h"
#include "daemon/python/elf_symbols.h"
#include "daemon/status_macros.h"
#include "daemon/usdt_notes.h"

namespace tracectl {
namespace {

absl::Status OpenError(int err, const std::string& path) {
  const std::string message =
      absl::StrCat("cannot open ", path, ": ", strerror(err));
  if (err == EACCES || err == EPERM) {
    return absl::PermissionDeniedError(message);
  }
  if (err == ENOENT) return absl::NotFoundError(message);
  return absl::FailedPreconditionError(message);
}

std::string Basename(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// `name` is a shared object called `prefix`: "libc" names libc.so.6 and
// libc-2.31.so, not libcap.so.2.
bool NameMatchesPrefix(const std::string& name, const std::string& prefix) {
  if (name == prefix) return true;
  if (!absl::StartsWith(name, prefix) || name.size() == prefix.size()) {
    return false;
  }
  const char next = name[prefix.size()];
  return (next == '.' || next == '-') && name.find(".so") != std::string::npos;
}

bool HasGlobChars(const std::string& glob) {
  return glob.find_first_of("*?[") != std::string::npos;
}

// Opens `path` read-only as this thread's identity, if it is an ELF file.
absl::StatusOr<std::shared_ptr<OpenedFile>> OpenElf(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return OpenError(errno, path);
  auto file = std::make_shared<OpenedFile>(fd, path);
  struct stat st;
  char magic[4];
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      pread(fd, magic, 4, 0) != 4 || memcmp(magic, ELFMAG, 4) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " is not an ELF file"));
  }
  return file;
}

// Files of /proc/PID/maps whose base name matches `prefix` (or whose path
// is `prefix`), first mapped first, each once.
absl::StatusOr<std::vector<std::string>> MappedFiles(pid_t pid,
                                                     const std::string& lib) {
  const std::string maps_path = absl::StrCat("/proc/", pid, "/maps");
  std::ifstream maps(maps_path);
  if (!maps) return OpenError(errno, maps_path);
  std::vector<std::string> found;
  std::string line;
  while (std::getline(maps, line)) {
    // address perms offset dev inode path
    int fields = 0;
    size_t pos = 0;
    while (fields < 5 && pos < line.size()) {
      pos = line.find(' ', pos);
      if (pos == std::string::npos) break;
      while (pos < line.size() && line[pos] == ' ') ++pos;
      ++fields;
    }
    if (fields < 5 || pos >= line.size() || line[pos] != '/') continue;
    const std::string path = line.substr(pos);
    if (absl::EndsWith(path, " (deleted)")) continue;
    const bool match = lib.find('/') != std::string::npos
                           ? path == lib
                           : NameMatchesPrefix(Basename(path), lib);
    if (match && std::find(found.begin(), found.end(), path) == found.end()) {
      found.push_back(path);
    }
  }
  return found;
}

// The regular ELF files (executable ones, with `executable`) among `paths`,
// in their order, each file (inode) once.
std::vector<std::string> DistinctElfFiles(const std::vector<std::string>& paths,
                                          bool executable) {
  std::vector<std::string> found;
  std::set<std::pair<dev_t, ino_t>> seen;
  for (const std::string& path : paths) {
    struct stat st;
    if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
        (executable && (st.st_mode & 0111) == 0)) {
      continue;
    }
    char magic[4];
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    const bool elf =
        fd >= 0 && pread(fd, magic, 4, 0) == 4 && memcmp(magic, ELFMAG, 4) == 0;
    if (fd >= 0) close(fd);
    if (!elf || !seen.insert({st.st_dev, st.st_ino}).second) continue;
    found.push_back(path);
  }
  return found;
}

// ELF shared objects named `prefix` that the dynamic linker would find:
// those of its cache (ld.so.cache), then of the standard directories, each
// file (inode) once.
std::vector<std::string> LinkerFiles(const std::string& prefix) {
  std::vector<std::string> paths;
  if (absl::StatusOr<std::vector<std::string>> cached = ReadLdCache();
      cached.ok()) {
    for (const std::string& path : *cached) {
      if (NameMatchesPrefix(Basename(path), prefix)) paths.push_back(path);
    }
  }
  for (const std::string& dir : StandardLibraryDirs()) {
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) continue;
    std::vector<std::string> names;
    while (dirent* e = readdir(d)) {
      if (NameMatchesPrefix(e->d_name, prefix)) names.push_back(e->d_name);
    }
    closedir(d);
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      paths.push_back(absl::StrCat(dir, "/", name));
    }
  }
  return DistinctElfFiles(paths, /*executable=*/false);
}

// The executable `/proc/PID/exe` links to.
absl::StatusOr<std::string> ProcessExe(pid_t pid) {
  char target[4096];
  const std::string link = absl::StrCat("/proc/", pid, "/exe");
  const ssize_t n = readlink(link.c_str(), target, sizeof(target) - 1);
  if (n < 0) return OpenError(errno, link);
  return std::string(target, n);
}

// The one file of `candidates` (found for `lib`), or why not.
absl::StatusOr<std::string> OneLibrary(
    const std::string& lib, const std::vector<std::string>& candidates) {
  if (candidates.empty()) {
    return absl::NotFoundError(absl::StrCat(
        "unknown library ", lib, ": no such shared object in ld.so.cache or ",
        absl::StrJoin(StandardLibraryDirs(), ", ")));
  }
  if (candidates.size() > 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "library ", lib, " is ambiguous: ", absl::StrJoin(candidates, ", "),
        "; name one by path"));
  }
  return candidates[0];
}

// The one file `lib` names for this context.
absl::StatusOr<std::string> ResolveLibrary(const std::string& lib,
                                           const ProbeContext& context) {
  if (lib == "exe") {
    if (!context.program.empty()) return context.program;
    if (context.pid > 0) return ProcessExe(context.pid);
    return absl::InvalidArgumentError(
        "`exe` needs a program: --pid PID or -- CMD");
  }
  std::vector<std::string> candidates;
  if (context.pid > 0 && context.program.empty()) {
    ASSIGN_OR_RETURN(candidates, MappedFiles(context.pid, lib));
    if (candidates.empty() && lib.find('/') == std::string::npos) {
      return absl::NotFoundError(absl::StrCat(
          "no library named ", lib, " is mapped by process ", context.pid));
    }
  }
  if (candidates.empty() && lib.find('/') != std::string::npos) return lib;
  if (candidates.empty()) candidates = LinkerFiles(lib);
  return OneLibrary(lib, candidates);
}

struct FunctionSymbol {
  std::string name;
  uint64_t offset = 0;
  bool ifunc = false;
  int rank = 0;  // lower is preferred among aliases
  // A C++ name's demangled form (globs match either); empty for others.
  std::string demangled;
};

// Functions read from one file and its debug file at most: a file's tables
// are its author's to shape.
constexpr size_t kMaxFunctions = 1 << 20;

// Preference among names of one address: global, then weak, then local;
// then names without a leading underscore; then shorter.
int Rank(const GElf_Sym& sym, const std::string& name) {
  const int bind = GELF_ST_BIND(sym.st_info);
  const int bind_rank = bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 1 : 2;
  return bind_rank * 100000 + (name[0] == '_' ? 10000 : 0) +
         static_cast<int>(std::min<size_t>(name.size(), 9999));
}

// Adds the defined functions of `elf`'s .symtab and .dynsym, their
// addresses turned into file offsets through `loads` (the probed file's
// executable segments, as libbpf computes uprobe offsets). Returns whether
// `elf` has a .symtab.
absl::StatusOr<bool> AddFunctions(Elf* elf, const std::vector<GElf_Phdr>& loads,
                                  const std::string& path,
                                  std::vector<FunctionSymbol>* functions) {
  bool symtab = false;
  Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(elf, scn)) != nullptr) {
    GElf_Shdr shdr;
    if (gelf_getshdr(scn, &shdr) == nullptr ||
        (shdr.sh_type != SHT_SYMTAB && shdr.sh_type != SHT_DYNSYM) ||
        shdr.sh_entsize == 0) {
      continue;
    }
    symtab |= shdr.sh_type == SHT_SYMTAB;
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (data == nullptr) continue;
    const size_t count = shdr.sh_size / shdr.sh_entsize;
    for (size_t i = 0; i < count; ++i) {
      GElf_Sym sym;
      if (gelf_getsym(data, static_cast<int>(i), &sym) == nullptr) continue;
      const int type = GELF_ST_TYPE(sym.st_info);
      if ((type != STT_FUNC && type != STT_GNU_IFUNC) ||
          sym.st_shndx == SHN_UNDEF || sym.st_value == 0) {
        continue;
      }
      const char* raw = elf_strptr(elf, shdr.sh_link, sym.st_name);
      if (raw == nullptr || raw[0] == '\0') continue;
      std::string name(raw, strnlen(raw, 4096));
      if (const size_t at = name.find('@'); at != std::string::npos) {
        name.resize(at);
      }
      for (const GElf_Phdr& load : loads) {
        if (sym.st_value >= load.p_vaddr &&
            sym.st_value < load.p_vaddr + load.p_memsz) {
          if (functions->size() >= kMaxFunctions) {
            return absl::ResourceExhaustedError(absl::StrCat(
                path, " has more than ", kMaxFunctions, " function symbols"));
          }
          std::string demangled = Demangle(name.c_str());
          if (demangled == name) demangled.clear();
          functions->push_back(
              {name, sym.st_value - load.p_vaddr + load.p_offset,
               type == STT_GNU_IFUNC, Rank(sym, name), std::move(demangled)});
          break;
        }
      }
    }
  }
  return symtab;
}

// The GNU build-id of `elf` in lower-case hex, or empty.
std::string BuildId(Elf* elf) {
  Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(elf, scn)) != nullptr) {
    GElf_Shdr shdr;
    if (gelf_getshdr(scn, &shdr) == nullptr || shdr.sh_type != SHT_NOTE) {
      continue;
    }
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (data == nullptr) continue;
    GElf_Nhdr note;
    size_t offset = 0, name_at = 0, desc_at = 0;
    while ((offset = gelf_getnote(data, offset, &note, &name_at, &desc_at)) >
           0) {
      if (note.n_type != NT_GNU_BUILD_ID || note.n_namesz != 4 ||
          memcmp(static_cast<const char*>(data->d_buf) + name_at, "GNU", 4) !=
              0 ||
          note.n_descsz == 0 || note.n_descsz > 64) {
        continue;
      }
      return absl::BytesToHexString(absl::string_view(
          static_cast<const char*>(data->d_buf) + desc_at, note.n_descsz));
    }
  }
  return "";
}

// The file name in `elf`'s .gnu_debuglink, or empty.
std::string DebugLink(Elf* elf) {
  GElf_Shdr shdr;
  Elf_Scn* scn = FindSection(elf, ".gnu_debuglink", SHT_NULL, &shdr);
  Elf_Data* data = scn == nullptr ? nullptr : elf_getdata(scn, nullptr);
  if (data == nullptr || data->d_buf == nullptr) return "";
  const char* text = static_cast<const char*>(data->d_buf);
  return std::string(text, strnlen(text, std::min<size_t>(data->d_size, 255)));
}

// The defined functions of .symtab and .dynsym, with file offsets; for a
// file without .symtab, those of its debug file too (found as the
// symbolizer finds it, and of the same build when both carry a build-id).
absl::StatusOr<std::vector<FunctionSymbol>> ReadFunctions(
    const OpenedFile& file) {
  elf_version(EV_CURRENT);
  Elf* elf = elf_begin(file.fd(), ELF_C_READ_MMAP, nullptr);
  if (elf == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read ", file.path(), ": ", elf_errmsg(-1)));
  }
  std::vector<GElf_Phdr> loads;
  size_t phnum = 0;
  if (elf_getphdrnum(elf, &phnum) == 0) {
    for (size_t i = 0; i < phnum; ++i) {
      GElf_Phdr phdr;
      if (gelf_getphdr(elf, i, &phdr) != nullptr && phdr.p_type == PT_LOAD &&
          (phdr.p_flags & PF_X)) {
        loads.push_back(phdr);
      }
    }
  }
  std::vector<FunctionSymbol> functions;
  absl::StatusOr<bool> symtab =
      AddFunctions(elf, loads, file.path(), &functions);
  if (symtab.ok() && !*symtab) {
    const std::string build_id = BuildId(elf);
    const std::string link = DebugLink(elf);
    for (const std::string& path :
         DebugFileCandidates(build_id, file.path(), link.c_str())) {
      const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
      if (fd < 0) continue;
      struct stat st;
      Elf* debug = fstat(fd, &st) == 0 && S_ISREG(st.st_mode)
                       ? elf_begin(fd, ELF_C_READ_MMAP, nullptr)
                       : nullptr;
      bool used = false;
      if (debug != nullptr &&
          (build_id.empty() || BuildId(debug) == build_id)) {
        absl::StatusOr<bool> added =
            AddFunctions(debug, loads, path, &functions);
        if (!added.ok()) symtab = added.status();
        used = true;
      }
      if (debug != nullptr) elf_end(debug);
      close(fd);
      if (used) break;
    }
  }
  elf_end(elf);
  if (!symtab.ok()) return symtab.status();
  return functions;
}

// Where an IFUNC's calls really go: the implementation its resolver picks
// on this machine. tracectld does not run code of the libraries users
// name; it asks its own dynamic linker (dlsym runs the resolver) for
// libraries it has loaded itself, and only when the target's file is that
// very file (same device and inode). The resolver then saw the same CPU
// features as the target's. The target's GLIBC_TUNABLES (hwcaps masks) can
// still make it pick another: counts are then 0.
absl::StatusOr<uint64_t> IfuncImplementationOffset(const struct stat& file,
                                                   const std::string& name,
                                                   const std::string& what) {
  struct Search {
    dev_t dev;
    ino_t ino;
    std::string path;
    uintptr_t base = 0;
    const ElfW(Phdr) * phdr = nullptr;
    int phnum = 0;
    bool found = false;
  } search{file.st_dev, file.st_ino};
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        auto* s = static_cast<Search*>(data);
        struct stat st;
        if (info->dlpi_name == nullptr || info->dlpi_name[0] != '/' ||
            stat(info->dlpi_name, &st) != 0 || st.st_dev != s->dev ||
            st.st_ino != s->ino) {
          return 0;
        }
        s->path = info->dlpi_name;
        s->base = info->dlpi_addr;
        s->phdr = info->dlpi_phdr;
        s->phnum = info->dlpi_phnum;
        s->found = true;
        return 1;
      },
      &search);
  if (!search.found) {
    return absl::UnimplementedError(absl::StrCat(
        what,
        " is an IFUNC (its symbol is the resolver, not the code this "
        "CPU runs) in a library tracectld has not loaded itself: not "
        "supported yet (issue 11)"));
  }
  void* handle = dlopen(search.path.c_str(), RTLD_LAZY | RTLD_NOLOAD);
  if (handle == nullptr) {
    return absl::InternalError(
        absl::StrCat("dlopen ", search.path, ": ", dlerror()));
  }
  void* address = dlsym(handle, name.c_str());
  dlclose(handle);
  if (address == nullptr) {
    return absl::UnimplementedError(
        absl::StrCat(what,
                     " is an IFUNC that is not exported: not supported "
                     "yet (issue 11)"));
  }
  const uintptr_t vaddr = reinterpret_cast<uintptr_t>(address) - search.base;
  for (int i = 0; i < search.phnum; ++i) {
    const ElfW(Phdr)& load = search.phdr[i];
    if (load.p_type == PT_LOAD && (load.p_flags & PF_X) &&
        vaddr >= load.p_vaddr && vaddr < load.p_vaddr + load.p_memsz) {
      return vaddr - load.p_vaddr + load.p_offset;
    }
  }
  return absl::InternalError(absl::StrCat(
      what, ": the IFUNC's implementation is outside ", search.path));
}

// ELF executables in the standard program directories whose name starts
// with `prefix` ("python" names python3.11), each file (inode) once.
std::vector<std::string> StandardPrograms(const std::string& prefix) {
  std::vector<std::string> paths;
  for (const char* dir : {"/usr/local/bin", "/usr/bin", "/bin"}) {
    DIR* d = opendir(dir);
    if (d == nullptr) continue;
    std::vector<std::string> names;
    while (dirent* e = readdir(d)) {
      if (absl::StartsWith(e->d_name, prefix)) names.push_back(e->d_name);
      if (names.size() > 256) break;  // bounded: a name that broad is refused
    }
    closedir(d);
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      // The file itself, not a link to it (python3 -> python3.11).
      char real[PATH_MAX];
      const std::string link = absl::StrCat(dir, "/", name);
      if (realpath(link.c_str(), real) != nullptr) paths.push_back(real);
    }
  }
  return DistinctElfFiles(paths, /*executable=*/true);
}

// The file whose USDT probes `lib` names: as for functions ("exe", a path,
// a shared object by prefix), and also the program itself when its name
// starts with `lib`: `python` names the python3.11 of `-- python3.11 x.py`
// or of `--pid` a running one. System-wide, a program of the standard
// program directories when no shared object has that name.
absl::StatusOr<std::string> ResolveUsdtFile(const std::string& lib,
                                            const ProbeContext& context) {
  if (lib == "exe" || lib.find('/') != std::string::npos) {
    return ResolveLibrary(lib, context);
  }
  if (!context.program.empty()) {
    if (absl::StartsWith(Basename(context.program), lib)) {
      return context.program;
    }
    return ResolveLibrary(lib, context);
  }
  if (context.pid > 0) {
    ASSIGN_OR_RETURN(const std::string exe, ProcessExe(context.pid));
    if (absl::StartsWith(Basename(exe), lib)) return exe;
    return ResolveLibrary(lib, context);
  }
  // System-wide: what ResolveLibrary would find, found once.
  if (std::vector<std::string> libraries = LinkerFiles(lib);
      !libraries.empty()) {
    return OneLibrary(lib, libraries);
  }
  const std::vector<std::string> programs = StandardPrograms(lib);
  if (programs.size() == 1) return programs[0];
  if (programs.empty()) {
    return absl::NotFoundError(absl::StrCat(
        "unknown library or program ", lib,
        ": no such shared object in ld.so.cache or the standard library "
        "directories, no "
        "such program in /usr/local/bin, /usr/bin, /bin"));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "program ", lib, " is ambiguous: ",
      absl::StrJoin(programs.begin(),
                    programs.begin() + std::min<size_t>(programs.size(), 5),
                    ", "),
      programs.size() > 5 ? ", ..." : "", "; name one by path"));
}

// CPython's function probes: filename, funcname, lineno.
bool IsPythonFunctionProbe(const std::string& provider,
                           const std::string& name) {
  return provider == "python" &&
         (name == "function__entry" || name == "function__return");
}

// The distinct provider:name of `notes`, escaped, at most `max` of them.
std::string ProbeList(const std::vector<UsdtNote>& notes, size_t max) {
  std::vector<std::string> names;
  std::set<std::pair<std::string, std::string>> seen;
  for (const UsdtNote& note : notes) {
    if (!seen.insert({note.provider, note.name}).second) continue;
    if (names.size() == max) {
      names.push_back("...");
      break;
    }
    names.push_back(
        EscapedText(absl::StrCat(note.provider, ":", note.name), 128));
  }
  return absl::StrJoin(names, ", ");
}

}  // namespace

OpenedFile::~OpenedFile() {
  if (fd_ >= 0) close(fd_);
}

std::string OpenedFile::AttachPath() const {
  return absl::StrCat("/proc/self/fd/", fd_);
}

const std::vector<std::string>& StandardLibraryDirs() {
  static const auto* dirs =
      new std::vector<std::string>{"/lib/x86_64-linux-gnu",
                                   "/usr/lib/x86_64-linux-gnu",
                                   "/lib64",
                                   "/usr/lib64",
                                   "/lib",
                                   "/usr/lib"};
  return *dirs;
}

absl::StatusOr<ResolvedProbes> ResolveCallProbes(
    const std::vector<ProbeSpec>& specs, const ProbeContext& context,
    size_t max_probes) {
  ResolvedProbes out;
  // Each file once (by path), and each address of a file once.
  std::map<std::string, std::shared_ptr<OpenedFile>> files;
  std::map<std::string, std::vector<FunctionSymbol>> symbols;
  std::set<std::tuple<dev_t, ino_t, uint64_t>> probed;
  size_t skipped_ifuncs = 0;
  // USDT: each file's notes, and each provider:name of a file once.
  std::map<std::string, std::vector<UsdtNote>> usdt_notes;
  std::set<std::tuple<dev_t, ino_t, std::string, std::string>> usdt_probed;
  size_t usdt_probes = 0;
  for (const ProbeSpec& spec : specs) {
    if (spec.usdt) {
      const std::string what = absl::StrCat(
          "usdt:", spec.library, ":",
          spec.provider.empty() ? "" : spec.provider + ":", spec.glob);
      ASSIGN_OR_RETURN(const std::string path,
                       ResolveUsdtFile(spec.library, context));
      if (!files.count(path)) {
        ASSIGN_OR_RETURN(files[path], OpenElf(path));
      }
      const std::shared_ptr<OpenedFile>& file = files[path];
      if (!usdt_notes.count(path)) {
        ASSIGN_OR_RETURN(usdt_notes[path], ReadUsdtNotes(file->fd(), path));
      }
      const std::vector<UsdtNote>& notes = usdt_notes[path];
      if (notes.empty()) {
        return absl::NotFoundError(absl::StrCat(
            what, ": ", path, " has no USDT probes (no .note.stapsdt)"));
      }
      struct stat st;
      if (fstat(file->fd(), &st) != 0) return OpenError(errno, path);
      // provider:name in the order of their first sites.
      std::vector<CallProbe> matched;
      std::map<std::pair<std::string, std::string>, size_t> index;
      for (const UsdtNote& note : notes) {
        if (!spec.provider.empty() &&
            fnmatch(spec.provider.c_str(), note.provider.c_str(), 0) != 0) {
          continue;
        }
        if (fnmatch(spec.glob.c_str(), note.name.c_str(), 0) != 0) continue;
        const auto [it, added] =
            index.insert({{note.provider, note.name}, matched.size()});
        const bool python = IsPythonFunctionProbe(note.provider, note.name) &&
                            UsdtArgCount(note) >= 2;
        if (!added) {
          // Every site must have the arguments the BPF side reads.
          matched[it->second].python_function &= python;
          continue;
        }
        CallProbe probe;
        probe.file = file;
        probe.offset = note.location;
        probe.function = absl::StrCat(note.provider, ":", note.name);
        probe.library = Basename(path);
        probe.from_glob =
            HasGlobChars(spec.glob) || HasGlobChars(spec.provider);
        probe.usdt = true;
        probe.provider = note.provider;
        probe.name = note.name;
        probe.python_function = python;
        matched.push_back(std::move(probe));
      }
      if (matched.empty()) {
        return absl::NotFoundError(
            absl::StrCat(what, " matches no USDT probe in ", path, " (it has ",
                         ProbeList(notes, 12), ")"));
      }
      for (CallProbe& probe : matched) {
        if (!usdt_probed
                 .insert({st.st_dev, st.st_ino, probe.provider, probe.name})
                 .second) {
          continue;
        }
        ++usdt_probes;
        out.probes.push_back(std::move(probe));
      }
      continue;
    }
    const std::string what = absl::StrCat(spec.library, ":", spec.glob);
    ASSIGN_OR_RETURN(const std::string path,
                     ResolveLibrary(spec.library, context));
    if (!files.count(path)) {
      ASSIGN_OR_RETURN(files[path], OpenElf(path));
      ASSIGN_OR_RETURN(symbols[path], ReadFunctions(*files[path]));
    }
    const std::shared_ptr<OpenedFile>& file = files[path];
    struct stat st;
    if (fstat(file->fd(), &st) != 0) return OpenError(errno, path);
    // This spec's best name per address.
    std::map<uint64_t, const FunctionSymbol*> best;
    // IFUNCs as their implementations, C++ functions matched by their
    // demangled names under those names (pointers into it stay valid).
    std::deque<FunctionSymbol> copies;
    for (const FunctionSymbol& symbol : symbols[path]) {
      const bool by_demangled =
          fnmatch(spec.glob.c_str(), symbol.name.c_str(), 0) != 0;
      if (by_demangled &&
          (symbol.demangled.empty() ||
           fnmatch(spec.glob.c_str(), symbol.demangled.c_str(), 0) != 0)) {
        continue;
      }
      const FunctionSymbol* match = &symbol;
      if (by_demangled) {
        copies.push_back(symbol);
        copies.back().name = symbol.demangled;
        match = &copies.back();
      }
      if (symbol.ifunc) {
        absl::StatusOr<uint64_t> offset =
            IfuncImplementationOffset(st, symbol.name, what);
        if (!offset.ok()) {
          // Named exactly: say why; in a glob: skipped, and said.
          if (!HasGlobChars(spec.glob)) return offset.status();
          ++skipped_ifuncs;
          continue;
        }
        copies.push_back(*match);
        copies.back().offset = *offset;
        copies.back().ifunc = false;
        match = &copies.back();
      }
      const FunctionSymbol& f = *match;
      const FunctionSymbol*& slot = best[f.offset];
      if (slot == nullptr ||
          std::tie(f.rank, f.name) < std::tie(slot->rank, slot->name)) {
        slot = &f;
      }
    }
    if (best.empty()) {
      return absl::NotFoundError(
          absl::StrCat(what, " matches no function in ", path));
    }
    for (const auto& [offset, f] : best) {
      if (!probed.insert({st.st_dev, st.st_ino, offset}).second) continue;
      out.probes.push_back(
          {file, offset, f->name, Basename(path), HasGlobChars(spec.glob)});
    }
  }
  if (usdt_probes > kMaxUsdtProbes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the probes match ", usdt_probes, " USDT probes; at most ",
                     kMaxUsdtProbes, " per session"));
  }
  if (out.probes.size() > max_probes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the probes match ", out.probes.size() - usdt_probes, " functions",
        usdt_probes ? absl::StrCat(" and ", usdt_probes, " USDT probes") : "",
        "; at most ", max_probes, " per session"));
  }
  if (skipped_ifuncs > 0) {
    out.notes.push_back(absl::StrCat(
        skipped_ifuncs,
        " IFUNC symbols skipped: their libraries are not tracectld's own"));
  }
  return out;
}

}  // namespace tracectl
