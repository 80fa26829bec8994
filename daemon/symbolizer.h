// Turns sampled stacks into named frames: DWARF CFI unwinding of copied user
// stacks with libdw, symbol lookup in each process's modules (.symtab,
// .dynsym, debuglink and build-id files under /usr/lib/debug, MiniDebugInfo),
// JIT maps (/tmp/perf-PID.map) and kernel symbols (/proc/kallsyms).
//
// A process's modules are read from /proc/PID/maps at its first sample and
// kept after it exits, so that its last samples are still named. A copy of
// the maps taken when they change (SnapshotMaps) names the samples of a
// process that exited before its modules were read again.
#ifndef TRACECTL_DAEMON_SYMBOLIZER_H_
#define TRACECTL_DAEMON_SYMBOLIZER_H_

#include <sys/types.h>
#include <time.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "tracectl/v1/tracectl.pb.h"

struct profile_sample;
struct Dwfl;

namespace tracectl {

struct SymbolizedFrame {
  std::string function;  // empty: unresolved
  std::string module;
  v1::ModuleKind kind = v1::MODULE_UNKNOWN;
  uint64_t offset = 0;
  // The address's offset in `function`, when resolved.
  uint64_t function_offset = 0;
  std::string file;
  uint32_t line = 0;
};

// An address in the user code of a process: where it returns to (call
// sites, looked up at pc - 1) or where it was interrupted (pc itself).
struct UserPc {
  uint64_t pc = 0;
  bool interrupted = false;
};

// /proc/kallsyms, loaded once.
class KernelSymbols {
 public:
  static const KernelSymbols& Get();
  SymbolizedFrame Resolve(uint64_t address) const;
  size_t size() const { return symbols_.size(); }

 private:
  KernelSymbols();
  struct Symbol {
    uint64_t address;
    std::string name;
    std::string module;  // "[kernel.kallsyms]" or the module's name
  };
  std::vector<Symbol> symbols_;  // by address
};

// The function symbols of one ELF file (and its debug file or
// MiniDebugInfo), by file address, looked up by binary search: libdwfl's own
// lookup walks every symbol. Also where the file's .eh_frame FDEs start:
// the functions that no symbol names (a stripped file keeps its unwind
// tables).
class SymbolTable {
 public:
  struct Symbol {
    uint64_t start;  // file address
    uint64_t size;
    std::string name;  // as in the file, without a symbol version
  };
  explicit SymbolTable(std::vector<Symbol> symbols = {},
                       std::vector<uint64_t> fde_starts = {});
  // The function holding `address` (a file address), or nullptr.
  const Symbol* Find(uint64_t address) const;
  // The start of the last FDE that starts at or below `address` (a file
  // address), if any: whether that FDE reaches `address` is for the CFI to
  // say.
  std::optional<uint64_t> LastFdeStart(uint64_t address) const;

 private:
  std::vector<Symbol> symbols_;       // by start
  std::vector<uint64_t> fde_starts_;  // sorted
};

// Symbol tables by file (build-id, else path), shared by the processes of
// one session: a program run a thousand times is read once.
using SymbolTables =
    absl::flat_hash_map<std::string, std::shared_ptr<const SymbolTable>>;

// What the symbolizer's bounds cut, for a session's drop counters. Every
// input it reads is the sampled process's to shape: names, JIT maps and
// compressed symbol tables are bounded.
struct SymbolizerCounters {
  uint64_t names_cut = 0;          // longer than kMaxSymbolNameBytes
  uint64_t jit_maps_cut = 0;       // reads of a JIT map stopped at the cap
  uint64_t debugdata_skipped = 0;  // MiniDebugInfo too large or unreadable
};

// A symbol name's bytes at most; longer ones are cut.
inline constexpr size_t kMaxSymbolNameBytes = 4096;
// A JIT map's bytes read at most, each time it is read.
inline constexpr size_t kMaxJitMapBytes = 64 << 20;
// MiniDebugInfo (.gnu_debugdata) decompressed at most.
inline constexpr uint64_t kMaxDebugDataBytes = 64 << 20;

// Which frames get their source position from debug info. A library's
// line table can take tens of milliseconds to load, in every process.
enum class SourceLines { kAll, kExecutableOnly };

// One process's address space, as the daemon saw it.
class ProcessImage {
 public:
  // `tables` and `counters` (may be null) outlive the image. Copies the
  // maps; the modules are read from them (or from the maps as they are
  // then) at the first Unwind.
  ProcessImage(pid_t tgid, SymbolTables* tables,
               SourceLines source_lines = SourceLines::kAll,
               SymbolizerCounters* counters = nullptr);
  ~ProcessImage();
  ProcessImage(const ProcessImage&) = delete;
  ProcessImage& operator=(const ProcessImage&) = delete;

  // Unwinds the sample's copied user stack with DWARF CFI, leaf first, at
  // most `max_frames`. Returns false when unwinding stopped early (an
  // address outside every module, or CFI that reads beyond the copy).
  bool Unwind(const profile_sample& sample, size_t max_frames,
              std::vector<UserPc>* pcs);
  SymbolizedFrame Resolve(const UserPc& pc);

  // The process's mappings changed (an exec, a library mapped): copies its
  // maps now, while it lives, and reads its modules from them before the
  // next unwinding (from the maps as they are then, if it still lives).
  void SnapshotMaps();

 private:
  // Reads /proc/PID/maps into maps_ (and /proc/PID/exe); false when the
  // process is gone, a zombie, or not the caller's.
  bool ReadMaps();
  // (Re)reads the modules from /proc/PID/maps, or from the copy of them
  // taken since the last time when the process is gone; false when it is
  // gone and no new copy was taken (the modules stay as they were).
  bool Report();
  // Reads the process's modules again if it lives and was not re-read in
  // the last little while: for code mapped since (dlopen, exec).
  bool MaybeReport();
  void LoadJitMap();
  // The JIT map's symbol holding `pc` (absolute addresses), reading the
  // map again if it may have grown.
  const SymbolTable::Symbol* FindJit(uint64_t pc);

  const pid_t tgid_;
  SymbolTables* const tables_;
  const SourceLines source_lines_;
  SymbolizerCounters* const counters_;
  SymbolizerCounters own_counters_;  // when the caller keeps none
  std::string exe_path_;             // what /proc/PID/exe pointed to
  std::string maps_;                 // /proc/PID/maps as last read
  // maps_ was copied after the modules were reported.
  bool maps_newer_ = false;
  struct DwflDeleter {
    void operator()(::Dwfl* dwfl) const;
  };
  std::unique_ptr<::Dwfl, DwflDeleter> dwfl_;
  bool attached_ = false;
  absl::Time last_report_ = absl::InfinitePast();
  int reports_ = 0;
  SymbolTable jit_;  // from /tmp/perf-PID.map
  absl::Time last_jit_load_ = absl::InfinitePast();
  // The map as last read: read again only when it changed.
  int64_t jit_map_size_ = -1;
  struct timespec jit_map_mtime_ = {};
  absl::flat_hash_map<uint64_t, SymbolizedFrame> cache_;
  // The sample being unwound, for the libdw callbacks.
  const profile_sample* sample_ = nullptr;

  friend struct UnwindCallbacks;
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_SYMBOLIZER_H_
