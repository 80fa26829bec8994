#include "daemon/python/python_loader.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/proc_maps.h"
#include "daemon/python/elf_symbols.h"

namespace tracectl::python {
namespace {

constexpr size_t kMaxMapsLines = 65536;

struct MappedFile {
  std::string path;
  uint64_t offset0_start = 0;  // start of the mapping at file offset 0
  bool has_offset0 = false;
  bool executable = false;
  uint64_t inode = 0;  // as maps shows it: the file must still be this one
};

std::string BaseName(std::string_view path) {
  const size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path
                                                     : path.substr(slash + 1));
}

bool LooksLikePython(std::string_view path) {
  const std::string base = BaseName(path);
  return absl::StartsWith(base, "python") ||
         absl::StartsWith(base, "libpython");
}

absl::StatusOr<std::vector<MappedFile>> ReadMappedFiles(pid_t pid) {
  const std::string maps_path = absl::StrFormat("/proc/%d/maps", pid);
  std::ifstream maps(maps_path);
  if (!maps) {
    if (errno == EACCES || errno == EPERM) {
      return absl::PermissionDeniedError(
          absl::StrFormat("pid %d: may not read its mappings", pid));
    }
    return absl::NotFoundError(absl::StrFormat("pid %d: no such process", pid));
  }
  std::map<std::string, MappedFile> files;
  std::string line;
  size_t lines = 0;
  while (std::getline(maps, line) && ++lines <= kMaxMapsLines) {
    const std::optional<MapsLine> entry = ParseMapsLine(line);
    if (!entry || entry->path.empty() || entry->path[0] != '/') continue;
    const std::string path(entry->path);
    if (!LooksLikePython(path)) continue;
    MappedFile& file = files[path];
    file.path = path;
    file.inode = entry->inode;
    if (entry->offset == 0 && !file.has_offset0) {
      file.has_offset0 = true;
      file.offset0_start = entry->start;
    }
    if (entry->executable()) file.executable = true;
  }
  if (lines == 0) {
    return absl::NotFoundError(absl::StrFormat("pid %d: no such process", pid));
  }
  std::vector<MappedFile> out;
  // libpython first: an executable linked against it has _PyRuntime only as
  // an undefined symbol, which the symbol lookup skips anyway.
  for (const auto& [path, file] : files) {
    if (file.executable && file.has_offset0 &&
        absl::StartsWith(BaseName(path), "libpython")) {
      out.push_back(file);
    }
  }
  for (const auto& [path, file] : files) {
    if (file.executable && file.has_offset0 &&
        !absl::StartsWith(BaseName(path), "libpython")) {
      out.push_back(file);
    }
  }
  return out;
}

struct ElfFacts {
  uint64_t first_load_vaddr = 0;       // of the PT_LOAD at file offset 0
  std::optional<uint64_t> runtime;     // _PyRuntime
  std::optional<uint64_t> py_version;  // Py_Version (3.11+)
};

// Reads the ELF's program headers and .dynsym with libelf. The file is the
// target's, opened through /proc/PID/root by the calling thread.
// The path is the target's to choose and to replace after mapping it: open
// without blocking (a FIFO put in its place), and only the regular file
// whose inode maps shows.
absl::StatusOr<ElfFacts> ReadElfFacts(const std::string& path, uint64_t inode) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrFormat("open %s: %s", path, strerror(errno)));
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_ino != inode) {
    close(fd);
    return absl::UnavailableError(
        absl::StrFormat("%s: not the file the process mapped", path));
  }
  elf_version(EV_CURRENT);
  Elf* elf = elf_begin(fd, ELF_C_READ_MMAP, nullptr);
  if (elf == nullptr) {
    close(fd);
    return absl::UnavailableError(
        absl::StrFormat("%s: not an ELF file: %s", path, elf_errmsg(-1)));
  }
  ElfFacts facts;
  size_t phnum = 0;
  if (elf_getphdrnum(elf, &phnum) == 0) {
    for (size_t i = 0; i < phnum; ++i) {
      GElf_Phdr phdr;
      if (gelf_getphdr(elf, static_cast<int>(i), &phdr) != nullptr &&
          phdr.p_type == PT_LOAD) {
        facts.first_load_vaddr = phdr.p_vaddr - phdr.p_offset;
        break;
      }
    }
  }
  ForEachDynamicSymbol(elf, [&facts](const GElf_Sym& sym, const char* name) {
    if (strcmp(name, "_PyRuntime") == 0) facts.runtime = sym.st_value;
    if (strcmp(name, "Py_Version") == 0) facts.py_version = sym.st_value;
  });
  elf_end(elf);
  close(fd);
  return facts;
}

}  // namespace

std::optional<PythonVersion> VersionFromFileName(std::string_view path) {
  std::string base = BaseName(path);
  if (absl::StartsWith(base, "lib")) base = base.substr(3);
  if (!absl::StartsWith(base, "python")) return std::nullopt;
  int major = 0, minor = 0;
  char next = 0;
  const int n =
      sscanf(base.c_str() + strlen("python"), "%d.%d%c", &major, &minor, &next);
  if (n < 2 || major < 2 || minor < 0 || minor > 99) return std::nullopt;
  if (n == 3 && next != '.' && next != 'd' && next != 'm' && next != 't') {
    return std::nullopt;
  }
  return PythonVersion{major, minor, -1};
}

absl::StatusOr<PythonBinary> FindPythonBinary(pid_t pid, MemoryReader& memory) {
  absl::StatusOr<std::vector<MappedFile>> files = ReadMappedFiles(pid);
  if (!files.ok()) return files.status();
  std::string last_error;
  for (const MappedFile& file : *files) {
    // Only files named as CPython names its interpreter and library are
    // read: this runs for every process a profile samples.
    const std::string base = BaseName(file.path);
    if (!absl::StartsWith(base, "python") &&
        !absl::StartsWith(base, "libpython")) {
      continue;
    }
    absl::StatusOr<ElfFacts> facts = ReadElfFacts(
        absl::StrFormat("/proc/%d/root%s", pid, file.path), file.inode);
    if (!facts.ok()) {
      last_error = std::string(facts.status().message());
      continue;
    }
    if (!facts->runtime.has_value()) continue;
    PythonBinary binary;
    binary.path = file.path;
    binary.load_bias = file.offset0_start - facts->first_load_vaddr;
    binary.runtime_address = *facts->runtime + binary.load_bias;
    std::optional<PythonVersion> version;
    if (facts->py_version.has_value()) {
      // PY_VERSION_HEX: 0xMMmmuuLS.
      absl::StatusOr<uint32_t> hex =
          memory.ReadUint32(*facts->py_version + binary.load_bias);
      if (hex.ok() && (*hex >> 24) >= 2) {
        version = PythonVersion{static_cast<int>(*hex >> 24),
                                static_cast<int>((*hex >> 16) & 0xff),
                                static_cast<int>((*hex >> 8) & 0xff)};
      }
    }
    if (!version.has_value()) version = VersionFromFileName(file.path);
    if (!version.has_value()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "pid %d: %s defines _PyRuntime but names no python version", pid,
          file.path));
    }
    binary.version = *version;
    return binary;
  }
  return absl::NotFoundError(absl::StrFormat(
      "pid %d: not a Python process (no mapped python binary defines "
      "_PyRuntime)%s",
      pid, last_error.empty() ? "" : absl::StrCat("; ", last_error)));
}

}  // namespace tracectl::python
