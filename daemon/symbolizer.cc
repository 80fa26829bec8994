#include "daemon/symbolizer.h"

#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <gelf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <tuple>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/elf_names.h"
#include "daemon/python/elf_symbols.h"
#include "profile.h"

namespace tracectl {
namespace {

// How often a live process's maps may be read again.
constexpr absl::Duration kReportInterval = absl::Milliseconds(200);
constexpr int kPcRegister = 16;

std::string BaseName(absl::string_view path) {
  const size_t slash = path.rfind('/');
  return std::string(slash == absl::string_view::npos ? path
                                                      : path.substr(slash + 1));
}

// The pid the process has in its own pid namespace: the name of its JIT map.
pid_t NamespacePid(pid_t tgid) {
  std::ifstream status(absl::StrCat("/proc/", tgid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (absl::StartsWith(line, "NSpid:")) {
      std::vector<absl::string_view> ids = absl::StrSplit(
          line.substr(6), absl::ByAnyChar(" \t"), absl::SkipEmpty());
      int id = 0;
      if (!ids.empty() && absl::SimpleAtoi(ids.back(), &id)) return id;
    }
  }
  return tgid;
}

// The process whose modules libdw may open on this thread now: the
// find_elf callback has no argument of its own.
thread_local pid_t current_tgid = 0;

class ScopedTgid {
 public:
  explicit ScopedTgid(pid_t tgid) : saved_(current_tgid) {
    current_tgid = tgid;
  }
  ~ScopedTgid() { current_tgid = saved_; }

 private:
  const pid_t saved_;
};

// Opens `path` for reading if it is a regular file: never blocks on a FIFO
// or reads a device that a sampled process put in place of a file.
int OpenRegular(const std::string& path, bool nofollow = false) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK |
                                        (nofollow ? O_NOFOLLOW : 0));
  if (fd < 0) return -1;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return -1;
  }
  return fd;
}

// `path` as the current process sees it (/proc/PID/root/...), else here.
int OpenInProcessRoot(const std::string& path, char** file_name) {
  int fd = -1;
  if (current_tgid > 0) {
    fd = OpenRegular(absl::StrCat("/proc/", current_tgid, "/root", path));
  }
  if (fd < 0) fd = OpenRegular(path);
  if (fd >= 0 && file_name != nullptr) *file_name = strdup(path.c_str());
  return fd;
}

// Opens a module's file as the process sees it, or at its path here once
// the process is gone. Files only: no FIFOs, no devices.
// A file deleted since it was mapped (a package upgraded under a running
// program): the executable through /proc/PID/exe, anything else through
// /proc/PID/map_files (which the kernel opens for root only).
int OpenDeleted(absl::string_view path, char** file_name) {
  if (current_tgid <= 0) return -1;
  const std::string proc = absl::StrCat("/proc/", current_tgid);
  char exe[4096];
  const ssize_t n = readlink((proc + "/exe").c_str(), exe, sizeof(exe) - 1);
  int fd = -1;
  if (n > 0 && absl::string_view(exe, n) == path) {
    fd = OpenRegular(proc + "/exe");
  } else {
    std::ifstream maps(proc + "/maps");
    std::string line;
    for (int i = 0; fd < 0 && i < 65536 && std::getline(maps, line); ++i) {
      if (!absl::EndsWith(line, path)) continue;
      const size_t space = line.find(' ');
      if (space == std::string::npos) continue;
      fd =
          OpenRegular(absl::StrCat(proc, "/map_files/", line.substr(0, space)));
    }
  }
  if (fd >= 0 && file_name != nullptr)
    *file_name = strdup(std::string(path).c_str());
  return fd;
}

int FindElf(Dwfl_Module* mod, void** userdata, const char* name,
            Dwarf_Addr base, char** file_name, Elf** elfp) {
  if (name != nullptr && name[0] == '/') {
    if (absl::EndsWith(name, " (deleted)")) return OpenDeleted(name, file_name);
    return OpenInProcessRoot(name, file_name);
  }
  // [vdso]: read from the process's memory.
  return dwfl_linux_proc_find_elf(mod, userdata, name, base, file_name, elfp);
}

