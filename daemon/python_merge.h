// Python frames in native stacks: where a stack passes through CPython's
// eval loop, the Python functions it was running take the place of the
// loop's native frame, as py-spy shows them.
#ifndef TRACECTL_DAEMON_PYTHON_MERGE_H_
#define TRACECTL_DAEMON_PYTHON_MERGE_H_

#include <cstdint>
#include <vector>

#include "daemon/python/python_stack.h"
#include "daemon/symbolizer.h"
#include "python_frames.h"  // bpf/

namespace tracectl {

// A frame of CPython's eval loop: _PyEval_EvalFrameDefault or a part of it
// the compiler split off (".cold").
bool IsEvalLoopFrame(const SymbolizedFrame& frame);

// A Python frame as a profile frame: function, file and line, kind
// MODULE_PYTHON, the file as its module.
SymbolizedFrame ToSymbolizedFrame(const python::PythonFrame& frame);

// What the BPF programs need to read the Python frames of a process whose
// samples name address space `mm_id`.
python_proc PythonProcConfig(uint64_t mm_id, const python::PythonBinary& binary,
                             const python::PythonOffsets& offsets);

struct MergeResult {
  std::vector<SymbolizedFrame> frames;  // leaf first
  // Python frames of eval-loop calls that have no native frame in the
  // unwound stack (it was cut short): put at the root end.
  bool unmatched_python = false;
};

// Replaces the eval-loop frames of `native` (leaf first) with `python`
// (innermost first, as read: each frame with is_entry ends one native eval
// call's frames; incomplete frames end calls but are not shown). The n-th
// eval-loop frame from the leaf gets the n-th call's frames. Eval frames
// beyond the Python calls stay native; Python calls beyond the eval frames
// go at the root end, with unmatched_python set.
MergeResult MergePythonFrames(const std::vector<SymbolizedFrame>& native,
                              const std::vector<python::PythonFrame>& python);

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_PYTHON_MERGE_H_
