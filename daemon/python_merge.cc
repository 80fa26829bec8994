#include "daemon/python_merge.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace tracectl {

bool IsEvalLoopFrame(const SymbolizedFrame& frame) {
  constexpr absl::string_view kEvalLoop = "_PyEval_EvalFrameDefault";
  return frame.function == kEvalLoop ||
         absl::StartsWith(frame.function, absl::StrCat(kEvalLoop, "."));
}

SymbolizedFrame ToSymbolizedFrame(const python::PythonFrame& frame) {
  SymbolizedFrame out;
  out.function = frame.function;
  out.module = frame.file;
  out.kind = v1::MODULE_PYTHON;
  out.file = frame.file;
  out.line = frame.line > 0 ? static_cast<uint32_t>(frame.line) : 0;
  return out;
}

python_proc PythonProcConfig(uint64_t mm_id, const python::PythonBinary& binary,
                             const python::PythonOffsets& offsets) {
  python_proc config = {};
  config.mm = mm_id;
  config.runtime = binary.runtime_address;
  config.runtime_interpreters_head = offsets.runtime_interpreters_head;
  config.interp_next = offsets.interp_next;
  config.interp_threads_head = offsets.interp_threads_head;
  config.tstate_next = offsets.tstate_next;
  config.tstate_native_thread_id = offsets.tstate_native_thread_id;
  config.tstate_cframe = offsets.tstate_cframe;
  config.cframe_current_frame = offsets.cframe_current_frame;
  config.frame_code = offsets.frame_code;
  config.frame_previous = offsets.frame_previous;
  config.frame_prev_instr = offsets.frame_prev_instr;
  config.frame_is_entry = offsets.frame_is_entry;
  config.frame_owner = offsets.frame_owner;
  config.code_qualname = offsets.code_qualname;
  return config;
}

MergeResult MergePythonFrames(const std::vector<SymbolizedFrame>& native,
                              const std::vector<python::PythonFrame>& python) {
  // The Python frames of each native eval call, innermost call first.
  std::vector<std::vector<SymbolizedFrame>> calls(1);
  for (const python::PythonFrame& frame : python) {
    if (!frame.incomplete) calls.back().push_back(ToSymbolizedFrame(frame));
    if (frame.is_entry) calls.emplace_back();
  }
  // The outermost call's frames end at an entry frame when the chain was
  // read whole; what follows the last entry is a call cut short.
  if (calls.back().empty()) calls.pop_back();

  MergeResult result;
  size_t call = 0;
  for (const SymbolizedFrame& frame : native) {
    if (call < calls.size() && IsEvalLoopFrame(frame)) {
      // A call whose only frame is still being set up keeps its native
      // frame.
      if (calls[call].empty()) result.frames.push_back(frame);
      for (const SymbolizedFrame& p : calls[call]) result.frames.push_back(p);
      ++call;
    } else {
      result.frames.push_back(frame);
    }
  }
  for (; call < calls.size(); ++call) {
    result.unmatched_python = true;
    for (const SymbolizedFrame& p : calls[call]) result.frames.push_back(p);
  }
  return result;
}

}  // namespace tracectl