// The module's GNU build-id in lower-case hex, or empty.
std::string BuildIdHex(Dwfl_Module* mod) {
  const unsigned char* bits = nullptr;
  GElf_Addr vaddr = 0;
  const int len = dwfl_module_build_id(mod, &bits, &vaddr);
  if (len <= 0) return "";
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bits), len));
}

// Debug files: by build-id under /usr/lib/debug/.build-id, then by the
// .gnu_debuglink name (a bare file name, never a path) next to the file, in
// its .debug directory, and under /usr/lib/debug.
int FindDebuginfo(Dwfl_Module* mod, void**, const char*, Dwarf_Addr,
                  const char* file_name, const char* debuglink_file, GElf_Word,
                  char** debuginfo_file_name) {
  for (const std::string& path : DebugFileCandidates(
           BuildIdHex(mod), file_name ? file_name : "", debuglink_file)) {
    if (int fd = OpenInProcessRoot(path, debuginfo_file_name); fd >= 0) {
      return fd;
    }
  }
  return -1;
}

}  // namespace

// libdw's view of the sample being unwound: one thread, its registers, and
// the stack bytes copied by the kernel.
struct UnwindCallbacks {
  static pid_t NextThread(Dwfl*, void* arg, void** thread_arg) {
    auto* image = static_cast<ProcessImage*>(arg);
    if (*thread_arg != nullptr) return 0;
    *thread_arg = arg;
    return static_cast<pid_t>(image->sample_->tid);
  }
  static bool GetThread(Dwfl*, pid_t, void* arg, void** thread_arg) {
    *thread_arg = arg;
    return true;
  }
  static bool MemoryRead(Dwfl*, Dwarf_Addr addr, Dwarf_Word* result,
                         void* arg) {
    const profile_sample& s = *static_cast<ProcessImage*>(arg)->sample_;
    if (s.ustack_bytes < sizeof(*result) || addr < s.ustack_addr ||
        addr - s.ustack_addr > s.ustack_bytes - sizeof(*result)) {
      return false;
    }
    memcpy(result, s.ustack + (addr - s.ustack_addr), sizeof(*result));
    return true;
  }
  static bool SetInitialRegisters(Dwfl_Thread* thread, void* arg) {
    const profile_sample& s = *static_cast<ProcessImage*>(arg)->sample_;
    Dwarf_Word regs[PROFILE_USER_REGS];
    for (int i = 0; i < PROFILE_USER_REGS; ++i) regs[i] = s.user_regs[i];
    dwfl_thread_state_register_pc(thread, s.user_regs[kPcRegister]);
    return dwfl_thread_state_registers(thread, 0, kPcRegister, regs);
  }
  static constexpr Dwfl_Thread_Callbacks kCallbacks = {
      &NextThread,          &GetThread, &MemoryRead,
      &SetInitialRegisters, nullptr,    nullptr};
};

struct FrameWalk {
  std::vector<UserPc>* pcs;
  size_t max_frames;
};

static int OnFrame(Dwfl_Frame* frame, void* arg) {
  auto* walk = static_cast<FrameWalk*>(arg);
  Dwarf_Addr pc = 0;
  bool activation = false;
  if (!dwfl_frame_pc(frame, &pc, &activation)) return DWARF_CB_ABORT;
  walk->pcs->push_back({pc, activation});
  return walk->pcs->size() >= walk->max_frames ? DWARF_CB_ABORT : DWARF_CB_OK;
}

void ProcessImage::DwflDeleter::operator()(Dwfl* dwfl) const { dwfl_end(dwfl); }

ProcessImage::ProcessImage(pid_t tgid, SymbolTables* tables,
                           SourceLines source_lines,
                           SymbolizerCounters* counters)
    : tgid_(tgid),
      tables_(tables),
      source_lines_(source_lines),
      counters_(counters != nullptr ? counters : &own_counters_) {
  // The modules are read at the first unwinding: copying the maps is all a
  // process about to exit leaves time for.
  SnapshotMaps();
}

