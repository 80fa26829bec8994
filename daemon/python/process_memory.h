// Reads another process's memory through /proc/PID/mem, for the runtime
// unwinders. The file is opened by the calling thread, so the kernel's
// ptrace access check applies to that thread's credentials: in the daemon a
// session thread lowered to the caller's fsuid/fsgid with no capability but
// CAP_BPF (daemon/thread_credentials.h) reads only processes the caller
// could ptrace. Every read is bounded; the target controls every address
// and length it hands us, so callers treat any failure as "this chain ends".
#ifndef TRACECTL_DAEMON_PYTHON_PROCESS_MEMORY_H_
#define TRACECTL_DAEMON_PYTHON_PROCESS_MEMORY_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tracectl::python {

// The largest single read a reader accepts.
inline constexpr size_t kMaxReadBytes = 64 * 1024;

// What the frame walker reads through: a real process, or a fake in tests.
class MemoryReader {
 public:
  virtual ~MemoryReader() = default;
  // Exactly `size` bytes at `address`, or an error (a short read is an
  // error). INVALID_ARGUMENT above kMaxReadBytes.
  virtual absl::Status Read(uint64_t address, void* out, size_t size) = 0;

  absl::StatusOr<uint64_t> ReadPointer(uint64_t address);
  absl::StatusOr<int32_t> ReadInt32(uint64_t address);
  absl::StatusOr<uint32_t> ReadUint32(uint64_t address);
  absl::StatusOr<uint8_t> ReadUint8(uint64_t address);
  absl::StatusOr<int64_t> ReadInt64(uint64_t address);
};

class ProcessMemory : public MemoryReader {
 public:
  // Opens /proc/PID/mem read-only as the calling thread. NOT_FOUND if the
  // process is gone, PERMISSION_DENIED if the thread may not ptrace it.
  static absl::StatusOr<ProcessMemory> Open(pid_t pid);

  ProcessMemory(ProcessMemory&& other) noexcept;
  ProcessMemory& operator=(ProcessMemory&& other) noexcept;
  ProcessMemory(const ProcessMemory&) = delete;
  ProcessMemory& operator=(const ProcessMemory&) = delete;
  ~ProcessMemory() override;

  // pread of the target's memory. UNAVAILABLE when the page is unmapped or
  // the process has exited (its address space is gone).
  absl::Status Read(uint64_t address, void* out, size_t size) override;

  pid_t pid() const { return pid_; }

 private:
  ProcessMemory(pid_t pid, int fd) : pid_(pid), fd_(fd) {}
  pid_t pid_ = 0;
  int fd_ = -1;
};

}  // namespace tracectl::python

#endif  // TRACECTL_DAEMON_PYTHON_PROCESS_MEMORY_H_
