// Recognizes a CPython interpreter in a process: the mapped executable or
// libpython3.X.so that defines _PyRuntime, its load bias and its version.
// The loader part of a runtime unwinder (the OpenTelemetry eBPF profiler's
// interpreter/<runtime>/ shape): per-executable facts, no frame reading.
#ifndef TRACECTL_DAEMON_PYTHON_PYTHON_LOADER_H_
#define TRACECTL_DAEMON_PYTHON_PYTHON_LOADER_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "daemon/python/process_memory.h"
#include "daemon/python/python_offsets.h"

namespace tracectl::python {

struct PythonBinary {
  std::string path;              // as /proc/PID/maps names it
  uint64_t load_bias = 0;        // runtime address - ELF address
  uint64_t runtime_address = 0;  // _PyRuntime in the target
  PythonVersion version;
};

// "python3.11", "libpython3.11.so.1.0", "libpython3.11d.so" -> 3.11;
// nullopt for anything else ("python3" alone says too little).
std::optional<PythonVersion> VersionFromFileName(std::string_view path);

// Finds the interpreter of `pid`, reading /proc/PID/maps and the binary
// (through /proc/PID/root, as the calling thread) and Py_Version through
// `memory` when the binary exports it. NOT_FOUND "pid N: not a Python
// process" when no mapped python binary defines _PyRuntime. Only files whose
// names start with "python" or "libpython" are read: an interpreter built
// into a binary of another name is not found.
absl::StatusOr<PythonBinary> FindPythonBinary(pid_t pid, MemoryReader& memory);

}  // namespace tracectl::python

#endif  // TRACECTL_DAEMON_PYTHON_PYTHON_LOADER_H_
