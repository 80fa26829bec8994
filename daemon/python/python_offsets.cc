#include "daemon/python/python_offsets.h"

#include <utility>

#include "absl/strings/str_format.h"

namespace tracectl::python {
namespace {

// CPython 3.11 (checked on Debian 12's 3.11.2 by reading a live
// interpreter's memory: each pointer matched the object it names).
// Sources: Include/internal/pycore_runtime.h, pycore_interp.h,
// pycore_frame.h, Include/cpython/pystate.h, code.h, unicodeobject.h.
constexpr PythonOffsets kPython311 = {
    .runtime_interpreters_head = 40,
    .runtime_tstate_current = 576,
    .runtime_auto_tss_key = 592,
    .interp_next = 0,
    .interp_threads_head = 16,
    .tstate_next = 8,
    .tstate_interp = 16,
    .tstate_cframe = 56,
    .tstate_thread_id = 152,
    .tstate_native_thread_id = 160,
    .cframe_current_frame = 8,
    .frame_code = 32,
    .frame_previous = 48,
    .frame_prev_instr = 56,
    .frame_is_entry = 68,
    .frame_owner = 69,
    .code_filename = 112,
    .code_name = 120,
    .code_qualname = 128,
    .code_firstlineno = 72,
    .code_linetable = 136,
    .code_first_traceable = 168,
    .code_adaptive = 184,
    .unicode_length = 16,
    .unicode_state = 32,
    .unicode_ascii_data = 48,    // sizeof(PyASCIIObject)
    .unicode_compact_data = 72,  // sizeof(PyCompactUnicodeObject)
    .bytes_size = 16,
    .bytes_data = 32,
};

// Add 3.8-3.13 here, each checked against its headers and a live process.
// The frame walk in python_stack.cc also follows 3.11's frame model
// (_PyInterpreterFrame chains); 3.12+ needs its shim frames skipped too.
constexpr std::pair<std::pair<int, int>, const PythonOffsets*> kTable[] = {
    {{3, 11}, &kPython311},
};

}  // namespace

absl::StatusOr<PythonOffsets> OffsetsFor(const PythonVersion& version) {
  for (const auto& [key, offsets] : kTable) {
    if (key.first == version.major && key.second == version.minor) {
      return *offsets;
    }
  }
  return absl::FailedPreconditionError(
      absl::StrFormat("python %d.%d: no offsets; native frames only",
                      version.major, version.minor));
}

}  // namespace tracectl::python
