#include "client/profile_view.h"

#include <limits>
#include <map>
#include <tuple>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/escape.h"

namespace tracectl {
namespace {

FrameKind KindOf(v1::ModuleKind kind) {
  switch (kind) {
    case v1::MODULE_KERNEL:
      return FrameKind::kKernel;
    case v1::MODULE_EXECUTABLE:
      return FrameKind::kExecutable;
    case v1::MODULE_LIBRARY:
      return FrameKind::kLibrary;
    case v1::MODULE_JIT:
      return FrameKind::kJit;
    case v1::MODULE_PYTHON:
      return FrameKind::kPython;
    default:
      return FrameKind::kUnknown;
  }
}

// Folded lines are split on ';' and on the last space; names keep spaces
// (C++ signatures have them) but not ';' (line breaks are gone already).
std::string FoldedName(const std::string& name) {
  std::string out = name;
  for (char& c : out) {
    if (c == ';') c = ':';
  }
  return out;
}

}  // namespace

// Names come from files and comms that users control: no control
// character reaches a terminal or a file (common/escape.h).
std::string Printable(absl::string_view name) {
  return EscapedText(std::string_view(name.data(), name.size()));
}

ViewFrame ToViewFrame(const v1::Frame& frame) {
  ViewFrame out;
  out.module = frame.module().empty() ? "[unknown]" : Printable(frame.module());
  out.kind = KindOf(frame.kind());
  if (frame.function().empty()) {
    out.resolved = false;
    // "[libfoo.so+0x1a2b]", and "[unknown+0x7f..]" rather than "[[unknown]+..".
    absl::string_view module = out.module;
    if (module.size() > 2 && module.front() == '[' && module.back() == ']') {
      module = module.substr(1, module.size() - 2);
    }
    out.name = absl::StrFormat("[%s+0x%x]", module, frame.offset());
  } else {
    out.name = Printable(frame.function());
  }
  if (!frame.file().empty()) {
    out.source = frame.line() > 0
                     ? absl::StrCat(Printable(frame.file()), ":", frame.line())
                     : Printable(frame.file());
  }
  if (out.kind == FrameKind::kPython && !out.source.empty()) {
    out.function = out.name;
    absl::StrAppend(&out.name, " (", out.source, ")");
  }
  return out;
}

std::pair<std::string, int64_t> SplitSource(const std::string& source) {
  size_t colon = source.rfind(':');
  if (colon == std::string::npos || colon + 1 == source.size()) {
    return {source, 0};
  }
  absl::string_view digits = absl::string_view(source).substr(colon + 1);
  int64_t line = 0;
  for (char c : digits) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c)) ||
        line > std::numeric_limits<int64_t>::max() / 10 - 9) {
      return {source, 0};
    }
    line = line * 10 + (c - '0');
  }
  return {source.substr(0, colon), line};
}

const char* FrameKindName(FrameKind kind) {
  switch (kind) {
    case FrameKind::kHost:
      return "host";
    case FrameKind::kProcess:
      return "process";
    case FrameKind::kKernel:
      return "kernel";
    case FrameKind::kExecutable:
      return "executable";
    case FrameKind::kLibrary:
      return "library";
    case FrameKind::kJit:
      return "jit";
    case FrameKind::kPython:
      return "python";
    case FrameKind::kUnknown:
      break;
  }
  return "unknown";
}

ProfileView BuildProfileView(const v1::ProfileData& data) {
  return BuildProfileView(std::vector<HostProfile>{{"", &data}});
}

uint32_t ProcessFrame(const ProfileView& view, const ViewStack& stack) {
  if (stack.frames.size() > 1 &&
      view.frames[stack.frames[0]].kind == FrameKind::kHost) {
    return stack.frames[1];
  }
  return stack.frames.empty() ? 0 : stack.frames[0];
}

ProfileView BuildProfileView(const std::vector<HostProfile>& profiles) {
  ProfileView view;
  if (!profiles.empty()) view.frequency_hz = profiles[0].data->frequency_hz();
  using Key = std::tuple<std::string, std::string, FrameKind>;
  std::map<Key, uint32_t> index;
  auto intern = [&](ViewFrame frame) {
    Key key{frame.name, frame.module, frame.kind};
    auto [it, inserted] = index.emplace(
        std::move(key), static_cast<uint32_t>(view.frames.size()));
    if (inserted) view.frames.push_back(std::move(frame));
    return it->second;
  };
  // Stacks that become equal after merging frames are merged too.
  std::map<std::vector<uint32_t>, size_t> stack_index;
  for (const HostProfile& profile : profiles) {
    const v1::ProfileData& data = *profile.data;
    view.elapsed_seconds =
        std::max(view.elapsed_seconds, data.elapsed_seconds());
    std::vector<uint32_t> remap(data.frames_size());
    for (int i = 0; i < data.frames_size(); ++i) {
      remap[i] = intern(ToViewFrame(data.frames(i)));
    }
    std::vector<uint32_t> root;
    if (!profile.host.empty()) {
      ViewFrame host;
      host.name = Printable(profile.host);
      host.kind = FrameKind::kHost;
      root.push_back(intern(std::move(host)));
    }
    for (const v1::Stack& stack : data.stacks()) {
      ViewFrame process;
      process.name =
          stack.comm().empty() ? "[unknown]" : Printable(stack.comm());
      process.kind = FrameKind::kProcess;
      std::vector<uint32_t> frames = root;
      frames.push_back(intern(std::move(process)));
      for (uint32_t f : stack.frames()) {
        if (f < remap.size()) frames.push_back(remap[f]);
      }
      auto [it, inserted] = stack_index.emplace(frames, view.stacks.size());
      if (inserted) {
        view.stacks.push_back(
            {std::move(frames), 0, stack.pid(), profile.host});
      }
      view.stacks[it->second].samples += stack.samples();
      view.total_samples += stack.samples();
    }
  }
  return view;
}

std::string RenderFolded(const ProfileView& view) {
  std::string out;
  for (const ViewStack& stack : view.stacks) {
    for (size_t i = 0; i < stack.frames.size(); ++i) {
      if (i > 0) out += ';';
      out += FoldedName(view.frames[stack.frames[i]].name);
    }
    absl::StrAppend(&out, " ", stack.samples, "\n");
  }
  return out;
}

}  // namespace tracectl
