// A profile as the renderers see it: frames named for display, each stack a
// path from the process down to the sampled leaf.
#ifndef TRACECTL_CLIENT_PROFILE_VIEW_H_
#define TRACECTL_CLIENT_PROFILE_VIEW_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "tracectl/v1/tracectl.pb.h"

namespace tracectl {

// How a frame is coloured and grouped: the daemon's module kinds plus the
// process node every stack starts at, and above it the host's when several
// hosts answered.
enum class FrameKind {
  kHost,
  kProcess,
  kKernel,
  kExecutable,
  kLibrary,
  kJit,
  kPython,
  kUnknown
};

// "kernel", "executable", "library", "jit", "python", "unknown",
// "process" or "host".
const char* FrameKindName(FrameKind kind);

struct ViewFrame {
  // The function ("hot_a", "std::vector<int>::push_back"), a process's comm,
  // or "[libfoo.so+0x1a2b]" for a frame the daemon could not resolve. A
  // Python function with its file and line, as py-spy names it:
  // "spin (/tmp/app.py:4)".
  std::string name;
  // For Python frames, the function alone, for formats that carry file and
  // line apart (pprof, speedscope); empty for the others: see FunctionName.
  std::string function;
  // "libc.so.6", "[kernel.kallsyms]", ... ; empty for a process frame.
  std::string module;
  FrameKind kind = FrameKind::kUnknown;
  bool resolved = true;
  // "file.c:12" when known, else empty.
  std::string source;
};

// `name` with its control characters (C0, DEL, and C1 as UTF-8) made '?':
// names come from files, comms and memory that users control, and none of
// those characters may reach a terminal or a file.
std::string Printable(absl::string_view name);

// How the daemon's frame shows: its strings Printable, an unresolved
// frame named "[module+0xoffset]", a Python frame "function (file:line)".
ViewFrame ToViewFrame(const v1::Frame& frame);

// The frame's function without its Python " (file:line)".
inline const std::string& FunctionName(const ViewFrame& frame) {
  return frame.function.empty() ? frame.name : frame.function;
}

// "file.c:12" -> {"file.c", 12}; "file.c" -> {"file.c", 0}.
std::pair<std::string, int64_t> SplitSource(const std::string& source);

struct ViewStack {
  // Indices into ProfileView::frames, root first: frames[0] is the process,
  // or the host (then frames[1] is the process) when several answered.
  std::vector<uint32_t> frames;
  uint64_t samples = 0;
  int32_t pid = 0;
  std::string host;  // with several hosts
};

// The process frame of `stack`: its first frame, or its second below a
// host frame.
uint32_t ProcessFrame(const struct ProfileView& view, const ViewStack& stack);

struct ProfileView {
  std::vector<ViewFrame> frames;  // Unique by (name, module, kind).
  std::vector<ViewStack> stacks;
  uint64_t total_samples = 0;
  uint32_t frequency_hz = 0;
  double elapsed_seconds = 0;
};

// Builds the view of `data`. Frames with the same name and module are merged
// (the daemon may send one per address); a process frame named after the
// stack's comm is put at the root of each stack. Empty stacks keep just the
// process frame.
ProfileView BuildProfileView(const v1::ProfileData& data);

// Several hosts' profiles in one view, each stack under a frame naming its
// host (kHost). The rate is the first's; the time the longest.
struct HostProfile {
  std::string host;
  const v1::ProfileData* data = nullptr;
};
ProfileView BuildProfileView(const std::vector<HostProfile>& profiles);

// FlameGraph's folded format: one line per distinct stack, root first,
// frames joined by ';', a space and the sample count. ';' and newlines
// inside names are replaced so that every line parses back.
std::string RenderFolded(const ProfileView& view);

}  // namespace tracectl

#endif  // TRACECTL_CLIENT_PROFILE_VIEW_H_