SymbolTable::SymbolTable(std::vector<Symbol> symbols,
                         std::vector<uint64_t> fde_starts)
    : symbols_(std::move(symbols)), fde_starts_(std::move(fde_starts)) {
  std::sort(fde_starts_.begin(), fde_starts_.end());
  std::sort(symbols_.begin(), symbols_.end(),
            [](const Symbol& a, const Symbol& b) {
              // At one address: the longest, then by name, for a
              // stable choice among aliases.
              return std::tie(a.start, b.size, a.name) <
                     std::tie(b.start, a.size, b.name);
            });
}

const SymbolTable::Symbol* SymbolTable::Find(uint64_t address) const {
  auto it =
      std::upper_bound(symbols_.begin(), symbols_.end(), address,
                       [](uint64_t a, const Symbol& s) { return a < s.start; });
  // The nearest symbol at or below that covers the address; one without a
  // size covers up to the next.
  for (int tries = 0; it != symbols_.begin() && tries < 16; ++tries) {
    --it;
    if (it->size == 0 || address - it->start < it->size) return &*it;
  }
  return nullptr;
}

std::optional<uint64_t> SymbolTable::LastFdeStart(uint64_t address) const {
  auto it = std::upper_bound(fde_starts_.begin(), fde_starts_.end(), address);
  if (it == fde_starts_.begin()) return std::nullopt;
  return *--it;
}

