// Struct offsets of one CPython release, for reading its threads and frames
// from another process's memory. One entry per major.minor in a single table
// (python_offsets.cc); a release without an entry gets a status, never a
// guess: wrong offsets would name the wrong functions.
#ifndef TRACECTL_DAEMON_PYTHON_PYTHON_OFFSETS_H_
#define TRACECTL_DAEMON_PYTHON_PYTHON_OFFSETS_H_

#include <cstdint>

#include "absl/status/statusor.h"

namespace tracectl::python {

struct PythonVersion {
  int major = 0;
  int minor = 0;
  int micro = -1;  // -1 when only major.minor is known (from a file name)
};

// Offsets in bytes from the start of each struct, x86_64.
struct PythonOffsets {
  // _PyRuntimeState
  uint32_t runtime_interpreters_head;  // interpreters.head
  uint32_t runtime_tstate_current;     // gilstate.tstate_current: GIL holder
  uint32_t runtime_auto_tss_key;       // gilstate.autoTSSkey (Py_tss_t)
  // PyInterpreterState
  uint32_t interp_next;
  uint32_t interp_threads_head;  // threads.head
  // PyThreadState
  uint32_t tstate_next;
  uint32_t tstate_interp;
  uint32_t tstate_cframe;            // _PyCFrame*
  uint32_t tstate_thread_id;         // pthread_t
  uint32_t tstate_native_thread_id;  // kernel tid; 0 = absent
  // _PyCFrame
  uint32_t cframe_current_frame;
  // _PyInterpreterFrame
  uint32_t frame_code;  // f_code
  uint32_t frame_previous;
  uint32_t frame_prev_instr;  // last instruction started
  uint32_t frame_is_entry;    // bool: C called the eval loop here
  uint32_t frame_owner;       // char: thread, generator, frame obj
  // PyCodeObject
  uint32_t code_filename;
  uint32_t code_name;
  uint32_t code_qualname;
  uint32_t code_firstlineno;      // int
  uint32_t code_linetable;        // bytes
  uint32_t code_first_traceable;  // int, in code units
  uint32_t code_adaptive;         // first instruction (inline array)
  // str (PEP 393 compact objects)
  uint32_t unicode_length;        // Py_ssize_t, in code points
  uint32_t unicode_state;         // bit field: kind, compact, ascii
  uint32_t unicode_ascii_data;    // compact ASCII: data after header
  uint32_t unicode_compact_data;  // compact non-ASCII: after header
  // bytes
  uint32_t bytes_size;  // ob_size
  uint32_t bytes_data;  // ob_sval
};

// The offsets for `version`, or FAILED_PRECONDITION
// "python 3.X: no offsets; native frames only".
absl::StatusOr<PythonOffsets> OffsetsFor(const PythonVersion& version);

}  // namespace tracectl::python

#endif  // TRACECTL_DAEMON_PYTHON_PYTHON_OFFSETS_H_
