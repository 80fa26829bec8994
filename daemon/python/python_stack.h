// Python stacks of a live CPython process, read from its memory: every
// thread's frames, innermost first, with function, file and line. The
// per-process state of the Python unwinder (python_loader finds the
// interpreter, python_offsets says where its fields are).
//
// Names and files are the target's bytes: compact ASCII strings come back
// as they are (control characters included), other strings re-encoded as
// UTF-8, so every string is valid UTF-8 but not clean. The client and the
// renderers escape them before a terminal or a file sees them.
//
// Use: Attach once per process (as the session's lowered thread), then
// ReadThreads for a live dump (`tracectl stack`), or DescribeCode for the
// code addresses a sampler recorded (flame). Not thread-safe: one reader.
#ifndef TRACECTL_DAEMON_PYTHON_PYTHON_STACK_H_
#define TRACECTL_DAEMON_PYTHON_PYTHON_STACK_H_

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/python/process_memory.h"
#include "daemon/python/python_loader.h"
#include "daemon/python/python_offsets.h"

namespace tracectl::python {

inline constexpr size_t kMaxStringBytes = 1024;  // names, files
inline constexpr size_t kMaxLineTableBytes = 64 * 1024;
inline constexpr int kMaxFramesPerThread = 128;
inline constexpr int kMaxThreads = 256;
inline constexpr int kMaxInterpreters = 16;
inline constexpr size_t kMaxCachedCodeObjects = 4096;

struct PythonFrame {
  std::string function;       // co_qualname ("Class.method", "<module>")
  std::string file;           // co_filename ("<string>" for -c)
  int line = -1;              // current line; -1 when the table has none
  int first_line = 0;         // co_firstlineno (the def line)
  uint64_t code_address = 0;  // the PyCodeObject: a key for caches
  // C called the eval loop for this frame: the outermost frame of one
  // native _PyEval_EvalFrameDefault call.
  bool is_entry = false;
  // Still being set up (its prologue not run): Python does not show it
  // yet, and neither do we, but it still ends its native call's frames.
  bool incomplete = false;
};

struct PythonThread {
  uint64_t thread_id = 0;      // pthread_t (threading.get_ident())
  pid_t native_thread_id = 0;  // kernel tid; 0 when the version lacks it
  bool holds_gil = false;
  // Innermost first, incomplete ones included (callers that show them
  // skip those).
  std::vector<PythonFrame> frames;
  // The chain ended before its start: a bad pointer, a cycle, the frame
  // limit or the deadline. The frames read so far are kept.
  bool truncated = false;
};

// What one code object says, cached by address per process.
struct CodeInfo {
  std::string function;
  std::string file;
  int first_line = 0;
  std::string line_table;  // co_linetable's bytes
};

// Counters of what ended early, for the session's statistics.
struct ReadCounters {
  uint64_t bad_threads = 0;  // thread list ended at a bad pointer/cycle
  uint64_t truncated_stacks = 0;
  uint64_t bad_code_objects = 0;
  uint64_t deadline_hits = 0;
  uint64_t code_cache_hits = 0;
  uint64_t code_cache_misses = 0;
};

class PythonProcess {
 public:
  // Finds the interpreter of `pid` and opens its memory as the calling
  // thread. NOT_FOUND: no such process, or not Python. PERMISSION_DENIED:
  // the thread may not ptrace it. FAILED_PRECONDITION: a Python without
  // offsets ("python 3.X: no offsets; native frames only").
  static absl::StatusOr<PythonProcess> Attach(pid_t pid);

  // For tests: any memory, any runtime address.
  static PythonProcess ForMemory(std::unique_ptr<MemoryReader> memory,
                                 const PythonBinary& binary,
                                 const PythonOffsets& offsets);

  // Every thread of every interpreter, newest thread first (CPython's
  // order), at most kMaxThreads, within `time_limit`. An error only when
  // nothing could be read (the process exited, the runtime is unreadable);
  // a bad chain ends that thread's stack and counts.
  absl::StatusOr<std::vector<PythonThread>> ReadThreads(
      absl::Duration time_limit = absl::Seconds(1));

  // The frame of a code object running the instruction at
  // `instruction_address` (a frame's prev_instr), through the code cache.
  absl::StatusOr<PythonFrame> DescribeFrame(uint64_t code_address,
                                            uint64_t instruction_address);
  // A frame a BPF program recorded (bpf/python_frames.h), with the code
  // object's co_qualname pointer as it was then. NOT_FOUND when the code
  // object is no longer that one (freed since, its memory reused).
  absl::StatusOr<PythonFrame> DescribeSampledFrame(uint64_t code_address,
                                                   uint64_t instruction_address,
                                                   bool is_entry, uint8_t owner,
                                                   uint64_t qualname);

  const PythonBinary& binary() const { return binary_; }
  const PythonOffsets& offsets() const { return offsets_; }
  const ReadCounters& counters() const { return counters_; }
  size_t cached_code_objects() const { return code_cache_.size(); }

 private:
  PythonProcess(std::unique_ptr<MemoryReader> memory, PythonBinary binary,
                PythonOffsets offsets)
      : memory_(std::move(memory)),
        binary_(std::move(binary)),
        offsets_(offsets) {}

  struct CachedCode {
    // The header's pointers and first line when cached: a code object
    // freed and another allocated at the same address differs in them.
    std::array<uint64_t, 5> identity = {};
    int first_traceable = 0;  // as last read
    CodeInfo info;
  };

  absl::StatusOr<std::string> ReadString(uint64_t address);
  absl::StatusOr<std::string> ReadBytes(uint64_t address, size_t limit);
  // The code object at `address`, from the cache when its header still
  // matches; `first_traceable` is read every time (not cached).
  absl::StatusOr<const CodeInfo*> Code(uint64_t address, int* first_traceable,
                                       uint64_t* qualname = nullptr);
  void ReadFrames(uint64_t frame, absl::Time deadline, PythonThread* thread);
  bool Incomplete(uint64_t code_address, int first_traceable,
                  uint64_t prev_instr, uint8_t owner) const;

  std::unique_ptr<MemoryReader> memory_;
  PythonBinary binary_;
  PythonOffsets offsets_;
  std::unordered_map<uint64_t, CachedCode> code_cache_;
  ReadCounters counters_;
};

}  // namespace tracectl::python

#endif  // TRACECTL_DAEMON_PYTHON_PYTHON_STACK_H_