namespace {

// Where the FDEs of `elf`'s .eh_frame start (file addresses), from the
// sorted search table of .eh_frame_hdr (PT_GNU_EH_FRAME), which a stripped
// file keeps. Empty when there is none, or it is not laid out as linkers
// write it (and unwinders require): a 4-byte count, then pairs of 4-byte
// offsets from the header's start.
std::vector<uint64_t> ReadFdeStarts(Elf* elf) {
  const char* ident = elf_getident(elf, nullptr);
  const unsigned char host_order =
      __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB : ELFDATA2MSB;
  size_t phnum = 0;
  if (ident == nullptr || ident[EI_DATA] != host_order ||
      elf_getphdrnum(elf, &phnum) != 0) {
    return {};
  }
  for (size_t i = 0; i < phnum; ++i) {
    GElf_Phdr phdr;
    if (gelf_getphdr(elf, i, &phdr) == nullptr ||
        phdr.p_type != PT_GNU_EH_FRAME) {
      continue;
    }
    Elf_Data* data =
        elf_getdata_rawchunk(elf, phdr.p_offset, phdr.p_filesz, ELF_T_BYTE);
    if (data == nullptr || data->d_buf == nullptr) return {};
    const auto* p = static_cast<const unsigned char*>(data->d_buf);
    const size_t size = data->d_size;
    // version, then the encodings of eh_frame_ptr, fde_count and the table
    if (size < 4 || p[0] != 1 || p[2] != DW_EH_PE_udata4 ||
        p[3] != (DW_EH_PE_datarel | DW_EH_PE_sdata4)) {
      return {};
    }
    size_t at = 4;
    if (p[1] != DW_EH_PE_omit) {
      switch (p[1] & 0x0f) {
        case DW_EH_PE_udata4:
        case DW_EH_PE_sdata4:
          at += 4;
          break;
        case DW_EH_PE_absptr:
          at += ident[EI_CLASS] == ELFCLASS32 ? 4 : 8;
          break;
        case DW_EH_PE_udata8:
        case DW_EH_PE_sdata8:
          at += 8;
          break;
        default:
          return {};
      }
    }
    uint32_t count = 0;
    if (size < at + sizeof(count)) return {};
    memcpy(&count, p + at, sizeof(count));
    at += sizeof(count);
    if (count > (size - at) / 8) return {};
    std::vector<uint64_t> starts(count);
    for (uint32_t j = 0; j < count; ++j) {
      int32_t location = 0;
      memcpy(&location, p + at + 8 * static_cast<size_t>(j), sizeof(location));
      starts[j] = phdr.p_vaddr + static_cast<int64_t>(location);
    }
    return starts;
  }
  return {};
}

// The start of the FDE holding `address` (a file address of `mod`, whose
// file is loaded with `bias`), or `address` itself when no FDE holds it.
// The start comes from the search table: dwarf_frame_info's range is only
// that of the CFI row, which a function's prologue and epilogue split.
uint64_t FdeStart(Dwfl_Module* mod, Dwarf_Addr bias, const SymbolTable& table,
                  uint64_t address) {
  const std::optional<uint64_t> start = table.LastFdeStart(address);
  if (!start.has_value()) return address;
  Dwarf_Addr cfi_bias = 0;
  Dwarf_CFI* cfi = dwfl_module_eh_cfi(mod, &cfi_bias);
  if (cfi == nullptr || cfi_bias != bias) return address;
  Dwarf_Frame* frame = nullptr;
  if (dwarf_cfi_addrframe(cfi, address, &frame) != 0) return address;
  Dwarf_Addr row_start = 0, row_end = 0;
  bool signal_frame = false;
  const int ok = dwarf_frame_info(frame, &row_start, &row_end, &signal_frame);
  free(frame);
  // The FDE holding it starts at the last start at or below it (FDEs do
  // not overlap), so at or below the start of its row.
  if (ok < 0 || row_start < *start || row_start > address) return address;
  return *start;
}

// A symbol's name as kept: without its version ("memcpy@@GLIBC_2.14"), at
// most kMaxSymbolNameBytes.
std::string SymbolName(const char* name, SymbolizerCounters* counters) {
  size_t len = strcspn(name, "@");
  if (len == 0) len = strlen(name);
  if (len > kMaxSymbolNameBytes) {
    len = kMaxSymbolNameBytes;
    ++counters->names_cut;
  }
  return std::string(name, len);
}

// An xz variable-length integer at `*at` of `data`, moving past it.
bool XzVarint(absl::string_view data, size_t* at, uint64_t* value) {
  *value = 0;
  for (int i = 0; i < 9 && *at < data.size(); ++i) {
    const uint8_t byte = static_cast<uint8_t>(data[(*at)++]);
    *value |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

// The decompressed size of a one-stream xz file, from its index (read, not
// trusted: the decompressor stops at kMaxDebugDataBytes anyway only if it
// is asked to, and libdwfl does not ask). nullopt when the index cannot be
// read.
std::optional<uint64_t> XzDecompressedSize(absl::string_view xz) {
  constexpr size_t kFooter = 12;
  if (xz.size() < 2 * kFooter || xz.substr(xz.size() - 2) != "YZ") {
    return std::nullopt;
  }
  uint32_t backward = 0;
  memcpy(&backward, xz.data() + xz.size() - 8, sizeof(backward));
  const uint64_t index_size = (static_cast<uint64_t>(backward) + 1) * 4;
  if (index_size > xz.size() - 2 * kFooter) return std::nullopt;
  absl::string_view index =
      xz.substr(xz.size() - kFooter - index_size, index_size);
  size_t at = 0;
  uint64_t records = 0, total = 0;
  if (index.empty() || index[at++] != 0 || !XzVarint(index, &at, &records) ||
      records > index.size()) {
    return std::nullopt;
  }
  for (uint64_t i = 0; i < records; ++i) {
    uint64_t unpadded = 0, uncompressed = 0;
    if (!XzVarint(index, &at, &unpadded) ||
        !XzVarint(index, &at, &uncompressed) ||
        uncompressed > (uint64_t{1} << 48)) {
      return std::nullopt;
    }
    total += uncompressed;
  }
  return total;
}

// Whether libdwfl may read `elf`'s symbols its own way: a file with
// MiniDebugInfo and no .symtab has it decompressed whole, so only when the
// xz index says it is small.
bool DebugDataIsSafe(Elf* elf, SymbolizerCounters* counters) {
  size_t shstrndx = 0;
  if (elf_getshdrstrndx(elf, &shstrndx) != 0) return true;
  Elf_Scn* debugdata = nullptr;
  Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(elf, scn)) != nullptr) {
    GElf_Shdr shdr;
    if (gelf_getshdr(scn, &shdr) == nullptr) continue;
    if (shdr.sh_type == SHT_SYMTAB) return true;  // libdwfl uses that
    const char* name = elf_strptr(elf, shstrndx, shdr.sh_name);
    if (name != nullptr && strcmp(name, ".gnu_debugdata") == 0) {
      debugdata = scn;
    }
  }
  if (debugdata == nullptr) return true;
  Elf_Data* data = elf_rawdata(debugdata, nullptr);
  const std::optional<uint64_t> size =
      data == nullptr
          ? std::nullopt
          : XzDecompressedSize(absl::string_view(
                static_cast<const char*>(data->d_buf), data->d_size));
  if (size.has_value() && *size <= kMaxDebugDataBytes) return true;
  ++counters->debugdata_skipped;
  return false;
}

// The function symbols of `elf`'s .dynsym, read here (file addresses).
std::vector<SymbolTable::Symbol> DynamicSymbols(Elf* elf,
                                                SymbolizerCounters* counters) {
  std::vector<SymbolTable::Symbol> symbols;
  ForEachDynamicSymbol(elf, [&](const GElf_Sym& sym, const char* name) {
    const int type = GELF_ST_TYPE(sym.st_info);
    if (type == STT_FUNC || type == STT_GNU_IFUNC) {
      symbols.push_back(
          {sym.st_value, sym.st_size, SymbolName(name, counters)});
    }
  });
  return symbols;
}

// Every function symbol libdwfl finds for `mod` (.symtab, else .dynsym and
// MiniDebugInfo; the debug file's when there is one), at file addresses,
// and the FDE starts of `elf`, its file. MiniDebugInfo that would
// decompress to more than kMaxDebugDataBytes is not read: .dynsym only.
std::shared_ptr<const SymbolTable> ReadSymbols(Dwfl_Module* mod, Elf* elf,
                                               Dwarf_Addr bias,
                                               SymbolizerCounters* counters) {
  if (!DebugDataIsSafe(elf, counters)) {
    return std::make_shared<const SymbolTable>(DynamicSymbols(elf, counters),
                                               ReadFdeStarts(elf));
  }
  std::vector<SymbolTable::Symbol> symbols;
  const int n = dwfl_module_getsymtab(mod);
  for (int i = 1; i < n; ++i) {
    GElf_Sym sym;
    GElf_Addr addr = 0;
    const char* name =
        dwfl_module_getsym_info(mod, i, &sym, &addr, nullptr, nullptr, nullptr);
    if (name == nullptr || name[0] == '\0' || sym.st_shndx == SHN_UNDEF) {
      continue;
    }
    const int type = GELF_ST_TYPE(sym.st_info);
    if (type != STT_FUNC && type != STT_GNU_IFUNC) continue;
    symbols.push_back({addr - bias, sym.st_size, SymbolName(name, counters)});
  }
  return std::make_shared<const SymbolTable>(std::move(symbols),
                                             ReadFdeStarts(elf));
}

// The file's identity for sharing its table: build-id, else its path.
std::string FileKey(Dwfl_Module* mod, const char* name) {
  if (const std::string id = BuildIdHex(mod); !id.empty()) {
    return absl::StrCat("id:", id);
  }
  return absl::StrCat("path:", name != nullptr ? name : "");
}

}  // namespace

