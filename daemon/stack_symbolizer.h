// One session's user stacks as named frames, leaf first: each address space
// (process, mm) gets its ProcessImage (DWARF CFI unwinding, symbols) and,
// when it runs CPython, its PythonProcess, whose frames (read by the kernel
// when the stack was copied) take the place of the eval loop's native
// frames. Used by the profile aggregator (flame, top) and by trace -k.
//
// Everything here opens the files and reads the memory of the processes
// named: run it as the caller (daemon/thread_credentials.h).
#ifndef TRACECTL_DAEMON_STACK_SYMBOLIZER_H_
#define TRACECTL_DAEMON_STACK_SYMBOLIZER_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "daemon/python/python_stack.h"
#include "daemon/symbolizer.h"
#include "tracectl/v1/tracectl.pb.h"

struct profile_sample;
struct python_proc;

namespace tracectl {

class StackSymbolizer {
 public:
  // Called with each CPython process found, so that the kernel side reads
  // its Python frames from then on. nullptr: no Python frames.
  using WatchPython =
      std::function<absl::Status(uint32_t tgid, const python_proc& config)>;

  explicit StackSymbolizer(WatchPython watch_python = nullptr,
                           SourceLines source_lines = SourceLines::kAll)
      : watch_python_(std::move(watch_python)), source_lines_(source_lines) {}

  // A new address space `mm_id` of process `tgid`: looks for an
  // interpreter in it and reads its maps now, before its first stack comes.
  void Prepare(pid_t tgid, uint64_t mm_id);
  // Code was mapped in it: copies its maps now, while the process lives.
  void MapsChanged(pid_t tgid, uint64_t mm_id);

  // The user frames of `sample` (SAMPLE_USER_REGS set), leaf first: at
  // most `max_frames` native frames, with the Python frames merged in (one
  // eval-loop frame may give way to several). At least the interrupted pc.
  std::vector<SymbolizedFrame> Symbolize(const profile_sample& sample,
                                         size_t max_frames);

  // Forgets the address spaces not used since `before` (processes that
  // exited or exec'd, most of them): a long session's memory follows what
  // runs, not what ran. One seen again is read anew.
  void Prune(absl::Time before);

  // Counters of damaged stacks, for the session's drops.
  std::vector<v1::DropCounter> Drops() const;

 private:
  struct Entry {
    // Read at Prepare, or at the first stack; never null.
    std::unique_ptr<ProcessImage> image;
    // Its interpreter, when it runs CPython and the kernel side reads its
    // frames.
    std::unique_ptr<python::PythonProcess> python;
    // Looked for when new, and again a few times while the address space is
    // young: its first sample may come in the middle of the exec that made
    // it, before the interpreter is mapped.
    int python_looks = 0;
    absl::Time created;
    absl::Time python_looked_at;
    absl::Time last_used;
  };

  // The address space's entry, its image and interpreter read when new.
  Entry& Find(pid_t tgid, uint64_t mm_id);
  // Looks for an interpreter in an address space.
  void FindPython(pid_t tgid, uint64_t mm_id, Entry* entry);
  // The sample's Python frames, named; counts what could not be read.
  std::vector<python::PythonFrame> PythonFrames(const profile_sample& sample,
                                                python::PythonProcess* python);

  const WatchPython watch_python_;
  const SourceLines source_lines_;
  absl::flat_hash_map<std::pair<pid_t, uint64_t>, Entry> entries_;
  SymbolTables symbol_tables_;
  SymbolizerCounters symbolizer_counters_;
  uint64_t partial_user_stacks_ = 0;
  struct PythonCounts {
    uint64_t processes = 0;  // interpreters whose frames are read
    uint64_t no_thread = 0;
    uint64_t truncated = 0;
    uint64_t bad_pointer = 0;
    uint64_t unnamed = 0;
    uint64_t unmatched = 0;
    uint64_t not_watched = 0;  // the kernel side's map is full
    // "python 3.12: no offsets; native frames only", per process.
    std::map<std::string, uint64_t> unsupported;
  } python_;
  std::vector<UserPc> pcs_;  // scratch
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_STACK_SYMBOLIZER_H_