ProcessImage::~ProcessImage() = default;

bool ProcessImage::ReadMaps() {
  // Larger maps are cut: the modules past the cut stay unknown.
  constexpr size_t kMaxMapsBytes = 4 << 20;
  const std::string proc = absl::StrCat("/proc/", tgid_);
  const int fd = open((proc + "/maps").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::string text;
  char buffer[16384];
  ssize_t n;
  while (text.size() < kMaxMapsBytes &&
         (n = read(fd, buffer, sizeof(buffer))) > 0) {
    text.append(buffer, n);
  }
  close(fd);
  // A zombie has no maps.
  if (n < 0 || text.empty()) return false;
  if (text.size() > kMaxMapsBytes) text.resize(text.rfind('\n') + 1);
  maps_ = std::move(text);
  char exe[4096];
  const ssize_t len = readlink((proc + "/exe").c_str(), exe, sizeof(exe) - 1);
  if (len > 0) exe_path_.assign(exe, len);
  return true;
}

void ProcessImage::SnapshotMaps() {
  if (ReadMaps()) maps_newer_ = true;
}

bool ProcessImage::Report() {
  ScopedTgid scoped(tgid_);
  static char* debuginfo_path = nullptr;
  static const Dwfl_Callbacks callbacks = {&FindElf, &FindDebuginfo, nullptr,
                                           &debuginfo_path};
  last_report_ = absl::Now();
  ++reports_;
  // Gone, or a zombie: the copy taken while it lived, if there is a new
  // one; else keep what we had.
  const bool live = ReadMaps();
  if (!live && !maps_newer_) return false;
  maps_newer_ = false;
  auto begin = [] {
    return std::unique_ptr<Dwfl, DwflDeleter>(dwfl_begin(&callbacks));
  };
  std::unique_ptr<Dwfl, DwflDeleter> dwfl = begin();
  if (dwfl == nullptr) return false;
  // Live, libdwfl reads the maps itself, and finds the vDSO through the
  // auxiliary vector; else (or if it just exited) from the copy.
  if (!live || dwfl_linux_proc_report(dwfl.get(), tgid_) != 0) {
    dwfl = begin();
    FILE* maps = fmemopen(maps_.data(), maps_.size(), "r");
    if (dwfl == nullptr || maps == nullptr) {
      if (maps != nullptr) fclose(maps);
      return false;
    }
    const int err = dwfl_linux_proc_maps_report(dwfl.get(), maps);
    fclose(maps);
    if (err != 0) return false;
  }
  if (dwfl_report_end(dwfl.get(), nullptr, nullptr) != 0) return false;
  dwfl_ = std::move(dwfl);
  attached_ = dwfl_attach_state(dwfl_.get(), nullptr, tgid_,
                                &UnwindCallbacks::kCallbacks, this);
  cache_.clear();
  return true;
}

bool ProcessImage::MaybeReport() {
  // The second read is never held back: the first may have come from a
  // sample inside execve, before the new program was mapped.
  if (reports_ >= 2 && absl::Now() - last_report_ < kReportInterval) {
    return false;
  }
  return Report();  // fails, and keeps the image, if the process is gone
}

bool ProcessImage::Unwind(const profile_sample& sample, size_t max_frames,
                          std::vector<UserPc>* pcs) {
  ScopedTgid scoped(tgid_);
  const uint64_t ip = sample.user_regs[kPcRegister];
  const size_t first = pcs->size();
  if (maps_newer_) Report();
  auto walk_once = [&]() -> bool {
    pcs->resize(first);
    if (dwfl_ == nullptr || !attached_) {
      pcs->push_back({ip, true});
      return false;
    }
    sample_ = &sample;
    FrameWalk walk{pcs, first + max_frames};
    const int err =
        dwfl_getthread_frames(dwfl_.get(), sample.tid, &OnFrame, &walk);
    sample_ = nullptr;
    if (pcs->size() == first) pcs->push_back({ip, true});
    return err == 0 || pcs->size() >= first + max_frames;
  };
  if (walk_once()) return true;
  // Stopped early at code the modules we know do not cover: read the maps
  // again (at most every kReportInterval) and retry.
  const UserPc last = pcs->back();
  if (dwfl_ == nullptr ||
      dwfl_addrmodule(dwfl_.get(), last.pc - (last.interrupted ? 0 : 1)) ==
          nullptr) {
    if (MaybeReport()) return walk_once();
  }
  return false;
}

void ProcessImage::LoadJitMap() {
  last_jit_load_ = absl::Now();
  // As perf takes it: a regular file (not a link, FIFO or device) owned by
  // the process's user or root, here at most 64 MiB, read again only when
  // it changed.
  const std::string proc = absl::StrCat("/proc/", tgid_);
  struct stat owner;
  if (stat(proc.c_str(), &owner) != 0) return;
  const int fd = OpenRegular(
      absl::StrCat(proc, "/root/tmp/perf-", NamespacePid(tgid_), ".map"),
      /*nofollow=*/true);
  if (fd < 0) return;
  struct stat st;
  if (fstat(fd, &st) != 0 || (st.st_uid != owner.st_uid && st.st_uid != 0) ||
      st.st_size > static_cast<off_t>(kMaxJitMapBytes) ||
      (st.st_size == jit_map_size_ &&
       st.st_mtim.tv_sec == jit_map_mtime_.tv_sec &&
       st.st_mtim.tv_nsec == jit_map_mtime_.tv_nsec)) {
    close(fd);
    return;
  }
  jit_map_size_ = st.st_size;
  jit_map_mtime_ = st.st_mtim;
  std::unique_ptr<FILE, int (*)(FILE*)> file(fdopen(fd, "r"), fclose);
  if (file == nullptr) {
    close(fd);
    return;
  }
  // Read in lines of at most kMaxSymbolNameBytes and a little more, and at
  // most kMaxJitMapBytes in all: the map may grow while it is read.
  std::vector<SymbolTable::Symbol> symbols;
  std::vector<char> buffer(kMaxSymbolNameBytes + 64);
  size_t total = 0;
  bool in_long_line = false;
  while (fgets(buffer.data(), static_cast<int>(buffer.size()), file.get())) {
    std::string line(buffer.data());
    total += line.size();
    if (total > kMaxJitMapBytes) {
      ++counters_->jit_maps_cut;
      break;
    }
    const bool whole = !line.empty() && line.back() == '\n';
    if (whole) line.pop_back();
    // The rest of a line already cut.
    if (in_long_line) {
      in_long_line = !whole;
      continue;
    }
    in_long_line = !whole && !feof(file.get());
    // START SIZE name, the first two in hex. An entry without a size
    // covers nothing.
    std::vector<absl::string_view> parts =
        absl::StrSplit(line, absl::MaxSplits(' ', 2));
    if (parts.size() < 3) continue;
    SymbolTable::Symbol symbol;
    if (!absl::SimpleHexAtoi(parts[0], &symbol.start) ||
        !absl::SimpleHexAtoi(parts[1], &symbol.size) || symbol.size == 0) {
      continue;
    }
    symbol.name = std::string(parts[2]);
    if (in_long_line || symbol.name.size() > kMaxSymbolNameBytes) {
      symbol.name.resize(std::min(symbol.name.size(), kMaxSymbolNameBytes));
      ++counters_->names_cut;
    }
    symbols.push_back(std::move(symbol));
  }
  jit_ = SymbolTable(std::move(symbols));
}

const SymbolTable::Symbol* ProcessImage::FindJit(uint64_t pc) {
  if (const SymbolTable::Symbol* symbol = jit_.Find(pc)) return symbol;
  if (absl::Now() - last_jit_load_ >= kReportInterval) {
    LoadJitMap();
    return jit_.Find(pc);
  }
  return nullptr;
}

SymbolizedFrame ProcessImage::Resolve(const UserPc& user_pc) {
  const uint64_t key = user_pc.pc << 1 | (user_pc.interrupted ? 1 : 0);
  if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  // A return address is just past its call: look up the call itself.
  const uint64_t pc = user_pc.interrupted ? user_pc.pc : user_pc.pc - 1;
  ScopedTgid scoped(tgid_);
  SymbolizedFrame frame;
  Dwfl_Module* mod =
      dwfl_ != nullptr ? dwfl_addrmodule(dwfl_.get(), pc) : nullptr;
  if (mod != nullptr) {
    Dwarf_Addr start = 0;
    const char* name = dwfl_module_info(mod, nullptr, &start, nullptr, nullptr,
                                        nullptr, nullptr, nullptr);
    frame.module = name != nullptr ? BaseName(name) : "[unknown]";
    Dwarf_Addr bias = 0;
    Elf* elf = dwfl_module_getelf(mod, &bias);
    frame.offset = pc - (elf != nullptr ? bias : start);
    frame.kind = name != nullptr && name == exe_path_ ? v1::MODULE_EXECUTABLE
                                                      : v1::MODULE_LIBRARY;
    if (elf != nullptr) {
      std::shared_ptr<const SymbolTable>& table =
          (*tables_)[FileKey(mod, name)];
      if (table == nullptr) table = ReadSymbols(mod, elf, bias, counters_);
      if (const SymbolTable::Symbol* symbol = table->Find(frame.offset)) {
        frame.function = Demangle(symbol->name.c_str());
        frame.function_offset = frame.offset - symbol->start;
      } else {
        // Unnamed: one frame per function, not per address.
        frame.offset = FdeStart(mod, bias, *table, frame.offset);
      }
    }
    Dwfl_Line* line = source_lines_ == SourceLines::kAll ||
                              frame.kind == v1::MODULE_EXECUTABLE
                          ? dwfl_module_getsrc(mod, pc)
                          : nullptr;
    if (line != nullptr) {
      int lineno = 0;
      const char* file =
          dwfl_lineinfo(line, nullptr, &lineno, nullptr, nullptr, nullptr);
      if (file != nullptr) {
        frame.file = file;
        frame.line = lineno > 0 ? lineno : 0;
      }
    }
  } else if (const SymbolTable::Symbol* jit = FindJit(pc); jit != nullptr) {
    frame.function = jit->name;
    frame.module = "[jit]";
    frame.kind = v1::MODULE_JIT;
    frame.offset = pc - jit->start;
    frame.function_offset = frame.offset;
  } else {
    frame.module = "[unknown]";
    frame.offset = pc;
  }
  cache_.emplace(key, frame);
  return frame;
}

KernelSymbols::KernelSymbols() {
  std::ifstream in("/proc/kallsyms");
  std::string line;
  while (std::getline(in, line)) {
    // ADDRESS TYPE NAME [MODULE]
    std::vector<absl::string_view> parts =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (parts.size() < 3 || parts[1].size() != 1) continue;
    const char type = parts[1][0] | 0x20;  // lower case
    if (type != 't' && type != 'w') continue;
    Symbol symbol;
    if (!absl::SimpleHexAtoi(parts[0], &symbol.address) ||
        symbol.address == 0) {
      continue;
    }
    symbol.name = std::string(parts[2]);
    if (parts.size() >= 4 && parts[3].size() > 2) {
      symbol.module = std::string(parts[3].substr(1, parts[3].size() - 2));
    } else {
      symbol.module = "[kernel.kallsyms]";
    }
    symbols_.push_back(std::move(symbol));
  }
  std::sort(
      symbols_.begin(), symbols_.end(),
      [](const Symbol& a, const Symbol& b) { return a.address < b.address; });
}

const KernelSymbols& KernelSymbols::Get() {
  static const KernelSymbols* symbols = new KernelSymbols();
  return *symbols;
}

SymbolizedFrame KernelSymbols::Resolve(uint64_t address) const {
  SymbolizedFrame frame;
  frame.kind = v1::MODULE_KERNEL;
  frame.module = "[kernel.kallsyms]";
  auto it = std::upper_bound(
      symbols_.begin(), symbols_.end(), address,
      [](uint64_t a, const Symbol& s) { return a < s.address; });
  if (it != symbols_.begin()) {
    --it;
    frame.function = it->name;
    frame.module = it->module;
  }
  return frame;
}

}  // namespace tracectl
